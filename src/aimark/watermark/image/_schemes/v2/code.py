"""Error correction for ``io.aimark.image.2``: the 64-bit payload and a 24-bit CRC, coded with
the rate-1/3 convolutional code of :mod:`.._common.code` (constraint length 9) into 288 bits,
decoded by soft-decision Viterbi.

Example:
    >>> from aimark.watermark.image._schemes.v2.code import encode_payload, decode_payload
    >>> soft = 1.0 - 2.0 * encode_payload(0x0123456789ABCDEF)
    >>> decode_payload(soft).payload == 0x0123456789ABCDEF
    True
"""

from __future__ import annotations

import zlib

import numpy as np

from aimark.watermark.image._common.code import PAYLOAD_BITS, Decoded, convolve, viterbi

__all__ = ["CODED_BITS", "CRC_BITS", "decode_payload", "encode_payload"]

CRC_BITS = 24
_INFO = PAYLOAD_BITS + CRC_BITS
_SALT = b"io.aimark.image.2/crc"


def _crc(payload: int) -> int:
    return zlib.crc32(_SALT + payload.to_bytes(8, "big")) & ((1 << CRC_BITS) - 1)


def _info_bits(payload: int) -> np.ndarray:
    word = (payload << CRC_BITS) | _crc(payload)
    return np.array([(word >> (_INFO - 1 - i)) & 1 for i in range(_INFO)], np.uint8)


def encode_payload(payload: int) -> np.ndarray:
    """64-bit payload → :data:`CODED_BITS` code bits (uint8 0/1): payload ‖ CRC-24, coded."""
    if not 0 <= payload < (1 << PAYLOAD_BITS):
        raise ValueError("the payload must be an integer in [0, 2**64)")
    return convolve(_info_bits(payload))


CODED_BITS = encode_payload(0).size


def decode_payload(soft: np.ndarray) -> Decoded:
    """Soft-decision Viterbi over :data:`CODED_BITS` values (positive means bit 0); the
    payload only when its CRC-24 holds."""
    y = np.asarray(soft, np.float64)
    bits = viterbi(y, _INFO)
    word = 0
    for b in bits:
        word = (word << 1) | int(b)
    payload, crc = word >> CRC_BITS, word & ((1 << CRC_BITS) - 1)
    recoded = 1.0 - 2.0 * encode_payload(payload).astype(np.float64)
    norm = float(np.linalg.norm(y)) or 1.0
    agreement = float(recoded @ y) / (norm * np.sqrt(recoded.size))
    return Decoded(payload if crc == _crc(payload) else None, agreement)
