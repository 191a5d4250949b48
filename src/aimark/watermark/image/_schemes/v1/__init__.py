"""``io.aimark.image.1`` (aimark 0.1), still embedded on request and detected by default:
``layout`` (keyed chips and sinusoidal sync template), ``code`` (CRC-32), ``embed``, ``sync``
(template search and its pre-screen), ``align`` (folds, flips, translation), ``detect``."""

from __future__ import annotations

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.scheme import Detection, ImageScheme
from aimark.watermark.image._schemes.v1 import detect as _detect
from aimark.watermark.image._schemes.v1.embed import MIN_SIZE, embed, period_for
from aimark.watermark.image._schemes.v1.layout import SCHEME_ID

__all__ = ["SCHEME", "SchemeV1"]


class SchemeV1(ImageScheme):
    """``io.aimark.image.1`` behind the scheme interface."""

    id = SCHEME_ID
    min_size = MIN_SIZE

    def embed(
        self, arr: np.ndarray, key: WatermarkKey, payload: int, strength: float
    ) -> np.ndarray:
        return embed(arr, key, payload, strength=strength)

    def analyse(self, arr: np.ndarray) -> _detect.Analysis:
        return _detect.analyse(arr)

    def prescreen(self, analysis: _detect.Analysis, key: WatermarkKey) -> bool:
        return not _detect.prescreen_score(analysis, key) < _detect.PRESCREEN

    def detect_key(
        self, analysis: _detect.Analysis, key: WatermarkKey, threshold: float
    ) -> Detection:
        return _detect.detect_key(analysis, key, threshold)

    def period_for(self, height: int, width: int) -> float:
        return period_for(height, width)


SCHEME = SchemeV1()
