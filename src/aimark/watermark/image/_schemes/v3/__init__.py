"""``io.aimark.image.3``, the current scheme: ``io.aimark.image.2``'s keyed tile under its own
key derivations, with an informed embedder (``embed``: the picture's own interference with
each chip is cancelled at embed time, busy pictures are marked as strongly as SSIM allows).
Detection is ``.2``'s, on the same analysis."""

from __future__ import annotations

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.scheme import Detection, ImageScheme, Probe
from aimark.watermark.image._schemes.v2 import SCHEME as _V2
from aimark.watermark.image._schemes.v2 import detect as _detect
from aimark.watermark.image._schemes.v3.embed import MIN_SIZE, SCHEME_ID, embed, period_for

__all__ = ["SCHEME", "SchemeV3"]


class SchemeV3(ImageScheme):
    """``io.aimark.image.3`` behind the scheme interface."""

    id = SCHEME_ID
    min_size = MIN_SIZE
    analysis_min = _detect.ANALYSIS_MIN
    analysis_id = _V2.id  # the same analysis as .2: one per image serves both

    def embed(
        self, arr: np.ndarray, key: WatermarkKey, payload: int, strength: float
    ) -> np.ndarray:
        return embed(arr, key, payload, strength=strength)

    def analyse(self, arr: np.ndarray) -> _detect.Analysis:
        return _detect.analyse(arr)

    def detect_key(
        self, analysis: _detect.Analysis, key: WatermarkKey, threshold: float
    ) -> Detection:
        return _detect.detect_key(analysis, key, threshold, SCHEME_ID)

    def probe(self, analysis: _detect.Analysis, key: WatermarkKey, payload: int) -> Probe:
        return _detect.probe(analysis, key, payload, SCHEME_ID)

    def period_for(self, height: int, width: int) -> float:
        return period_for(height, width)


SCHEME = SchemeV3()
