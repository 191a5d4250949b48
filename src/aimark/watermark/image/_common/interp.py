"""Periodic bilinear interpolation: the weights that render chips to pixels (and read them
back), shared by both schemes."""

from __future__ import annotations

import numpy as np

__all__ = ["period_matrix"]


def period_matrix(n: int, period: float, chips: int) -> np.ndarray:
    """(n, chips) periodic bilinear weights of pixel i for a tile of ``period`` pixels.

    Example:
        >>> period_matrix(4, 4, 2).tolist()
        [[0.75, 0.25], [0.75, 0.25], [0.25, 0.75], [0.25, 0.75]]
    """
    u = (np.arange(n, dtype=np.float64) + 0.5) * chips / period - 0.5
    i0 = np.floor(u).astype(np.int64)
    frac = (u - i0).astype(np.float32)
    m = np.zeros((n, chips), np.float32)
    rows = np.arange(n)
    m[rows, i0 % chips] += 1.0 - frac
    m[rows, (i0 + 1) % chips] += frac
    return m
