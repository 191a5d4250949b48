"""The keyed function shared by generation and detection: one 32-bit value per
(context, token) pair.

With ``h`` the context width, the value of token ``t`` after the ``h`` tokens ``p1 .. ph``
(``p1`` the nearest) is::

    c1 = C[p1];  cj = fmix32(c(j-1)) XOR C[pj]        (j = 2 .. h)
    value = fmix32(T[t] XOR ch)

``T`` and ``C`` are per-key tables of little-endian 32-bit words drawn from the key with the
labels ``"io.aimark.text.1/<mode>/token"`` and ``".../context"`` (SHAKE-256 of an HMAC, see
:meth:`aimark.WatermarkKey.derive`) and ``fmix32`` is MurmurHash3's finaliser, a bijection
with full avalanche. Everything is uint32 arithmetic on numpy arrays, so the same code scores a
whole vocabulary at one generation step and a batch of texts at detection.
"""

from __future__ import annotations

import numpy as np

from aimark.keys import WatermarkKey

__all__ = ["KeyedTables", "fmix32"]

_M1 = np.uint32(0x85EBCA6B)
_M2 = np.uint32(0xC2B2AE35)
_S16 = np.uint32(16)
_S13 = np.uint32(13)


def fmix32(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, in place on a uint32 array (returned for chaining)."""
    x ^= x >> _S16
    x *= _M1
    x ^= x >> _S13
    x *= _M2
    x ^= x >> _S16
    return x


class KeyedTables:
    """Per-key token and context tables for one mode and vocabulary size."""

    __slots__ = ("context", "context_width", "token", "vocab_size")

    def __init__(self, key: WatermarkKey, label: str, vocab_size: int, context_width: int):
        self.vocab_size = vocab_size
        self.context_width = context_width
        # SHAKE output is a stream: a larger vocabulary extends the tables without changing
        # them, so detecting with a tokenizer's size instead of the model's padded logit width
        # gives the same values
        self.token = self._words(key, f"{label}/token", vocab_size)
        self.context = self._words(key, f"{label}/context", vocab_size)

    @staticmethod
    def _words(key: WatermarkKey, label: str, n: int) -> np.ndarray:
        return np.frombuffer(key.derive(label, 4 * n), dtype="<u4").astype(np.uint32)

    def context_hash(self, ids: np.ndarray, stop: int | None = None) -> np.ndarray:
        """Context words for positions ``h .. stop-1`` of each row of ``ids`` (B, T).

        Returns (B, stop - h) uint32; position ``i`` uses tokens ``i-1 .. i-h`` (``stop`` may
        be T + 1: the position after the last token).
        """
        h = self.context_width
        stop = ids.shape[1] if stop is None else stop
        c = self.context[ids[:, h - 1 : stop - 1]]
        for j in range(2, h + 1):
            c = fmix32(c) ^ self.context[ids[:, h - j : stop - j]]
        return c

    def pair_values(self, ids: np.ndarray) -> np.ndarray:
        """Values of every scorable position of ``ids`` (B, T): (B, T - h) uint32."""
        c = self.context_hash(ids)
        c ^= self.token[ids[:, self.context_width :]]
        return fmix32(c)

    def context_and_values(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(context words, pair values) of every scorable position: both (B, T - h)."""
        c = self.context_hash(ids)
        return c, fmix32(c ^ self.token[ids[:, self.context_width :]])

    def vocab_values(self, prev: np.ndarray) -> np.ndarray:
        """Values of every vocabulary token after the last ``h`` tokens of ``prev`` (B, t):
        (B, V) uint32."""
        h = self.context_width
        c = self.context_hash(prev[:, -h:], stop=h + 1)[:, 0]
        return fmix32(self.token[None, :] ^ c[:, None])
