"""Array conventions shared by embed and detect: dtype ranges, channel layouts, luma."""

from __future__ import annotations

import numpy as np

__all__ = ["as_image_array", "luma", "luma8", "reduced_luma", "value_scale"]


def as_image_array(image: object) -> np.ndarray:
    """Validate an image array: (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); finite values."""
    arr = np.asarray(image)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"expected a numeric image array, not dtype {arr.dtype}")
    if (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)) or arr.ndim not in (2, 3):
        raise ValueError(
            f"expected an array of shape (H, W), (H, W, 3) or (H, W, 4), not {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError("the image array is empty")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise ValueError("the image array contains NaN or infinite values")
    return arr


def value_scale(dtype: np.dtype) -> float:
    """Size of one 8-bit step in ``dtype`` units (uint8: 1, uint16: 257, float: 1/255)."""
    if np.issubdtype(dtype, np.floating):
        return 1.0 / 255.0
    if dtype == np.uint16:
        return 257.0
    return 1.0


def luma(arr: np.ndarray) -> np.ndarray:
    """BT.601 luma as float32 in 8-bit units (alpha ignored)."""
    scale = np.float32(1.0 / value_scale(arr.dtype))
    if arr.ndim == 2:
        return arr.astype(np.float32) * scale
    if arr.shape[2] < 3:
        return arr[..., 0].astype(np.float32) * scale
    rgb = arr[..., :3].astype(np.float32)
    y = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return y * scale


def reduced_luma(arr: np.ndarray, f: int) -> np.ndarray:
    """Luma (8-bit units, float32) averaged over f×f blocks; uint8 arrays take Pillow's C
    path (:func:`aimark.media.luma.reduced_luma8`: integer luma, rounded block means, partial
    blocks kept at the right and bottom edges). Works a band of rows at a time: the
    temporaries stay small whatever the image's size.

    Example:
        >>> import numpy as np
        >>> reduced_luma(np.arange(25, dtype=np.uint8).reshape(5, 5), 2).tolist()
        [[3.0, 5.0, 7.0], [13.0, 15.0, 17.0], [21.0, 23.0, 24.0]]
    """
    from aimark.watermark.image._common.strips import row_strips

    h, w = arr.shape[:2]
    bands = [
        _reduced_luma_rows(arr[start:stop], f)
        for start, stop in row_strips(h if arr.dtype == np.uint8 else h - h % f, w, f)
    ]
    if not bands:
        return np.zeros((0, w // f), np.float32)
    return np.concatenate(bands, axis=0)


def _reduced_luma_rows(arr: np.ndarray, f: int) -> np.ndarray:
    h, w = arr.shape[:2]
    if arr.dtype == np.uint8:
        from aimark.media.luma import reduced_luma8  # Pillow's C kernels: 4× numpy's speed

        return reduced_luma8(arr, f).astype(np.float32)
    y = luma(arr)
    if f > 1:
        y = y[: h - h % f, : w - w % f].reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    return y.astype(np.float32)


def luma8(arr: np.ndarray) -> np.ndarray:
    """BT.601 luma as a uint8 (H, W) array, computed a band of rows at a time (1 byte per
    pixel: what a JPEG encoder keeps of the luminance).

    Example:
        >>> import numpy as np
        >>> luma8(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)).tolist()
        [[76, 150, 29]]
    """
    from aimark.media.luma import rgb_luma8
    from aimark.watermark.image._common.strips import row_strips

    h, w = arr.shape[:2]
    out = np.empty((h, w), np.uint8)
    for start, stop in row_strips(h, w):
        band = arr[start:stop]
        if band.dtype == np.uint8 and band.ndim == 3 and band.shape[2] in (3, 4):
            out[start:stop] = rgb_luma8(band)
        else:
            out[start:stop] = np.clip(np.rint(luma(band)), 0, 255).astype(np.uint8)
    return out
