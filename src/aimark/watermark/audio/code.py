"""Error correction for ``io.aimark.audio.1``: the 64-bit payload and a 16-bit CRC, coded
with the rate-1/3 convolutional code of the image watermark (264 code bits).

Example:
    >>> soft = 1.0 - 2.0 * encode_payload(0xC0FFEE).astype(float)
    >>> hex(decode_payload(soft).payload)
    '0xc0ffee'
"""

from __future__ import annotations

import zlib

import numpy as np

from aimark.watermark.image._common.code import (
    PAYLOAD_BITS,
    Decoded,
    bits_of,
    convolve,
    int_of,
    viterbi,
)

__all__ = ["CODED_BITS", "CRC_BITS", "Decoded", "decode_payload", "encode_payload"]

CRC_BITS = 16
_INFO = PAYLOAD_BITS + CRC_BITS
_SALT = b"io.aimark.audio.1/crc"


def _crc(payload: int) -> int:
    return zlib.crc32(_SALT + payload.to_bytes(8, "big")) & ((1 << CRC_BITS) - 1)


def encode_payload(payload: int) -> np.ndarray:
    """64-bit payload → :data:`CODED_BITS` code bits (uint8 0/1): payload ‖ CRC-16, coded."""
    if not isinstance(payload, int) or not 0 <= payload < (1 << PAYLOAD_BITS):
        raise ValueError("the payload must be an integer in [0, 2**64)")
    return convolve(bits_of((payload << CRC_BITS) | _crc(payload), _INFO))


CODED_BITS = encode_payload(0).size


def decode_payload(soft: np.ndarray) -> Decoded:
    """Soft-decision Viterbi over :data:`CODED_BITS` values (positive means bit 0); the
    payload only when its CRC-16 holds."""
    y = np.asarray(soft, np.float64)
    word = int_of(viterbi(y, _INFO))
    payload, crc = word >> CRC_BITS, word & ((1 << CRC_BITS) - 1)
    recoded = 1.0 - 2.0 * encode_payload(payload).astype(np.float64)
    norm = float(np.linalg.norm(y)) or 1.0
    agreement = float(recoded @ y) / (norm * np.sqrt(recoded.size))
    return Decoded(payload if crc == _crc(payload) else None, agreement)
