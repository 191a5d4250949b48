"""The keyed tile of ``io.aimark.image.2``: which chips hold the two sync sets and which the
coded payload, per key and per image variant, and how chips are rendered at any real period.

A tile is ``CHIPS × CHIPS`` chips of ±1. The positions of the three chip sets are fixed per
key; their signs depend on the key *and* on a variant ``v`` in ``[0, VARIANTS)`` chosen per
image from the payload. Averaging many marked images of one key therefore averages different
sync sequences (and, through the payload, different message chips) instead of revealing one
fixed pattern.

- *search* sync chips find the alignment (lattice orientation, translation and variant);
- *test* sync chips are read only at the alignment the search chose: their keyed signs are
  independent of everything the search saw, so their z-score is N(0, 1) for an unmarked
  image whatever the search did (a calibrated p-value);
- *message* chips carry the convolutionally coded payload, each coded bit on two or three
  chips with keyed signs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.interp import period_matrix as _period_matrix
from aimark.watermark.image._schemes.v2.code import CODED_BITS

__all__ = [
    "CHIPS",
    "SCHEME_ID",
    "VARIANTS",
    "Layout",
    "layout_for",
    "period_matrix",
    "render_at",
    "variant_for",
]

SCHEME_ID = "io.aimark.image.2"
CHIPS = 24
VARIANTS = 8
SEARCH_CHIPS = 112
TEST_CHIPS = 64


def _signs(raw: bytes, n: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(raw, np.uint8))[:n]
    return (1.0 - 2.0 * bits).astype(np.float32)


@dataclass(frozen=True)
class Layout:
    """One key's chip roles (flat indices into the ``CHIPS²`` tile) and per-variant signs."""

    search_idx: np.ndarray  # (SEARCH_CHIPS,)
    test_idx: np.ndarray  # (TEST_CHIPS,)
    message_idx: np.ndarray  # (M,)
    bit_index: np.ndarray  # (M,) coded bit carried by each message chip
    search_sign: np.ndarray  # (VARIANTS, SEARCH_CHIPS)
    test_sign: np.ndarray  # (VARIANTS, TEST_CHIPS)
    message_sign: np.ndarray  # (VARIANTS, M)

    def search_chips(self, v: int) -> np.ndarray:
        """(CHIPS, CHIPS) with variant ``v``'s search signs, 0 elsewhere."""
        out = np.zeros(CHIPS * CHIPS, np.float32)
        out[self.search_idx] = self.search_sign[v]
        return out.reshape(CHIPS, CHIPS)

    def tile(self, v: int, coded_bits: np.ndarray) -> np.ndarray:
        """The chip values (CHIPS, CHIPS) of variant ``v`` carrying ``coded_bits``."""
        out = np.zeros(CHIPS * CHIPS, np.float32)
        out[self.search_idx] = self.search_sign[v]
        out[self.test_idx] = self.test_sign[v]
        symbols = 1.0 - 2.0 * coded_bits.astype(np.float32)
        out[self.message_idx] = self.message_sign[v] * symbols[self.bit_index]
        return out.reshape(CHIPS, CHIPS)


@lru_cache(maxsize=64)
def layout_for(key: WatermarkKey, scheme_id: str = SCHEME_ID) -> Layout:
    """The tile layout of ``key`` (cached per key). ``scheme_id`` labels the key derivations:
    schemes built on this tile (``io.aimark.image.3``) get layouts unrelated to ``.2``'s."""
    n = CHIPS * CHIPS
    order = np.argsort(
        np.frombuffer(key.derive(f"{scheme_id}/chip-order", 8 * n), ">u8"), kind="stable"
    )
    s_idx = np.sort(order[:SEARCH_CHIPS])
    t_idx = np.sort(order[SEARCH_CHIPS : SEARCH_CHIPS + TEST_CHIPS])
    m_idx = order[SEARCH_CHIPS + TEST_CHIPS :]
    m = m_idx.size

    def signs(label: str, count: int) -> np.ndarray:
        raw = key.derive(f"{scheme_id}/{label}", VARIANTS * ((count + 7) // 8))
        per = (count + 7) // 8
        return np.stack([_signs(raw[v * per : (v + 1) * per], count) for v in range(VARIANTS)])

    return Layout(
        search_idx=s_idx,
        test_idx=t_idx,
        message_idx=m_idx,
        bit_index=np.arange(m) % CODED_BITS,
        search_sign=signs("search", SEARCH_CHIPS),
        test_sign=signs("test", TEST_CHIPS),
        message_sign=signs("message", m),
    )


def variant_for(key: WatermarkKey, payload: int, scheme_id: str = SCHEME_ID) -> int:
    """The image variant of ``payload`` under ``key`` (keyed, so it reveals nothing)."""
    tag = key.derive(f"{scheme_id}/variant", 32)
    return hashlib.sha256(tag + payload.to_bytes(8, "big")).digest()[0] % VARIANTS


def period_matrix(n: int, period: float, chips: int = CHIPS) -> np.ndarray:
    """(n, chips) periodic bilinear weights of pixel i for a tile of ``period`` pixels."""
    return _period_matrix(n, period, chips)


def render_at(chips: np.ndarray, height: int, width: int, period: float) -> np.ndarray:
    """The chip array tiled over (height, width) pixels at a real ``period`` (pixels)."""
    ay = period_matrix(height, period, chips.shape[0])
    ax = period_matrix(width, period, chips.shape[1])
    return (ay @ chips) @ ax.T
