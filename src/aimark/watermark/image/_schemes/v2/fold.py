"""Folding for ``io.aimark.image.2``: every pixel of the residual is accumulated into one tile
along a lattice hypothesis (``np.bincount``), on a grid of two bins per chip."""

from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

from aimark.watermark.image._schemes.v2.layout import CHIPS, period_matrix

__all__ = ["BINS", "PX", "Coords", "coords", "fold", "reference"]

BINS = 2 * CHIPS  # the fold grid of the alignment search
FINE = 4 * CHIPS  # the fold grid the chips are read from (less loss to binning)
REGIONS = 3  # regions per side used to refine the lattice
PX = period_matrix(BINS, BINS).astype(np.float64)  # chip weights at each fold bin
PX_FINE = period_matrix(FINE, FINE).astype(np.float64)
_GRAM = PX_FINE.T @ PX_FINE
# regularised inverse of the chips' overlap: undoes most of the crosstalk between
# neighbouring chips that bilinear rendering causes, without amplifying noise much
EQUALISER = np.linalg.inv(_GRAM + 0.2 * np.trace(_GRAM) / CHIPS * np.eye(CHIPS))


def reference(chips: np.ndarray) -> np.ndarray:
    """Chips rendered on the fold grid (BINS, BINS)."""
    return PX @ chips @ PX.T


class Coords:
    """Fold bins of every pixel for one lattice hypothesis. The coarse bins (``idx``) are
    computed at once; the fine bins and the region labels only when a decode asks for them."""

    def __init__(self, shape: tuple[int, int], u: np.ndarray, v: np.ndarray) -> None:
        self.shape = shape
        self._u, self._v = u, v  # FINE-grid coordinates, (1, W) and (H, 1) when axis-aligned
        step = FINE // BINS
        # flat bin index of every pixel on the BINS grid
        self.idx = np.broadcast_to((v // step) * BINS + u // step, shape).ravel()

    @cached_property
    def fine(self) -> np.ndarray:
        """Flat bin index of every pixel on the FINE grid."""
        return np.broadcast_to(self._v * FINE + self._u, self.shape).ravel()

    @cached_property
    def region(self) -> np.ndarray:
        """Region label (0 … REGIONS²-1) of every pixel."""
        return _regions(self.shape)

    @property
    def centers(self) -> np.ndarray:
        """(REGIONS², 2) region centres in pixels (x, y)."""
        h, w = self.shape
        cy = (np.arange(REGIONS) + 0.5) * h / REGIONS
        cx = (np.arange(REGIONS) + 0.5) * w / REGIONS
        return np.array([(x, y) for y in cy for x in cx])


@lru_cache(maxsize=8)
def _regions(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    ry = np.minimum((np.arange(h) * REGIONS) // h, REGIONS - 1)
    rx = np.minimum((np.arange(w) * REGIONS) // w, REGIONS - 1)
    out = (ry[:, None] * REGIONS + rx[None, :]).ravel()
    out.flags.writeable = False
    return out


def coords(shape: tuple[int, int], inv: np.ndarray) -> Coords:
    """Fold bin of every pixel for the inverse lattice basis ``inv`` (pixel → tiles)."""
    h, w = shape
    # float32 is exact enough: bin coordinates stay under a few thousand
    xs = (np.arange(w, dtype=np.float32) + 0.5) * FINE
    ys = (np.arange(h, dtype=np.float32) + 0.5) * FINE
    inv = inv.astype(np.float32)
    if inv[0, 1] == 0 and inv[1, 0] == 0:  # axis-aligned: bins per column and per row
        u = (np.floor(inv[0, 0] * xs).astype(np.int32) % FINE)[None, :]
        v = (np.floor(inv[1, 1] * ys).astype(np.int32) % FINE)[:, None]
    else:
        a1 = (inv[0, 0] * xs)[None, :] + (inv[0, 1] * ys)[:, None]
        a2 = (inv[1, 0] * xs)[None, :] + (inv[1, 1] * ys)[:, None]
        u = np.floor(a1).astype(np.int32) % FINE
        v = np.floor(a2).astype(np.int32) % FINE
    return Coords((h, w), u, v)


def fold(values: np.ndarray, idx: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Mean of ``values`` per fold bin (bins, bins), zero-mean."""
    total = np.bincount(idx, weights=values, minlength=bins * bins)
    count = np.bincount(idx, minlength=bins * bins)
    out = np.where(count > 0, total / np.maximum(count, 1), 0.0).reshape(bins, bins)
    return out - out.mean()
