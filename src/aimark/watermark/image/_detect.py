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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._align import BINS, align, chips
from aimark.watermark.image._arrays import as_image_array, reduced_luma
from aimark.watermark.image._embed import MIN_SIZE, _check_key
from aimark.watermark.image._mask import box_mean
from aimark.watermark.image._pattern import SCHEME_ID, layout_for
from aimark.watermark.image._sync import lattice_candidates
from aimark.watermark.image.code import CODED_BITS, decode_payload

__all__ = ["DEFAULT_THRESHOLD", "Detection", "detect", "detect_batch"]

DEFAULT_THRESHOLD = 1e-6
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


@dataclass(frozen=True)
class Detection:
    """What :func:`detect` found.

    Attributes:
        detected: the watermark of this key is present (``p_value <= threshold``).
        p_value: bound on the probability that an unwatermarked image scores this high with
            this key (1.0 when nothing could be analysed).
        payload: the 64-bit payload if it decoded with a valid CRC, else None.
        confidence: agreement of the chips with the decoded payload's codeword, in [0, 1]
            (0 when no payload decoded).
        score: the best sync z-score.
        threshold: the p-value threshold used.
        status: "detected", "not-detected", "too-small", or (``io.aimark.image.2``)
            "unreadable": the key's sync pattern is there (p ≤ threshold) but no payload
            decoded, which is not a detection.
        scheme: the algorithm id of the scheme tried (``io.aimark.image.2`` or ``.1``).
    """

    detected: bool
    p_value: float
    payload: int | None
    confidence: float
    score: float
    threshold: float
    status: str
    scheme: str = SCHEME_ID

    def to_dict(self, *, include_score: bool = True) -> dict[str, object]:
        d: dict[str, object] = {
            "scheme": self.scheme,
            "status": self.status,
            "detected": self.detected,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "payload": None if self.payload is None else f"{self.payload:016x}",
            "confidence": self.confidence,
        }
        if include_score:
            d["score"] = self.score
        return d


# ----------------------------------------------------------------------------- analysis


def _analysis_luma(arr: np.ndarray) -> np.ndarray:
    """Luma reduced by an integer factor so the short side is near the analysis size, the long
    side cropped (centred) to at most :data:`_ANALYSIS_LONG`."""
    y = reduced_luma(arr, max(1, round(min(arr.shape[:2]) / _ANALYSIS_SHORT)))
    h, w = y.shape
    top, left = max(0, (h - _ANALYSIS_LONG) // 2), max(0, (w - _ANALYSIS_LONG) // 2)
    return y[top : top + _ANALYSIS_LONG, left : left + _ANALYSIS_LONG]


def _wiener_residual(y: np.ndarray, radius: int = 2, noise: float = 4.0) -> np.ndarray:
    """``y`` minus a local Wiener estimate of the image: keeps small noise-like signals (the
    watermark) and removes most of the image's own structure."""
    m = box_mean(y, radius)
    v = np.maximum(box_mean(y * y, radius) - m * m, 0.0)
    gain = np.maximum(v - noise, 0.0) / np.maximum(v, 1e-6)
    return (y - m) * (1.0 - gain)


def _whiten(y: np.ndarray) -> np.ndarray:
    """Spectrally whitened, locally normalised residual of ``y``."""
    y = _wiener_residual(y)
    spec = np.fft.rfft2(y - y.mean())
    power = spec.real**2 + spec.imag**2
    smooth = box_mean(power, 3) + 1e-6 * (power.mean() + 1e-12)
    r = np.fft.irfft2(spec / np.sqrt(smooth), s=y.shape).astype(np.float32)
    local = np.sqrt(box_mean(r * r, 6)) + 1e-6
    return np.clip(r / local, -3.0, 3.0)


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


def _too_small(threshold: float) -> Detection:
    return Detection(False, 1.0, None, 0.0, 0.0, threshold, "too-small")


def _detect_key(y: np.ndarray, r: np.ndarray, key: WatermarkKey, threshold: float) -> Detection:
    layout = layout_for(key)
    template = layout.template(BINS)
    best_z, payload, confidence = -np.inf, None, 0.0
    periods = (_MIN_PERIOD, min(_MAX_PERIOD, min(y.shape) / 1.5))
    for basis in lattice_candidates(
        _wiener_residual(y), layout.harmonics, periods=periods, limit=_HYPOTHESES
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
        return Detection(False, 1.0, None, 0.0, 0.0, threshold, "not-detected")
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
    )


def detect(
    image: np.ndarray, key: WatermarkKey, *, threshold: float = DEFAULT_THRESHOLD
) -> Detection:
    """Look for ``key``'s watermark in ``image`` (an array as for :func:`embed`).

    Returns a :class:`Detection`; images under :data:`MIN_SIZE` px on the short side give
    ``status="too-small"``. Never modifies ``image``.
    """
    return detect_batch([image], key, threshold=threshold)[0]


def detect_batch(
    images: Iterable[np.ndarray] | Sequence[np.ndarray],
    key: WatermarkKey | Sequence[WatermarkKey],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Detection]:
    """Detect in many images. The key-independent analysis (reduction, whitening, lattice)
    is done once per image and shared by all keys when several are given."""
    keys = [key] if isinstance(key, WatermarkKey) else list(key)
    for k in keys:
        _check_key(k)
    if not 0 < threshold < 1:
        raise ValueError("threshold must be in (0, 1)")
    out: list[Detection] = []
    for image in images:
        arr = as_image_array(image)
        if min(arr.shape[:2]) < MIN_SIZE:
            out.extend(_too_small(threshold) for _ in keys)
            continue
        y = _analysis_luma(arr)
        r = _whiten(y)
        out.extend(_detect_key(y, r, k, threshold) for k in keys)
    return out
