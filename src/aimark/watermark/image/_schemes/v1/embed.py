"""Embed ``io.aimark.image.1`` (aimark 0.1): the keyed tile of chips and sync template,
rendered at a sixth of the short side, shaped by the activity mask, added to the luma.

Example:
    >>> import numpy as np
    >>> from aimark import WatermarkKey
    >>> from aimark.watermark.image import embed, detect
    >>> key = WatermarkKey.generate()
    >>> rng = np.random.default_rng(0)
    >>> y, x = np.mgrid[0:384, 0:384]
    >>> gray = 128 + 60 * np.sin(x / 40) * np.cos(y / 55) + rng.normal(0, 6, (384, 384))
    >>> image = np.repeat(gray[..., None], 3, axis=2).clip(0, 255).astype(np.uint8)
    >>> marked = embed(image, key, 0x1234, scheme="io.aimark.image.1")
    >>> marked.shape == image.shape and marked.dtype == image.dtype
    True
    >>> detect(marked, key).payload == 0x1234
    True
"""

from __future__ import annotations

import math

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.arrays import reduced_luma, value_scale
from aimark.watermark.image._common.mask import activity_mask
from aimark.watermark.image._common.strips import add_by_strips, upsampled_rows
from aimark.watermark.image._schemes.v1.code import encode_payload
from aimark.watermark.image._schemes.v1.layout import CHIPS, layout_for, render

__all__ = ["MIN_SIZE", "embed", "period_for"]

MIN_SIZE = 128  # shortest side that can carry the mark
TARGET_PSNR = 41.0  # dB at strength 1 (the mask decides where the energy goes)
MIN_PERIOD = 3 * CHIPS  # at least 3 px per chip
TILES_PER_SIDE = 6  # the period is about this fraction of the short side


def period_for(height: int, width: int) -> int:
    """Tile period in pixels: about 1/6 of the short side, at least 3 px per chip."""
    return max(MIN_PERIOD, round(min(height, width) / TILES_PER_SIDE))


def embed(arr: np.ndarray, key: WatermarkKey, payload: int, *, strength: float = 1.0) -> np.ndarray:
    """A watermarked copy of a checked image array (about 41 dB PSNR at strength 1; see
    :func:`aimark.watermark.image.embed`)."""
    h, w = arr.shape[:2]
    if min(h, w) < MIN_SIZE:
        raise ValueError(
            f"a {w}×{h} image is too small to carry the watermark (needs {MIN_SIZE} px)"
        )
    f = max(1, min(h, w) // 256)
    gain_small = activity_mask(reduced_luma(arr, f))
    tile = _tile(key, payload, h, w)
    # scale so that the mean squared change hits the target PSNR (8-bit units)
    target_rms = 255.0 * 10 ** (-TARGET_PSNR / 20)
    rms = math.sqrt(float(np.mean(tile * tile)) * float(np.mean(gain_small * gain_small))) or 1.0
    gain_small *= np.float32(target_rms / rms * strength * value_scale(arr.dtype))
    t = tile.shape[0]
    cols = np.arange(w) % t

    def delta(start: int, stop: int) -> np.ndarray:
        rows = tile[np.arange(start, stop) % t][:, cols]
        return rows * upsampled_rows(gain_small, f, start, stop, w)

    return add_by_strips(arr, delta)


def _tile(key: WatermarkKey, payload: int, height: int, width: int) -> np.ndarray:
    """One period of the watermark (T, T): rendered chips plus the sync template."""
    layout = layout_for(key)
    period = period_for(height, width)
    return render(layout.tile(encode_payload(payload)), period) + layout.template(period)
