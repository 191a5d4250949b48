"""The keyed, robust image watermark.

``embed(image, key, payload)`` hides a 64-bit payload in the pixels with the current scheme,
``io.aimark.image.2``; ``detect(image, key)`` finds it (and marks of the earlier scheme,
``io.aimark.image.1``) after recompression, resizing, cropping, rotations, flips and colour
changes; ``check_survival`` tells whether a fresh mark survives a JPEG re-encode. See
docs/watermark-image.md for the design and the measured robustness.
"""

from aimark.watermark.image._api import (
    MIN_SIZE,
    SCHEME_ID,
    SCHEMES,
    SurvivalCheck,
    check_survival,
    detect,
    detect_batch,
    embed,
    period_for,
)
from aimark.watermark.image._detect import DEFAULT_THRESHOLD, Detection
from aimark.watermark.image._embed import DEFAULT_STRENGTH

__all__ = [
    "DEFAULT_STRENGTH",
    "DEFAULT_THRESHOLD",
    "MIN_SIZE",
    "SCHEMES",
    "SCHEME_ID",
    "Detection",
    "SurvivalCheck",
    "check_survival",
    "detect",
    "detect_batch",
    "embed",
    "period_for",
]
