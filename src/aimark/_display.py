"""Text that can always be written: file names that are not UTF-8, lone surrogates from a
manifest's JSON escapes, and control characters, made safe for every output aimark writes.

On POSIX a file name is bytes; Python decodes the bytes that are not UTF-8 as lone surrogates
(U+DC80-U+DCFF, "surrogateescape"), which no UTF-8 writer accepts. aimark keeps the exact name
where the output can hold it (JSON escapes it; a terminal gets the raw bytes back) and shows
it readably elsewhere (CSV, HTML: ``\\xff``, as ``ls -b`` does).

Example:
    >>> import os
    >>> readable(os.fsdecode(b"scans/f\\xff.png")), readable("a\\nb"), readable("ok é")
    ('scans/f\\\\xff.png', 'a\\\\x0ab', 'ok é')
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

__all__ = ["OUTPUT_ERRORS", "json_text", "readable"]

# undecodable bytes of a file name (U+DC80-U+DCFF), other lone surrogates, control characters
_UNREADABLE = re.compile("[\ud800-\udfff\x00-\x1f\x7f-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    c = ord(match.group())
    if 0xDC80 <= c <= 0xDCFF:  # a byte of a file name that is not UTF-8: show the byte
        return f"\\x{c - 0xDC00:02x}"
    return f"\\u{c:04x}" if c > 0xFF else f"\\x{c:02x}"


def readable(value: Any) -> str:
    """``value`` as text that can be written as UTF-8 and shown on one line: the bytes of a
    file name that are not UTF-8 as ``\\xff``, lone surrogates as ``\\udXXX``, control
    characters (newlines, tabs, escapes) as ``\\xNN``."""
    return _UNREADABLE.sub(_escape, str(value))


def json_text(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)``, unless that would hold a lone
    surrogate (not valid UTF-8): then with ``\\uXXXX`` escapes, so the exact name survives
    a round trip through ``json.loads``."""
    text = json.dumps(value, ensure_ascii=False, **options)
    if _SURROGATES.search(text):
        text = json.dumps(value, ensure_ascii=True, **options)
    return text


def _output_errors(exc: UnicodeError) -> tuple[str | bytes, int]:
    """Codec error handler for terminal output: a file name's undecodable bytes are written
    back as they were (as "surrogateescape" does), any other unencodable character as a
    backslash escape — never an exception."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    if all(0xDC80 <= ord(c) <= 0xDCFF for c in bad):
        return bytes(ord(c) - 0xDC00 for c in bad), exc.end
    return "".join(
        f"\\u{ord(c):04x}" if ord(c) > 0xFF else f"\\x{ord(c):02x}" for c in bad
    ), exc.end


#: the name of the error handler above, for ``sys.stdout.reconfigure(errors=...)``
OUTPUT_ERRORS = "aimark.output"
codecs.register_error(OUTPUT_ERRORS, _output_errors)
