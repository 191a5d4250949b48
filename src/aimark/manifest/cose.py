"""The signing certificate chain of a C2PA manifest, read from its COSE_Sign1 signature
(RFC 9052): the ``x5chain`` header (label 33), protected or not, as c2patool ``--certs`` prints
it. c2pa-python's JSON views give the signer's names but not the certificates themselves.

Only the CBOR the signature needs is decoded (RFC 8949 major types 0-7, definite lengths).

Example:
    >>> sign1 = bytes([0xD2, 0x84, 0x43, 0xA1, 0x01, 0x26, 0xA1, 0x18, 0x21, 0x42]) + b"\\x30\\x00"
    >>> x5chain(sign1 + bytes([0xF6, 0x40]))
    [b'0\\x00']
"""

from __future__ import annotations

import base64
from typing import Any

from aimark.manifest.jumbf import signature_bytes

__all__ = ["cert_chain", "to_pem", "x5chain"]

_X5CHAIN = 33
_MAX_DEPTH = 16


class _Cbor:
    """A cursor over CBOR bytes; raises ValueError on anything malformed or unsupported."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("truncated CBOR")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _arg(self, info: int) -> int:
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            return int.from_bytes(self._take(1 << (info - 24)), "big")
        raise ValueError("indefinite or reserved CBOR length")

    def item(self, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError("CBOR nested too deep")
        head = self._take(1)[0]
        major, info = head >> 5, head & 0x1F
        if major == 7:
            if info in (20, 21, 22, 23):
                return {20: False, 21: True, 22: None, 23: None}[info]
            self._take({25: 2, 26: 4, 27: 8}.get(info, 0) if info >= 24 else 0)
            return None  # floats and simple values: not needed here
        n = self._arg(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major in (2, 3):
            raw = self._take(n)
            return raw if major == 2 else raw.decode("utf-8", "replace")
        if major == 4:
            return [self.item(depth + 1) for _ in range(n)]
        if major == 5:
            out = {}
            for _ in range(n):
                key = self.item(depth + 1)
                out[key if isinstance(key, (int, str)) else repr(key)] = self.item(depth + 1)
            return out
        return self.item(depth + 1)  # major 6: a tag; the tagged item is what counts


def _decode(data: bytes) -> Any:
    return _Cbor(data).item()


def x5chain(sign1: bytes) -> list[bytes]:
    """The DER certificates of a COSE_Sign1's ``x5chain`` header, signer first ([] if none)."""
    try:
        msg = _decode(sign1)
        if not isinstance(msg, list) or len(msg) != 4:
            return []
        protected = _decode(msg[0]) if isinstance(msg[0], bytes) and msg[0] else {}
        for headers in (protected, msg[1]):
            chain = headers.get(_X5CHAIN) if isinstance(headers, dict) else None
            if isinstance(chain, bytes):
                return [chain]
            if isinstance(chain, list) and all(isinstance(c, bytes) for c in chain):
                return list(chain)
    except (ValueError, IndexError, KeyError):
        return []
    return []


def cert_chain(store: bytes, label: str | None = None) -> list[bytes]:
    """The DER signing chain of manifest ``label`` (default: the active one) of a manifest
    store; [] when it has no readable signature."""
    sign1 = signature_bytes(store, label)
    return x5chain(sign1) if sign1 else []


def to_pem(der: bytes) -> str:
    """One DER certificate as PEM text (64-column base64, trailing newline)."""
    b64 = base64.b64encode(der).decode("ascii")
    body = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
