"""Geometric synchronisation: recover the tile lattice (period, rotation, aspect change, flip)
from the keyed sinusoidal template hidden in the tile.

The template's sinusoids sit at keyed harmonics ``h = (k, l)`` of the tile, so in the image
spectrum they appear as isolated peaks at ``f = M h`` where ``M`` (2×2) is the inverse
transpose of the tile basis. Peaks of the whitened spectrum vote for a scale and rotation; the
matched peaks then give ``M`` by least squares, which also captures aspect changes and mirror
images. A hypothesis is only a candidate: the sync chips decide.
"""

from __future__ import annotations

import math

import numpy as np

from aimark.watermark.image._common.mask import box_mean
from aimark.watermark.image._common.peaks import parabolic_offset

__all__ = ["lattice_candidates"]

_MAX_ROTATION = math.radians(8.0)
_MAX_ASPECT = math.log(1.12)


def _tukey(n: int, alpha: float = 0.2) -> np.ndarray:
    w = np.ones(n)
    m = max(1, int(alpha * n / 2))
    ramp = 0.5 * (1 - np.cos(np.pi * (np.arange(m) + 0.5) / m))
    w[:m], w[n - m :] = ramp, ramp[::-1]
    return w


def whitened_spectrum(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(whitened power, fx, fy) of the real FFT of ``y`` (frequencies in cycles per pixel)."""
    h, w = y.shape
    win = np.outer(_tukey(h), _tukey(w)).astype(np.float32)
    spec = np.fft.rfft2((y - y.mean()) * win)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    background = box_mean(power, 4) + 1e-9 * float(power.mean() + 1e-12)
    return power / background, np.fft.rfftfreq(w), np.fft.fftfreq(h)


def _maxpool(a: np.ndarray, r: int) -> np.ndarray:
    """Maximum over a (2r+1)² neighbourhood (rows wrap, columns clamp)."""
    out = a.copy()
    rows = a
    for d in range(1, r + 1):
        out = np.maximum(out, np.roll(rows, d, 0))
        out = np.maximum(out, np.roll(rows, -d, 0))
    cols = out.copy()
    for d in range(1, r + 1):
        out[:, d:] = np.maximum(out[:, d:], cols[:, :-d])
        out[:, :-d] = np.maximum(out[:, :-d], cols[:, d:])
    return out


def _freq_maps(
    periods: np.ndarray, angles: np.ndarray, aspects: np.ndarray, mirror: int
) -> np.ndarray:
    """(n, 2, 2) maps M from harmonics to frequencies for every (period, angle, aspect)
    combination, for the basis B = R(angle) @ diag(T·√a·mirror, T/√a); M = B^-T."""
    t, a, q = np.meshgrid(periods, angles, aspects, indexing="ij")
    t, a, q = t.ravel(), a.ravel(), q.ravel()
    c, s = np.cos(a), np.sin(a)
    ix, iy = 1.0 / (t * np.sqrt(q) * mirror), np.sqrt(q) / t  # inverse diagonal
    return np.stack([np.stack([c * ix, -s * iy], -1), np.stack([s * ix, c * iy], -1)], -2)


def _score(table: np.ndarray, maps: np.ndarray, harmonics: np.ndarray) -> np.ndarray:
    """Sum of ``table`` (pooled whitened power) at the template peaks each map predicts."""
    h, w2 = table.shape
    hx, hy = harmonics[:, 0].astype(np.float32), harmonics[:, 1].astype(np.float32)
    m = maps.astype(np.float32)
    fx = m[:, 0, 0, None] * hx + m[:, 0, 1, None] * hy  # (n, K)
    fy = m[:, 1, 0, None] * hx + m[:, 1, 1, None] * hy
    flip = fx < 0
    fx = np.where(flip, -fx, fx)
    fy = np.where(flip, -fy, fy)
    width = 2 * (w2 - 1)
    col = np.minimum(np.rint(fx * width).astype(np.int32), w2 - 1)
    row = np.rint(fy * h).astype(np.int32) % h
    vals = table[row, col]
    vals[np.abs(fy) >= 0.5] = 0.0
    return vals.sum(axis=1)


def _grid(center: float, half: float, step: float) -> np.ndarray:
    n = max(1, round(half / step))
    return center + step * np.arange(-n, n + 1)


def _local_peak(pw: np.ndarray, f: np.ndarray, radius: int = 2) -> tuple[np.ndarray, float]:
    """Sub-bin peak of ``pw`` near frequency ``f`` = (fx, fy); returns (f, power)."""
    h, w2 = pw.shape
    width = 2 * (w2 - 1)
    sign = -1.0 if f[0] < 0 else 1.0
    fx, fy = f * sign
    c0, r0 = round(fx * width), round(fy * h)
    cols = np.clip(c0 + np.arange(-radius, radius + 1), 0, w2 - 1)
    rows = (r0 + np.arange(-radius, radius + 1)) % h
    win = pw[np.ix_(rows, cols)]
    iy, ix = np.unravel_index(int(np.argmax(win)), win.shape)
    r, c = rows[iy], cols[ix]

    def lg(rr: int, cc: int) -> float:
        return math.log(float(pw[rr % h, cc]) + 1e-9)

    dx = parabolic_offset(lg(r, c - 1), lg(r, c), lg(r, c + 1)) if 0 < c < w2 - 1 else 0.0
    dy = parabolic_offset(lg(r - 1, c), lg(r, c), lg(r + 1, c))
    row_freq = ((r + dy + h / 2) % h - h / 2) / h
    return sign * np.array([(c + dx) / width, row_freq]), float(pw[r, c])


def _search(
    table: np.ndarray,
    harmonics: np.ndarray,
    centres: list[tuple[float, float, float, int]],
    half: tuple[float, float, float],
    step: float,
    keep: int,
) -> list[tuple[float, float, float, float, int]]:
    """Grid search around each centre (period, angle, aspect, mirror); best ``keep`` overall,
    with neighbours of a pick suppressed."""
    found: list[tuple[float, float, float, float, int]] = []
    for t0, a0, q0, mirror in centres:
        ts = t0 * np.exp(_grid(0.0, half[0], step))
        an = _grid(a0, half[1], step)
        qs = q0 * np.exp(_grid(0.0, half[2], step))
        sc = _score(table, _freq_maps(ts, an, qs, mirror), harmonics).reshape(
            len(ts), len(an), len(qs)
        )
        for _ in range(keep):
            i, j, k = np.unravel_index(int(np.argmax(sc)), sc.shape)
            if sc[i, j, k] <= 0:
                break
            found.append((float(sc[i, j, k]), ts[i], an[j], qs[k], mirror))
            sc[max(0, i - 2) : i + 3, max(0, j - 2) : j + 3, max(0, k - 2) : k + 3] = 0
    found.sort(key=lambda c: -c[0])
    return found[:keep]


def _coarse(
    y: np.ndarray, harmonics: np.ndarray, periods: tuple[float, float], keep: int
) -> list[tuple[float, float, float, float, int]]:
    """The coarse search on the half-size spectrum (periods halve too): tolerance ±3 bins."""
    small = _half(y)
    pw_small, _, _ = whitened_spectrum(small)
    rel = _coarse_step(small, harmonics, periods[0])
    log_span = math.log(periods[1] / periods[0])
    starts = [(math.sqrt(periods[0] * periods[1]) / 2, 0.0, 1.0, m) for m in (1, -1)]
    half = (log_span / 2, _MAX_ROTATION, _MAX_ASPECT)
    return _search(_maxpool(pw_small, 3), harmonics, starts, half, rel, keep)


def _half(y: np.ndarray) -> np.ndarray:
    h, w = y.shape
    return y[: h - h % 2, : w - w % 2].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def _coarse_step(small: np.ndarray, harmonics: np.ndarray, min_period: float) -> float:
    """Relative step that moves the farthest template peak by 3 bins of the half-size
    spectrum at the smallest period."""
    reach = float(np.hypot(harmonics[:, 0], harmonics[:, 1]).max())
    return 3.0 / (reach / (min_period / 2) * max(small.shape))


def template_score(y: np.ndarray, harmonics: np.ndarray, *, periods: tuple[float, float]) -> float:
    """The best whitened spectral power at the key's template peaks over every lattice in
    ``periods`` (a cheap pre-screen: unmarked images score low).

    It is the coarse stage of :func:`lattice_candidates` on a grid that is coarser where it
    can be: a step of the period, rotation or aspect moves a template peak by a number of
    frequency bins that shrinks as the period grows, so the period range is cut into bands
    and each band is stepped so that its farthest peak moves at most 3 bins (the pooling
    tolerance) per step, as the coarse stage's single step does at the smallest period.
    """
    if periods[1] <= periods[0] or min(y.shape) < 32:
        return 0.0
    small = _half(y)
    table = _maxpool(whitened_spectrum(small)[0], 3)
    rel = _coarse_step(small, harmonics, periods[0])
    best, lo = 0.0, periods[0]
    while lo < periods[1]:
        hi = min(periods[1], lo * _BAND)
        centre = math.sqrt(lo * hi) / 2
        half = (math.log(hi / lo) / 2, _MAX_ROTATION, _MAX_ASPECT)
        for mirror in (1, -1):
            found = _search(
                table, harmonics, [(centre, 0.0, 1.0, mirror)], half, rel * lo / periods[0], 1
            )
            if found:
                best = max(best, found[0][0])
        lo = hi
    return best


_BAND = 1.3  # period ratio of one band of the pre-screen's grid


def lattice_candidates(
    y: np.ndarray, harmonics: np.ndarray, *, periods: tuple[float, float], limit: int
) -> list[np.ndarray]:
    """Candidate tile bases (2×2, columns = lattice vectors in pixels), best first.

    A coarse-to-fine search over period, rotation, aspect change and mirroring scores each
    hypothesis by the whitened spectral power at the template peaks it predicts (coarse on a
    half-size spectrum, then at full size); the best are refined by fitting the lattice to the
    observed peak positions.

    Args:
        y: analysis image (H, W), ideally a residual without the image's low frequencies.
        harmonics: the key's template harmonics (K, 2).
        periods: plausible tile periods in analysis pixels (min, max).
        limit: the most candidates to return.
    """
    if periods[1] <= periods[0] or min(y.shape) < 32:
        return []
    pw, _, _ = whitened_spectrum(y)
    reach = float(np.hypot(harmonics[:, 0], harmonics[:, 1]).max())
    rel = 3.0 / (reach / (periods[0] / 2) * max((y.shape[0] // 2, y.shape[1] // 2)))
    coarse = _coarse(y, harmonics, periods, 2 * limit)
    # medium, on the full spectrum: tolerance ±2 bins
    rel2 = 2.0 / (reach / periods[0] * max(y.shape))
    centres = [(t * 2, a, q, m) for _, t, a, q, m in coarse]
    medium = _search(_maxpool(pw, 2), harmonics, centres, (rel, rel, rel), rel2, 2 * limit)
    out: list[np.ndarray] = []
    for _, t, a, q, mirror in medium:
        m = _freq_maps(np.array([t]), np.array([a]), np.array([q]), mirror)[0]
        basis = _fit(pw, np.linalg.inv(m.T), harmonics)
        if all(np.abs(basis - b).max() > 0.01 * np.abs(b).max() for b in out):
            out.append(basis)
        if len(out) == limit:
            break
    return out


def _fit(pw: np.ndarray, basis: np.ndarray, harmonics: np.ndarray) -> np.ndarray:
    """Least-squares fit of the lattice to the observed template peaks near their predictions."""
    m = np.linalg.inv(basis).T
    pred = harmonics @ m.T
    obs, wts = [], []
    for f in pred:
        g, pwr = _local_peak(pw, f)
        obs.append(g)
        wts.append(pwr)
    obs_a, w = np.array(obs), np.sqrt(np.maximum(np.array(wts), 0.0))
    good = w > 1.5
    if good.sum() < 3:
        return basis
    hh = harmonics[good].astype(np.float64) * w[good, None]
    m_t, *_ = np.linalg.lstsq(hh, obs_a[good] * w[good, None], rcond=None)
    new_m = m_t.T
    if abs(np.linalg.det(new_m)) < 1e-12:
        return basis
    return np.linalg.inv(new_m.T)
