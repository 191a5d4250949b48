"""Detection results of the text watermark, and the vectorised scoring behind them.

A (context, token) pair that occurs again in the same text is scored once: repeated phrases
would otherwise count the same evidence many times and inflate false positives on human text
(a quoted line, a list, code). The p-value is exact (binomial or gamma tail, see ``_stats``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from aimark.watermark.text import _stats

__all__ = ["TextDetection", "TextSpan", "TextVerdict"]

_SENTINEL = np.uint32(0xFFFFFFFF)
_TWO32 = float(2**32)


class TextVerdict(str, Enum):
    """What a detection concluded."""

    WATERMARKED = "watermarked"
    NOT_WATERMARKED = "not-watermarked"
    TOO_SHORT = "too-short"


@dataclass(frozen=True)
class TextDetection:
    """The outcome of testing one text for the watermark of one key.

    ``p_value`` is the exact probability that text written without this key scores at least
    this high; ``detected`` is ``p_value <= threshold``. Texts with fewer than ``min_tokens``
    scored tokens get the verdict ``too-short`` and ``detected`` False.
    """

    verdict: TextVerdict
    p_value: float
    log10_p_value: float
    z_score: float
    tokens_scored: int
    tokens_total: int
    score: float
    threshold: float
    min_tokens: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def detected(self) -> bool:
        """True when the watermark was found at the threshold (never for too-short texts)."""
        return self.verdict is TextVerdict.WATERMARKED

    @property
    def too_short(self) -> bool:
        """True when the text had too few scored tokens to tell."""
        return self.verdict is TextVerdict.TOO_SHORT

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "verdict": self.verdict.value,
            "detected": self.detected,
            "p_value": self.p_value,
            "log10_p_value": self.log10_p_value,
            "z_score": self.z_score,
            "tokens_scored": self.tokens_scored,
            "tokens_total": self.tokens_total,
            "score": self.score,
            "threshold": self.threshold,
            "min_tokens": self.min_tokens,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class TextSpan:
    """A stretch of a longer text where the watermark is found.

    ``start`` / ``end`` are token positions (end exclusive); ``start_char`` / ``end_char`` are
    character offsets when the tokenizer reports them. ``p_value`` is that of the strongest
    window inside the span, already corrected for the number of windows tried.
    """

    start: int
    end: int
    p_value: float
    tokens_scored: int
    start_char: int | None = None
    end_char: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "start": self.start,
            "end": self.end,
            "p_value": self.p_value,
            "tokens_scored": self.tokens_scored,
            "start_char": self.start_char,
            "end_char": self.end_char,
        }


def unique_sorted(values: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Sort each row of pair values and mark the first of every run of equal values.

    Returns (sorted values, mask of values to score). Invalid positions are excluded.
    """
    if valid is not None:
        values = np.where(valid, values, _SENTINEL)
    s = np.sort(values, axis=1)
    keep = np.empty(s.shape, dtype=bool)
    keep[:, :1] = True
    np.not_equal(s[:, 1:], s[:, :-1], out=keep[:, 1:])
    if valid is not None:
        keep &= s != _SENTINEL
    return s, keep


def unique_context_sorted(
    contexts: np.ndarray, values: np.ndarray, valid: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Like :func:`unique_sorted`, but keeps the first position (in text order) of every
    distinct context (gumbel mode: a repeated context was sampled without the key, see
    ``TextWatermark.sample``). Returns (values in context order, mask of values to score)."""
    pos = np.arange(contexts.shape[1], dtype=np.uint64)
    packed = (contexts.astype(np.uint64) << np.uint64(32)) | pos
    if valid is not None:
        packed = np.where(valid, packed, np.uint64(0xFFFFFFFFFFFFFFFF))
    s = np.sort(packed, axis=1)
    ctx = s >> np.uint64(32)
    keep = np.empty(s.shape, dtype=bool)
    keep[:, :1] = True
    np.not_equal(ctx[:, 1:], ctx[:, :-1], out=keep[:, 1:])
    if valid is not None:
        keep &= s != np.uint64(0xFFFFFFFFFFFFFFFF)
    order = (s & np.uint64(0xFFFFFFFF)).astype(np.intp)
    if valid is not None:
        order = np.where(keep, order, 0)
    return np.take_along_axis(values, order, axis=1), keep


def exp_scores(values: np.ndarray) -> np.ndarray:
    """-log(1 - r) with r = (value + 0.5) / 2**32: Exp(1) under no watermark.

    Computed as 32 log 2 - log((2**32 - 1 - value) + 0.5) in float32: the complement is exact
    in integers, so the rounding moves a score by at most ~1e-6 even far in the tail.
    """
    rest = (~values).astype(np.float32)
    rest += np.float32(0.5)
    return np.float32(32 * np.log(2.0)) - np.log(rest)


def green_logp(
    values: np.ndarray, keep: np.ndarray, threshold: np.uint32, gamma: float
) -> tuple[np.ndarray, ...]:
    """(log p, n, green count, z) per row for the bias mode."""
    n = keep.sum(axis=1)
    k = ((values < threshold) & keep).sum(axis=1)
    logp = _stats.binomial_logsf(k, n, gamma)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(n > 0, (k - gamma * n) / np.sqrt(n * gamma * (1 - gamma)), 0.0)
    return logp, n, k.astype(np.float64), z


def exp_logp(values: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, ...]:
    """(log p, n, score sum, z) per row for the gumbel mode."""
    n = keep.sum(axis=1)
    s = np.where(keep, exp_scores(values), np.float32(0)).sum(axis=1, dtype=np.float64)
    logp = _stats.gamma_logsf(n, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(n > 0, (s - n) / np.sqrt(np.maximum(n, 1)), 0.0)
    return logp, n, s, z
