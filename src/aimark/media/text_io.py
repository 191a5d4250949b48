"""Plain text in and out: UTF-8 decoding with clear errors, and telling text from binary.

Text is UTF-8 (a leading byte-order mark is kept as a character: it is part of the signed
bytes). Bytes that are not valid UTF-8, or that hold control characters no text file has
(NUL, ...), are not text.

Example:
    >>> from aimark.media.text_io import decode_text, is_text
    >>> decode_text("café".encode())
    'café'
    >>> is_text(b"\\x89PNG\\r\\n\\x1a\\n"), is_text(b"hello\\n")
    (False, True)
"""

from __future__ import annotations

import codecs
import re

from aimark.errors import EmptyInputError, ImageTooLargeError, UnsupportedFormatError
from aimark.media.limits import Limits

__all__ = ["TEXT_MIME", "check_text", "decode_text", "is_text", "is_text_prefix"]

TEXT_MIME = "text/plain"

# C0 controls other than tab, line feed, vertical tab, form feed, carriage return and escape
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def is_text_prefix(head: bytes) -> bool:
    """True if ``head``, the first bytes of a file, can start a text: like :func:`is_text`,
    but a character cut off at the end of ``head`` is allowed."""
    if not head:
        return False
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(bytes(head), final=False)
    except UnicodeDecodeError:
        return False
    return _BINARY.search(text) is None


def is_text(data: bytes) -> bool:
    """True if ``data`` is non-empty UTF-8 text without binary control characters."""
    if not data:
        return False
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _BINARY.search(text) is None


def check_text(text: str, limits: Limits | None = None) -> bytes:
    """Check that ``text`` is usable plain text and return its UTF-8 bytes.

    Raises:
        EmptyInputError: the text is empty.
        ImageTooLargeError: its UTF-8 form is over ``limits.max_bytes``.
        UnsupportedFormatError: it holds a lone surrogate or a binary control character.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected text (str), not {type(text).__name__}")
    limits = limits or Limits()
    if not text:
        raise EmptyInputError("the text is empty")
    if len(text) > limits.max_bytes:  # every character is at least one byte
        raise ImageTooLargeError(f"text is over the limit of {limits.max_bytes:,} bytes")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsupportedFormatError(
            f"the text cannot be encoded as UTF-8 (lone surrogate at character {exc.start})"
        ) from None
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(f"text is over the limit of {limits.max_bytes:,} bytes")
    m = _BINARY.search(text)
    if m:
        raise UnsupportedFormatError(
            f"not plain text (control character U+{ord(m.group()):04X} at character {m.start()})"
        )
    return data


def decode_text(data: bytes, limits: Limits | None = None) -> str:
    """Decode UTF-8 text, within ``limits.max_bytes``.

    Raises:
        EmptyInputError: no bytes.
        ImageTooLargeError: over the byte limit.
        UnsupportedFormatError: not UTF-8 text (the byte offset of the first bad byte is
            given), or binary control characters in it.
    """
    limits = limits or Limits()
    if not data:
        raise EmptyInputError("the text is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(f"text is over the limit of {limits.max_bytes:,} bytes")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsupportedFormatError(
            f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    check_text(text, limits)
    return text
