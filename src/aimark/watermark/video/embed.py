"""Embed ``io.aimark.video.1`` frame by frame: the keyed tile of ``io.aimark.image.2`` (under
the video scheme's own key derivations) rendered once per frame size, and added to every
frame's luma under a cheap perceptual mask.

The pattern is the same in every frame (static in time: no flicker, and a detector that
averages frames adds it up while moving content averages out). Per frame only the mask is
computed: the activity of the frame's luma on a reduced grid (:func:`activity_mask`, as the
image schemes compute it), scaled so that the mark's RMS is :data:`TARGET_PSNR`'s.
"""

from __future__ import annotations

import math

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.mask import activity_mask
from aimark.watermark.image._common.scheme import check_key, check_payload
from aimark.watermark.image._schemes.v2.code import encode_payload
from aimark.watermark.image._schemes.v2.embed import Pattern, reduction
from aimark.watermark.image._schemes.v2.layout import layout_for, variant_for
from aimark.watermark.video._names import MIN_SIZE, SCHEME_ID

__all__ = ["FLOOR", "TARGET_PSNR", "VideoEmbedder", "check_frame_size", "frame_pattern"]

TARGET_PSNR = 40.5  # dB of the mark alone, per frame, at strength 1 (before rounding)
FLOOR = 0.5  # mask gain on flat areas, relative to texture at the knee
MAX_OVER_TARGET = 1.0  # a mostly flat frame is not pushed above the gain a busy one gets


def check_frame_size(width: int, height: int) -> None:
    """ValueError unless a ``width`` × ``height`` frame can carry the mark."""
    if min(width, height) < MIN_SIZE:
        raise ValueError(
            f"a {width}×{height} video is too small to carry the watermark "
            f"(needs {MIN_SIZE} px on the short side)"
        )


def frame_pattern(key: WatermarkKey, payload: int, width: int, height: int) -> np.ndarray:
    """The unmasked pattern (float32 (height, width), ±1 chips) of ``key`` and ``payload``.

    Example:
        >>> from aimark.keys import WatermarkKey
        >>> p = frame_pattern(WatermarkKey(b"k" * 32), 7, 256, 144)
        >>> p.shape, p.dtype.name, round(float(np.abs(p).max()), 2)
        ((144, 256), 'float32', 1.0)
    """
    layout = layout_for(key, SCHEME_ID)
    chips = layout.tile(variant_for(key, payload, SCHEME_ID), encode_payload(payload))
    return Pattern(key, payload, height, width, SCHEME_ID, chips).strip(0, height)


class VideoEmbedder:
    """Marks the luma planes of one clip's frames with ``key`` and ``payload``.

    The pattern for the frame size is computed once (4 bytes per pixel); :meth:`mark` then
    costs a reduced-grid mask and one multiply-add per pixel.

    Example:
        >>> from aimark.keys import WatermarkKey
        >>> emb = VideoEmbedder(WatermarkKey(b"k" * 32), 7, 256, 144)
        >>> y = np.full((144, 256), 128, np.uint8)
        >>> out = emb.mark(y)
        >>> out.dtype.name, out.shape, bool((out != y).any()), bool((y == 128).all())
        ('uint8', (144, 256), True, True)
    """

    def __init__(
        self, key: WatermarkKey, payload: int, width: int, height: int, *, strength: float = 1.0
    ) -> None:
        check_key(key)
        self.payload = check_payload(payload)
        check_frame_size(width, height)
        if not (math.isfinite(strength) and strength > 0):
            raise ValueError("strength must be a positive number")
        self.width, self.height = width, height
        self.pattern = frame_pattern(key, self.payload, width, height)
        self._ms = float(np.mean(self.pattern.astype(np.float64) ** 2))
        self._target = 255.0 * 10 ** (-TARGET_PSNR / 20) * strength

    def gain(self, y: np.ndarray) -> np.ndarray:
        """The mark's amplitude per pixel (float32 (h, w), 8-bit units) for the frame ``y``."""
        f, small = reduction(y)
        g = activity_mask(small, floor=FLOOR)
        # scaled so that the masked pattern's RMS is the target, but never above what a frame
        # busy everywhere (gain 1 everywhere) gets: flat frames are marked more faintly
        k = self._target / max(math.sqrt(self._ms * float(np.mean(g * g))), 1e-9)
        k = min(k, MAX_OVER_TARGET * self._target / math.sqrt(self._ms))
        h, w = y.shape
        g *= np.float32(k)
        if g.shape == (h, w):
            return g
        # nearest-neighbour upsampling (the mask varies slowly), C-ordered like the pattern:
        # the multiply-add that follows runs at memory speed
        rows = np.minimum(np.arange(h) // f, g.shape[0] - 1)
        cols = np.minimum(np.arange(w) // f, g.shape[1] - 1)
        return np.take(np.take(g, rows, axis=0), cols, axis=1)

    def mark(self, y: np.ndarray) -> np.ndarray:
        """A marked copy of the luma plane ``y`` (uint8, (height, width))."""
        y = np.asarray(y)
        if y.dtype != np.uint8 or y.shape != (self.height, self.width):
            raise ValueError(
                f"expected a uint8 luma plane of shape {(self.height, self.width)}, "
                f"not {y.dtype} {y.shape}"
            )
        out = self.gain(y)
        out *= self.pattern
        out += y
        out += np.float32(0.5)
        np.clip(out, 0.0, 255.0, out=out)
        return out.astype(np.uint8)
