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

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from aimark.errors import InputError, MissingExtraError
from aimark.keys import WatermarkKey, content_id_for
from aimark.media.formats import MediaFormat
from aimark.report import WatermarkResult
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
    best_i = min(range(len(found)), key=lambda i: (not found[i].detected, found[i].p_value))
    best = found[best_i]
    hit = best.detected and best.payload is not None
    return WatermarkResult(
        checked=True,
        keys=ids,
        detected=hit,
        key_id=ids[best_i] if hit else None,
        scheme=best.scheme,
        payload=f"{best.payload:016x}" if hit and best.payload is not None else None,
        content_id=content_id_for(best.payload) if hit and best.payload is not None else None,
        p_value=best.p_value,
        confidence=best.confidence if hit else None,
        threshold=best.threshold,
        score=best.score,
        status=best.status,
        reason=best.reason,
        time_range=best.time_range if hit else None,
    )


def _detect(
    data: bytes,
    fmt: MediaFormat,
    keys: Sequence[WatermarkKey],
    threshold: float,
    max_seconds: float | None,
) -> list[TimedDetection]:
    with tempfile.TemporaryDirectory(prefix="aimark-verify-") as tmp:
        path = Path(tmp) / f"in{fmt.extension}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
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
