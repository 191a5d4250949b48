"""The measurements both sides of ``io.aimark.audio.1`` agree on: band energies of 32 ms
frames (sine window, whose square sums to a constant at the 4 ms hop, so a tile weighs its
samples evenly) of the 16 kHz mono analysis signal, and tile energies as sums of 13
consecutive frames.

Example:
    >>> import numpy as np
    >>> e = frame_energies(np.ones(1024, np.float32))
    >>> e.shape
    (9, 12)
"""

from __future__ import annotations

import numpy as np

from aimark.watermark.audio.layout import BAND_EDGES, BANDS, FRAME, HOP, MEASURED_FRAMES

__all__ = ["band_matrix", "frame_energies", "tile_energies"]

_WINDOW = np.sin(np.pi * np.arange(FRAME) / FRAME).astype(np.float32)


def band_matrix(scale: float = 1.0) -> np.ndarray:
    """(bins, BANDS) weights summing a power spectrum into the bands, their edges multiplied
    by ``scale`` (bin ``j`` spans ``[j, j + 1)``; a bin across an edge is shared)."""
    lo = np.arange(FRAME // 2 + 1, dtype=np.float64)
    edges = np.asarray(BAND_EDGES, np.float64) * scale
    m = np.clip(
        np.minimum(lo[:, None] + 1, edges[None, 1:]) - np.maximum(lo[:, None], edges[None, :-1]),
        0,
        1,
    )
    return m.astype(np.float32)


_SUM = band_matrix(1.0)


def frame_energies(x: np.ndarray, scales: tuple[float, ...] | None = None) -> np.ndarray:
    """Band energies (frames, BANDS) of the frames that fit in ``x`` (16 kHz mono; frame
    ``f`` covers samples ``[HOP*f, HOP*f + FRAME)``); with ``scales``, one such array per
    scale of the band edges, stacked (len(scales), frames, BANDS)."""
    x = np.asarray(x, np.float32)
    n = (x.size - FRAME) // HOP + 1
    if n <= 0:
        shape = (0, BANDS) if scales is None else (len(scales), 0, BANDS)
        return np.zeros(shape, np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP][:n] * _WINDOW
    spec = np.fft.rfft(frames, axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    if scales is None:
        return power @ _SUM
    return np.stack([power @ (_SUM if s == 1.0 else band_matrix(s)) for s in scales])


# the frames of a tile weigh like a Hann window: a tile's energy then changes slowly when
# its start moves, which the detector's 4 ms grid and speed search need
TILE_WEIGHTS = np.sin(np.pi * (np.arange(MEASURED_FRAMES) + 1) / (MEASURED_FRAMES + 1)) ** 2


def tile_energies(e: np.ndarray) -> np.ndarray:
    """Energy of the tile starting at each frame: that frame and the next 8, weighed by
    :data:`TILE_WEIGHTS` (``len(e) - 8`` rows)."""
    e = np.asarray(e, np.float64)
    n = e.shape[0] - MEASURED_FRAMES + 1
    if n <= 0:
        return np.zeros((0, e.shape[1]))
    out = np.zeros((n, e.shape[1]))
    for j, wj in enumerate(TILE_WEIGHTS):
        out += wj * e[j : j + n]
    return out
