"""Detectors for public watermarks of other generators, in numpy.

Stable Diffusion pipelines mark their outputs with the ``invisible-watermark`` package, method
``dwtDct``: the image is converted to YUV, the U channel's level-1 Haar LL band is cut into 4×4
blocks, and in each block the largest value other than the first is quantised (step 36) to
carry one bit, the bits repeating in raster order. (Despite the method's name, version 0.2's
``EmbedMaxDct`` quantises the wavelet coefficients themselves, with no DCT: this decoder
follows what the encoder does, checked against it in the tests.) This module reads those
bits back with its own decoder and compares them with the payloads the pipelines use:

- Stable Diffusion 1.x: the 17 bytes ``StableDiffusionV1``;
- Stable Diffusion 2.x: the 4 bytes ``SDV2``;
- SDXL: the 48 bits ``0xB3EC907BB19E``.

Pipelines disagree on channel order (RGB vs BGR), so both are tried. A match is reported with
the binomial probability of agreeing on that many bits by chance, times the number of
comparisons made.

Example:
    >>> import numpy as np
    >>> from aimark.watermark.public import detect_public
    >>> [m for m in detect_public(np.full((256, 256, 3), 120, np.uint8)) if m.detected]
    []
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PUBLIC_WATERMARKS", "PublicDetection", "detect_public"]

_SCALE = 36.0
_BLOCK = 4
_THRESHOLD = 1e-6


def _bits(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, np.uint8))


#: name -> payload bits of the public watermarks looked for
PUBLIC_WATERMARKS: dict[str, np.ndarray] = {
    "Stable Diffusion 1.x (invisible-watermark dwtDct)": _bits(b"StableDiffusionV1"),
    "Stable Diffusion 2.x (invisible-watermark dwtDct)": _bits(b"SDV2"),
    "SDXL (invisible-watermark dwtDct)": _bits(bytes.fromhex("B3EC907BB19E")),
}
_TRIES = 2 * len(PUBLIC_WATERMARKS)  # channel orders x payloads


@dataclass(frozen=True)
class PublicDetection:
    """One public watermark looked for: how many bits matched and how likely by chance."""

    name: str
    detected: bool
    matched_bits: int
    total_bits: int
    p_value: float
    channel_order: str  # "RGB" or "BGR": the order in which the encoder saw the pixels

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "detected": self.detected,
            "matched_bits": self.matched_bits,
            "total_bits": self.total_bits,
            "p_value": self.p_value,
            "channel_order": self.channel_order,
        }


def _u_channel(rgb: np.ndarray, order: str) -> np.ndarray:
    """The U channel as OpenCV's BGR2YUV computes it, for pixels given to the encoder in
    ``order`` (the array is RGB; "BGR" means the encoder saw them swapped)."""
    a = rgb[..., :3].astype(np.float32)
    r, g, b = (
        (a[..., 0], a[..., 1], a[..., 2]) if order == "BGR" else (a[..., 2], a[..., 1], a[..., 0])
    )
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = 0.492 * (b - y) + 128.0
    return np.clip(np.rint(u), 0, 255)


def _block_bits(u: np.ndarray) -> np.ndarray:
    """One 0/1 vote per 4×4 block of the Haar LL band, in raster order."""
    h, w = u.shape
    u = u[: h // 4 * 4, : w // 4 * 4]
    h, w = u.shape
    ll = u.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3)) / 2.0  # Haar LL (orthonormal)
    bh, bw = ll.shape[0] // _BLOCK, ll.shape[1] // _BLOCK
    blocks = ll[: bh * _BLOCK, : bw * _BLOCK].reshape(bh, _BLOCK, bw, _BLOCK)
    blocks = blocks.transpose(0, 2, 1, 3)
    ac = np.abs(blocks.reshape(bh * bw, _BLOCK * _BLOCK)[:, 1:])
    val = ac[np.arange(ac.shape[0]), np.argmax(ac, axis=1)]
    return (np.mod(val, _SCALE) > 0.5 * _SCALE).astype(np.float32)


def _decode(votes: np.ndarray, length: int) -> np.ndarray:
    idx = np.arange(votes.size) % length
    sums = np.bincount(idx, weights=votes, minlength=length)
    counts = np.bincount(idx, minlength=length)
    return (sums / np.maximum(counts, 1) * 255 > 127).astype(np.uint8)


def _binom_tail(n: int, k: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, j) for j in range(k, n + 1)) / 2.0**n


def detect_public(image: np.ndarray, *, threshold: float = _THRESHOLD) -> list[PublicDetection]:
    """Look for the public watermarks in an RGB(A) uint8 array (H, W, 3|4).

    Returns one :class:`PublicDetection` per known watermark (the better channel order).
    Images smaller than 256×256 pixels in area (the encoder's own minimum) give no detection.
    """
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] < 3 or arr.dtype != np.uint8:
        raise ValueError("detect_public expects an RGB or RGBA uint8 array (H, W, 3|4)")
    out = []
    big_enough = arr.shape[0] * arr.shape[1] >= 256 * 256
    votes = {o: _block_bits(_u_channel(arr, o)) for o in ("RGB", "BGR")} if big_enough else {}
    for name, bits in PUBLIC_WATERMARKS.items():
        best = PublicDetection(name, False, 0, bits.size, 1.0, "RGB")
        for order, v in votes.items():
            if v.size < bits.size:
                continue
            matched = int((_decode(v, bits.size) == bits).sum())
            p = min(1.0, _TRIES * _binom_tail(bits.size, matched))
            if p < best.p_value:
                best = PublicDetection(name, p <= threshold, matched, bits.size, p, order)
        out.append(best)
    return out
