"""Error correction shared by the image watermark schemes: the rate-1/3 convolutional code
(constraint length 9, generators 557/663/711 octal) and a soft-decision Viterbi decoder, all
in numpy. Each scheme adds its own CRC (``_schemes/v*/code.py``).

Example:
    >>> import numpy as np
    >>> from aimark.watermark.image._common.code import convolve, viterbi
    >>> info = np.array([1, 0, 1, 1, 0, 0, 1, 0], np.uint8)
    >>> soft = 1.0 - 2.0 * convolve(info)            # bit 0 -> +1, bit 1 -> -1
    >>> viterbi(soft, info.size).tolist() == info.tolist()
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PAYLOAD_BITS", "Decoded", "bits_of", "convolve", "int_of", "viterbi"]

PAYLOAD_BITS = 64  # of every scheme
_K = 9
_GENERATORS = (0o557, 0o663, 0o711)
_STATES = 1 << (_K - 1)


def _parity(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    for shift in (4, 2, 1):
        x ^= x >> shift
    return x & 1


# Trellis tables: for state s (last K-1 input bits, newest in the high bit) and input b,
# the register is (b << (K-1)) | s; the next state is register >> 1.
_REG = (np.arange(2)[:, None] << (_K - 1)) | np.arange(_STATES)[None, :]  # (2, 64)
_NEXT = _REG >> 1
_OUT = np.stack([_parity(_REG & g) for g in _GENERATORS], axis=-1)  # (2, 64, 3)
_OUT_SIGN = 1.0 - 2.0 * _OUT  # bit 0 -> +1


def bits_of(value: int, n: int) -> np.ndarray:
    return np.array([(value >> (n - 1 - i)) & 1 for i in range(n)], dtype=np.uint8)


def int_of(bits: np.ndarray) -> int:
    out = 0
    for b in bits:
        out = (out << 1) | int(b)
    return out


def convolve(info: np.ndarray) -> np.ndarray:
    """Code bits (uint8 0/1) of ``info`` bits followed by the K-1 zero tail bits."""
    bits = np.concatenate([np.asarray(info, np.uint8), np.zeros(_K - 1, np.uint8)])
    state = 0
    out = np.empty((bits.size, len(_GENERATORS)), np.uint8)
    for i, b in enumerate(bits):
        out[i] = _OUT[b, state]
        state = int(_NEXT[b, state])
    return out.reshape(-1)


@dataclass(frozen=True)
class Decoded:
    """A decoding attempt: the payload if the CRC holds, and how well the soft values agree
    with the re-encoded codeword (``agreement`` in [-1, 1])."""

    payload: int | None
    agreement: float


# For next state n the input bit is its top bit, and the two predecessors differ in the bit
# shifted out: s = ((n << 1) | j) & (STATES - 1) for j in {0, 1}.
_NS = np.arange(_STATES)
_IN_BIT = _NS >> (_K - 2)
_PRED = np.stack([((_NS << 1) | j) & (_STATES - 1) for j in (0, 1)])  # (2, STATES)
_PRED_SIGN = np.stack([_OUT_SIGN[_IN_BIT, _PRED[j]] for j in (0, 1)])  # (2, STATES, 3)


def viterbi(soft: np.ndarray, info_bits: int) -> np.ndarray:
    """Most likely ``info_bits`` input bits of a terminated codeword (soft values, positive
    means bit 0); paths that do not end in the zero state are excluded."""
    steps = info_bits + _K - 1
    y = np.asarray(soft, np.float64).reshape(steps, len(_GENERATORS))
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    branch = np.einsum("jsk,tk->tjs", _PRED_SIGN, y)  # (steps, 2, STATES)
    choice = np.empty((steps, _STATES), np.uint8)
    for t in range(steps):
        cand = metric[_PRED] + branch[t]
        pick = cand[1] > cand[0]
        choice[t] = pick
        metric = np.where(pick, cand[1], cand[0])
    state, bits = 0, np.empty(steps, np.uint8)
    for t in range(steps - 1, -1, -1):
        bits[t] = _IN_BIT[state]
        state = _PRED[choice[t, state], state]
    return bits[:info_bits]
