"""The keyed tile: which chips carry the sync sequence and which carry the coded payload,
and how chips are rendered to pixels. Everything here derives from the key with
:meth:`WatermarkKey.derive`, so embedder and detector cannot drift apart.

A tile is ``N × N`` chips (``N = 32``). Each chip is ``+1`` or ``-1``. Sync chips hold a keyed
pseudo-random sequence; message chips hold a keyed scrambling sign times a coded payload bit.
The tile is rendered with periodic bilinear interpolation onto ``T × T`` pixels and repeated
over the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image._common.interp import period_matrix
from aimark.watermark.image._schemes.v1.code import CODED_BITS

__all__ = ["CHIPS", "SCHEME_ID", "Layout", "layout_for", "render"]

SCHEME_ID = "io.aimark.image.1"
CHIPS = 32  # chips per tile side
SYNC_CHIPS = 300  # the other 724 chips carry the coded payload


def _signs(raw: bytes, n: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(raw, np.uint8))[:n]
    return (1.0 - 2.0 * bits).astype(np.float32)


def _permutation(raw: bytes, n: int) -> np.ndarray:
    keys = np.frombuffer(raw, ">u8")[:n]
    return np.argsort(keys, kind="stable")


TEMPLATE_PEAKS = 8  # sinusoids at keyed tile harmonics: the geometric sync template
TEMPLATE_AMPLITUDE = 0.25  # per sinusoid, relative to chips of ±1
_HARMONIC_RADIUS = (7.0, 11.0)  # |(k, l)| range of the template harmonics


@dataclass(frozen=True)
class Layout:
    """The keyed arrangement of one tile (chip arrays of shape (N, N))."""

    sync: np.ndarray  # ±1 at sync chips, 0 at message chips
    message_sign: np.ndarray  # ±1 scrambling at message chips, 0 at sync chips
    bit_index: np.ndarray  # coded-bit index carried by each message chip (-1 at sync chips)
    harmonics: np.ndarray  # (TEMPLATE_PEAKS, 2) integer (k, l): cycles per tile along x, y
    phases: np.ndarray  # (TEMPLATE_PEAKS,) radians

    def template(self, size: int) -> np.ndarray:
        """The sync template rendered on a (size, size) tile: sinusoids at the harmonics."""
        t = (np.arange(size) + 0.5) / size
        out = np.zeros((size, size), np.float64)
        for (kx, ky), ph in zip(self.harmonics, self.phases, strict=True):
            out += np.cos(2 * np.pi * (kx * t[None, :] + ky * t[:, None]) + ph)
        return (TEMPLATE_AMPLITUDE * out).astype(np.float32)

    def tile(self, coded_bits: np.ndarray) -> np.ndarray:
        """The chip values (N, N) for a codeword of :data:`CODED_BITS` bits."""
        symbols = 1.0 - 2.0 * coded_bits.astype(np.float32)
        msg = np.where(self.bit_index >= 0, symbols[np.maximum(self.bit_index, 0)], 0.0)
        return (self.sync + self.message_sign * msg).astype(np.float32)


@lru_cache(maxsize=64)
def layout_for(key: WatermarkKey) -> Layout:
    """The tile layout of ``key`` (cached per key)."""
    n = CHIPS * CHIPS
    order = _permutation(key.derive(f"{SCHEME_ID}/chip-order", 8 * n), n)
    sync_idx, msg_idx = order[:SYNC_CHIPS], order[SYNC_CHIPS:]
    sync = np.zeros(n, np.float32)
    sync[sync_idx] = _signs(key.derive(f"{SCHEME_ID}/sync", n // 8), SYNC_CHIPS)
    sign = np.zeros(n, np.float32)
    sign[msg_idx] = _signs(key.derive(f"{SCHEME_ID}/scramble", n // 8), msg_idx.size)
    bit_index = np.full(n, -1, np.int64)
    bit_index[msg_idx] = np.arange(msg_idx.size) % CODED_BITS
    shape = (CHIPS, CHIPS)
    harmonics = _template_harmonics(key.derive(f"{SCHEME_ID}/template", 8 * 256))
    raw = np.frombuffer(key.derive(f"{SCHEME_ID}/phases", 8 * TEMPLATE_PEAKS), ">u8")
    phases = raw.astype(np.float64) / 2.0**64 * 2 * np.pi
    return Layout(
        sync.reshape(shape), sign.reshape(shape), bit_index.reshape(shape), harmonics, phases
    )


def _template_harmonics(raw: bytes) -> np.ndarray:
    """Keyed harmonics (k, l) in the half plane, |h| in the template ring, spread in angle."""
    lo, hi = _HARMONIC_RADIUS
    # off the axes (where edge leakage lives) and within the ring
    cands = [
        (kx, ky)
        for kx in range(-12, 13)
        for ky in range(1, 13)
        if kx != 0
        and lo <= np.hypot(kx, ky) <= hi
        and 12 <= np.degrees(np.arctan2(ky, abs(kx))) <= 78
    ]
    order = _permutation(raw, len(cands))
    chosen: list[tuple[int, int]] = []
    # keep the peaks apart in angle so rotations cannot confuse them; relax the spacing if
    # the keyed order leaves fewer than TEMPLATE_PEAKS (every key must get all of them)
    for spacing in (12, 9, 6, 3, 0):
        for i in order:
            kx, ky = cands[i]
            ang = np.arctan2(ky, kx)
            if (kx, ky) not in chosen and all(
                abs((ang - np.arctan2(b, a) + np.pi / 2) % np.pi - np.pi / 2) > np.radians(spacing)
                for a, b in chosen
            ):
                chosen.append((kx, ky))
            if len(chosen) == TEMPLATE_PEAKS:
                return np.array(chosen, np.int64)
    raise AssertionError("the template ring holds too few harmonics")  # pragma: no cover


@lru_cache(maxsize=32)
def interpolation_matrix(size: int, chips: int = CHIPS) -> np.ndarray:
    """(size, chips) periodic bilinear weights: pixel i of a period of ``size`` pixels."""
    return period_matrix(size, size, chips)


def render(chips: np.ndarray, size: int) -> np.ndarray:
    """Render an (N, N) chip array to a (size, size) periodic tile."""
    a = interpolation_matrix(size, chips.shape[0])
    return a @ chips @ a.T
