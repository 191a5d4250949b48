"""Sub-sample peak location shared by the spectral searches and the alignments."""

from __future__ import annotations

import numpy as np

__all__ = ["local_peak", "parabolic_offset"]


def parabolic_offset(left: float, centre: float, right: float) -> float:
    """Offset in [-0.5, 0.5] of the vertex of the parabola through three samples around a
    maximum (0 when the samples are not concave).

    Example:
        >>> parabolic_offset(1.0, 2.0, 1.0) == 0
        True
        >>> round(parabolic_offset(1.0, 2.0, 1.5), 3)
        0.167
    """
    d = left - 2 * centre + right
    if d >= 0:
        return 0.0
    return float(min(0.5, max(-0.5, 0.5 * (left - right) / d)))


def local_peak(
    c: np.ndarray, around: tuple[float, float], radius: int
) -> tuple[float, float, float]:
    """Sub-bin maximum of ``c`` within ``radius`` bins of ``around`` (circular)."""
    n = c.shape[0]
    cy, cx = round(around[0]), round(around[1])
    ys = (cy + np.arange(-radius, radius + 1)) % n
    xs = (cx + np.arange(-radius, radius + 1)) % n
    win = c[np.ix_(ys, xs)]
    iy, ix = np.unravel_index(int(np.argmax(win)), win.shape)
    py, px = ys[iy], xs[ix]
    dy = parabolic_offset(c[(py - 1) % n, px], c[py, px], c[(py + 1) % n, px])
    dx = parabolic_offset(c[py, (px - 1) % n], c[py, px], c[py, (px + 1) % n])
    return cy + (iy - radius) + dy, cx + (ix - radius) + dx, float(c[py, px])
