"""API keys: read from the operator's file and held to one rule of strength.

A key is one token (no spaces) whose estimated strength is at least :data:`MIN_KEY_BITS` bits:
its length times the Shannon entropy of its own characters. A random key passes with room to
spare (``openssl rand -hex 16``: about 118 bits, never under 90 in 10,000 draws;
``python3 -c "import secrets; print(secrets.token_urlsafe(32))"``: about 210); a word, a
repeated character or a short key does not. A file with PEM armour (a certificate or private
key), an SSH key or an aimark watermark key is refused whole: pointing ``--api-keys-file`` at
the wrong file must not turn its lines into keys.
"""

from __future__ import annotations

import math
import os
from collections import Counter

from aimark.errors import InputError
from aimark.media.source import read_config_file

__all__ = ["MIN_KEY_BITS", "api_key_problem", "key_strength_bits", "read_api_keys"]

MIN_KEY_BITS = 80
_GENERATE = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
_NOT_KEY_FILES = (
    ("-----BEGIN", "it holds PEM armour (a certificate or private key)"),
    ("-----END", "it holds PEM armour (a certificate or private key)"),
    ("aimark-watermark-key-v1:", "it is an aimark watermark key"),
    ("ssh-", "it holds an SSH key"),
    ("PuTTY-User-Key-File", "it holds an SSH key"),
)


def key_strength_bits(key: str) -> float:
    """Estimated strength of ``key`` in bits: length × Shannon entropy of its characters.

    Example:
        >>> round(key_strength_bits("abab"))
        4
        >>> key_strength_bits("a" * 64)
        0.0
    """
    n = len(key)
    if not n:
        return 0.0
    counts = Counter(key).values()
    return max(0.0, -sum(c * math.log2(c / n) for c in counts))


def api_key_problem(key: str) -> str | None:
    """Why ``key`` may not be an API key (``None`` when it may).

    Example:
        >>> api_key_problem("password-password")
        'it is too guessable (about 49 bits; at least 80 are needed)'
    """
    if any(ch.isspace() for ch in key):
        return "it contains spaces (a key is one token)"
    if not key.isprintable() or not key.isascii():
        return "it contains characters other than printable ASCII"
    bits = key_strength_bits(key)
    if bits < MIN_KEY_BITS:
        return f"it is too guessable (about {bits:.0f} bits; at least {MIN_KEY_BITS} are needed)"
    return None


def read_api_keys(path: str | os.PathLike[str]) -> list[str]:
    """API keys from a file: one per line; blank lines and ``#`` comments are ignored.

    Raises:
        InputError: the file cannot be read, holds no keys, looks like a key or certificate
            file, or holds a key that breaks the rule above (its line number is given).
    """
    try:
        text = read_config_file(path, "API key").decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the API key file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"the API key file {path} is not UTF-8 text") from None
    for marker, what in _NOT_KEY_FILES:
        if any(line.strip().startswith(marker) for line in text.splitlines()):
            raise InputError(f"{path} is not an API key file: {what}")
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        key = line.strip()
        if not key or key.startswith("#"):
            continue
        problem = api_key_problem(key)
        if problem:
            raise InputError(
                f"the API key on line {number} of {path} is refused: {problem}; "
                f"make keys with: {_GENERATE}"
            )
        keys.append(key)
    if not keys:
        raise InputError(f"the API key file {path} holds no keys")
    return keys
