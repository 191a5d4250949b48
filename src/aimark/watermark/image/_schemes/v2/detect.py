"""Detect ``io.aimark.image.2`` and decode its payload.

1. The image is reduced to an analysis size (short side about 240–480 px) and whitened.
2. Lattice hypotheses: the tile the embedder used for an image of this shape (a third of the
   short side, axis-aligned), and the lattices read from the residual's autocorrelation
   (key-independent, see :mod:`._lattice`).
3. For each hypothesis the residual is folded into one tile; the 8 orientations of the fold
   (rotations by 90° and mirror images) are correlated with every variant's *search* sync
   chips by FFT, which gives orientation, variant and translation; the lattice is refined
   from the translations seen in 3 × 3 regions.
4. The *test* sync chips are read at the chosen alignment: their z-score is N(0, 1) for any
   unmarked image (their keyed signs are independent of the search), which gives a calibrated
   p-value. The payload chips are decoded (soft Viterbi); a payload is reported only with a
   valid CRC-24, and only a payload makes a detection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.arrays import reduced_luma
from aimark.watermark.image._common.mask import box_mean
from aimark.watermark.image._common.peaks import local_peak, parabolic_offset
from aimark.watermark.image._common.residual import wiener_residual
from aimark.watermark.image._common.scheme import Detection, Probe
from aimark.watermark.image._schemes.v2.code import CODED_BITS, decode_payload, encode_payload
from aimark.watermark.image._schemes.v2.embed import TILES_PER_SIDE
from aimark.watermark.image._schemes.v2.fold import (
    BINS,
    EQUALISER,
    FINE,
    PX,
    PX_FINE,
    Coords,
    coords,
    fold,
    reference,
)
from aimark.watermark.image._schemes.v2.lattice import acf_lattices, same_lattice
from aimark.watermark.image._schemes.v2.layout import SCHEME_ID, VARIANTS, Layout, layout_for

__all__ = [
    "ANALYSIS_MIN",
    "Analysis",
    "analyse",
    "chips_at_origin",
    "detect_key",
    "probe",
    "whiten",
]

ANALYSIS_MIN = 256  # the analysis image's short side is at least this (when the image is)
_ANALYSIS_LONG = 768  # longest side analysed (centred crop beyond it)
_ORIENTATIONS = tuple(
    (t, fy, fx) for t in (False, True) for fy in (False, True) for fx in (False, True)
)
_REGIONS = 3
_DECODE_Z = 4.8  # search z below which the alignment is not refined or decoded
CRC_FALSE_ACCEPT = 2.0**-24  # a random codeword passes the CRC-24


@dataclass(frozen=True)
class Analysis:
    """The key-independent part of detection for one image."""

    r: np.ndarray  # whitened residual at the analysis size
    bases: tuple[np.ndarray, ...]  # lattice hypotheses (2×2, columns in analysis pixels)
    # the part of the picture ``r`` covers, as fractions (left, top, right, bottom)
    window: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    # key-independent work on ``r`` done once and shared by every key and by the schemes
    # built on this tile (.2 and .3): folds and their spectra per lattice hypothesis
    memo: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)


def whiten(y: np.ndarray) -> np.ndarray:
    """Local Wiener residual of ``y``, normalised by its local RMS and clipped: keeps small
    noise-like signals (the watermark) and removes most of the image's own structure."""
    r = wiener_residual(y)
    return np.clip(r / (np.sqrt(box_mean(r * r, 6)) + 1e-3), -3.0, 3.0)


def analyse(arr: np.ndarray) -> Analysis:
    """Reduce, whiten and find the lattice hypotheses of an image array."""
    s = min(arr.shape[:2])
    f = max(1, s // ANALYSIS_MIN)
    full = reduced_luma(arr, f)
    t, bot, left, right = _trim_extent(full)
    y = full[t:bot, left:right]
    h, w = y.shape
    expected = min(h, w) / TILES_PER_SIDE
    # a flat band may be padding (then the trimmed size is the image's) or part of the
    # picture, e.g. sky or highlights clipped by a contrast change (then the full size is)
    untrimmed = min(full.shape) / TILES_PER_SIDE
    top, left2 = max(0, (h - _ANALYSIS_LONG) // 2), max(0, (w - _ANALYSIS_LONG) // 2)
    y = y[top : top + _ANALYSIS_LONG, left2 : left2 + _ANALYSIS_LONG]
    fh, fw = full.shape
    window = (
        (left + left2) / fw,
        (t + top) / fh,
        (left + left2 + y.shape[1]) / fw,
        (t + top + y.shape[0]) / fh,
    )
    r = whiten(y)
    # the autocorrelation at half resolution: a quarter of the cost, peaks still sharp
    r2 = _half(r)
    s_a = min(r2.shape)
    bases = [np.diag([expected, expected])]
    if abs(untrimmed - expected) > 0.01 * expected:
        bases.append(np.diag([untrimmed, untrimmed]))
    for b2, _ in acf_lattices(r2, (0.17 * s_a, 0.6 * s_a), limit=2):
        b = 2.0 * b2
        if not _close(b, bases[0]):
            bases.append(b)
    return Analysis(r.astype(np.float32), tuple(bases), window)


def _half(r: np.ndarray) -> np.ndarray:
    h, w = r.shape
    return r[: h - h % 2, : w - w % 2].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def _trim_borders(y: np.ndarray, tol: float = 2.0) -> np.ndarray:
    """``y`` without uniform bands along its edges (letterbox or pillarbox padding)."""
    t, b, left, right = _trim_extent(y, tol)
    return y[t:b, left:right]


def _trim_extent(y: np.ndarray, tol: float = 2.0) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of ``y`` without uniform bands along its edges."""
    h, w = y.shape
    rows_flat = np.ptp(y, axis=1) <= tol
    cols_flat = np.ptp(y, axis=0) <= tol

    def extent(flat: np.ndarray) -> tuple[int, int]:
        n = flat.size
        a = int(np.argmin(flat)) if not flat.all() else n
        b = n - int(np.argmin(flat[::-1])) if not flat.all() else 0
        return a, b

    t, b = extent(rows_flat)
    left, right = extent(cols_flat)
    if b - t < h // 3 or right - left < w // 3:
        return 0, h, 0, w
    return t, b, left, right


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two bases span practically the same lattice."""
    return same_lattice(a, b, tol=0.02)


def _orient(a: np.ndarray, g: tuple[bool, bool, bool]) -> np.ndarray:
    t, fy, fx = g
    if t:
        a = a.T
    if fy:
        a = a[::-1]
    if fx:
        a = a[:, ::-1]
    return a


@lru_cache(maxsize=64)
def _search_refs(key: WatermarkKey, scheme_id: str = SCHEME_ID) -> np.ndarray:
    """conj(FFT) of every variant's search chips on the fold grid: (VARIANTS, BINS, BINS//2+1),
    in single precision (the searches' correlations need no more, and it halves their FFTs)."""
    layout = layout_for(key, scheme_id)
    refs = np.stack([reference(layout.search_chips(v)) for v in range(VARIANTS)])
    return np.conj(np.fft.rfft2(refs)).astype(np.complex64)


def _orient_spec(fold: np.ndarray) -> np.ndarray:
    """FFT of the 8 orientations of a fold (single precision)."""
    return np.fft.rfft2(np.stack([_orient(fold, g) for g in _ORIENTATIONS]).astype(np.float32))


def _best(
    fold: np.ndarray, refs: np.ndarray, spec: np.ndarray | None = None
) -> tuple[tuple[bool, bool, bool], int, float, float, float]:
    """(orientation, variant, sy, sx, normalised peak) of the best search correlation
    (``spec``: the fold's :func:`_orient_spec`, where already computed)."""
    if spec is None:
        spec = _orient_spec(fold)
    corr = np.fft.irfft2(spec[:, None] * refs[None], s=(BINS, BINS))
    flat = int(np.argmax(corr))
    gi, v, iy, ix = np.unravel_index(flat, corr.shape)
    c = corr[gi, v]
    n = BINS
    dy = parabolic_offset(c[(iy - 1) % n, ix], c[iy, ix], c[(iy + 1) % n, ix])
    dx = parabolic_offset(c[iy, (ix - 1) % n], c[iy, ix], c[iy, (ix + 1) % n])
    peak = float(c[iy, ix]) / float(np.linalg.norm(fold) + 1e-12)
    return _ORIENTATIONS[gi], int(v), float(iy + dy), float(ix + dx), peak


def _chips(
    values: np.ndarray, co, g, sy: float, sx: float, fine: np.ndarray | None = None
) -> np.ndarray:
    """The (CHIPS, CHIPS) chip values, read from the fine fold at the search's alignment
    (shift in search bins) and equalised (``fine``: the fine bins of ``values`` where they
    are a subset of the pixels)."""
    f = _orient(fold(values, co.fine if fine is None else fine, FINE), g)
    k = FINE // BINS
    ky = np.fft.fftfreq(FINE)[:, None]
    kx = np.fft.rfftfreq(FINE)[None, :]
    spec = np.fft.rfft2(f) * np.exp(2j * np.pi * (ky * sy * k + kx * sx * k))
    aligned = np.fft.irfft2(spec, s=f.shape)
    return EQUALISER @ (PX_FINE.T @ aligned @ PX_FINE) @ EQUALISER.T


def chips_at_origin(r: np.ndarray, period: float) -> np.ndarray:
    """The (CHIPS, CHIPS) chip values of a whitened residual ``r``, read as the detector reads
    them, at the lattice the embedder drew (axis-aligned, ``period`` pixels of ``r``, origin at
    the top-left corner): what an informed embedder measures of the host."""
    co = coords(r.shape, np.diag([1.0 / period, 1.0 / period]))
    return _chips(r.ravel().astype(np.float64), co, _ORIENTATIONS[0], 0.0, 0.0)


def _z(g: np.ndarray, idx: np.ndarray, sign: np.ndarray) -> float:
    vals = g.ravel()[idx]
    return float((vals * sign).sum() / (np.sqrt((vals * vals).sum()) + 1e-12))


def _soft_bits(g: np.ndarray, layout: Layout, v: int) -> np.ndarray:
    values = g.ravel()[layout.message_idx] * layout.message_sign[v]
    soft = np.bincount(layout.bit_index, weights=values, minlength=CODED_BITS)
    return soft / (np.std(soft) + 1e-12)


@dataclass(frozen=True)
class _Try:
    z_search: float
    z_test: float
    payload: int | None
    agreement: float
    variant: int
    chips: np.ndarray
    # the alignment the chips were read at: (inverse basis, orientation, shift y, shift x)
    align: tuple[np.ndarray, tuple[bool, bool, bool], float, float] | None = None


def _folded(
    an: Analysis, basis: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Coords, np.ndarray, np.ndarray]:
    """(values, inverse basis, coordinates, fold, its orientations' FFT) of one lattice
    hypothesis: key-independent, computed once per analysis."""
    memo = an.memo
    if "values" not in memo:
        memo["values"] = an.r.ravel().astype(np.float64)
    values = memo["values"]
    tag = ("fold", basis.tobytes())
    if tag not in memo:
        inv = np.linalg.inv(basis)
        co = coords(an.r.shape, inv)
        f = fold(values, co.idx)
        memo[tag] = (inv, co, f, _orient_spec(f))
    inv, co, f, spec = memo[tag]
    return values, inv, co, f, spec


def _try(an: Analysis, basis: np.ndarray, key: WatermarkKey, scheme_id: str) -> _Try:
    """Align one lattice hypothesis, then read the sync and (when the search sync is strong
    enough to be worth it) refine, read the chips finely and decode."""
    layout = layout_for(key, scheme_id)
    refs = _search_refs(key, scheme_id)
    r = an.r
    values, inv, co, f, spec = _folded(an, basis)
    g, v, sy, sx, _ = _best(f, refs, spec)
    chips = _coarse_chips(f, g, sy, sx)
    z_s = _z(chips, layout.search_idx, layout.search_sign[v])
    payload, agreement = None, 0.0
    align = (inv, g, sy, sx)
    if z_s >= _DECODE_Z:
        chips = _chips(values, co, g, sy, sx)
        z_s = _z(chips, layout.search_idx, layout.search_sign[v])
        new_inv = _refine(values, co, inv, g, v, (sy, sx), refs)
        if new_inv is not None:
            co2 = coords(r.shape, new_inv)
            f2 = fold(values, co2.idx)
            g2, v2, sy2, sx2, _ = _best(f2, refs)
            chips2 = _chips(values, co2, g2, sy2, sx2)
            z2 = _z(chips2, layout.search_idx, layout.search_sign[v2])
            if z2 > z_s:  # keep the refinement only when it aligns better
                chips, g, v, z_s = chips2, g2, v2, z2
                align = (new_inv, g2, sy2, sx2)
        dec = decode_payload(_soft_bits(chips, layout, v))
        payload, agreement = dec.payload, dec.agreement
    z_t = _z(chips, layout.test_idx, layout.test_sign[v])
    return _Try(z_s, z_t, payload, agreement, v, chips, align)


def _coarse_chips(f: np.ndarray, g, sy: float, sx: float) -> np.ndarray:
    """Chip values from the search fold (cheap; enough to judge the alignment)."""
    fg = _orient(f, g)
    ky = np.fft.fftfreq(BINS)[:, None]
    kx = np.fft.rfftfreq(BINS)[None, :]
    spec = np.fft.rfft2(fg) * np.exp(2j * np.pi * (ky * sy + kx * sx))
    return PX.T @ np.fft.irfft2(spec, s=fg.shape) @ PX


def _refine(values, co, inv, g, v, shift, refs) -> np.ndarray | None:
    """Affine correction of ``inv`` from the translations of 3 × 3 regions (None: too few)."""
    pts, disp, wts = [], [], []
    ref = refs[v]
    for k in range(_REGIONS * _REGIONS):
        sel = co.region == k
        if sel.sum() < 64:
            continue
        f = _orient(fold(values[sel], co.idx[sel]), g)
        c = np.fft.irfft2(np.fft.rfft2(f) * ref, s=f.shape) / (np.linalg.norm(f) + 1e-12)
        sy, sx, val = local_peak(c, shift, 3)
        if val <= 0:
            continue
        dy_g, dx_g = _wrap(sy - shift[0]), _wrap(sx - shift[1])
        t, fy, fx = g
        dy0 = -dy_g if fy else dy_g
        dx0 = -dx_g if fx else dx_g
        d_a1, d_a2 = (dy0, dx0) if t else (dx0, dy0)
        pts.append(co.centers[k])
        disp.append((d_a1 / BINS, d_a2 / BINS))
        wts.append(val)
    if len(pts) < 4:
        return None
    p, d, w = np.array(pts), np.array(disp), np.sqrt(np.array(wts))
    design = np.column_stack([p, np.ones(len(p))]) * w[:, None]
    coef, *_ = np.linalg.lstsq(design, d * w[:, None], rcond=None)
    return inv - coef[:2].T


def _wrap(d: float) -> float:
    return (d + BINS / 2) % BINS - BINS / 2


_SWEEP_RANGE = (0.25, 0.53)  # tile period / short side after crops of 25-100 % of the area
_SWEEP_STEP = 0.03  # relative step of the period sweep
_SWEEP_KEEP = 2


def _bin_matrices(n: int, periods: np.ndarray) -> np.ndarray:
    """(P, BINS, n) one-hot matrices: sample i falls in fold bin floor((i + ½)·BINS/period)."""
    b = np.floor((np.arange(n) + 0.5)[None, :] * (BINS / periods[:, None])).astype(np.int64)
    m = np.zeros((len(periods), BINS, n), np.float32)
    m[np.arange(len(periods))[:, None], b % BINS, np.arange(n)[None, :]] = 1.0
    return m


def separable_folds(r: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Folds of ``r`` along axis-aligned square lattices of each period (P, BINS, BINS),
    zero-mean: two batched matrix products with one-hot bin matrices (sum per bin), divided
    by the number of pixels in each bin (empty bins stay zero)."""
    h, w = r.shape
    my, mx = _bin_matrices(h, periods), _bin_matrices(w, periods)
    rows = (my.reshape(-1, h) @ r.astype(np.float32)).reshape(len(periods), BINS, w)
    total = rows @ mx.transpose(0, 2, 1)
    count = my.sum(axis=2)[:, :, None] * mx.sum(axis=2)[:, None, :]
    out = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    return out - out.mean(axis=(1, 2), keepdims=True)


def sweep_bases(
    r: np.ndarray,
    key: WatermarkKey,
    scheme_id: str = SCHEME_ID,
    memo: dict[object, Any] | None = None,
) -> list[np.ndarray]:
    """Axis-aligned lattices (crops keep the orientation but not the scale): a sweep over the
    period on a half-size residual, scored by the best search-sync correlation of any variant
    (the folds are key-independent: kept in ``memo`` for the next key or scheme)."""
    memo = {} if memo is None else memo
    if "sweep" not in memo:
        r2 = _half(r)
        s2 = min(r2.shape)
        lo, hi = _SWEEP_RANGE
        periods = s2 * lo * np.exp(np.arange(0.0, math.log(hi / lo), _SWEEP_STEP))
        folds = separable_folds(r2, periods).astype(np.float32)
        norms = np.linalg.norm(folds.reshape(len(periods), -1), axis=1) + 1e-12
        memo["sweep"] = (periods, norms, np.fft.rfft2(folds))
    periods, norms, spec = memo["sweep"]
    refs = _search_refs(key, scheme_id)
    corr = np.fft.irfft2(spec[:, None] * refs[None], s=(BINS, BINS))
    score = corr.reshape(len(periods), -1).max(axis=1) / norms
    out = []
    for i in np.argsort(-score)[:_SWEEP_KEEP]:
        p = 2.0 * periods[i]
        out.append(np.diag([p, p]))
    return out


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _bases(an: Analysis, key: WatermarkKey, scheme_id: str):
    yield from an.bases
    for b in sweep_bases(an.r, key, scheme_id, an.memo):
        if not any(_close(b, a) for a in an.bases):
            yield b


def _tries(
    an: Analysis, key: WatermarkKey, scheme_id: str = SCHEME_ID, *, every: bool = False
) -> list[_Try]:
    """Align every lattice hypothesis in turn; stop at the first payload unless ``every``."""
    tries: list[_Try] = []
    for basis in _bases(an, key, scheme_id):
        if abs(np.linalg.det(basis)) < 1.0:
            continue
        tries.append(_try(an, basis, key, scheme_id))
        if tries[-1].payload is not None and not every:
            break
    return tries


def _decision(tries: list[_Try]) -> tuple[float, int | None, float, float]:
    """(p_value, payload or None, confidence, best search z) from the tries up to the first
    one that decoded a payload.

    Without a payload the p-value is that of the best *test* z-score, corrected (Šidák) for
    the hypotheses tried. With one, it is that p-value times the chance that a random
    codeword passes the CRC-24 on one of the tries: the test chips and the message chips have
    independent keyed signs, so under the null hypothesis the two events are independent.
    """
    hit = next((i for i, t in enumerate(tries) if t.payload is not None), None)
    if hit is not None:
        tries = tries[: hit + 1]
    if not tries:
        return 1.0, None, 0.0, 0.0
    n = len(tries)
    z_best = max(t.z_search for t in tries)
    if hit is not None:
        t = tries[hit]
        p = min(1.0, n * CRC_FALSE_ACCEPT) * _norm_sf(t.z_test)
        return p, t.payload, max(0.0, t.agreement), z_best
    p_min = min(_norm_sf(t.z_test) for t in tries)
    return -math.expm1(n * math.log1p(-min(p_min, 1 - 1e-16))), None, 0.0, z_best


# a region "carries" the mark when the whole decoded tile correlates with its chips at this z
# (for a region without the mark z is N(0, 1): 4 is passed once in 30,000 regions)
REGION_Z = 4.0


def region_of(
    an: Analysis, t: _Try, layout: Layout, payload: int
) -> tuple[float, float, float, float] | None:
    """Where the decoded mark is, when only part of the analysed picture carries it: the
    bounding box (left, top, right, bottom, fractions of the picture) of the 3 × 3 regions
    whose chips correlate with the decoded tile at :data:`REGION_Z` or more; the analysed
    window when every region does and the window is not the whole picture (flat bands cut off
    its edges). None when the whole picture carries it or no region does (too weak to tell)."""
    if t.align is None:
        return None
    inv, g, sy, sx = t.align
    co = coords(an.r.shape, inv)
    values = an.r.ravel().astype(np.float64)
    sign = np.sign(layout.tile(t.variant, encode_payload(payload))).ravel()
    marked = []
    for k in range(_REGIONS * _REGIONS):
        sel = co.region == k
        if sel.sum() < 64:
            continue
        chips = _chips(values[sel], co, g, sy, sx, fine=co.fine[sel]).ravel()
        z = float((chips * sign).sum() / (np.sqrt((chips * chips).sum()) + 1e-12))
        if z >= REGION_Z:
            marked.append(k)
    if not marked:
        return None
    if len(marked) == _REGIONS * _REGIONS:
        if an.window == (0.0, 0.0, 1.0, 1.0):
            return None
        x0, y0, x1, y1 = an.window
        return round(x0, 3), round(y0, 3), round(x1, 3), round(y1, 3)
    rows = [k // _REGIONS for k in marked]
    cols = [k % _REGIONS for k in marked]
    left, top, right, bottom = an.window
    fx, fy = (right - left) / _REGIONS, (bottom - top) / _REGIONS
    return (
        round(left + min(cols) * fx, 3),
        round(top + min(rows) * fy, 3),
        round(left + (max(cols) + 1) * fx, 3),
        round(top + (max(rows) + 1) * fy, 3),
    )


def detect_key(
    an: Analysis, key: WatermarkKey, threshold: float, scheme_id: str = SCHEME_ID
) -> Detection:
    """Look for ``key``'s mark: a detection needs a payload with a valid CRC and a p-value
    (see :func:`_decision`) at most ``threshold``; a detection in part of the picture only
    names that part (:func:`region_of`)."""
    tries = _tries(an, key, scheme_id)
    p, payload, confidence, z = _decision(tries)
    detected = payload is not None and p <= threshold
    if detected:
        status = "detected"
    elif p <= threshold:
        status = "inconclusive"  # the key's sync is there, the payload did not decode
    else:
        status = "not-detected"
    if not detected:
        payload, confidence = None, 0.0
    reason = "payload-unreadable" if status == "inconclusive" else None
    region = None
    if detected and payload is not None:
        hit = next(t for t in tries if t.payload == payload)
        region = region_of(an, hit, layout_for(key, scheme_id), payload)
    return Detection(
        detected, p, payload, confidence, z, threshold, status, scheme_id, reason, region
    )


# amplitude SNR per coded bit at which about 97 % of payloads decode (AWGN, measured)
DECODE_SNR = 1.0


def probe(an: Analysis, key: WatermarkKey, payload: int, scheme_id: str = SCHEME_ID) -> Probe:
    """The detection's p-value and payload (CRC-valid, whatever the p-value), and the margin
    of a *known* payload: the amplitude SNR per coded bit of its chips at the best alignment
    found, in dB over :data:`DECODE_SNR` (one set of tries for both)."""
    tries = _tries(an, key, scheme_id, every=True)
    p, found, _, _ = _decision(tries)
    snr = 0.0
    if tries:
        best = max(tries, key=lambda t: t.z_search)
        soft = _soft_bits(best.chips, layout_for(key, scheme_id), best.variant)
        sign = 1.0 - 2.0 * encode_payload(payload).astype(np.float64)
        mean = float(np.mean(soft * sign))
        spread = float(np.std(soft - mean * sign)) + 1e-12
        snr = max(0.0, mean / spread)
    return Probe(p, found, 20 * math.log10(max(snr, 1e-6) / DECODE_SNR))
