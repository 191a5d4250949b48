"""The keyed, robust image watermark ``io.aimark.image.1``.

``embed(image, key, payload)`` hides a 64-bit payload in the pixels; ``detect(image, key)``
finds it after recompression, resizing, cropping, small rotations, flips and colour changes.
See docs/watermark-image.md for the design and the measured robustness.
"""

from aimark.watermark.image._detect import DEFAULT_THRESHOLD, Detection, detect, detect_batch
from aimark.watermark.image._embed import DEFAULT_STRENGTH, MIN_SIZE, embed
from aimark.watermark.image._pattern import SCHEME_ID

__all__ = [
    "DEFAULT_STRENGTH",
    "DEFAULT_THRESHOLD",
    "MIN_SIZE",
    "SCHEME_ID",
    "Detection",
    "detect",
    "detect_batch",
    "embed",
]
