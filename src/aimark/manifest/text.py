"""C2PA manifests in plain text: the unstructured-text wrapper (C2PA 2.3, A.8 in 2.4).

Wire format: at the end of the text, U+FEFF followed by one variation selector per byte of

    "C2PATXT\\0" | version 1 | manifest length (uint32, big-endian) | JUMBF manifest store | padding

(byte b < 16 → U+FE00+b, otherwise U+E0100+(b−16)), so the manifest is invisible and survives
copy and paste. The hard binding is a ``c2pa.hash.data`` assertion over the UTF-8 bytes of the
text with one exclusion: the wrapper's byte range. Its length must be fixed before the manifest
is signed, so it is reserved from a placeholder of the exact size (E = 3 + (13 + M)·4 + 6 bytes
for a store of M bytes) and filled with 0x00 (3-byte) / 0xFF (4-byte) padding selectors.

Unicode normalisation: aimark signs the **NFC** form of the text (what it returns is NFC plus
the wrapper). Verification hashes the bytes exactly as received, as other verifiers do, so a
text normalised to NFD (or re-encoded with CRLF line ends) after signing reads as tampered; the
verifier says when a text is not NFC.

c2pa-python reads the store (signature, trust, assertion hashes) with ``manifest_data=``, but it
cannot see where the wrapper is and always reports one failure, "data hash exclusion does not
match the manifest location in the asset": aimark checks that location and the hash itself and
drops exactly that failure; every other one is kept.

Example:
    >>> from aimark.manifest.text import encode_wrapper, find_wrappers, wrapper_byte_length
    >>> w = encode_wrapper(b"\\x00\\x00\\x00\\x10jumb" + bytes(8), wrapper_byte_length(16))
    >>> len(w.encode()) == wrapper_byte_length(16)
    True
    >>> [x.problem for x in find_wrappers("Hello" + w)]
    [None]
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from aimark.manifest.c2pa_io import ManifestReader, ManifestSigner
from aimark.manifest.definitions import TEXT_WATERMARK_ASSERTION
from aimark.report import C2paResult, C2paState, Failure

__all__ = [
    "CORRUPTED_WRAPPER",
    "MAGIC",
    "MULTIPLE_WRAPPERS",
    "Wrapper",
    "check_binding",
    "encode_wrapper",
    "find_wrappers",
    "read_text",
    "sign_text",
    "strip_wrappers",
    "wrapper_byte_length",
]

MAGIC = b"C2PATXT\0"
VERSION = 1
_HEADER = len(MAGIC) + 1 + 4
_PREFIX = "\ufeff"
_RUN = re.compile("\ufeff([\ufe00-\ufe0f\U000e0100-\U000e01ef]+)")

#: C2PA validation codes for text wrappers.
MULTIPLE_WRAPPERS = "manifest.text.multipleWrappers"
CORRUPTED_WRAPPER = "manifest.text.corruptedWrapper"
_HASH_MISMATCH = "assertion.dataHash.mismatch"
#: The one failure c2pa-python always reports for a store read with ``manifest_data`` (it cannot
#: see the wrapper); aimark checks the exclusion's location itself.
_KNOWN_EXCLUSION_FAILURE = (
    _HASH_MISMATCH,
    "data hash exclusion does not match the manifest location in the asset",
)
_HASHES = ("sha256", "sha384", "sha512")  # hashlib names; hashlib loads when a text is checked


def wrapper_byte_length(store_size: int) -> int:
    """UTF-8 length of the (padded) wrapper for a manifest store of ``store_size`` bytes:
    every byte at its widest (4) plus a margin that makes any gap fillable with 3- and 4-byte
    padding selectors."""
    return 3 + (_HEADER + store_size) * 4 + 6


def _selector(b: int) -> str:
    return chr(0xFE00 + b) if b < 16 else chr(0xE0100 + b - 16)


# byte <-> variation selector, as str.translate tables (C speed: a wrapper is ~4,000 characters)
_TO_SELECTORS = {b: _selector(b) for b in range(256)}
_FROM_SELECTORS = {ord(_selector(b)): b for b in range(256)}


def _selectors(data: bytes) -> str:
    return data.decode("latin-1").translate(_TO_SELECTORS)


def _bytes(selectors: str) -> bytes:
    return selectors.translate(_FROM_SELECTORS).encode("latin-1")


def encode_wrapper(store: bytes, byte_length: int | None = None) -> str:
    """The wrapper for ``store``, padded to exactly ``byte_length`` UTF-8 bytes if given.

    Raises:
        ValueError: ``byte_length`` is smaller than the wrapper, or a gap that 3- and 4-byte
            padding cannot fill (1, 2 or 5 bytes).
    """
    header = MAGIC + bytes([VERSION]) + len(store).to_bytes(4, "big")
    body = _PREFIX + _selectors(header + store)
    if byte_length is None:
        return body
    gap = byte_length - len(body.encode("utf-8"))
    for fours in range(max(gap, 0) // 4, -1, -1):
        threes, rest = divmod(gap - 4 * fours, 3)
        if gap >= 0 and rest == 0:
            return body + _selector(0x00) * threes + _selector(0xFF) * fours
    raise ValueError(f"cannot pad a wrapper to {byte_length} bytes (gap {gap})")


@dataclass(frozen=True)
class Wrapper:
    """A C2PA text wrapper found in a text.

    ``start``/``end``: character indices (U+FEFF .. after the last variation selector);
    ``byte_start``/``byte_length``: its range in the UTF-8 bytes; ``store``: the manifest store
    (None when damaged); ``problem``: None, ``"truncated"`` or ``"malformed"``, with ``detail``.
    """

    start: int
    end: int
    byte_start: int
    byte_length: int
    store: bytes | None
    problem: str | None = None
    detail: str = ""


def _parse(raw: bytes) -> tuple[bytes | None, str | None, str]:
    version, length = raw[8], int.from_bytes(raw[9:13], "big")
    if version != VERSION:
        return None, "malformed", f"unsupported wrapper version {version}"
    if _HEADER + length > len(raw):
        return (
            None,
            "truncated",
            f"the wrapper declares a {length:,}-byte manifest but holds {len(raw) - _HEADER:,}",
        )
    store = raw[_HEADER : _HEADER + length]
    box = int.from_bytes(store[:4], "big") if len(store) >= 8 else 0
    if store[4:8] != b"jumb" or not 8 <= box <= length:
        return None, "malformed", "the wrapper does not hold a JUMBF manifest store"
    return store, None, ""


def find_wrappers(text: str) -> tuple[Wrapper, ...]:
    """Every C2PA text wrapper in ``text``, complete or damaged: a run of variation selectors
    after U+FEFF holding at least the 13-byte header (``C2PATXT\\0``, version, length). Other
    uses of U+FEFF and of variation selectors are not wrappers, nor is a wrapper cut inside its
    header: like the independent verifier encypher-c2pa, aimark reads that as no manifest."""
    found: list[Wrapper] = []
    char_at = byte_at = 0  # byte offsets are counted on from the last wrapper: linear time
    for m in _RUN.finditer(text):
        raw = _bytes(m.group(1))
        if len(raw) < _HEADER or not raw.startswith(MAGIC):
            continue
        store, problem, detail = _parse(raw)
        byte_at += len(text[char_at : m.start()].encode("utf-8", "surrogatepass"))
        char_at = m.start()
        byte_length = len(m.group(0).encode("utf-8"))
        found.append(Wrapper(m.start(), m.end(), byte_at, byte_length, store, problem, detail))
    return tuple(found)


def strip_wrappers(text: str) -> str:
    """``text`` without its C2PA wrappers (complete or damaged)."""
    kept, at = [], 0
    for w in find_wrappers(text):
        kept.append(text[at : w.start])
        at = w.end
    kept.append(text[at:])
    return "".join(kept)


def sign_text(signer: ManifestSigner, text: str, definition: dict[str, Any]) -> str:
    """Return the NFC form of ``text`` followed by a wrapper with the signed manifest of
    ``definition``, hard-bound to the text's UTF-8 bytes. ``text`` must carry no wrapper.

    Raises:
        ValueError: ``text`` already has a wrapper. SigningError, CredentialsError,
        ManifestError from signing.
    """
    if find_wrappers(text):
        raise ValueError("the text already carries a C2PA wrapper")
    nfc = unicodedata.normalize("NFC", text)
    body = nfc.encode("utf-8")
    import hashlib

    digest = list(hashlib.sha256(body).digest())

    def binding(store_size: int) -> dict[str, Any]:
        exclusion = {"start": len(body), "length": wrapper_byte_length(store_size)}
        return {
            "exclusions": [exclusion],
            "name": "jumbf manifest",
            "alg": "sha256",
            "hash": digest,
            "pad": [],
        }

    store = signer.sign_data_hashed(definition, binding)
    return nfc + encode_wrapper(store, wrapper_byte_length(len(store)))


def _hash_value(value: Any) -> bytes | None:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            return None
    if isinstance(value, list) and all(isinstance(v, int) and 0 <= v < 256 for v in value):
        return bytes(value)
    return None


def check_binding(store: dict[str, Any], data: bytes, wrapper: Wrapper) -> Failure | None:
    """aimark's own check of the hard binding: one ``c2pa.hash.data`` whose single exclusion is
    exactly the wrapper, and whose hash matches ``data`` without it. None when it holds."""
    hashes = [v for k, v in store.items() if k.split("__")[0] == "c2pa.hash.data"]
    if len(hashes) != 1 or not isinstance(hashes[0], dict):
        return Failure("claim.hardBindings.missing", "no single c2pa.hash.data hard binding")
    dh = hashes[0]
    alg = str(dh.get("alg") or "sha256")
    if alg not in _HASHES:
        return Failure("algorithm.unsupported", f"hard binding hash algorithm {alg!r}")
    ranges = [
        (e.get("start"), e.get("length")) for e in dh.get("exclusions") or [] if isinstance(e, dict)
    ]
    where = (wrapper.byte_start, wrapper.byte_length)
    if ranges != [where]:
        return Failure(
            _HASH_MISMATCH,
            f"the signed exclusion {ranges} is not the wrapper's byte range {[where]}: "
            "text was added or removed before the wrapper, or the wrapper was changed",
        )
    import hashlib

    h = hashlib.new(alg)
    h.update(data[: where[0]])
    h.update(data[where[0] + where[1] :])
    if _hash_value(dh.get("hash")) != h.digest():
        return Failure(_HASH_MISMATCH, "the text differs from the signed text")
    return None


def _known(failure: dict[str, Any]) -> bool:
    return (failure.get("code"), failure.get("explanation")) == _KNOWN_EXCLUSION_FAILURE


def read_text(reader: ManifestReader, text: str, data: bytes | None = None) -> C2paResult:
    """The C2PA layer of a text (``data``: its exact UTF-8 bytes, default ``text`` encoded).

    Exactly one wrapper is expected: none gives ``ABSENT`` (a stripped wrapper is no
    manifest); several, a truncated or a malformed one give ``INVALID`` with
    ``text_wrapper`` saying which. Never raises for bad content.
    """
    data = text.encode("utf-8") if data is None else data
    wrappers = find_wrappers(text)
    if not wrappers:
        return C2paResult(state=C2paState.ABSENT)
    if len(wrappers) > 1:
        return C2paResult(
            state=C2paState.INVALID,
            text_wrapper="duplicated",
            failures=(Failure(MULTIPLE_WRAPPERS, f"{len(wrappers)} C2PA text wrappers found"),),
            error=f"the text holds {len(wrappers)} C2PA wrappers; exactly one is allowed",
        )
    wrapper = wrappers[0]
    if wrapper.store is None:
        return C2paResult(
            state=C2paState.INVALID,
            text_wrapper=wrapper.problem,
            failures=(Failure(CORRUPTED_WRAPPER, wrapper.detail),),
            error=f"the C2PA text wrapper is {wrapper.problem}: {wrapper.detail}",
        )
    result, store = reader.read_manifest_data(wrapper.store, data, ignore=_known)
    result = replace(result, text_wrapper="found")
    watermark = store.get(TEXT_WATERMARK_ASSERTION)
    if isinstance(watermark, dict):
        result = replace(result, text_watermark=watermark)
    if result.manifest is None:  # unreadable store: c2pa's answer stands
        return result
    failure = check_binding(store, data, wrapper)
    if failure is None:
        return result
    failures = result.failures
    if not any(f.code == failure.code for f in failures):
        failures += (failure,)
    return replace(result, state=C2paState.INVALID, failures=failures)
