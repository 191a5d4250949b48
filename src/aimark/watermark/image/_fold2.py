"""Folding for ``io.aimark.image.2``: every pixel of the residual is accumulated into one tile
along a lattice hypothesis (``np.bincount``), on a grid of two bins per chip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimark.watermark.image._layout2 import CHIPS, period_matrix

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


@dataclass
class Coords:
    idx: np.ndarray  # flat bin index of every pixel (BINS grid)
    region: np.ndarray  # region label of every pixel
    centers: np.ndarray  # (R, 2) region centres in pixels (x, y)
    fine: np.ndarray  # flat bin index of every pixel on the FINE grid


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
    ry = np.minimum((np.arange(h) * REGIONS) // h, REGIONS - 1)
    rx = np.minimum((np.arange(w) * REGIONS) // w, REGIONS - 1)
    region = (ry[:, None] * REGIONS + rx[None, :]).ravel()
    cy = (np.arange(REGIONS) + 0.5) * h / REGIONS
    cx = (np.arange(REGIONS) + 0.5) * w / REGIONS
    centers = np.array([(x, y) for y in cy for x in cx])
    step = FINE // BINS
    coarse = ((v // step) * BINS + u // step).ravel()
    return Coords(coarse, region, centers, (v * FINE + u).ravel())


def fold(values: np.ndarray, idx: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Mean of ``values`` per fold bin (bins, bins), zero-mean."""
    total = np.bincount(idx, weights=values, minlength=bins * bins)
    count = np.bincount(idx, minlength=bins * bins)
    out = np.where(count > 0, total / np.maximum(count, 1), 0.0).reshape(bins, bins)
    return out - out.mean()
