"""Find the tile lattice of a periodic watermark from the autocorrelation of the residual.

The watermark repeats with the tile, so the autocorrelation of the whitened residual has
peaks at every lattice vector, whatever the rotation, scale, aspect change, shear or flip of
the image and whatever the key. The lattice is read from the strongest pair of peaks that
forms a plausible basis (similar lengths, roughly perpendicular), scored together with the
peaks it predicts at ``a + b`` and ``a - b``. Nothing here depends on the key: the analysis
is done once per image and shared by every key tested.
"""

from __future__ import annotations

import numpy as np

from aimark.watermark.image._common.mask import box_mean
from aimark.watermark.image._common.peaks import parabolic_offset

__all__ = ["acf_lattices", "autocorrelation", "same_lattice"]


def _fast_len(n: int) -> int:
    """The smallest 2^a 3^b 5^c ≥ n (sizes numpy's FFT handles fastest)."""
    best = 1 << (n - 1).bit_length()
    f5 = 1
    while f5 < best:
        f35 = f5
        while f35 < best:
            f = f35
            while f < n:
                f *= 2
            best = min(best, f)
            f35 *= 3
        f5 *= 5
    return best


def autocorrelation(r: np.ndarray, max_lag: int) -> np.ndarray:
    """Linear (zero-padded) autocorrelation of ``r`` for lags up to ``max_lag``, normalised by
    the overlap and by the zero-lag value. Shape (2·max_lag + 1, max_lag + 1): rows are
    dy in [-max_lag, max_lag], columns dx in [0, max_lag] (the other half is symmetric)."""
    h, w = r.shape
    sh, sw = _fast_len(h + max_lag), _fast_len(w + max_lag)
    spec = np.fft.rfft2(r, s=(sh, sw))
    acf = np.fft.irfft2(spec.real**2 + spec.imag**2, s=(sh, sw))
    rows = np.r_[sh - max_lag : sh, 0 : max_lag + 1]
    out = acf[np.ix_(rows, np.arange(max_lag + 1))]
    dy = np.abs(np.arange(-max_lag, max_lag + 1))[:, None]
    dx = np.arange(max_lag + 1)[None, :]
    overlap = np.maximum((h - dy) * (w - dx), 1).astype(np.float64)
    out = out / overlap
    zero = out[max_lag, 0]
    return (out / (zero + 1e-12)).astype(np.float32)


def _peaks(a: np.ndarray, mask: np.ndarray, count: int) -> list[tuple[float, float, float]]:
    """Up to ``count`` local maxima of ``a`` inside ``mask``: (dy, dx, value), sub-pixel."""
    m = a.copy()
    m[~mask] = -np.inf
    pooled = m.copy()
    for ax in (0, 1):
        for d in (1, -1):
            pooled = np.maximum(pooled, np.roll(m, d, ax))
    for d in (1, -1):
        for e in (1, -1):
            pooled = np.maximum(pooled, np.roll(np.roll(m, d, 0), e, 1))
    is_peak = (m >= pooled) & mask & np.isfinite(m)
    ys, xs = np.nonzero(is_peak)
    if ys.size == 0:
        return []
    vals = m[ys, xs]
    order = np.argsort(-vals)[:count]
    lag = (a.shape[0] - 1) // 2
    out = []
    for i in order:
        y, x = int(ys[i]), int(xs[i])
        dy = dx = 0.0
        if 0 < y < a.shape[0] - 1:
            dy = parabolic_offset(a[y - 1, x], a[y, x], a[y + 1, x])
        if 0 < x < a.shape[1] - 1:
            dx = parabolic_offset(a[y, x - 1], a[y, x], a[y, x + 1])
        out.append((y - lag + dy, x + dx, float(vals[i])))
    return out


def _value(a: np.ndarray, v: np.ndarray) -> float:
    """The (background-removed) autocorrelation at lag vector v = (dx, dy), 0 outside."""
    lag = (a.shape[0] - 1) // 2
    dx, dy = v
    if dx < 0 or (dx == 0 and dy < 0):
        dx, dy = -dx, -dy
    ix, iy = round(dx), round(dy) + lag
    if not (0 <= ix < a.shape[1] and 0 <= iy < a.shape[0]):
        return 0.0
    return float(a[iy, ix])


def acf_lattices(
    r: np.ndarray, periods: tuple[float, float], *, limit: int = 2, candidates: int = 14
) -> list[tuple[np.ndarray, float]]:
    """Candidate lattice bases (2×2, columns are lattice vectors (x, y) in pixels) with their
    scores, best first, for tile periods in ``periods`` (min, max) pixels."""
    lo, hi = periods
    max_lag = int(min(hi * 1.05, min(r.shape) - 8))
    if max_lag < lo + 4:
        return []
    acf = autocorrelation(r, max_lag)
    # remove the smooth part (edges and the image's own correlation): keep sharp peaks
    detail = acf - box_mean(acf, 3)
    dy = np.arange(-max_lag, max_lag + 1)[:, None]
    dx = np.arange(max_lag + 1)[None, :]
    rad = np.hypot(dx, dy)
    mask = (rad >= lo) & (rad <= min(hi, max_lag)) & ((dx > 0) | (dy > 0))
    peaks = _peaks(detail, mask, candidates)
    vecs = [np.array([x, y]) for y, x, _ in peaks]
    vals = [v for _, _, v in peaks]
    found: list[tuple[float, np.ndarray]] = []
    for i in range(len(vecs)):
        for j in range(i + 1, len(vecs)):
            a, b = vecs[i], vecs[j]
            la, lb = np.hypot(*a), np.hypot(*b)
            ratio = la / lb
            if not 0.75 <= ratio <= 1.33:
                continue
            cos = abs(float(a @ b)) / (la * lb)
            if cos > 0.5:
                continue
            score = vals[i] + vals[j] + _value(detail, a + b) + _value(detail, a - b)
            found.append((score, np.column_stack([a, b])))
    found.sort(key=lambda t: -t[0])
    out: list[tuple[np.ndarray, float]] = []
    for score, basis in found:
        basis = _finest(basis, detail, lo)
        if all(not same_lattice(basis, b) for b, _ in out):
            out.append((basis, score))
        if len(out) == limit:
            break
    return out


def _finest(basis: np.ndarray, detail: np.ndarray, lo: float) -> np.ndarray:
    """The finest lattice, containing ``basis``'s, whose vectors are all strong peaks too:
    the autocorrelation also peaks at every multiple of the tile's lattice vectors, so the
    strongest pair can be a sublattice (twice the period, or the diagonals)."""
    while True:
        a, b = basis[:, 0], basis[:, 1]
        level = 0.4 * min(_value(detail, a), _value(detail, b))
        if level <= 0:
            return basis
        options = [
            np.column_stack([(a + b) / 2, (a - b) / 2]),
            np.column_stack([a / 2, b / 2]),
            np.column_stack([a / 2, b]),
            np.column_stack([a, b / 2]),
        ]
        for cand in options:
            u, v = cand[:, 0], cand[:, 1]
            if min(np.hypot(*u), np.hypot(*v)) < lo * 0.9:
                continue
            if min(_value(detail, u), _value(detail, v)) >= level:
                basis = cand
                break
        else:
            return basis


def same_lattice(a: np.ndarray, b: np.ndarray, tol: float = 0.04) -> bool:
    """Whether bases a and b span the same lattice (up to sign and order of the vectors)."""
    m = np.linalg.solve(b, a)  # a = b @ m
    return bool(
        np.abs(m - np.rint(m)).max() < tol and abs(abs(np.linalg.det(np.rint(m))) - 1) < 0.5
    )
