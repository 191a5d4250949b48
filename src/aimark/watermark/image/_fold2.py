"""Folding for ``io.aimark.image.2``: every pixel of the residual is accumulated into one tile
along a lattice hypothesis (``np.bincount``), on a grid of two bins per chip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimark.watermark.image._layout2 import CHIPS, period_matrix

__all__ = ["BINS", "PX", "Coords", "coords", "fold", "reference"]

BINS = 2 * CHIPS
REGIONS = 3  # regions per side used to refine the lattice
PX = period_matrix(BINS, BINS).astype(np.float64)  # chip weights at each fold bin


def reference(chips: np.ndarray) -> np.ndarray:
    """Chips rendered on the fold grid (BINS, BINS)."""
    return PX @ chips @ PX.T


@dataclass
class Coords:
    idx: np.ndarray  # flat bin index of every pixel
    region: np.ndarray  # region label of every pixel
    centers: np.ndarray  # (R, 2) region centres in pixels (x, y)


def coords(shape: tuple[int, int], inv: np.ndarray) -> Coords:
    """Fold bin of every pixel for the inverse lattice basis ``inv`` (pixel → tiles)."""
    h, w = shape
    # float32 is exact enough: bin coordinates stay under a few thousand
    xs = (np.arange(w, dtype=np.float32) + 0.5) * BINS
    ys = (np.arange(h, dtype=np.float32) + 0.5) * BINS
    inv = inv.astype(np.float32)
    if inv[0, 1] == 0 and inv[1, 0] == 0:  # axis-aligned: bins per column and per row
        u = (np.floor(inv[0, 0] * xs).astype(np.int32) % BINS)[None, :]
        v = (np.floor(inv[1, 1] * ys).astype(np.int32) % BINS)[:, None]
    else:
        a1 = (inv[0, 0] * xs)[None, :] + (inv[0, 1] * ys)[:, None]
        a2 = (inv[1, 0] * xs)[None, :] + (inv[1, 1] * ys)[:, None]
        u = np.floor(a1).astype(np.int32) % BINS
        v = np.floor(a2).astype(np.int32) % BINS
    ry = np.minimum((np.arange(h) * REGIONS) // h, REGIONS - 1)
    rx = np.minimum((np.arange(w) * REGIONS) // w, REGIONS - 1)
    region = (ry[:, None] * REGIONS + rx[None, :]).ravel()
    cy = (np.arange(REGIONS) + 0.5) * h / REGIONS
    cx = (np.arange(REGIONS) + 0.5) * w / REGIONS
    centers = np.array([(x, y) for y in cy for x in cx])
    return Coords((v * BINS + u).ravel(), region, centers)


def fold(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean of ``values`` per fold bin (BINS, BINS), zero-mean."""
    total = np.bincount(idx, weights=values, minlength=BINS * BINS)
    count = np.bincount(idx, minlength=BINS * BINS)
    out = np.where(count > 0, total / np.maximum(count, 1), 0.0).reshape(BINS, BINS)
    return out - out.mean()
