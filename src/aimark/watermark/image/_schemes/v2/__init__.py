"""``io.aimark.image.2``, the current scheme: ``layout`` (keyed chip roles and per-variant
signs, rendering at a real period), ``code`` (CRC-24), ``embed`` (mask with the SSIM-chosen
floor), ``lattice`` (key-independent lattice from the autocorrelation), ``fold`` (folds,
equaliser), ``detect`` (hypotheses, orientation/variant/translation search, refinement,
decision, and the survival probe)."""

from __future__ import annotations

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.scheme import Detection, ImageScheme, Probe
from aimark.watermark.image._schemes.v2 import detect as _detect
from aimark.watermark.image._schemes.v2.embed import MIN_SIZE, embed, period_for
from aimark.watermark.image._schemes.v2.layout import SCHEME_ID

__all__ = ["SCHEME", "SchemeV2"]


class SchemeV2(ImageScheme):
    """``io.aimark.image.2`` behind the scheme interface. Detection passes the scheme's own
    id to the detector, so a scheme built on this tile (``.3``) subclasses it and overrides
    only ``id`` and ``embed``."""

    id = SCHEME_ID
    min_size = MIN_SIZE
    analysis_min = _detect.ANALYSIS_MIN

    def embed(
        self, arr: np.ndarray, key: WatermarkKey, payload: int, strength: float
    ) -> np.ndarray:
        return embed(arr, key, payload, strength=strength)

    def analyse(self, arr: np.ndarray) -> _detect.Analysis:
        return _detect.analyse(arr)

    def detect_key(
        self, analysis: _detect.Analysis, key: WatermarkKey, threshold: float
    ) -> Detection:
        return _detect.detect_key(analysis, key, threshold, self.id)

    def probe(self, analysis: _detect.Analysis, key: WatermarkKey, payload: int) -> Probe:
        return _detect.probe(analysis, key, payload, self.id)

    def period_for(self, height: int, width: int) -> float:
        return period_for(height, width)


SCHEME = SchemeV2()
