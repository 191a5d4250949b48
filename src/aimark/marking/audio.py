"""Mark and read audio files: decode with ffmpeg in blocks, run the streaming embedder or
detector of ``io.aimark.audio.1``, encode back with the source's codec settings (atomic
write). Memory stays bounded however long the file.

Example:
    >>> from aimark.marking.audio import find_audio_mark
    >>> find_audio_mark("/nonexistent.wav", [])  # doctest: +SKIP
    Traceback (most recent call last):
    aimark.errors.CorruptInputError: cannot read /nonexistent.wav: No such file or directory
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from aimark.errors import InputError
from aimark.keys import WatermarkKey
from aimark.media import audio_io
from aimark.media.output import same_file
from aimark.watermark.audio import DEFAULT_THRESHOLD, MIN_SECONDS, SCHEME_ID
from aimark.watermark.timed import TimedDetection, TimedMark

__all__ = ["find_audio_mark", "mark_audio_file"]

_BLOCK_SECONDS = 2.0


def mark_audio_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    key: WatermarkKey,
    payload: int,
    *,
    strength: float = 1.0,
) -> TimedMark:
    """Write ``src`` marked with ``key`` and ``payload`` to ``dst`` (same codec settings,
    metadata and other streams copied; ``src`` untouched). ``quality`` holds ``snr_db``,
    ``segsnr_db`` and ``lsd_db`` measured on the samples before encoding."""
    from aimark.watermark.audio.embedder import AudioEmbedder
    from aimark.watermark.audio.quality import QualityMeter

    if same_file(src, dst):
        raise InputError("the destination must differ from the source (it is never modified)")
    info = audio_io.open_audio(src)
    emb = AudioEmbedder(key, payload, info.sample_rate, info.channels, strength)
    meter = QualityMeter(info.sample_rate)
    held = np.zeros((0, info.channels), np.float32)  # source samples not yet out marked

    with audio_io.AudioWriter(info, dst) as writer:
        for block in [*_blocks(info), None]:
            if block is None:
                marked = emb.flush()
            else:
                held = np.concatenate([held, block])
                marked = emb.process(block)
            n = marked.shape[0]
            if n:
                meter.add(held[:n], marked)
                held = held[n:]
                writer.write(marked)
        total = writer.samples
    seconds = total / info.sample_rate
    notes: tuple[str, ...] = ()
    if seconds < MIN_SECONDS:
        notes = (f"shorter than {MIN_SECONDS} s: too short to carry a whole mark",)
    return TimedMark(SCHEME_ID, payload, 0.0, round(seconds, 3), meter.result(), notes)


def _blocks(info: audio_io.AudioInfo) -> Iterator[np.ndarray]:
    yield from audio_io.read_blocks(info, block_seconds=_BLOCK_SECONDS)


def find_audio_mark(
    src: str | os.PathLike[str],
    keys: Sequence[WatermarkKey],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_seconds: float | None = 600,
) -> list[TimedDetection]:
    """Look for the marks of ``keys`` in ``src`` (one result per key, in order), decoding at
    most ``max_seconds`` of it (None: all; each result's ``analysed_s`` says how much)."""
    from aimark.watermark.audio.detector import AudioDetector

    keys = list(keys)
    if not keys:
        return []
    info = audio_io.open_audio(Path(src))
    det = AudioDetector(keys, info.sample_rate, info.channels, threshold=threshold)
    for block in audio_io.read_blocks(info, block_seconds=_BLOCK_SECONDS, max_seconds=max_seconds):
        det.feed(block)
    res = det.result()
    assert isinstance(res, list)
    return res
