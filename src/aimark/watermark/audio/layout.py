"""The fixed geometry and the keyed layout of ``io.aimark.audio.1``.

The mark lives in the log energies of *cells*: 64 ms tiles × 12 bands between 312 and
3812 Hz of the 16 kHz mono analysis signal. Neighbouring bands ``2p`` and ``2p + 1`` of a
tile form a *pair*; the pair's value is their log-energy ratio, which a change of volume, a
smooth equaliser or a slightly misaligned tile (the energy of speech changes fast, but alike
in neighbouring bands) hardly moves. A *period* is 72 tiles (4.608 s, 432 pairs) and repeats
for the whole clip. The key assigns each pair one of the 264 code bits and draws each pair a
quantiser dither, and each code bit a turn (1, 3, 5 or 7): period ``p`` of the clip shifts
every dither of the bit by ``turn * p * DELTA / 8``, so that no two consecutive periods share
a lattice (a periodic or steady host cannot then look marked, see the detector).

Example:
    >>> from aimark.keys import WatermarkKey
    >>> lay = Layout.from_key(WatermarkKey(bytes(32)))
    >>> lay.tile.shape, int(lay.bit.max()) + 1, PERIOD_TILES * TILE / RATE
    ((432,), 264, 4.608)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimark.keys import WatermarkKey

__all__ = [
    "BANDS",
    "BAND_EDGES",
    "DELTA",
    "FRAME",
    "HOP",
    "MEASURED_FRAMES",
    "PAIRS_PER_TILE",
    "PERIOD_FRAMES",
    "PERIOD_TILES",
    "RATE",
    "TILE",
    "TILE_FRAMES",
    "Layout",
]

RATE = 16_000  # analysis rate (Hz)
FRAME = 512  # analysis frame (32 ms): resolves the harmonics of voices (31.25 Hz bins)
HOP = 64  # frame hop (4 ms): the time grid of the detector's search
TILE = 1024  # tile (64 ms)
TILE_FRAMES = TILE // HOP  # 16 frames start in a tile ...
MEASURED_FRAMES = 9  # ... of which the first 9 lie inside it: a tile's energy sums those
PERIOD_TILES = 72
PERIOD_FRAMES = PERIOD_TILES * TILE_FRAMES
# FFT bin edges (31.25 Hz bins): 12 bands from 312.5 to 3812.5 Hz, 6 to 14 bins wide
BAND_EDGES = (10, 16, 22, 28, 34, 42, 50, 60, 70, 82, 94, 108, 122)
BANDS = len(BAND_EDGES) - 1
PAIRS_PER_TILE = BANDS // 2
DELTA = 0.7  # quantiser step of a pair's log-energy difference (natural log of power)
CODE_BITS = 264  # (64 payload + 16 CRC + 8 tail) × 3


def _uniform(key: WatermarkKey, label: str, n: int) -> np.ndarray:
    raw = np.frombuffer(key.derive(f"io.aimark.audio.1/{label}", 8 * n), dtype=">u8")
    return (raw >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass(frozen=True)
class Layout:
    """The layout: pair ``j`` compares bands ``2 * pair[j]`` and ``2 * pair[j] + 1`` of tile
    ``tile[j]`` of a period, carries code bit ``bit[j]`` (keyed) and has dither
    ``dither[j]`` (keyed, in [0, DELTA)); ``turn[k]`` (keyed, odd, 1 to 7) is code bit
    ``k``'s turn."""

    tile: np.ndarray
    pair: np.ndarray
    bit: np.ndarray
    dither: np.ndarray
    turn: np.ndarray

    def offsets(self, period: int, code_bits: np.ndarray) -> np.ndarray:
        """Each pair's lattice offset in period ``period`` of the clip for ``code_bits``."""
        shift = (period % 8) * self.turn[self.bit] * (DELTA / 8)
        return np.mod(self.dither + shift + code_bits[self.bit] * (DELTA / 2), DELTA)

    @property
    def band1(self) -> np.ndarray:
        return 2 * self.pair

    @property
    def band2(self) -> np.ndarray:
        return 2 * self.pair + 1

    @classmethod
    def from_key(cls, key: WatermarkKey) -> Layout:
        """The layout of ``key`` (the same on every platform: it is drawn from
        :meth:`WatermarkKey.derive`)."""
        tile = np.repeat(np.arange(PERIOD_TILES), PAIRS_PER_TILE)
        pair = np.tile(np.arange(PAIRS_PER_TILE), PERIOD_TILES)
        n = tile.size
        shuffle = np.argsort(_uniform(key, "bits", n))
        bit = np.empty(n, np.int64)
        bit[shuffle] = np.arange(n) % CODE_BITS
        dither = _uniform(key, "dither", n) * DELTA
        turn = 1 + 2 * np.floor(_uniform(key, "turn", CODE_BITS) * 4).astype(np.int64)
        return cls(tile, pair, bit, dither, turn)
