"""Perceptual mask: where the image is busy the watermark may be stronger, where it is flat
it must be faint. Computed on a reduced image."""

from __future__ import annotations

import numpy as np

__all__ = ["activity_mask", "box_mean"]


def box_mean(a: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1)² box with edge replication (separable sums of shifted copies:
    exact in float32, unlike cumulative sums over large arrays)."""
    a = np.asarray(a, np.float32)
    h, w = a.shape
    p = np.pad(a, ((r, r), (0, 0)), mode="edge")
    rows = p[0:h].copy()
    for d in range(1, 2 * r + 1):
        rows += p[d : d + h]
    p = np.pad(rows, ((0, 0), (r, r)), mode="edge")
    out = p[:, 0:w].copy()
    for d in range(1, 2 * r + 1):
        out += p[:, d : d + w]
    out *= np.float32(1.0 / (2 * r + 1) ** 2)
    return out


def activity_mask(
    small: np.ndarray, *, floor: float = 0.35, knee: float = 6.0, cap: float = 1.6
) -> np.ndarray:
    """Gain in [floor, cap] for a (reduced) luma image: ~``floor`` on flat areas, 1 at local
    std ``knee`` (8-bit units), up to ``cap`` on texture; smoothed."""
    m = box_mean(small, 2)
    var = np.maximum(box_mean(small * small, 2) - m * m, 0.0)
    gain = np.clip(np.sqrt(var) / knee, floor, cap)
    return box_mean(gain, 2)
