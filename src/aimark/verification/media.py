"""The layers of a container aimark does not decode (video, audio, documents, SVG, JPEG XL):
its framing checked, the C2PA layer, XMP and ID3 where present. The watermark of audio and
video is read by :mod:`aimark.verification.timed_watermark`; documents have none.

Example:
    >>> from aimark.manifest.c2pa_io import ManifestReader
    >>> from aimark.media.formats import MediaFormat
    >>> svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
    >>> media, c2pa, _, _ = read_media(ManifestReader(), svg, MediaFormat.SVG, watermark=False)
    >>> media.kind, c2pa.state.value
    ('image', 'absent')
"""

from __future__ import annotations

from typing import Any

from aimark.errors import CorruptInputError, UnsupportedFormatError
from aimark.media.formats import MediaFormat
from aimark.media.structure import ZIP_FORMATS, check_structure, unsupported_by_c2pa
from aimark.media.zip_store import labelled_members
from aimark.report import C2paResult, MediaInfo, MetadataResult, WatermarkResult
from aimark.verification.manifest import read_c2pa
from aimark.verification.metadata import media_metadata

__all__ = ["read_media"]


def read_media(
    reader: Any, data: bytes, fmt: MediaFormat, *, watermark: bool
) -> tuple[MediaInfo, C2paResult, MetadataResult, WatermarkResult]:
    """The media facts, C2PA, metadata and (not applicable) watermark layers of a container;
    ``watermark``: whether the caller asked for watermarks (the layer then says why none).

    Raises:
        InputError: the framing is broken or hostile, c2pa does not support this container
            (``UnsupportedFormatError``), or c2pa cannot parse a file that has no manifest
            store (``CorruptInputError``: aimark decodes nothing else of these).
    """
    problems = check_structure(data, fmt)
    why = unsupported_by_c2pa(data, fmt)
    if why:
        raise UnsupportedFormatError(f"cannot verify {why}")
    c2pa_result, unparsed = read_c2pa(reader, data, fmt.mime)
    if unparsed is not None:
        detail = "; ".join([*problems, unparsed]).strip("; ")
        raise CorruptInputError(f"{fmt.label} that cannot be parsed ({detail})")
    metadata = media_metadata(data, fmt)
    if fmt in ZIP_FORMATS:
        # a ZIP package's own label is its C2PA manifest entry; a member's XMP or manifest
        # (a labelled photo in an archive) is the member's, never the package's
        metadata = MetadataResult()
        problems.extend(
            f"member {name} carries its own labels (Content Credentials or XMP): they are the "
            "member's, not this package's"
            for name in labelled_members(data)
        )
    media = MediaInfo(
        format=fmt.value, kind=fmt.kind, mime=fmt.mime, bytes=len(data), problems=tuple(problems)
    )
    layer = WatermarkResult()
    if watermark and fmt.kind in ("audio", "video"):
        layer = WatermarkResult(
            status=f"not applicable to this media type ({fmt.label}): the public watermarks "
            "aimark reads are in images (give a key for aimark's own audio and video marks)"
        )
    elif watermark:
        layer = WatermarkResult(
            status=f"not applicable to this media type ({fmt.label}): aimark's watermarks are "
            "for images, audio and video"
        )
    return media, c2pa_result, metadata, layer
