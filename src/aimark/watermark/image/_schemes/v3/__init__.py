"""``io.aimark.image.3``, the current scheme: ``io.aimark.image.2``'s keyed tile under its own
key derivations, with an informed embedder (``embed``: the picture's own interference with
each chip is cancelled at embed time, busy pictures are marked as strongly as SSIM allows).
Detection is ``.2``'s, on the same analysis."""

from __future__ import annotations

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._schemes.v2 import SCHEME as _V2
from aimark.watermark.image._schemes.v2 import SchemeV2
from aimark.watermark.image._schemes.v3.embed import SCHEME_ID, embed

__all__ = ["SCHEME", "SchemeV3"]


class SchemeV3(SchemeV2):
    """``io.aimark.image.3`` behind the scheme interface: ``.2``'s analysis, detector, probe
    and period, its own id (the detector's key derivations) and embedder."""

    id = SCHEME_ID
    analysis_id = _V2.id  # the same analysis as .2: one per image serves both

    def embed(
        self, arr: np.ndarray, key: WatermarkKey, payload: int, strength: float
    ) -> np.ndarray:
        return embed(arr, key, payload, strength=strength)


SCHEME = SchemeV3()
