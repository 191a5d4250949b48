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

import typing as _typing

from aimark import _lazy_names
from aimark.watermark.image._names import DEFAULT_STRENGTH, DEFAULT_THRESHOLD, SCHEME_ID, SCHEMES

if _typing.TYPE_CHECKING:
    from aimark.watermark.image._api import (
        MIN_SIZE,
        SurvivalCheck,
        check_survival,
        detect,
        detect_batch,
        embed,
        period_for,
    )
    from aimark.watermark.image._common.code import PAYLOAD_BITS
    from aimark.watermark.image._common.scheme import Detection

# the verbs load numpy and the schemes on first use (PEP 562): naming the schemes, as the CLI's
# parser and the Verifier's defaults do, loads neither
_LAZY = {
    "Detection": "aimark.watermark.image._common.scheme",
    "MIN_SIZE": "aimark.watermark.image._api",
    "PAYLOAD_BITS": "aimark.watermark.image._common.code",
    "SurvivalCheck": "aimark.watermark.image._api",
    "check_survival": "aimark.watermark.image._api",
    "detect": "aimark.watermark.image._api",
    "detect_batch": "aimark.watermark.image._api",
    "embed": "aimark.watermark.image._api",
    "period_for": "aimark.watermark.image._api",
}

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


__getattr__, __dir__ = _lazy_names(__name__, globals(), _LAZY, __all__)
