"""Detect ``io.aimark.video.1``: evidence accumulated over time.

Every sampled frame's luma is reduced to the image detector's analysis grid and added to a
running sum, per segment of :data:`SEGMENT_S` seconds and over the whole clip. The mark is
the same in every frame, so it adds up; moving content (and the codec's noise) averages out.
The mean frame of a segment, and of the clip, is then read by ``io.aimark.image.2``'s
detector (analysis, lattice search, sync test and payload decoding) with the video scheme's
key derivations. The sampled frames' whitened residuals are summed as well and read on the
luma mean's window and lattice hypotheses: each frame's content is normalised before it is
averaged, which helps where the content changes a lot from frame to frame.

Key frames (intra-coded) are summed apart too: a re-encode at a low bit rate predicts the
frames between them from earlier ones along the content's motion, so there the static mark
drifts with the content and smears in the mean, while a key frame carries it where it was
written. State is six sums of one reduced frame each (segment and clip × sampled luma,
sampled residual, key-frame luma) and one small result per closed segment: bounded however
long the clip.

The p-value of the clip is the best test's, times the number of tests (Bonferroni), so it
stays a bound on the false-alarm probability of the clip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.arrays import reduced_luma
from aimark.watermark.image._common.scheme import Detection, check_key
from aimark.watermark.image._schemes.v2 import detect as _detect
from aimark.watermark.timed import TimedDetection
from aimark.watermark.video._names import DEFAULT_THRESHOLD, MIN_SIZE, SCHEME_ID

__all__ = ["MIN_FRAMES", "SEGMENT_S", "VideoDetector"]

SEGMENT_S = 5.0  # seconds per segment tested on its own
MIN_FRAMES = 3  # a segment with fewer sampled frames is folded into the clip's total only


@dataclass
class _Sum:
    """A running sum of reduced frames and the time range it covers."""

    total: np.ndarray | None = None
    frames: int = 0
    start: float = math.inf
    end: float = -math.inf

    def add(self, small: np.ndarray, t: float, dt: float) -> None:
        if self.total is None:
            self.total = small.astype(np.float64)
        else:
            self.total += small
        self.frames += 1
        self.start = min(self.start, t)
        self.end = max(self.end, t + dt)

    def mean(self, unit: float = 255.0) -> np.ndarray:
        """The mean frame, divided by ``unit`` (255: luma in [0, 1], as a float image)."""
        assert self.total is not None
        return (self.total / (unit * self.frames)).astype(np.float32)


def _sums() -> dict[str, _Sum]:
    """Sampled frames' luma, key frames' luma, sampled frames' whitened residuals."""
    return {"all": _Sum(), "key": _Sum(), "res": _Sum()}


@dataclass(frozen=True)
class _Found:
    """One test's detection, with the time range it covered."""

    det: Detection
    start: float
    end: float
    whole: bool = False  # the whole clip's test (else one segment's)


def _read(an: _detect.Analysis, keys: Sequence[WatermarkKey], threshold: float) -> list[Detection]:
    return [_detect.detect_key(an, k, threshold, SCHEME_ID) for k in keys]


def _residual_analysis(residual: np.ndarray, luma: _detect.Analysis) -> _detect.Analysis:
    """The analysis of a mean whitened residual, on the window and lattice hypotheses the
    analysis of the mean luma chose (same grid: the sums are at the analysis size)."""
    h, w = residual.shape
    x0, y0, x1, y1 = luma.window
    crop = residual[round(y0 * h) : round(y1 * h), round(x0 * w) : round(x1 * w)]
    if crop.shape != luma.r.shape:
        crop = residual[: luma.r.shape[0], : luma.r.shape[1]]
    return _detect.Analysis(np.ascontiguousarray(crop, np.float32), luma.bases, luma.window)


class VideoDetector:
    """Accumulates a clip's luma frames and looks for the marks of ``keys``.

    Feed frames in time order with :meth:`add` (any sampling: every frame, a few per second);
    :meth:`results` gives one :class:`~aimark.watermark.timed.TimedDetection` per key.
    ``fps``, when known, is the clip's frame rate (the duration of a lone frame).

    Example:
        >>> from aimark.keys import WatermarkKey
        >>> det = VideoDetector([WatermarkKey(b"k" * 32)], 256, 144)
        >>> det.add(np.full((144, 256), 128, np.uint8), 0.0)
        >>> [r.status for r in det.results()]
        ['not-detected']
    """

    def __init__(
        self,
        keys: Sequence[WatermarkKey],
        width: int,
        height: int,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        segment_s: float = SEGMENT_S,
        fps: float | None = None,
    ) -> None:
        self.keys = [check_key(k) for k in keys]
        if not 0 < threshold < 1:
            raise ValueError("threshold must be in (0, 1)")
        self.width, self.height = width, height
        self.threshold = threshold
        self.segment_s = segment_s
        self._f = max(1, min(width, height) // _detect.ANALYSIS_MIN)
        self._all = _sums()
        self._seg = _sums()
        self._seg_index: int | None = None
        self._segments: list[list[_Found]] = []  # per closed segment: one per key
        self._last_t = -math.inf
        self._dt = 1.0 / fps if fps else 0.0  # a frame's duration (learnt from the times)

    def add(self, y: np.ndarray, t_seconds: float, *, keyframe: bool = False) -> None:
        """Add the luma plane ``y`` (uint8 (height, width)) of the frame shown at
        ``t_seconds`` (in time order; ``keyframe``: an intra-coded frame, summed apart)."""
        y = np.asarray(y)
        if y.shape != (self.height, self.width) or y.dtype != np.uint8:
            raise ValueError(
                f"expected a uint8 luma plane of shape {(self.height, self.width)}, "
                f"not {y.dtype} {y.shape}"
            )
        if min(self.width, self.height) < MIN_SIZE:
            return
        if not keyframe:
            if t_seconds > self._last_t > -math.inf:
                self._dt = t_seconds - self._last_t
            self._last_t = max(self._last_t, t_seconds)
        index = int(t_seconds // self.segment_s)
        if self._seg_index is not None and index > self._seg_index:
            self._close_segment()
        self._seg_index = max(index, self._seg_index or 0)
        small = reduced_luma(y, self._f)
        kind = "key" if keyframe else "all"
        self._all[kind].add(small, t_seconds, self._dt)
        self._seg[kind].add(small, t_seconds, self._dt)
        if not keyframe:
            r = _detect.whiten(small)
            self._all["res"].add(r, t_seconds, self._dt)
            self._seg["res"].add(r, t_seconds, self._dt)

    def _close_segment(self) -> None:
        seg, self._seg = self._seg, _sums()
        self._test(seg, whole=False)

    def _test(self, sums: dict[str, _Sum], *, whole: bool) -> None:
        """Read the mean frames of ``sums`` (sampled frames' luma and whitened residuals,
        key frames' luma) for every key; a hit covers the time range of all three."""
        used = [s for s in sums.values() if s.frames]
        if not used:
            return
        start, end = min(s.start for s in used), max(s.end for s in used)
        analyses = []
        if sums["all"].frames >= (1 if whole else MIN_FRAMES):
            luma = _detect.analyse(sums["all"].mean())  # key-independent: once for every key
            analyses += [luma, _residual_analysis(sums["res"].mean(1.0), luma)]
        if sums["key"].frames:
            analyses.append(_detect.analyse(sums["key"].mean()))
        for an in analyses:
            dets = _read(an, self.keys, self.threshold)
            self._segments.append([_Found(d, start, end, whole) for d in dets])

    @property
    def analysed_s(self) -> float:
        """Seconds of the clip the frames added so far cover."""
        spans = [s for s in self._all.values() if s.frames]
        if not spans:
            return 0.0
        return max(0.0, max(s.end for s in spans) - min(s.start for s in spans))

    def results(self) -> list[TimedDetection]:
        """One result per key: the best of the segments' tests and the whole clip's."""
        if min(self.width, self.height) < MIN_SIZE:
            return [
                TimedDetection.nothing(SCHEME_ID, self.threshold, "inconclusive", "too-small")
                for _ in self.keys
            ]
        if not any(s.frames for s in self._all.values()):
            return [
                TimedDetection.nothing(SCHEME_ID, self.threshold, "inconclusive", "no-frames")
                for _ in self.keys
            ]
        if self._segments and any(s.frames for s in self._seg.values()):
            self._close_segment()  # (a clip of one segment: the whole clip's test is the same)
        n_segments = len(self._segments)
        self._test(self._all, whole=True)
        tests_by_key = list(zip(*self._segments, strict=True))
        del self._segments[n_segments:]
        return [self._combine(list(tests)) for tests in tests_by_key]

    def _combine(self, tests: list[_Found]) -> TimedDetection:
        n = len(tests)
        best = min(tests, key=lambda f: (f.det.payload is None, f.det.p_value))
        p = min(1.0, best.det.p_value * n)
        detected = best.det.payload is not None and p <= self.threshold
        start = end = None
        if detected:
            hits = [f for f in tests if f.det.detected and f.det.payload == best.det.payload]
            span = [f for f in hits if not f.whole] or hits or [best]
            start = round(min(f.start for f in span), 3)
            end = round(max(f.end for f in span), 3)
        if detected:
            status, reason = "detected", None
        elif p <= self.threshold:
            status, reason = "inconclusive", "payload-unreadable"
        else:
            status, reason = "not-detected", None
        return TimedDetection(
            detected=detected,
            p_value=float(p),
            payload=best.det.payload if detected else None,
            confidence=float(best.det.confidence) if detected else 0.0,
            score=float(max(f.det.score for f in tests)),
            threshold=self.threshold,
            status=status,
            scheme=SCHEME_ID,
            reason=reason,
            start_s=start,
            end_s=end,
            analysed_s=round(self.analysed_s, 3),
        )
