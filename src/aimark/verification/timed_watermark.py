"""The watermark layer of an audio or video file: the keys' marks looked for by
:mod:`aimark.marking` (ffmpeg decodes, in blocks), the best one reported with the time range
where it was found. A video is read by its frames, then, where they carry no mark, by its
audio track.

Example:
    >>> from aimark.media.formats import MediaFormat
    >>> read_timed_watermark(b"%PDF-1.7", MediaFormat.PDF, (), threshold=1e-6).status
    'not-checked'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from aimark.errors import InputError, MissingExtraError
from aimark.keys import WatermarkKey
from aimark.media.formats import MediaFormat
from aimark.report import WatermarkResult
from aimark.verification.watermark import best_of
from aimark.watermark.timed import TimedDetection

__all__ = ["read_timed_watermark"]


def read_timed_watermark(
    data: bytes,
    fmt: MediaFormat,
    keys: Sequence[WatermarkKey],
    *,
    threshold: float,
    max_seconds: float | None = 600.0,
) -> WatermarkResult:
    """Look for the watermark of every key in ``keys`` in the audio or video ``data``
    (``fmt``), over at most ``max_seconds`` of it. Never raises for the content: an
    undecodable stream or a missing ffmpeg is the layer's status."""
    from aimark.marking.embed import watermarkable

    if not keys:
        return WatermarkResult()
    ids = tuple(k.key_id for k in keys)
    if not watermarkable(fmt):
        return WatermarkResult(
            keys=ids,
            status=f"not applicable to this media type ({fmt.label}): aimark's watermarks are "
            "for images, audio (WAV, MP3, M4A, FLAC) and video (MP4, MOV)",
        )
    try:
        found = _detect(data, fmt, keys, threshold, max_seconds)
    except (InputError, MissingExtraError) as exc:
        return WatermarkResult(checked=False, keys=ids, status=f"undecodable: {exc}")
    result, best = best_of(found, ids)
    time_range = best.time_range if result.detected else None
    return dataclasses.replace(result, time_range=time_range)


def _detect(
    data: bytes,
    fmt: MediaFormat,
    keys: Sequence[WatermarkKey],
    threshold: float,
    max_seconds: float | None,
) -> list[TimedDetection]:
    from aimark.marking.embed import as_file

    with as_file(data, fmt.extension) as path:
        try:
            return _detect_file(path, fmt, keys, threshold, max_seconds)
        except (InputError, MissingExtraError) as exc:  # ffmpeg names its input: not ours
            said = str(exc).replace(f"{path}: {path}: ", f"{path}: ").replace(str(path), "the file")
            raise type(exc)(said) from None


def _detect_file(
    path: Path,
    fmt: MediaFormat,
    keys: Sequence[WatermarkKey],
    threshold: float,
    max_seconds: float | None,
) -> list[TimedDetection]:
    if fmt.kind != "video":
        from aimark.marking.audio import find_audio_mark

        return find_audio_mark(path, keys, threshold=threshold, max_seconds=max_seconds)
    from aimark.marking.video import find_video_mark
    from aimark.media.ffmpeg import probe

    found = find_video_mark(path, keys, threshold=threshold, max_seconds=max_seconds)
    if any(f.detected for f in found) or probe(path).audio is None:
        return found
    from aimark.marking.audio import find_audio_mark

    heard = find_audio_mark(path, keys, threshold=threshold, max_seconds=max_seconds)
    return heard if any(f.detected for f in heard) else found
