"""The metadata layer of a verification: XMP (IPTC digital source type, AI system), EXIF,
generator markers, China's GB 45438 AIGC label in each of its carriers, and ID3 for audio.

Example:
    >>> tc260_layer({"xmp": None, "exif": None})
    (None, (), ())
"""

from __future__ import annotations

import unicodedata
from typing import Any

from aimark.disclosure import find_disclosure
from aimark.media import containers, image_io
from aimark.media.formats import MediaFormat
from aimark.media.sniff import ImageFormat
from aimark.media.text_io import TEXT_MIME
from aimark.metadata.exif import read_exif
from aimark.metadata.markers import find_markers
from aimark.metadata.media_meta import find_xmp_packet, id3_markers, read_id3, riff_id3
from aimark.metadata.tc260 import check_fields, parse_aigc, read_front_matter
from aimark.metadata.xmp import read_xmp
from aimark.report import MediaInfo, MetadataResult

__all__ = ["image_metadata", "media_metadata", "tc260_layer", "text_layers"]

_TIFF_XMP, _TIFF_TEXT_TAGS = (
    700,
    {305: "Software", 271: "Make", 272: "Model", 315: "Artist", 270: "ImageDescription"},
)


def _as_bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return bytes(value)
    return None


def image_metadata(info: image_io.ImageInfo, embedded: containers.Embedded) -> MetadataResult:
    """What an image's embedded metadata says (XMP, EXIF, PNG text, TIFF tags)."""
    xmp_raw = embedded.xmp
    if xmp_raw is None:
        xmp_raw = _as_bytes(info.info.get("xmp")) or _as_bytes(info.info.get("XML:com.adobe.xmp"))
    if xmp_raw is None and info.format is ImageFormat.TIFF:
        xmp_raw = _as_bytes(info.info.get("tiff_tags", {}).get(_TIFF_XMP))
    exif = read_exif(embedded.exif or info.exif)
    if info.format is ImageFormat.TIFF:
        for tag, field_name in _TIFF_TEXT_TAGS.items():
            value = info.info.get("tiff_tags", {}).get(tag)
            if isinstance(value, str) and value.strip():
                exif.setdefault(field_name, value.strip()[:2000])
    xmp = read_xmp(xmp_raw) if xmp_raw else None
    text_info = {
        k: v for k, v in info.info.items() if k not in ("exif", "xmp", "icc_profile", "tiff_tags")
    }
    found = {
        "xmp": xmp.tc260_aigc if xmp else None,
        "exif": parse_aigc(exif.get("UserComment", "")),
        "png-text": parse_aigc(text_info["AIGC"])
        if isinstance(text_info.get("AIGC"), str)
        else None,
    }
    tc260, carriers, tc_problems = tc260_layer(found)
    return MetadataResult(
        digital_source_types=xmp.digital_source_types if xmp else (),
        exif=exif,
        creator_tool=xmp.creator_tool if xmp else None,
        ai_system=xmp.ai_system if xmp else None,
        document_id=xmp.document_id if xmp else None,
        data_mining=xmp.data_mining if xmp else None,
        tc260_aigc=tc260,
        tc260_carriers=carriers,
        markers=tuple(find_markers(text_info, exif)),
        problems=(xmp.problems if xmp else ()) + tc_problems,
    )


def tc260_layer(
    found: dict[str, dict[str, Any] | None],
) -> tuple[dict[str, Any] | None, tuple[str, ...], tuple[str, ...]]:
    """The GB 45438 AIGC object (from the first carrier that has one), the carriers that hold
    it, and what is wrong with it (missing fields, carriers that disagree)."""
    carriers = tuple(k for k, v in found.items() if v)
    if not carriers:
        return None, (), ()
    first = found[carriers[0]]
    assert first is not None
    problems = [f"GB 45438 AIGC label: {p}" for p in check_fields(first)]
    problems += [
        f"GB 45438 AIGC label: the {c} copy differs from the {carriers[0]} copy"
        for c in carriers[1:]
        if found[c] != first
    ]
    return first, carriers, tuple(problems)


def media_metadata(data: bytes, fmt: MediaFormat) -> MetadataResult:
    """What a video, audio or document container's XMP packet and ID3 tags say."""
    raw = find_xmp_packet(data)
    xmp = read_xmp(raw) if raw else None
    id3: dict[str, str] = {}
    if fmt in (MediaFormat.MP3, MediaFormat.FLAC):
        id3 = read_id3(data)
    elif fmt is MediaFormat.WAV:
        id3 = riff_id3(data)
    return MetadataResult(
        digital_source_types=xmp.digital_source_types if xmp else (),
        creator_tool=xmp.creator_tool if xmp else None,
        ai_system=xmp.ai_system if xmp else None,
        document_id=xmp.document_id if xmp else None,
        data_mining=xmp.data_mining if xmp else None,
        tc260_aigc=xmp.tc260_aigc if xmp else None,
        tc260_carriers=("xmp",) if xmp and xmp.tc260_aigc else (),
        markers=tuple(id3_markers(id3)),
        problems=xmp.problems if xmp else (),
        id3=id3,
    )


def text_layers(text: str, data: bytes) -> tuple[MediaInfo, MetadataResult]:
    """A text's media facts (and whether it is NFC, which its signature needs) and what its
    metadata says: a disclosure sentence, a GB 45438 label in YAML front matter."""
    problems = []
    if not unicodedata.is_normalized("NFC", text):
        problems.append(
            "the text is not in Unicode NFC (aimark signs NFC text; normalising a signed "
            "text to another form breaks its hard binding)"
        )
    media = MediaInfo(
        format="text", kind="text", mime=TEXT_MIME, bytes=len(data), problems=tuple(problems)
    )
    aigc, carriers, aigc_problems = tc260_layer({"front-matter": read_front_matter(text)})
    metadata = MetadataResult(
        disclosure=find_disclosure(text),
        tc260_aigc=aigc,
        tc260_carriers=carriers,
        problems=aigc_problems,
    )
    return media, metadata
