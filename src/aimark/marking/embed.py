"""Embed the watermark of a key into an audio or video file held as bytes, for the labeller:
the bytes go to a private temporary file that ffmpeg reads, the marked file comes back as
bytes (then signed). The schemes and the codecs live in :mod:`aimark.marking.audio` and
:mod:`aimark.marking.video`; this module picks one by the container's kind.

Example:
    >>> from aimark.media.formats import MediaFormat
    >>> watermarkable(MediaFormat.MP4), watermarkable(MediaFormat.PDF)
    (True, False)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aimark.keys import WatermarkKey
from aimark.media.formats import MediaFormat
from aimark.watermark.timed import TimedMark

__all__ = ["WATERMARKABLE", "as_file", "mark_media", "watermarkable"]

# the containers whose audio or video aimark marks (ffmpeg decodes and re-encodes them)
WATERMARKABLE = frozenset(
    {
        MediaFormat.WAV,
        MediaFormat.MP3,
        MediaFormat.M4A,
        MediaFormat.FLAC,
        MediaFormat.MP4,
        MediaFormat.MOV,
    }
)


@contextlib.contextmanager
def as_file(data: bytes, extension: str) -> Iterator[Path]:
    """``data`` as a file ffmpeg can open (``in{extension}`` in a private temporary folder,
    mode 0600), removed with its folder when the block ends."""
    with tempfile.TemporaryDirectory(prefix="aimark-media-") as tmp:
        path = Path(tmp) / f"in{extension}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        yield path


def watermarkable(fmt: MediaFormat) -> bool:
    """Whether aimark embeds its audio or video watermark into ``fmt``."""
    return fmt in WATERMARKABLE


def mark_media(
    data: bytes, fmt: MediaFormat, key: WatermarkKey, payload: int, *, strength: float = 1.0
) -> tuple[bytes, TimedMark]:
    """Return ``data`` re-encoded with the watermark of ``key`` carrying ``payload``, and what
    was written (scheme, time range, quality). A video's frames carry the video scheme and
    its audio track is copied unchanged; an audio file carries the audio scheme.

    Raises:
        MissingToolError: ffmpeg is not installed.
        CorruptInputError: ffmpeg cannot decode the input.
        UnsupportedFormatError: ``fmt`` is not one aimark marks.
    """
    from aimark.errors import UnsupportedFormatError

    if not watermarkable(fmt):
        raise UnsupportedFormatError(f"aimark has no invisible watermark for {fmt.label}")
    with as_file(data, fmt.extension) as src:
        dst = src.with_name(f"out{fmt.extension}")
        if fmt.kind == "video":
            from aimark.marking.video import mark_video_file

            mark = mark_video_file(src, dst, key, payload, strength=strength)
        else:
            from aimark.marking.audio import mark_audio_file

            mark = mark_audio_file(src, dst, key, payload, strength=strength)
        return dst.read_bytes(), mark
