"""Sub-sample peak location shared by the spectral search and the alignment."""

from __future__ import annotations

__all__ = ["parabolic_offset"]


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
