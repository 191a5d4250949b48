"""Error correction for ``io.aimark.image.1``: the 64-bit payload and a CRC-32, coded with the
rate-1/3 convolutional code of :mod:`.._common.code` into 312 bits, decoded by soft-decision
Viterbi.

Example:
    >>> from aimark.watermark.image._schemes.v1.code import encode_payload, decode_payload
    >>> bits = encode_payload(0x0123456789ABCDEF)
    >>> soft = 1.0 - 2.0 * bits                      # bit 0 -> +1, bit 1 -> -1
    >>> decode_payload(soft).payload == 0x0123456789ABCDEF
    True
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

__all__ = ["CODED_BITS", "CRC_BITS", "decode_payload", "encode_payload"]

CRC_BITS = 32
_INFO_BITS = PAYLOAD_BITS + CRC_BITS


def _crc(payload: int) -> int:
    return zlib.crc32(payload.to_bytes(8, "big"))


def encode_payload(payload: int) -> np.ndarray:
    """64-bit payload → :data:`CODED_BITS` code bits (uint8 0/1): payload ‖ CRC-32, coded."""
    if not 0 <= payload < (1 << PAYLOAD_BITS):
        raise ValueError("the payload must be an integer in [0, 2**64)")
    return convolve(
        np.concatenate([bits_of(payload, PAYLOAD_BITS), bits_of(_crc(payload), CRC_BITS)])
    )


CODED_BITS = encode_payload(0).size


def decode_payload(soft: np.ndarray) -> Decoded:
    """Soft-decision Viterbi over :data:`CODED_BITS` values (positive means bit 0)."""
    y = np.asarray(soft, np.float64).reshape(-1)
    bits = viterbi(y, _INFO_BITS)
    payload = int_of(bits[:PAYLOAD_BITS])
    crc = int_of(bits[PAYLOAD_BITS:_INFO_BITS])
    recoded = 1.0 - 2.0 * encode_payload(payload).astype(np.float64)
    norm = float(np.linalg.norm(y)) or 1.0
    agreement = float(recoded @ y) / (norm * np.sqrt(recoded.size))
    return Decoded(payload if crc == _crc(payload) else None, agreement)
