"""The perceptual fingerprint a repository files images under: PDQ (256 bits).

Why PDQ: it is Meta's open perceptual hash for finding the same picture again after
re-encoding, resizing and small edits, used at scale for exactly that (ThreatExchange); it has
a reference C++ implementation that the ``pdqhash`` package wraps (MIT, extra
``aimark[repository]``); its 256 bits keep chance matches negligible at millions of entries
(unrelated images sit near 128 bits apart, the usual match threshold is 31), which a 64-bit
pHash cannot (a pair of random 64-bit hashes is within 10 bits once in 10 million). C2PA's
soft-binding algorithm list has no generic perceptual hash, so aimark names it
``io.aimark.pdq`` (listed by the resolution API's ``/services/supportedAlgorithms``).

Images are reduced to at most 512 px on the long side first (PDQ works on a 64 × 64
reduction anyway: same hash, a third of the time). Fingerprints of quality under 50 (flat or
featureless images, by PDQ's own measure) are not used: such images all look alike to it.

Example:
    >>> import numpy as np
    >>> from aimark.repository.fingerprint import fingerprint, distance
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    >>> fp = fingerprint(a)
    >>> len(fp.value), fp.alg, distance(fp.value, fingerprint(a[::-1]).value) > 31
    (64, 'io.aimark.pdq', True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimark.errors import MissingExtraError

__all__ = [
    "FINGERPRINT_BITS",
    "MATCH_DISTANCE",
    "MIN_QUALITY",
    "PDQ_ALG",
    "Fingerprint",
    "check_fingerprint",
    "distance",
    "fingerprint",
]

PDQ_ALG = "io.aimark.pdq"
#: the size of each fingerprint algorithm's value, in bits
FINGERPRINT_BITS = {PDQ_ALG: 256}
MATCH_DISTANCE = 31  # Hamming distance up to which two PDQ hashes are the same picture
MIN_QUALITY = 50
_MAX_SIDE = 512


@dataclass(frozen=True)
class Fingerprint:
    """A fingerprint: ``alg``, ``value`` (hex) and PDQ's ``quality`` (0-100)."""

    alg: str
    value: str
    quality: int

    @property
    def usable(self) -> bool:
        return self.quality >= MIN_QUALITY


def _pdq():
    try:
        import pdqhash
    except ImportError:
        raise MissingExtraError(
            "perceptual fingerprints need the pdqhash package: pip install 'aimark[repository]'"
        ) from None
    return pdqhash


def available() -> bool:
    """Whether PDQ fingerprints can be computed here."""
    try:
        _pdq()
    except MissingExtraError:
        return False
    return True


def _rgb(pixels: np.ndarray) -> np.ndarray:
    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        scale = 255.0 if np.issubdtype(a.dtype, np.floating) else 255.0 / 65535.0
        a = np.clip(np.rint(a.astype(np.float64) * scale), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    elif a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.shape[2] == 4:
        a = a[..., :3]
    h, w = a.shape[:2]
    step = max(1, -(-max(h, w) // _MAX_SIDE))
    if step > 1:  # block average: PDQ reduces to 64 × 64 itself
        h2, w2 = h // step * step, w // step * step
        a = a[:h2, :w2].reshape(h2 // step, step, w2 // step, step, 3).mean(axis=(1, 3))
        a = a.astype(np.uint8)
    return np.ascontiguousarray(a)


def fingerprint(pixels: np.ndarray) -> Fingerprint:
    """The PDQ fingerprint of an image array (H, W[, C]), as 64 hex digits."""
    bits, quality = _pdq().compute(_rgb(pixels))
    value = int("".join("1" if b else "0" for b in bits), 2)
    return Fingerprint(PDQ_ALG, f"{value:064x}", int(quality))


def check_fingerprint(alg: str, value: str) -> str:
    """``value`` as lower-case hex, checked to be a fingerprint of ``alg``.

    Raises:
        ValueError: an unknown algorithm, or a value that is not hex of its size.

    >>> check_fingerprint("io.aimark.pdq", "ab" * 8)
    Traceback (most recent call last):
    ValueError: an io.aimark.pdq fingerprint is 256 bits (64 hex digits), not 16 hex digits
    """
    bits = FINGERPRINT_BITS.get(alg)
    if bits is None:
        raise ValueError(f"unknown fingerprint algorithm {alg!r}")
    v = value.strip().lower() if isinstance(value, str) else ""
    if len(v) != bits // 4 or any(c not in "0123456789abcdef" for c in v):
        shown = f"{len(v)} hex digits" if v else repr(value)
        raise ValueError(
            f"an {alg} fingerprint is {bits} bits ({bits // 4} hex digits), not {shown}"
        )
    return v


def distance(a: str, b: str) -> int:
    """Hamming distance of two hex fingerprints."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
