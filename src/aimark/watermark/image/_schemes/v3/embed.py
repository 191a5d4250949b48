"""Embed ``io.aimark.image.3``: ``io.aimark.image.2``'s keyed tile, written with side
information about the picture it goes into.

1. **Informed chips.** The detector reads each chip as the mark's contribution plus the
   picture's own residual folded onto that chip (the *host interference*). On periodic and
   densely textured pictures that interference is as large as the mark: the payload's bit SNR
   falls under the decoding point although the mark is there. The embedder knows the picture,
   so it reads the host's chips exactly as the detector will (whitened residual folded at the
   lattice it draws), measures the mark's response per unit chip from a first draft, and sets
   each chip's amplitude so that the detector reads at least :data:`TARGET` units in the right
   direction: ``u = clip(TARGET - sign · host / response, U_MIN, U_MAX)``. Chips the picture
   already pushes the right way get less energy, chips it fights get more; the total energy is
   then scaled back to the strength target, so the cost is a redistribution, not a louder mark.
2. **Visibility sets the strength on busy pictures.** Where the mask is fully open (the
   picture is busy everywhere) the mark is raised by up to :data:`BOOST_DB` while the estimated
   SSIM stays at :data:`BOOST_SSIM`; flat pictures are untouched.

The format is ``.2``'s (same tile, code, lattice, detector) under its own key derivations, so
a ``.3`` mark is never read as a ``.2`` mark of the same key and the two share one analysis.
"""

from __future__ import annotations

import math

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.arrays import value_scale
from aimark.watermark.image._schemes.v2 import detect as _detect
from aimark.watermark.image._schemes.v2.code import encode_payload
from aimark.watermark.image._schemes.v2.detect import _trim_borders
from aimark.watermark.image._schemes.v2.embed import (
    MIN_SIZE,
    Pattern,
    add_pattern,
    check_size,
    period_for,
    plan_gain,
    reduction,
)
from aimark.watermark.image._schemes.v2.layout import CHIPS, layout_for, period_matrix, variant_for

__all__ = ["BOOST_DB", "BOOST_SSIM", "MIN_SIZE", "SCHEME_ID", "embed", "informed_chips"]

SCHEME_ID = "io.aimark.image.3"
TARGET = 1.0  # chip read the informed embedder aims for, in units of the mark's response
U_MIN, U_MAX = 0.5, 3.0  # bounds of a chip's amplitude (relative to ±1)
BOOST_DB = 2.0  # busy pictures: up to this much stronger (PSNR ≈ 38.2 dB at most)
BOOST_SSIM = 0.985  # ... while the estimated SSIM stays at least this


def informed_chips(chips: np.ndarray, host: np.ndarray, response: float) -> np.ndarray:
    """Chip values that cancel the host interference ``host`` (as the detector reads it) for a
    mark read at ``response`` per unit chip: the sign of ``chips``, amplitude in
    ``[U_MIN, U_MAX]``.

    Example:
        >>> informed_chips(np.array([1.0, -1.0, 1.0]), np.array([-0.5, 0.2, 0.9]), 1.0).tolist()
        [1.5, -1.2, 0.5]
    """
    sign = np.sign(chips)
    return sign * np.clip(TARGET - sign * host / response, U_MIN, U_MAX)


def _residual(small: np.ndarray) -> np.ndarray | None:
    """The detector's whitened residual of a reduced luma, or None where the detector would
    trim or crop it (then its origin is not the embedder's, and the host is not cancelled)."""
    if _trim_borders(small).shape != small.shape or max(small.shape) > _detect._ANALYSIS_LONG:
        return None
    return _detect.whiten(small)


def _block_rows(m: np.ndarray, f: int) -> np.ndarray:
    """Means of ``m``'s rows over blocks of ``f`` (a last partial block kept), as
    :func:`~aimark.watermark.image._common.arrays.reduced_luma` reduces an image."""
    starts = np.arange(0, m.shape[0], f)
    counts = np.diff(np.append(starts, m.shape[0]))
    return np.add.reduceat(m.astype(np.float64), starts, axis=0) / counts[:, None]


def embed(arr: np.ndarray, key: WatermarkKey, payload: int, *, strength: float = 1.0) -> np.ndarray:
    """A ``.3``-marked copy of a checked image array (see
    :func:`aimark.watermark.image.embed`)."""
    check_size(arr)
    h, w = arr.shape[:2]
    f, small = reduction(arr)
    chips = layout_for(key, SCHEME_ID).tile(
        variant_for(key, payload, SCHEME_ID), encode_payload(payload)
    )
    draft = Pattern(key, payload, h, w, SCHEME_ID, chips)
    gain = plan_gain(arr, small, f, draft, strength, boost=(BOOST_DB, BOOST_SSIM))
    r_host = _residual(small)
    if r_host is None:
        return add_pattern(arr, draft, gain, f)
    # the draft as the detector will see it, on the reduced grid (the gain is constant over
    # each f × f block): the mark's response per unit chip, without drawing it at full size
    period = period_for(h, w)
    # on small's grid: uint8 keeps a last partial block, other dtypes drop it
    rows = _block_rows(period_matrix(h, period, CHIPS), f)[: small.shape[0]]
    cols = _block_rows(period_matrix(w, period, CHIPS), f)[: small.shape[1]]
    c = chips.astype(np.float64)
    mark_small = (rows @ c @ cols.T) * (gain / value_scale(arr.dtype))
    host = _detect.chips_at_origin(r_host, period / f)
    drafted = small + mark_small.astype(np.float32)
    read = _detect.chips_at_origin(_detect.whiten(drafted), period / f)
    response = float(((read - host) * c).sum() / (c * c).sum())
    if not response > 0:  # the draft does not register (e.g. clipped away): keep it
        return add_pattern(arr, draft, gain, f)
    better = informed_chips(c, host, response).astype(np.float32)
    pattern = Pattern(key, payload, h, w, SCHEME_ID, better)
    # the same energy as the draft: the informed chips redistribute it
    rescale = np.float32(math.sqrt(draft.mean_square / pattern.mean_square))
    return add_pattern(arr, pattern, gain * rescale, f)
