"""Marking one period in the 16 kHz analysis signal: measure its cells, move each pair's
log-energy difference onto the lattice of its code bit (spread-transform dither modulation)
and turn the cell gains into an additive watermark by a short-time Fourier transform.

The watermark of a period is the host's own spectrum scaled by a gain close to 1 in each cell
(a pair's move is at most ±DELTA/2 in log energy, split so that the weaker band takes the
larger share; no cell moves more than ±0.75·DELTA, about ±2.3 dB): it is shaped like the host
in time and frequency, and nothing is added where the host is silent.

Example:
    >>> import numpy as np
    >>> from aimark.keys import WatermarkKey
    >>> from aimark.watermark.audio.layout import Layout
    >>> lay = Layout.from_key(WatermarkKey(bytes(32)))
    >>> x = np.random.default_rng(0).standard_normal(SEGMENT) * 0.1
    >>> w = mark_period(x, lay, np.zeros(264, np.uint8))
    >>> w.shape == x.shape and float(np.abs(w).max()) < 0.05
    True
"""

from __future__ import annotations

import numpy as np

from aimark.watermark.audio.features import TILE_WEIGHTS, frame_energies
from aimark.watermark.audio.layout import (
    BAND_EDGES,
    BANDS,
    DELTA,
    FRAME,
    HOP,
    MEASURED_FRAMES,
    PERIOD_TILES,
    TILE,
    TILE_FRAMES,
    Layout,
)

__all__ = ["LEAD", "SEGMENT", "SILENT", "mark_period"]

_SYN_HOP = 128  # hop of the synthesis transform (sqrt-Hann frames overlap by half)
_SYN_TILE = TILE // _SYN_HOP
LEAD = _SYN_HOP  # the segment of a period starts this many samples before its first tile
SEGMENT = PERIOD_TILES * TILE + 2 * _SYN_HOP  # samples of a period's segment
SILENT = 3e-4  # a cell below this energy (about -70 dBFS) is silence: its pair carries nothing
_ITERATIONS = 3
_CAP = 0.75 * DELTA  # largest change of a cell's log energy (masking cap)
_SYN_FRAME = 2 * _SYN_HOP
_SQRT_WIN = np.sin(np.pi * np.arange(_SYN_FRAME) / _SYN_FRAME)
_N_FRAMES = (SEGMENT - _SYN_FRAME) // _SYN_HOP + 1  # 577: a boundary frame, then 8 per tile
_BIN_BAND = np.full(_SYN_FRAME // 2 + 1, BANDS)  # BANDS: no band (gain 1)
for _b in range(BANDS):  # the bands' edges in this transform's coarser bins
    _BIN_BAND[BAND_EDGES[_b] * _SYN_FRAME // FRAME : BAND_EDGES[_b + 1] * _SYN_FRAME // FRAME] = _b


def _cells(x: np.ndarray) -> np.ndarray:
    """Tile energies (PERIOD_TILES, BANDS) of a period's segment."""
    e = frame_energies(x).astype(np.float64)
    first = LEAD // HOP + np.arange(PERIOD_TILES)[:, None] * TILE_FRAMES
    rows = first + np.arange(MEASURED_FRAMES)
    return (e[rows] * TILE_WEIGHTS[:, None]).sum(1)


def _frame_gains(eps: np.ndarray) -> np.ndarray:
    """(frames, bins) amplitude gain minus one, from log-energy changes per cell."""
    g = np.expm1(eps / 2.0)  # (tiles, bands)
    per = np.zeros((_N_FRAMES, BANDS + 1))
    for j in range(_SYN_TILE - 1):
        per[1 + j : -1 : _SYN_TILE, :BANDS] = g
    half = g / 2.0
    per[0, :BANDS] = half[0]
    per[_SYN_TILE::_SYN_TILE, :BANDS] += half
    per[_SYN_TILE:-1:_SYN_TILE, :BANDS] += half[1:]
    return per[:, _BIN_BAND]


def _synth(x: np.ndarray, gains: np.ndarray) -> np.ndarray:
    frames = np.lib.stride_tricks.sliding_window_view(x, _SYN_FRAME)[::_SYN_HOP][:_N_FRAMES]
    frames = frames * _SQRT_WIN
    y = np.fft.irfft(np.fft.rfft(frames, axis=1) * gains, _SYN_FRAME, axis=1) * _SQRT_WIN
    out = np.zeros(SEGMENT)
    for k in range(_SYN_FRAME // _SYN_HOP):  # overlap-add, half a frame at a time
        part = y[:, k * _SYN_HOP : (k + 1) * _SYN_HOP].reshape(-1)
        out[k * _SYN_HOP : k * _SYN_HOP + part.size] += part
    return out


def mark_period(
    x: np.ndarray, layout: Layout, code_bits: np.ndarray, period: int = 0, strength: float = 1.0
) -> np.ndarray:
    """The watermark (``SEGMENT`` samples) of period ``period`` of the clip, whose first tile
    starts at ``x[LEAD]``.

    Only this period's cells change; the watermark spills ``LEAD`` samples into each
    neighbour (add the periods' watermarks). ``strength`` in (0, 1] moves each pair that
    fraction of the way to its lattice point.
    """
    x = np.asarray(x, np.float64)
    e = _cells(x)
    t, b1, b2 = layout.tile, layout.band1, layout.band2
    e1, e2 = e[t, b1], e[t, b2]
    live = np.minimum(e1, e2) > SILENT
    d = np.log(e1 + 1e-12) - np.log(e2 + 1e-12)
    offset = layout.offsets(period, code_bits)
    q = offset + DELTA * np.round((d - offset) / DELTA)
    target = d + min(max(strength, 0.0), 1.0) * (q - d)
    move = np.where(live, target - d, 0.0)
    eps = np.zeros((PERIOD_TILES, BANDS))
    w = np.zeros(SEGMENT)
    # the weaker band of a pair takes the larger share of the move: for a given change of
    # the ratio, the power added is then smallest (E1 E2 / (E1 + E2) instead of (E1 + E2) / 4)
    share = e2 / (e1 + e2 + 1e-12)
    for _ in range(_ITERATIONS):
        eps[t, b1] += move * share
        eps[t, b2] -= move * (1.0 - share)
        np.clip(eps, -_CAP, _CAP, out=eps)
        w = _synth(x, _frame_gains(eps))
        em = _cells(x + w)
        dm = np.log(em[t, b1] + 1e-12) - np.log(em[t, b2] + 1e-12)
        move = np.where(live, target - dm, 0.0)
    return w
