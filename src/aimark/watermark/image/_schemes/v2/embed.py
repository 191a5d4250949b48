"""Embed ``io.aimark.image.2``: the keyed tile of the payload's variant, rendered at a third of
the image's short side, shaped by a perceptual mask, added to the luma."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.arrays import reduced_luma, value_scale
from aimark.watermark.image._common.mask import activity_mask
from aimark.watermark.image._common.strips import add_by_strips, upsampled_rows
from aimark.watermark.image._schemes.v2.code import encode_payload
from aimark.watermark.image._schemes.v2.layout import (
    CHIPS,
    SCHEME_ID,
    layout_for,
    period_matrix,
    variant_for,
)

__all__ = ["MIN_SIZE", "TARGET_PSNR", "TILES_PER_SIDE", "embed", "period_for"]

MIN_SIZE = 128
TARGET_PSNR = 40.2  # dB at strength 1
TILES_PER_SIDE = 4.0
MIN_CHIP = 2.5  # px


def period_for(height: int, width: int) -> float:
    """Tile period in pixels: a quarter of the short side (chips of at least 2.5 px)."""
    return max(MIN_CHIP * CHIPS, min(height, width) / TILES_PER_SIDE)


class Pattern:
    """The unmasked watermark over an image of (height, width): ±1 chips rendered at the
    tile period, kept separable (``rows @ chips @ cols.T``) so that it is never materialised
    whole; strips and sampled windows are computed on demand."""

    def __init__(
        self,
        key: WatermarkKey,
        payload: int,
        height: int,
        width: int,
        scheme_id: str = SCHEME_ID,
        chips: np.ndarray | None = None,
    ) -> None:
        if chips is None:
            layout = layout_for(key, scheme_id)
            chips = layout.tile(variant_for(key, payload, scheme_id), encode_payload(payload))
        period = period_for(height, width)
        self.rows = period_matrix(height, period, chips.shape[0])
        self.chips_by_col = chips @ period_matrix(width, period, chips.shape[1]).T
        cols = period_matrix(width, period, chips.shape[1]).astype(np.float64)
        gram_rows = self.rows.T.astype(np.float64) @ self.rows
        gram_cols = cols.T @ cols
        c = chips.astype(np.float64)
        # mean of the squared pattern over the image, exactly, from the two Gram matrices
        self.mean_square = float(np.trace(c.T @ gram_rows @ c @ gram_cols)) / (height * width)

    def strip(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` (float32)."""
        return self.rows[start:stop] @ self.chips_by_col

    def at(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Values at the pixels ``(ys[i, a], xs[i, b])``: (n, len a, len b)."""
        left = self.rows[ys]  # (n, a, chips)
        return np.einsum("nac,ncb->nab", left, self.chips_by_col[:, xs].transpose(1, 0, 2))


def pattern(key: WatermarkKey, payload: int, height: int, width: int) -> np.ndarray:
    """The unmasked watermark (float32, ±1 chips) over an image of (height, width), whole
    (for analysis and tests; :func:`embed` works by strips)."""
    p = Pattern(key, payload, height, width)
    return p.strip(0, height)


def check_size(arr: np.ndarray) -> None:
    """ValueError if ``arr`` is too small to carry the mark."""
    h, w = arr.shape[:2]
    if min(h, w) < MIN_SIZE:
        raise ValueError(
            f"a {w}×{h} image is too small to carry the watermark (needs {MIN_SIZE} px)"
        )


def reduction(arr: np.ndarray) -> tuple[int, np.ndarray]:
    """(f, luma reduced f×f): the grid the mask and the strength are computed on."""
    f = max(1, min(arr.shape[:2]) // 256)
    return f, reduced_luma(arr, f)


def plan_gain(
    arr: np.ndarray,
    small: np.ndarray,
    f: int,
    pattern: Pattern,
    strength: float,
    *,
    boost: tuple[float, float] | None = None,
) -> np.ndarray:
    """The watermark's gain on the reduced grid, in ``arr``'s value units, for ``pattern``
    at ``strength``: :func:`perceptual_gain` scaled to :data:`TARGET_PSNR`. ``boost``
    (max dB, SSIM floor) lets busy pictures go up to max dB stronger while the estimated
    SSIM stays at the floor (``io.aimark.image.3``)."""
    target_rms = 255.0 * 10 ** (-TARGET_PSNR / 20)
    gain, relative = perceptual_gain(arr, small, f, pattern, target_rms, boost=boost)
    rms = math.sqrt(pattern.mean_square * float(np.mean(gain * gain))) or 1.0
    return gain * np.float32(target_rms * relative * strength * value_scale(arr.dtype) / rms)


def add_pattern(arr: np.ndarray, pattern: Pattern, gain_small: np.ndarray, f: int) -> np.ndarray:
    """A copy of ``arr`` with ``pattern`` × the upsampled gain added, by strips."""
    w = arr.shape[1]

    def delta(start: int, stop: int) -> np.ndarray:
        return pattern.strip(start, stop) * upsampled_rows(gain_small, f, start, stop, w)

    return add_by_strips(arr, delta)


def embed(arr: np.ndarray, key: WatermarkKey, payload: int, *, strength: float = 1.0) -> np.ndarray:
    """A watermarked copy of a checked image array (see :func:`aimark.watermark.image.embed`)."""
    check_size(arr)
    h, w = arr.shape[:2]
    f, small = reduction(arr)
    pattern = Pattern(key, payload, h, w)
    return add_pattern(arr, pattern, plan_gain(arr, small, f, pattern, strength), f)


SSIM_TARGET = 0.976  # structural similarity the mask aims for (estimated; measured ≥ 0.97)
_FLOORS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.42, 0.35)
MIN_RELATIVE_STRENGTH = 0.4  # flat images keep at least this share (PSNR ≈ target + 8 dB)
_WINDOWS = 1500  # 7×7 windows sampled to estimate SSIM
_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def perceptual_gain(
    arr: np.ndarray,
    small: np.ndarray,
    f: int,
    pattern: Pattern,
    target_rms: float,
    *,
    boost: tuple[float, float] | None = None,
) -> tuple[np.ndarray, float]:
    """Relative watermark gain on the reduced grid: as even as the image allows.

    An even spread is the most detectable (the detector weighs every region by its own noise),
    but on flat areas a mark of the same strength is what structural similarity (and the eye)
    notices. The floor of the activity mask is therefore chosen per image: the highest whose
    SSIM, estimated on sampled 7 × 7 windows of the actual marked pixels, stays at
    :data:`SSIM_TARGET`. Returns the gain map (any scale) and the strength relative to the
    PSNR target (below 1 only for images too flat for any mask; above 1 only with ``boost``
    = (max dB, SSIM floor): busy pictures, where the mark is least visible, are marked up to
    max dB stronger in 0.5 dB steps while the estimated SSIM stays at the floor).
    """
    h, w = arr.shape[:2]
    rng = np.random.default_rng(h * 65537 + w)
    ys = rng.integers(0, h - 6, _WINDOWS)
    xs = rng.integers(0, w - 6, _WINDOWS)
    off = np.arange(7)
    yy = (ys[:, None] + off[None, :])[:, :, None]
    xx = (xs[:, None] + off[None, :])[:, None, :]
    scale = 1.0 / value_scale(arr.dtype)
    x = arr[yy, xx].astype(np.float64) * scale  # (n, 7, 7[, c])
    if x.ndim == 3:
        x = x[..., None]
    x = x[..., : min(x.shape[-1], 3)]
    t = pattern.at(ys[:, None] + off[None, :], xs[:, None] + off[None, :])
    t = t.astype(np.float64)[..., None]
    gy = np.minimum((ys + 3) // f, small.shape[0] - 1)
    gx = np.minimum((xs + 3) // f, small.shape[1] - 1)
    tile_ms = pattern.mean_square

    def ssim_at(g: np.ndarray, strength: float) -> float:
        k = strength * target_rms / (np.sqrt(tile_ms * float(np.mean(g * g))) + 1e-12)
        y = np.clip(np.rint(x + t * (k * g[gy, gx])[:, None, None, None]), 0, 255)
        return _ssim_windows(x, y)

    g = activity_mask(small, floor=_FLOORS[0])
    for floor in _FLOORS:
        g = activity_mask(small, floor=floor)
        if ssim_at(g, 1.0) >= SSIM_TARGET:
            relative = 1.0
            if boost is not None and floor == _FLOORS[0]:
                relative = _boost(functools.partial(ssim_at, g), *boost)
            return g, relative
    # flat images: even the most selective mask shows; weaken it to what stays invisible
    # (down to MIN_RELATIVE_STRENGTH), and let the caller's survival check judge the rest
    lo, hi = MIN_RELATIVE_STRENGTH, 1.0
    if ssim_at(g, lo) < SSIM_TARGET:
        return g, lo
    for _ in range(6):
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if ssim_at(g, mid) >= SSIM_TARGET else (lo, mid)
    return g, lo


def _boost(ssim_at: Callable[[float], float], max_db: float, ssim_floor: float) -> float:
    """The largest strength, on a 0.5 dB grid up to ``max_db``, whose estimated SSIM stays at
    ``ssim_floor`` (SSIM falls as the strength grows): the top first, which busy pictures
    pass, then a bisection (at most three estimates)."""
    lo, hi = 0, round(max_db / 0.5)  # steps known to pass / not yet known to fail
    if hi == 0 or ssim_at(10 ** (hi * 0.5 / 20)) >= ssim_floor:
        return 10 ** (hi * 0.5 / 20)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ssim_at(10 ** (mid * 0.5 / 20)) >= ssim_floor:
            lo = mid
        else:
            hi = mid
    return 10 ** (lo * 0.5 / 20)


def _ssim_windows(x: np.ndarray, y: np.ndarray) -> float:
    """Mean SSIM (skimage's: uniform 7 × 7 windows, sample covariance) over windows × channels."""
    n = 49
    mx, my = x.mean(axis=(1, 2)), y.mean(axis=(1, 2))
    vx = ((x - mx[:, None, None]) ** 2).sum(axis=(1, 2)) / (n - 1)
    vy = ((y - my[:, None, None]) ** 2).sum(axis=(1, 2)) / (n - 1)
    cxy = ((x - mx[:, None, None]) * (y - my[:, None, None])).sum(axis=(1, 2)) / (n - 1)
    s = ((2 * mx * my + _C1) * (2 * cxy + _C2)) / ((mx**2 + my**2 + _C1) * (vx + vy + _C2))
    return float(s.mean())
