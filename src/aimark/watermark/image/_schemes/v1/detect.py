"""Detect the keyed image watermark and decode its payload.

How: the image is reduced to an analysis size, spectrally whitened, and the autocorrelation of
the residual reveals the tile lattice (period, rotation, aspect change) as peaks. For each
lattice hypothesis every pixel is folded into one tile (``np.bincount``), projected onto the
chips, and correlated with the keyed sync sequence over all circular shifts, half-chip phases
and flips by FFT. The best alignment gives a z-score whose null distribution comes from the
key's randomness (for any fixed image, a random key gives z ~ N(0, 1)), so the p-value is a
false-positive bound for this key. The payload chips at the best alignments are decoded with a
soft Viterbi decoder and accepted only if their CRC-32 holds.

Example:
    >>> import numpy as np
    >>> from aimark import WatermarkKey
    >>> from aimark.watermark.image import detect
    >>> r = detect(np.full((300, 300), 128, np.uint8), WatermarkKey.generate())
    >>> r.detected, r.payload
    (False, None)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.arrays import reduced_luma
from aimark.watermark.image._common.mask import box_mean
from aimark.watermark.image._common.residual import wiener_residual
from aimark.watermark.image._common.scheme import Detection
from aimark.watermark.image._schemes.v1.align import BINS, align, chips
from aimark.watermark.image._schemes.v1.code import CODED_BITS, decode_payload
from aimark.watermark.image._schemes.v1.layout import SCHEME_ID, layout_for
from aimark.watermark.image._schemes.v1.sync import lattice_candidates, template_score

__all__ = ["PRESCREEN", "Analysis", "analyse", "detect_key", "prescreen_score"]

_ANALYSIS_SHORT = 384
# Longest side analysed (a centred crop beyond it; the tile repeats, so a crop still holds it):
# the lattice search's grid is finer the longer the side, and grows as its cube, so a
# 16,000 × 160 image would need tens of GB. Images up to about 16:9 are not cropped.
_ANALYSIS_LONG = 1024
_HYPOTHESES = 4  # lattice hypotheses tested per image (fixed: enters the p-value)
_MIN_PERIOD = 40.0  # smallest tile period looked for, in analysis pixels
_MAX_PERIOD = 240.0
# Effective number of independent alignments tried per image. Counted, it is 4 lattice
# hypotheses x 4 flips x 4,096 fold translations = 65,536; but the translation and the lattice
# are then refined continuously, which makes the maximum heavier-tailed than that count says.
# The value below is the count that calibrates the p-values of unwatermarked images, measured
# by benchmarks/bench_watermark_image.py (false-positive section) and kept there under test.
_TESTS = 2**19
_CRC_FALSE_ACCEPT = _HYPOTHESES * 2.0**-32
# sync z of the unrefined alignment below which a hypothesis is dropped (a speed gate: an
# unmarked image's best z is about 4; a detection needs about 6.7 after refinement)
_REFINE_Z = 4.5  # one payload decoded per hypothesis


# ----------------------------------------------------------------------------- analysis


def _analysis_luma(arr: np.ndarray) -> np.ndarray:
    """Luma reduced by an integer factor so the short side is near the analysis size, the long
    side cropped (centred) to at most :data:`_ANALYSIS_LONG`."""
    y = reduced_luma(arr, max(1, round(min(arr.shape[:2]) / _ANALYSIS_SHORT)))
    h, w = y.shape
    top, left = max(0, (h - _ANALYSIS_LONG) // 2), max(0, (w - _ANALYSIS_LONG) // 2)
    return y[top : top + _ANALYSIS_LONG, left : left + _ANALYSIS_LONG]


def _whiten(y: np.ndarray) -> np.ndarray:
    """Spectrally whitened, locally normalised residual of ``y``."""
    y = wiener_residual(y)
    spec = np.fft.rfft2(y - y.mean())
    power = spec.real**2 + spec.imag**2
    smooth = box_mean(power, 3) + 1e-6 * (power.mean() + 1e-12)
    r = np.fft.irfft2(spec / np.sqrt(smooth), s=y.shape).astype(np.float32)
    local = np.sqrt(box_mean(r * r, 6)) + 1e-6
    return np.clip(r / local, -3.0, 3.0)


@dataclass(frozen=True)
class Analysis:
    """The key-independent part of detection for one image; the whitened residual (needed
    only by a key that passes the pre-screen) is computed on first use."""

    y: np.ndarray  # analysis luma
    residual: np.ndarray  # its Wiener residual (the template search's input)

    @cached_property
    def whitened(self) -> np.ndarray:
        return _whiten(self.y)


def analyse(arr: np.ndarray) -> Analysis:
    """Reduce an image array to the analysis luma and its residual."""
    y = _analysis_luma(arr)
    return Analysis(y, wiener_residual(y))


def _periods(y: np.ndarray) -> tuple[float, float]:
    return (_MIN_PERIOD, min(_MAX_PERIOD, min(y.shape) / 1.5))


# The pre-screen: the best whitened spectral power at the key's template peaks. Measured by
# benchmarks/bench_v1_prescreen.py on the benchmark corpus (37 photos; 148 unmarked
# image/key pairs; 2,087 v1-marked and attacked images, 1,704 of which the full search
# finds): unmarked images score 47 in the median and 50 at the 90th percentile; found marks
# score 66 at the 5th percentile, and 5 of the 1,704 score under 50. Below the bar the full
# search (about 40 ms at 1080p) is skipped; 14 % of unmarked images pass it.
PRESCREEN = 50.0


def prescreen_score(an: Analysis, key: WatermarkKey) -> float:
    """The pre-screen score of ``key`` (compared with :data:`PRESCREEN`)."""
    return template_score(an.residual, layout_for(key).harmonics, periods=_periods(an.y))


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _sync_z(chips: np.ndarray, sync: np.ndarray) -> float:
    """z = Σ s·g / sqrt(Σ g²) over the sync chips: N(0, 1) for a random key."""
    mask = sync != 0
    g = chips[mask]
    return float((g * sync[mask]).sum() / (np.sqrt((g * g).sum()) + 1e-12))


def _soft_bits(chips: np.ndarray, layout) -> np.ndarray:
    values = (chips * layout.message_sign).ravel()
    idx = layout.bit_index.ravel()
    keep = idx >= 0
    soft = np.bincount(idx[keep], weights=values[keep], minlength=CODED_BITS)
    return soft / (np.std(soft) + 1e-12)


def detect_key(an: Analysis, key: WatermarkKey, threshold: float) -> Detection:
    """Search the lattice hypotheses of ``key``'s template, align, read and decode."""
    y, r = an.y, an.whitened
    layout = layout_for(key)
    template = layout.template(BINS)
    best_z, payload, confidence = -np.inf, None, 0.0
    for basis in lattice_candidates(
        an.residual, layout.harmonics, periods=_periods(y), limit=_HYPOTHESES
    ):
        if abs(np.linalg.det(basis)) < 1.0:
            continue
        g = chips(align(r, basis, layout.sync, refine=0), template)
        z = _sync_z(g, layout.sync)
        if z < _REFINE_Z:  # hopeless before refinement: neither refined nor decoded
            best_z = max(best_z, z)
            continue
        g = chips(align(r, basis, layout.sync), template)
        z = _sync_z(g, layout.sync)
        best_z = max(best_z, z)
        dec = decode_payload(_soft_bits(g, layout))
        if dec.payload is not None:
            payload, confidence = dec.payload, float(max(0.0, dec.agreement))
            break  # a valid CRC: later hypotheses cannot change the answer
    if not np.isfinite(best_z):
        return Detection.nothing(SCHEME_ID, threshold)
    p_sync = -math.expm1(_TESTS * math.log1p(-min(_norm_sf(best_z), 1 - 1e-16)))
    p = p_sync if payload is None else min(p_sync, _CRC_FALSE_ACCEPT)
    p = min(1.0, 2.0 * p)  # two routes to a detection: sync score or a valid CRC
    detected = p <= threshold
    if not detected:
        payload, confidence = None, 0.0
    return Detection(
        detected,
        p,
        payload,
        confidence,
        best_z,
        threshold,
        "detected" if detected else "not-detected",
        SCHEME_ID,
    )
