"""Fine alignment: fold the residual into one tile along a lattice hypothesis, find the tile's
translation (and flip) against the keyed sync chips, and refine the lattice from the
translations seen in separate regions of the image.

Tile coordinates of a pixel ``p`` are ``a = inv(B) @ p`` (in tiles); the fold accumulates the
residual into ``BINS × BINS`` cells of one tile (two bins per chip).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimark.watermark.image._common.peaks import local_peak, parabolic_offset
from aimark.watermark.image._schemes.v1.layout import CHIPS, interpolation_matrix

__all__ = ["Alignment", "align"]

BINS = 2 * CHIPS
_FLIPS = ((False, False), (True, False), (False, True), (True, True))
_REGIONS = 3  # regions per side used to refine the lattice


_PX = _PY = interpolation_matrix(BINS).astype(np.float64)  # chip weights at each fold bin


def reference(sync: np.ndarray) -> np.ndarray:
    """The sync chips rendered on the fold grid (BINS, BINS)."""
    return _PY @ sync @ _PX.T


@dataclass
class _Coords:
    idx: np.ndarray  # flat bin index of every pixel
    region: np.ndarray  # region label of every pixel
    centers: np.ndarray  # (R, 2) region centres in pixels (x, y)


def _coords(shape: tuple[int, int], inv: np.ndarray) -> _Coords:
    h, w = shape
    # float32 is exact enough: bin coordinates stay under a few thousand
    xs = (np.arange(w, dtype=np.float32) + 0.5) * BINS
    ys = (np.arange(h, dtype=np.float32) + 0.5) * BINS
    inv = inv.astype(np.float32)
    a1 = (inv[0, 0] * xs)[None, :] + (inv[0, 1] * ys)[:, None]
    a2 = (inv[1, 0] * xs)[None, :] + (inv[1, 1] * ys)[:, None]
    u = np.floor(a1).astype(np.int32) % BINS
    v = np.floor(a2).astype(np.int32) % BINS
    ry = np.minimum((np.arange(h) * _REGIONS) // h, _REGIONS - 1)
    rx = np.minimum((np.arange(w) * _REGIONS) // w, _REGIONS - 1)
    region = (ry[:, None] * _REGIONS + rx[None, :]).ravel()
    cy = (np.arange(_REGIONS) + 0.5) * h / _REGIONS
    cx = (np.arange(_REGIONS) + 0.5) * w / _REGIONS
    centers = np.array([(x, y) for y in cy for x in cx])
    return _Coords((v * BINS + u).ravel(), region, centers)


def _fold(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    total = np.bincount(idx, weights=values, minlength=BINS * BINS)
    count = np.bincount(idx, minlength=BINS * BINS)
    fold = np.where(count > 0, total / np.maximum(count, 1), 0.0).reshape(BINS, BINS)
    return fold - fold.mean()


def _flip(a: np.ndarray, flip: tuple[bool, bool]) -> np.ndarray:
    if flip[1]:
        a = a[::-1]
    if flip[0]:
        a = a[:, ::-1]
    return a


def _xcorr(fold: np.ndarray, ref_hat: np.ndarray) -> np.ndarray:
    return np.fft.irfft2(np.fft.rfft2(fold) * ref_hat, s=fold.shape)


def _peak(c: np.ndarray) -> tuple[float, float, float]:
    """Sub-bin (sy, sx) of the circular maximum of ``c`` and its value."""
    iy, ix = np.unravel_index(int(np.argmax(c)), c.shape)
    n = c.shape[0]
    dy = parabolic_offset(c[(iy - 1) % n, ix], c[iy, ix], c[(iy + 1) % n, ix])
    dx = parabolic_offset(c[iy, (ix - 1) % n], c[iy, ix], c[iy, (ix + 1) % n])
    return iy + dy, ix + dx, float(c[iy, ix])


@dataclass(frozen=True)
class Alignment:
    """A lattice, a flip and a tile translation that align the image with the key's tile."""

    inv: np.ndarray  # inverse basis: pixel -> tile coordinates
    flip: tuple[bool, bool]
    shift: tuple[float, float]  # (sy, sx) in bins
    fold: np.ndarray  # the flipped fold (BINS, BINS)


def _best_flip_shift(
    fold: np.ndarray, ref_hat: np.ndarray
) -> tuple[tuple[bool, bool], tuple[float, float], float]:
    best = ((False, False), (0.0, 0.0), -np.inf)
    for flip in _FLIPS:
        f = _flip(fold, flip)
        sy, sx, val = _peak(_xcorr(f, ref_hat) / (np.linalg.norm(f) + 1e-12))
        if val > best[2]:
            best = (flip, (sy, sx), val)
    return best


_SEARCH = 3  # bins around the global translation searched in each region


def _wrap(d: float) -> float:
    return (d + BINS / 2) % BINS - BINS / 2


def align(r: np.ndarray, basis: np.ndarray, sync: np.ndarray, *, refine: int = 1) -> Alignment:
    """Fold ``r`` along ``basis``, find flip and translation, refine the lattice ``refine``
    times from per-region translations, and return the final alignment."""
    ref_hat = np.conj(np.fft.rfft2(reference(sync)))
    inv = np.linalg.inv(basis)
    values = r.ravel().astype(np.float64)
    flip, shift = (False, False), (0.0, 0.0)
    for it in range(refine + 1):
        co = _coords(r.shape, inv)
        fold = _fold(values, co.idx)
        flip, shift, _ = _best_flip_shift(fold, ref_hat)
        if it == refine:
            break
        # translation of each region relative to the global one -> affine correction
        pts, disp, wts = [], [], []
        for k in range(_REGIONS * _REGIONS):
            sel = co.region == k
            if sel.sum() < 64:
                continue
            f = _flip(_fold(values[sel], co.idx[sel]), flip)
            c = _xcorr(f, ref_hat) / (np.linalg.norm(f) + 1e-12)
            sy, sx, val = local_peak(c, shift, _SEARCH)
            if val <= 0:
                continue
            pts.append(co.centers[k])
            disp.append((_wrap(sx - shift[1]), _wrap(sy - shift[0])))
            wts.append(val)
        if len(pts) < 4:
            break
        pts_a, disp_a, w = np.array(pts), np.array(disp) / BINS, np.sqrt(np.array(wts))
        # in flipped fold coordinates a shift of +d bins means the tile sits d bins later;
        # undo the flip to express it in the lattice's own (a1, a2) axes
        sign = np.array([-1.0 if flip[0] else 1.0, -1.0 if flip[1] else 1.0])
        disp_a = disp_a * sign
        design = np.column_stack([pts_a, np.ones(len(pts_a))]) * w[:, None]
        coef, *_ = np.linalg.lstsq(design, disp_a * w[:, None], rcond=None)
        correction = coef[:2].T  # d(a)/d(x, y)
        inv = inv - correction
    return Alignment(inv, flip, shift, _flip(_fold(values, _coords(r.shape, inv).idx), flip))


def chips(al: Alignment, template: np.ndarray | None = None) -> np.ndarray:
    """The (CHIPS, CHIPS) chip values of the aligned tile (sub-bin translation applied).

    ``template``: the key's sync template on the fold grid (BINS, BINS); its least-squares
    share of the aligned fold is removed first, so it does not interfere with the chips.
    """
    sy, sx = al.shift
    ky = np.fft.fftfreq(BINS)[:, None]
    kx = np.fft.rfftfreq(BINS)[None, :]
    spec = np.fft.rfft2(al.fold) * np.exp(2j * np.pi * (ky * sy + kx * sx))
    aligned = np.fft.irfft2(spec, s=al.fold.shape)
    if template is not None:
        aligned = aligned - template * (np.sum(aligned * template) / np.sum(template * template))
    return _PY.T @ aligned @ _PX
