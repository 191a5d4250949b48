"""The keyed, robust image watermark.

``embed(image, key, payload)`` hides a 64-bit payload in the pixels with the current scheme,
``io.aimark.image.2``; ``detect(image, key)`` finds it (and marks of the earlier scheme,
``io.aimark.image.1``) after recompression, resizing, cropping, rotations, flips and colour
changes; ``check_survival`` tells whether a fresh mark survives a JPEG re-encode. See
docs/watermark-image.md for the design and the measured robustness.

Each scheme is one package under ``_schemes/`` behind the interface of
``_common/scheme.py``; :mod:`.registry` lists them in priority order and is all the verbs in
``_api.py`` read.
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
from aimark.watermark.image._common.code import PAYLOAD_BITS
from aimark.watermark.image._common.scheme import DEFAULT_STRENGTH, DEFAULT_THRESHOLD, Detection

__all__ = [
    "DEFAULT_STRENGTH",
    "DEFAULT_THRESHOLD",
    "MIN_SIZE",
    "PAYLOAD_BITS",
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
