"""From text to token ids: adapters for the tokenizers people use, and text-level detection.

A tokenizer may be a Hugging Face ``tokenizers.Tokenizer``, a ``transformers`` tokenizer, a
``tiktoken`` encoding, or any callable ``text -> list[int]``. Detection must use the tokenizer
of the generating model (the ids are what the watermark was woven into).

Invisible characters of a C2PA text wrapper (U+FEFF, variation selectors) are removed before
tokenizing, so a signed text is detected like its visible text.

Example:
    >>> from aimark import WatermarkKey
    >>> from aimark.watermark.text import TextWatermark, detect_text
    >>> wm = TextWatermark(WatermarkKey(bytes(32)), vocab_size=256)
    >>> detect_text("plain bytes as tokens " * 3, wm, lambda t: list(t.encode())).detected
    False
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import Any, Union, cast

import numpy as np

from aimark.errors import MissingExtraError
from aimark.watermark.text.detect import TextDetection, TextSpan
from aimark.watermark.text.scheme import DEFAULT_FPR, TextWatermark

__all__ = [
    "TokenizerLike",
    "detect_text",
    "encode_text",
    "find_text_spans",
    "load_tokenizer",
    "vocab_size_of",
]

TokenizerLike = Union[Callable[[str], Sequence[int]], Any]

_INVISIBLE = re.compile("[\ufeff\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


def encode_text(text: str, tokenizer: TokenizerLike) -> tuple[np.ndarray, np.ndarray | None]:
    """(token ids, character offsets (T, 2) or None) of ``text`` without special tokens."""
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    text = _strip_invisible(text)
    tokenizer = cast(Any, tokenizer)  # duck-typed: transformers, tokenizers, tiktoken, callables
    encode = getattr(tokenizer, "encode", None)
    offsets = None
    if getattr(tokenizer, "is_fast", False) and callable(tokenizer):  # transformers, with offsets
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = np.asarray(enc["input_ids"], dtype=np.int64)
        offsets = np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
        return ids, offsets if offsets.shape == (ids.size, 2) else None
    if encode is None:
        if not callable(tokenizer):
            raise TypeError("tokenizer must have .encode(text) or be a callable text -> ids")
        out: Any = tokenizer(text)
    else:
        try:
            out = encode(text, add_special_tokens=False)
        except TypeError:
            out = encode(text)
    if hasattr(out, "ids"):  # tokenizers.Encoding
        offsets = np.asarray(getattr(out, "offsets", None) or np.zeros((0, 2)), dtype=np.int64)
        out = out.ids
    elif isinstance(out, dict) and "input_ids" in out:
        out = out["input_ids"]
    ids = np.asarray(list(out), dtype=np.int64)
    if offsets is not None and offsets.shape != (ids.size, 2):
        offsets = None
    return ids, offsets


def detect_text(
    text: str, watermark: TextWatermark, tokenizer: TokenizerLike, *, fpr: float = DEFAULT_FPR
) -> TextDetection:
    """Tokenize ``text`` with the generating model's tokenizer and test it for ``watermark``.

    >>> from aimark import WatermarkKey
    >>> wm = TextWatermark(WatermarkKey(bytes(32)), vocab_size=256)
    >>> detect_text("hi", wm, lambda t: list(t.encode())).verdict.value
    'too-short'
    """
    ids, _ = encode_text(text, tokenizer)
    return watermark.detect(ids, fpr=fpr)


def find_text_spans(
    text: str,
    watermark: TextWatermark,
    tokenizer: TokenizerLike,
    *,
    window: int = 50,
    fpr: float = DEFAULT_FPR,
) -> list[TextSpan]:
    """:meth:`TextWatermark.find_spans` on text; spans carry character offsets when the
    tokenizer reports them (``tokenizers`` and fast ``transformers`` tokenizers do)."""
    ids, offsets = encode_text(text, tokenizer)
    spans = watermark.find_spans(ids, window=window, fpr=fpr)
    if offsets is None or not len(offsets):
        return spans
    return [
        TextSpan(
            s.start,
            s.end,
            s.p_value,
            s.tokens_scored,
            start_char=int(offsets[s.start, 0]),
            end_char=int(offsets[s.end - 1, 1]),
        )
        for s in spans
    ]


def load_tokenizer(spec: str) -> Any:
    """Load a tokenizer offline from ``spec``:

    * ``tiktoken:NAME`` — a tiktoken encoding (e.g. ``tiktoken:cl100k_base``);
    * a ``tokenizer.json`` file — Hugging Face ``tokenizers``;
    * a ``.gguf`` model file or a local model directory — ``transformers.AutoTokenizer``.
    """
    if spec.startswith("tiktoken:"):
        try:
            import tiktoken
        except ImportError:
            raise MissingExtraError(
                "tiktoken tokenizers need tiktoken: pip install tiktoken"
            ) from None
        name = spec.split(":", 1)[1]
        try:
            return tiktoken.get_encoding(name)
        except Exception as exc:  # tiktoken downloads encodings on first use
            raise MissingExtraError(
                f"cannot load the tiktoken encoding {name!r} ({type(exc).__name__}); offline, "
                "give a tokenizer.json or model file instead"
            ) from None
    if not os.path.exists(spec):
        raise FileNotFoundError(f"tokenizer not found: {spec}")
    if os.path.isfile(spec) and spec.endswith(".json"):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise MissingExtraError("tokenizer.json files need: pip install tokenizers") from None
        return Tokenizer.from_file(spec)
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise MissingExtraError(
            "model tokenizers need transformers: pip install 'aimark[hf]'"
        ) from None
    if os.path.isfile(spec) and spec.endswith(".gguf"):
        folder, name = os.path.split(os.path.abspath(spec))
        return AutoTokenizer.from_pretrained(folder, gguf_file=name, local_files_only=True)
    return AutoTokenizer.from_pretrained(spec, local_files_only=True)


def vocab_size_of(tokenizer: TokenizerLike) -> int | None:
    """The number of token ids a tokenizer can produce, when it says (else None)."""
    for attr in ("n_vocab",):  # tiktoken
        if isinstance(getattr(tokenizer, attr, None), int):
            return int(getattr(tokenizer, attr))
    get = getattr(tokenizer, "get_vocab_size", None)  # tokenizers
    if callable(get):
        return int(get(with_added_tokens=True))
    try:
        return len(cast(Any, tokenizer))  # transformers
    except TypeError:
        return None
