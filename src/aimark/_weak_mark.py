"""Why a freshly embedded image watermark would not survive a JPEG re-encode, and what would
help: the labeller's one warning about a weak mark.

The reason comes from measurements, not a guess: whether the mark reads back *losslessly*
(if not, the picture's own texture drowns it, which no re-encode is to blame for), the mean
luma (a dark picture leaves the mark nothing to take away from), the local texture the
embedder's mask hides it in, and the size. The remedy is a strength that was tried and found
to survive, or, when none up to :data:`MAX_STRENGTH` does, that the picture cannot hold it.
"""

from __future__ import annotations

import math

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image import SCHEME_ID, SurvivalCheck, check_survival, embed, registry
from aimark.watermark.image._common.arrays import luma8
from aimark.watermark.image._common.mask import box_mean

__all__ = ["MAX_STRENGTH", "NOT_FOUND_DB", "weak_mark_note"]

MAX_STRENGTH = 4.0  # strongest mark suggested (12 dB over the default: visible on flat areas)
NOT_FOUND_DB = -100.0  # margins at or below this mean "not found at all" (the probe's floor)
DARK, BRIGHT = 32.0, 224.0  # mean luma (8-bit) under / over which the picture is too dark / bright
FLAT = 1.0  # median local standard deviation (8-bit luma) under which it is flat
BUSY = 6.0  # ... over which it is dense texture (the mask's knee: fully open)
SMALL = 256  # short side under which the picture is small for the mark


def _measures(pixels: np.ndarray) -> tuple[float, float]:
    """Mean luma and median local (5 × 5) standard deviation of luma, on at most ~512 px."""
    f = max(1, min(pixels.shape[:2]) // 512)
    y = luma8(pixels[::f, ::f]).astype(np.float32)
    mean = box_mean(y, 2)
    std = np.sqrt(np.maximum(box_mean(y * y, 2) - mean * mean, 0.0))
    return float(y.mean()), float(np.median(std))


def _reason(pixels: np.ndarray, marked: np.ndarray, key: WatermarkKey, payload: int) -> str:
    scheme = registry.get(SCHEME_ID)
    lossless = scheme.probe(scheme.analyse(marked), key, payload)
    mean, texture = _measures(pixels)
    lost = lossless.payload != payload
    if lost and texture >= BUSY:
        return (
            "the picture is dense high-contrast texture the mark cannot hide in (it is not "
            "read back even before any re-encode)"
        )
    if mean < DARK:
        return f"the picture is too dark (mean luma {mean:.0f} of 255)"
    if mean > BRIGHT:
        return f"the picture is too bright (mean luma {mean:.0f} of 255)"
    if min(pixels.shape[:2]) < SMALL:
        return f"the picture is too small ({pixels.shape[1]}×{pixels.shape[0]} px)"
    if texture < FLAT:
        return "the picture is too flat (little texture to hide the mark in)"
    if lost:
        return "the picture's own detail drowns the mark (it is not read back even losslessly)"
    return "the re-encode removes the fine detail the mark is carried in"


def weak_mark_note(
    pixels: np.ndarray,
    marked: np.ndarray,
    key: WatermarkKey,
    payload: int,
    strength: float,
    check: SurvivalCheck,
) -> str:
    """The warning for a mark that failed its survival ``check``: a measured reason and a
    remedy (a strength that was tried and survives, or none)."""
    if check.margin_db <= NOT_FOUND_DB:
        how = "it is not found at all after the re-encode"
    else:
        how = f"its payload reads {-check.margin_db:.1f} dB under what decoding needs"
    head = (
        f"the invisible watermark was embedded but would not survive a JPEG {check.quality} "
        f"re-encode ({how}): {_reason(pixels, marked, key, payload)}"
    )
    # the margin is an amplitude ratio in dB: scale the strength by it, with 20 % to spare
    # (without a margin, when it is not found at all, double it); then try the ceiling
    if check.margin_db > NOT_FOUND_DB:
        tries = [strength * 10 ** (-check.margin_db / 20) * 1.2, MAX_STRENGTH]
    else:
        tries = [strength * 2, strength * 4, MAX_STRENGTH]
    for wanted in sorted({min(math.ceil(t * 10) / 10, MAX_STRENGTH) for t in tries}):
        if wanted <= strength:
            continue
        tried = check_survival(embed(pixels, key, payload, strength=wanted), key, payload)
        if tried.survived:
            return (
                f"{head}; a stronger, more visible mark survives: --watermark-strength "
                f"{wanted:g} (Python: watermark_strength={wanted:g})"
            )
    return (
        f"{head}; not even --watermark-strength {max(strength, MAX_STRENGTH):g} holds it: this "
        "picture cannot "
        "hold the mark; its C2PA manifest and metadata still label it"
    )
