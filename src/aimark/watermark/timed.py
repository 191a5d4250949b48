"""What the watermarks of time-based media (audio, video) say, shared by their schemes and
by the file-level functions in :mod:`aimark.marking`: where in time the mark was written, and
where in time a detector found it.

Example:
    >>> r = TimedDetection.nothing("io.aimark.audio.1", 1e-6, "not-detected")
    >>> r.detected, r.p_value, r.time_range
    (False, 1.0, None)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TimedDetection", "TimedMark"]


@dataclass(frozen=True)
class TimedMark:
    """What embedding wrote into a clip.

    Attributes:
        scheme: the algorithm id (``io.aimark.audio.1``, ``io.aimark.video.1``).
        payload: the 64-bit payload written.
        start_s, end_s: the time range, in seconds of the output, that carries the mark.
        quality: the embedder's own measures of invisibility/inaudibility, by name (e.g.
            ``{"snr_db": 32.1}`` for audio, ``{"psnr_db": 44.0}`` for video).
        notes: anything the caller should know (a section too quiet to carry the mark, ...).
    """

    scheme: str
    payload: int
    start_s: float
    end_s: float
    quality: dict[str, float]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimedDetection:
    """What a detector found in a clip, with one key.

    Attributes:
        detected: the mark of this key is there (``p_value <= threshold``) and its payload
            decoded.
        p_value: bound on the probability that an unmarked clip scores this high with this
            key, over everything the detector searched (1.0 when nothing could be analysed).
        payload: the 64-bit payload when it decoded with a valid CRC, else None.
        confidence: agreement of the soft bits with the decoded codeword, in [0, 1].
        score: the detector's best sync statistic (a z-score).
        threshold: the p-value threshold used.
        status: "detected", "not-detected", or "inconclusive" (``reason`` says why:
            "too-short", "silent", "payload-unreadable", ...).
        scheme: the algorithm id tried.
        reason: why an answer is inconclusive, else None.
        start_s, end_s: the time range where the mark was found (None when not found).
        analysed_s: seconds of media the detector looked at.
    """

    detected: bool
    p_value: float
    payload: int | None
    confidence: float
    score: float
    threshold: float
    status: str
    scheme: str
    reason: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    analysed_s: float = 0.0

    @property
    def time_range(self) -> tuple[float, float] | None:
        """(start_s, end_s) where the mark was found, or None."""
        if self.start_s is None or self.end_s is None:
            return None
        return (self.start_s, self.end_s)

    @classmethod
    def nothing(
        cls, scheme: str, threshold: float, status: str, reason: str | None = None
    ) -> TimedDetection:
        """A result with nothing found (``status`` "not-detected" or "inconclusive")."""
        return cls(False, 1.0, None, 0.0, 0.0, threshold, status, scheme, reason)
