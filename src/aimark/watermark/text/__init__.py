"""The keyed statistical watermark for LLM text ``io.aimark.text.1``.

:class:`TextWatermark` is one object for both sides: generation (``bias_logits`` / ``sample``,
or the Hugging Face adapter in :mod:`aimark.watermark.text.hf`) and detection (``detect``,
``detect_batch``, ``p_values``, ``find_spans``; :func:`detect_text` for text plus a
tokenizer). See docs/watermark-text.md for the design and the measured figures.
"""

from aimark.watermark.text.detect import TextDetection, TextSpan, TextVerdict
from aimark.watermark.text.scheme import (
    DEFAULT_BIAS,
    DEFAULT_CONTEXT_WIDTH,
    DEFAULT_FPR,
    DEFAULT_GREEN_FRACTION,
    MIN_TOKENS,
    SCHEME_ID,
    TextWatermark,
    WatermarkMode,
)
from aimark.watermark.text.tokenize import (
    TokenizerLike,
    detect_text,
    encode_text,
    find_text_spans,
    load_tokenizer,
)

__all__ = [
    "DEFAULT_BIAS",
    "DEFAULT_CONTEXT_WIDTH",
    "DEFAULT_FPR",
    "DEFAULT_GREEN_FRACTION",
    "MIN_TOKENS",
    "SCHEME_ID",
    "TextDetection",
    "TextSpan",
    "TextVerdict",
    "TextWatermark",
    "TokenizerLike",
    "WatermarkMode",
    "detect_text",
    "encode_text",
    "find_text_spans",
    "load_tokenizer",
]
