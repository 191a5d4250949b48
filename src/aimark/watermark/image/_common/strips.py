"""Row strips: the watermark is added to a copy of the image a band of rows at a time, so the
memory of an embed is the output plus a few strips, whatever the image's size."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

__all__ = ["STRIP_PIXELS", "add_by_strips", "row_strips", "upsampled_rows"]

STRIP_PIXELS = 1 << 20  # about a megapixel per strip: float32 temporaries of ~4 MB each


def row_strips(height: int, width: int, multiple: int = 1) -> Iterator[tuple[int, int]]:
    """(start, stop) row ranges covering ``height`` rows, each about :data:`STRIP_PIXELS`
    pixels and (but the last) a multiple of ``multiple`` rows.

    Example:
        >>> list(row_strips(5, 1 << 19, multiple=1))
        [(0, 2), (2, 4), (4, 5)]
    """
    rows = max(multiple, STRIP_PIXELS // max(1, width) // multiple * multiple)
    for start in range(0, height, rows):
        yield start, min(height, start + rows)


def upsampled_rows(small: np.ndarray, f: int, start: int, stop: int, width: int) -> np.ndarray:
    """Rows ``start:stop`` of ``small`` upsampled ``f`` times by nearest neighbour to
    ``width`` columns, edges repeated (the mask varies slowly)."""
    ri = np.minimum(np.arange(start, stop) // f, small.shape[0] - 1)
    ci = np.minimum(np.arange(width) // f, small.shape[1] - 1)
    return small[ri][:, ci]


def add_by_strips(arr: np.ndarray, delta_rows: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """A copy of ``arr`` plus ``delta_rows(start, stop)`` (8-bit-step units already scaled to
    ``arr``'s dtype) on every colour channel, alpha untouched, clipped to the range."""
    out = arr.copy()
    color = slice(None) if arr.ndim == 2 else slice(0, min(arr.shape[2], 3))
    integer = np.issubdtype(arr.dtype, np.integer)
    unit = not integer and float(arr.min()) >= 0.0 and float(arr.max()) <= 1.0
    h, w = arr.shape[:2]
    for start, stop in row_strips(h, w * (1 if arr.ndim == 2 else arr.shape[2])):
        d = delta_rows(start, stop)
        d = d if arr.ndim == 2 else d[..., None]
        band = out[start:stop, ..., color]
        if integer:
            info = np.iinfo(arr.dtype)
            work: np.ndarray = band.astype(np.int16 if arr.dtype == np.uint8 else np.int64)
            work = work + np.rint(d).astype(work.dtype)
            np.clip(work, info.min, info.max, out=work)
        else:
            work = band.astype(np.float32) + d
            if unit:
                np.clip(work, 0.0, 1.0, out=work)
        out[start:stop, ..., color] = work
    return out
