"""The local Wiener residual both schemes detect in."""

from __future__ import annotations

import numpy as np

from aimark.watermark.image._common.mask import box_mean

__all__ = ["wiener_residual"]


def wiener_residual(y: np.ndarray, radius: int = 2, noise: float = 4.0) -> np.ndarray:
    """``y`` minus a local Wiener estimate of the image: keeps small noise-like signals (the
    watermark) and removes most of the image's own structure.

    Example:
        >>> import numpy as np
        >>> float(np.abs(wiener_residual(np.full((16, 16), 9.0))).max())
        0.0
    """
    m = box_mean(y, radius)
    v = np.maximum(box_mean(y * y, radius) - m * m, 0.0)
    gain = np.maximum(v - noise, 0.0) / np.maximum(v, 1e-6)
    return (y - m) * (1.0 - gain)
