"""Mark a video file with ``io.aimark.video.1`` and find the mark in one, through ffmpeg.

:func:`mark_video_file` decodes the source to ``yuv420p`` frames, adds the keyed pattern to
each frame's luma (:class:`~aimark.watermark.video.VideoEmbedder`), and pipes the frames into
an encoder with the source's codec settings, the audio copied
(:class:`~aimark.media.video_io.VideoWriter`). :func:`find_video_mark` decodes a few luma
frames per second and accumulates them (:class:`~aimark.watermark.video.VideoDetector`).
Both stream one frame at a time.

Example:
    >>> from aimark.keys import WatermarkKey
    >>> key = WatermarkKey(b"video example key, not secret!!!")
    >>> mark = mark_video_file("clip.mp4", "marked.mp4", key, 0x1234)  # doctest: +SKIP
    >>> find_video_mark("marked.mp4", [key])[0].payload == 0x1234  # doctest: +SKIP
    True
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Sequence

import numpy as np

from aimark.errors import CorruptInputError, EmptyInputError
from aimark.keys import WatermarkKey
from aimark.media.limits import Limits
from aimark.media.video_io import VideoWriter, open_video, read_frames, read_keyframes
from aimark.watermark.timed import TimedDetection, TimedMark
from aimark.watermark.video import DEFAULT_THRESHOLD, SCHEME_ID, VideoDetector, VideoEmbedder
from aimark.watermark.video.embed import check_frame_size

__all__ = ["SAMPLE_FPS", "find_video_mark", "mark_video_file"]

SAMPLE_FPS = 8.0  # frames per second the detector reads


class _Quality:
    """Running invisibility figures of the mark (luma, before the encode): PSNR per frame and
    the temporal difference of the marked frames against the source's (on every fourth row:
    the figures need no more)."""

    def __init__(self) -> None:
        self.psnr: list[float] = []
        self.prev: tuple[np.ndarray, np.ndarray] | None = None
        self.flicker = self.src_diff = self.out_diff = 0.0
        self.pairs = 0

    def add(self, src: np.ndarray, out: np.ndarray) -> None:
        s, o = src[::4].astype(np.int16), out[::4].astype(np.int16)
        d = o - s
        mse = float(np.mean(d.astype(np.float32) ** 2))
        self.psnr.append(99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse))
        if self.prev is not None:
            ps, pd = self.prev
            self.flicker += float(np.mean(np.abs(d - pd)))
            self.src_diff += float(np.mean(np.abs(s - ps)))
            self.out_diff += float(np.mean(np.abs(o - (ps + pd))))
            self.pairs += 1
        self.prev = (s, d)

    def figures(self) -> dict[str, float]:
        n = max(1, self.pairs)
        return {
            "psnr_db": round(min(self.psnr), 2),
            "psnr_db_mean": round(float(np.mean(self.psnr)), 2),
            "flicker": round(self.flicker / n, 4),
            "temporal_diff_source": round(self.src_diff / n, 4),
            "temporal_diff_marked": round(self.out_diff / n, 4),
        }


def mark_video_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    key: WatermarkKey,
    payload: int,
    *,
    strength: float = 1.0,
    limits: Limits | None = None,
) -> TimedMark:
    """Write a copy of the video ``src`` to ``dst`` with ``payload`` marked in every frame
    under ``key``; ``src`` is never modified, ``dst`` is replaced atomically.

    The quality figures (luma, before the encode): ``psnr_db`` (lowest frame),
    ``psnr_db_mean``, ``flicker`` (mean absolute change of the mark from one frame to the
    next, 8-bit levels) and the mean absolute frame-to-frame differences of the source and of
    the marked frames (``temporal_diff_source``, ``temporal_diff_marked``).
    """
    info = open_video(src, limits=limits)
    try:
        check_frame_size(info.width, info.height)
    except ValueError as exc:
        raise CorruptInputError(str(exc)) from exc
    emb = VideoEmbedder(key, payload, info.width, info.height, strength=strength)
    quality = _Quality()
    notes = []
    if info.variable_rate:
        notes.append(f"variable frame rate: re-timed to a constant {float(info.rate):g} fps")
    if info.video.pix_fmt not in (None, "yuv420p", "yuvj420p"):
        notes.append(f"{info.video.pix_fmt} frames written as 8-bit yuv420p")
    with VideoWriter(info, dst) as out:
        for frame in read_frames(info):
            marked = emb.mark(frame.y)
            quality.add(frame.y, marked)
            frame.y[...] = marked
            out.write(frame.data)
        if out.frames == 0:
            raise EmptyInputError(f"{info.path.name} has no video frames")
    end = out.frames / float(info.rate)
    return TimedMark(SCHEME_ID, emb.payload, 0.0, round(end, 3), quality.figures(), tuple(notes))


def find_video_mark(
    src: str | os.PathLike[str],
    keys: Sequence[WatermarkKey],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_seconds: float | None = 600,
    limits: Limits | None = None,
    sample_fps: float = SAMPLE_FPS,
    threads: int | None = None,
) -> list[TimedDetection]:
    """Look for the marks of ``keys`` in the video ``src`` (its first ``max_seconds``; None:
    all of it): one result per key, with the time range where the mark was found."""
    info = open_video(src, limits=limits)
    det = VideoDetector(keys, info.width, info.height, threshold=threshold, fps=float(info.rate))
    sampled = read_frames(
        info, sample_fps=sample_fps, luma_only=True, max_seconds=max_seconds, threads=threads
    )
    keyframes = read_keyframes(info, max_seconds=max_seconds, threads=threads)
    frames = 0
    # both in time order, key frames first at equal times
    tagged = heapq.merge(
        ((f.t, 0, f) for f in keyframes), ((f.t, 1, f) for f in sampled), key=lambda x: x[:2]
    )
    for _, kind, frame in tagged:
        det.add(frame.y, frame.t, keyframe=kind == 0)
        frames += 1
    if frames == 0:
        raise EmptyInputError(f"{info.path.name} has no video frames")
    return det.results()
