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

__all__ = ["frame_energies", "tile_energies"]

_WINDOW = np.sin(np.pi * np.arange(FRAME) / FRAME).astype(np.float32)
_BAND_OF_BIN = np.full(FRAME // 2 + 1, -1)
for _b in range(BANDS):
    _BAND_OF_BIN[BAND_EDGES[_b] : BAND_EDGES[_b + 1]] = _b
_SUM = np.zeros((FRAME // 2 + 1, BANDS), np.float32)
_SUM[np.arange(BAND_EDGES[0], BAND_EDGES[-1]), _BAND_OF_BIN[BAND_EDGES[0] : BAND_EDGES[-1]]] = 1


def frame_energies(x: np.ndarray) -> np.ndarray:
    """Band energies (frames, BANDS) of the frames that fit in ``x`` (16 kHz mono; frame
    ``f`` covers samples ``[HOP*f, HOP*f + FRAME)``)."""
    x = np.asarray(x, np.float32)
    n = (x.size - FRAME) // HOP + 1
    if n <= 0:
        return np.zeros((0, BANDS), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP][:n] * _WINDOW
    spec = np.fft.rfft(frames, axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    return power @ _SUM


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
