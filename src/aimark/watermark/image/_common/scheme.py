"""The interface every image watermark scheme implements, its detection result, and the
argument checks the public verbs share.

A scheme is one object (like :class:`aimark.watermark.text.scheme.TextWatermark`) holding
both sides: :meth:`ImageScheme.embed`, a key-independent :meth:`ImageScheme.analyse` of an
image (done once, reused by every key), and the per-key :meth:`ImageScheme.detect_key`.
:mod:`aimark.watermark.image.registry` keeps the table of schemes the verbs read.

Example:
    >>> check_payload(7), check_payload(bytes(7) + b"\\x08")
    (7, 8)
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._names import DEFAULT_STRENGTH, DEFAULT_THRESHOLD

__all__ = [
    "DEFAULT_STRENGTH",
    "DEFAULT_THRESHOLD",
    "Detection",
    "ImageScheme",
    "Probe",
    "check_key",
    "check_payload",
]


@dataclass(frozen=True)
class Detection:
    """What :func:`~aimark.watermark.image.detect` found.

    Attributes:
        detected: the watermark of this key is present (``p_value <= threshold``).
        p_value: bound on the probability that an unwatermarked image scores this high with
            this key (1.0 when nothing could be analysed).
        payload: the 64-bit payload if it decoded with a valid CRC, else None.
        confidence: agreement of the chips with the decoded payload's codeword, in [0, 1]
            (0 when no payload decoded).
        score: the best sync z-score.
        threshold: the p-value threshold used.
        status: "detected"; "not-detected" (the picture could carry the mark and does not);
            or "inconclusive" where it cannot be told, never a detection: see ``reason``.
        scheme: the algorithm id of the scheme tried (``io.aimark.image.2`` or ``.1``).
        reason: why an answer is inconclusive: "too-small" (under the scheme's minimum
            size), "too-flat" (the picture has almost no detail: it could not carry a mark,
            or has lost it), "payload-unreadable" (the key's sync pattern is there,
            p ≤ threshold, but no payload decoded). None otherwise.
        region: where the mark was found when only part of the picture carries it (a
            collage, a marked picture pasted into another): (left, top, right, bottom) as
            fractions of the picture's width and height, on a 3 × 3 grid. None when the
            whole picture carries it, or nothing was found (schemes ``.2`` and ``.3``).
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
    region: tuple[float, float, float, float] | None = None

    def to_dict(self, *, include_score: bool = True) -> dict[str, object]:
        d: dict[str, object] = {
            "scheme": self.scheme,
            "status": self.status,
            "reason": self.reason,
            "detected": self.detected,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "payload": None if self.payload is None else f"{self.payload:016x}",
            "confidence": self.confidence,
            "region": None if self.region is None else list(self.region),
        }
        if include_score:
            d["score"] = self.score
        return d

    @classmethod
    def nothing(cls, scheme: str, threshold: float, reason: str | None = None) -> Detection:
        """A result with nothing found (p = 1): "not-detected", or "inconclusive" for a
        ``reason`` (see :attr:`reason`)."""
        status = "not-detected" if reason is None else "inconclusive"
        return cls(False, 1.0, None, 0.0, 0.0, threshold, status, scheme, reason)

    def inconclusive(self, reason: str) -> Detection:
        """This result, no detection, as inconclusive for ``reason``."""
        return dataclasses.replace(self, status="inconclusive", reason=reason)


@dataclass(frozen=True)
class Probe:
    """A known payload read back (:meth:`ImageScheme.probe`): what ``check_survival`` reports.

    Attributes:
        p_value: the detection p-value.
        payload: the payload decoded with a valid CRC, whatever the p-value, else None.
        margin_db: how far the known payload's chips are above (positive) or below the
            strength at which payloads stop decoding, in dB.
    """

    p_value: float
    payload: int | None
    margin_db: float


class ImageScheme(ABC):
    """One image watermark scheme: a keyed embedder and its detector.

    Subclasses set :attr:`id` and :attr:`min_size` and implement :meth:`embed`,
    :meth:`analyse` and :meth:`detect_key`; :meth:`prescreen`, :meth:`probe` and
    :meth:`period_for` are optional. Arguments arrive checked (a valid array, key, payload
    in ``[0, 2**64)``, positive strength, threshold in (0, 1)) and images at least
    :attr:`min_size` on the short side.
    """

    id: str  # the algorithm id reported in Detection.scheme, e.g. "io.aimark.image.2"
    min_size: int  # shortest image side that can carry (and be searched for) the mark
    analysis_min: int | None = None  # short side the analysis reduces to (None: unreduced)
    # schemes with the same analysis_id share one analysis per image (None: the scheme's id)
    analysis_id: str | None = None

    @abstractmethod
    def embed(
        self, arr: np.ndarray, key: WatermarkKey, payload: int, strength: float
    ) -> np.ndarray:
        """A marked copy of ``arr`` (same shape and dtype)."""

    @abstractmethod
    def analyse(self, arr: np.ndarray) -> Any:
        """The key-independent part of detection for one image, reused by every key."""

    def prescreen(self, analysis: Any, key: WatermarkKey) -> bool:
        """Whether the full search for ``key`` is worth running (False: "not-detected")."""
        return True

    @abstractmethod
    def detect_key(self, analysis: Any, key: WatermarkKey, threshold: float) -> Detection:
        """Look for ``key``'s mark in an analysed image."""

    def probe(self, analysis: Any, key: WatermarkKey, payload: int) -> Probe:
        """Read a known ``payload`` back and measure its margin (for the survival check)."""
        raise NotImplementedError(f"{self.id} has no survival probe")

    def period_for(self, height: int, width: int) -> float:
        """The tile period, in pixels, on an image of this size."""
        raise NotImplementedError(f"{self.id} has no tile period")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


def check_key(key: object) -> WatermarkKey:
    """``key`` if it is a :class:`~aimark.WatermarkKey`, else TypeError."""
    if not isinstance(key, WatermarkKey):
        raise TypeError(f"key must be an aimark.WatermarkKey, not {type(key).__name__}")
    return key


def check_payload(payload: object) -> int:
    """The payload as an int in ``[0, 2**64)`` (from an int or 8 big-endian bytes)."""
    if isinstance(payload, (bytes, bytearray)):
        if len(payload) != 8:
            raise ValueError("a bytes payload must be exactly 8 bytes")
        return int.from_bytes(payload, "big")
    if isinstance(payload, (int, np.integer)) and not isinstance(payload, bool):
        value = int(payload)
        if 0 <= value < 2**64:
            return value
    raise ValueError("payload must be an int in [0, 2**64) or 8 bytes")
