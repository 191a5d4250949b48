"""Streaming detection of ``io.aimark.audio.1``: feed blocks of any size, ask for the result.

The detector measures the embedder's pairs (the log-energy ratio ``d`` of two neighbouring
bands of a 64 ms tile) at every start frame (4 ms apart), for 17 time scales in ±2 % (tempo
changes, and speed changes that also scale frequency) and for windows of 1, 2 and 3 periods.
Each pair becomes a weighted phasor ``w·exp(i·2π(d − dither)/Δ)``, turned back by its period's
keyed turn; per code bit, the statistic adds the real parts of (a) the product of the sums of
its two pairs and (b) the products of each pair in consecutive periods. Under H0 (no mark of
this key) every such term has a uniformly random phase whatever the host — the two pairs'
dithers are independent, consecutive periods differ by the bit's turn — so the per-bit terms
are independent, zero-mean and bounded: Bernstein's inequality bounds the tail of their sum, and
the union bound over every alignment searched (start frames × time scales × windows) gives the
p-value. Under H1 every term is positive. The best alignments' soft bits go through the Viterbi
decoder (8 turn hypotheses); a detection needs ``p <= threshold`` *and* the CRC.

Memory stays bounded: about 15 s of frame energies and the soft bits of a few best alignments
per key.

Example:
    >>> import numpy as np
    >>> from aimark.keys import WatermarkKey
    >>> from aimark.watermark.audio.embedder import embed
    >>> key = WatermarkKey(bytes(32))
    >>> x = np.random.default_rng(1).standard_normal(16_000 * 6).astype(np.float32) * 0.1
    >>> r = detect(embed(x, 16_000, key, 7), 16_000, key)
    >>> r.detected, r.payload
    (True, 7)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.audio._names import DEFAULT_THRESHOLD, MIN_SECONDS, SCHEME_ID
from aimark.watermark.audio._period import SILENT
from aimark.watermark.audio.code import CODED_BITS, Decoded, decode_payload
from aimark.watermark.audio.embedder import check_samples
from aimark.watermark.audio.features import frame_energies, tile_energies
from aimark.watermark.audio.layout import (
    BANDS,
    DELTA,
    FRAME,
    HOP,
    MEASURED_FRAMES,
    PAIRS_PER_TILE,
    PERIOD_FRAMES,
    PERIOD_TILES,
    RATE,
    TILE_FRAMES,
    Layout,
)
from aimark.watermark.audio.resample import Resampler
from aimark.watermark.timed import TimedDetection

__all__ = ["SPEEDS", "AudioDetector", "detect"]

# time-scale factors searched: a tempo change (pitch kept), and a speed change that scales
# time and frequency alike (a tape or a resampled clock), whose bands move by 1 / speed
_TEMPI = tuple(1.0 + 0.005 * k for k in range(-4, 5))
SPEEDS = _TEMPI + tuple(s for s in _TEMPI if s != 1.0)
_SCALES = (1.0, *(1.0 / s for s in _TEMPI if s != 1.0))  # band-edge scales analysed
_SCALE_OF = tuple([0] * len(_TEMPI) + list(range(1, len(_SCALES))))
_BATCH = 256  # start frames scored at a time
_STRIDE = 1  # start frames searched: every one (4 ms)
_SPAN = max(round(TILE_FRAMES * (PERIOD_TILES - 1) * s) for s in SPEEDS) + MEASURED_FRAMES
_MAX_PERIODS = 3  # windows of one, two and three periods are scored
# start frame of each period of a window, relative to its first, at each speed
_PERIOD_AT = tuple(
    tuple(round(p * PERIOD_FRAMES * s) for p in range(_MAX_PERIODS + 1)) for s in SPEEDS
)
_KEEP = 6  # best alignments kept for decoding
_REF = 0.05  # a bit's product counts fully from this size (per period squared) on


@dataclass
class _Candidate:
    log_p: float  # log of the single-test p-value bound
    z: float
    start: int  # frame
    speed: float
    periods: int
    soft: np.ndarray


def _log_tail(s: np.ndarray, v: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log of Bernstein's bound on P(S >= s) for a sum of independent zero-mean terms in
    [-b, b] whose variances sum to v."""
    s = np.maximum(s, 0.0)
    return -(s * s) / (2.0 * (v + b * s / 3.0) + 1e-12)


class _KeyState:
    def __init__(self, key: WatermarkKey) -> None:
        self.layout = Layout.from_key(key)
        self.best: list[_Candidate] = []
        self.top = (0.0, 0.0)  # best (log p, z) seen, kept or not
        lay = self.layout
        by_bit = np.argsort(lay.bit, kind="stable")
        counts = np.bincount(lay.bit)
        firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        two = counts >= 2
        one = counts == 1
        # the pairs in the order the scores want them: the first and the second pair of each
        # code bit carried twice a period, then the pairs of the bits carried once
        order = np.concatenate([by_bit[firsts[two]], by_bit[firsts[two] + 1], by_bit[firsts[one]]])
        self.n_twins = int(two.sum())
        self.bit_ids = np.concatenate([np.flatnonzero(two), np.flatnonzero(one)])
        # undo each pair's dither, and in the q-th period of a window its turn (the window's
        # first period is period p0 of the clip, unknown: decoding tries the 8 values)
        turn = lay.turn[lay.bit[order]]
        self.turn = lay.turn
        self.rotate = [
            np.exp(-1j * (2 * np.pi / DELTA) * lay.dither[order] - 0.25j * np.pi * q * turn).astype(
                np.complex64
            )
            for q in range(_MAX_PERIODS + 1)
        ]

        self.offsets: list[np.ndarray] = []
        self.tile_at: list[np.ndarray] = []  # each pair's tile's first frame in a period
        for speed in SPEEDS:
            r = np.round(TILE_FRAMES * np.arange(PERIOD_TILES) * speed).astype(np.int64)
            self.offsets.append((r[lay.tile] * PAIRS_PER_TILE + lay.pair)[order])
            self.tile_at.append(r[lay.tile][order])

    def offer(self, cands: list[_Candidate]) -> None:
        merged = sorted(self.best + cands, key=lambda c: c.log_p)
        kept: list[_Candidate] = []
        for c in merged:  # one per neighbourhood: distinct alignments only
            if all(abs(c.start - k.start) > TILE_FRAMES or c.periods != k.periods for k in kept):
                kept.append(c)
            if len(kept) == _KEEP:
                break
        self.best = kept


class AudioDetector:
    """Look for the marks of ``keys`` in a stream: ``feed(block)`` as often as needed, then
    ``result()`` (a :class:`TimedDetection`, or a list of them, one per key, when ``keys`` is
    a sequence). Blocks are (n, channels) or (n,) float arrays at ``sample_rate``."""

    def __init__(
        self,
        keys: WatermarkKey | Sequence[WatermarkKey],
        sample_rate: int,
        channels: int | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self._single = isinstance(keys, WatermarkKey)
        key_list = [keys] if isinstance(keys, WatermarkKey) else list(keys)
        if not key_list or not all(isinstance(k, WatermarkKey) for k in key_list):
            raise TypeError("expected a WatermarkKey or a non-empty sequence of them")
        check_samples(np.zeros((0, 1), np.float32), sample_rate)
        self.sample_rate, self.channels, self.threshold = int(sample_rate), channels, threshold
        self._keys = [_KeyState(k) for k in key_list]
        self._down = Resampler(self.sample_rate, RATE)
        self._x = np.zeros(0)  # 16 kHz samples not yet framed (from frame _n_frames on)
        self._n_frames = 0
        self._e = np.zeros((len(_SCALES), 0, BANDS))  # frame energies from frame _e_base on
        self._e_base = 0
        # next start frame to score: a period may start before the stream does (its first
        # tiles are then read one period later: any window of a period holds them all)
        self._next = -(max(a[1] for a in _PERIOD_AT) // _STRIDE) * _STRIDE
        self._tests = 0  # alignments tested (for the union bound)
        self._weight = 0.0  # total weight seen (0: silence)
        self.samples_in = 0

    # -- input -------------------------------------------------------------------------
    def feed(self, block: np.ndarray) -> None:
        """Take the next ``block`` of samples."""
        a = check_samples(block, self.sample_rate)
        if self.channels is not None and a.shape[1] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {a.shape[1]}")
        self.samples_in += a.shape[0]
        self._take(self._down.process(a.mean(axis=1)))
        self._score(final=False)

    def _take(self, x16: np.ndarray) -> None:
        self._x = np.concatenate([self._x, x16])
        e = frame_energies(self._x, _SCALES)
        if e.shape[1]:
            self._x = self._x[e.shape[1] * HOP :]
            self._e = np.concatenate([self._e, e.astype(np.float64)], axis=1)
            self._n_frames += e.shape[1]

    # -- scoring -----------------------------------------------------------------------
    def _score(self, final: bool) -> None:
        while True:
            last = self._e_base + self._e.shape[1]  # frames known: [_e_base, last)
            stop = last - _SPAN - (0 if final else max(a[-1] for a in _PERIOD_AT))
            if stop <= self._next:
                return
            if not final and stop - self._next < _BATCH:
                return
            self._score_batch(self._next, min(stop, self._next + _BATCH))

    def _score_batch(self, a: int, b: int) -> None:
        zs = [self._phasors(e) for e in self._e]
        first = -(-a // _STRIDE) * _STRIDE  # start frames on the search grid
        starts = np.arange(first, b, _STRIDE) - self._e_base
        for ks in self._keys:
            self._score_key(ks, starts, zs)
        self._next = b
        drop = self._next - self._e_base
        if drop > 0:
            self._e, self._e_base = self._e[:, drop:], self._e_base + drop

    @staticmethod
    def _phasors(e: np.ndarray) -> np.ndarray:
        """Each pair as a weighted phasor at each start frame, from frame energies ``e``."""
        tiles = tile_energies(e)  # tile energy per start frame
        log_t = np.log(tiles + 1e-12)
        # silence carries nothing; full weight 20 dB above it
        cell_w = np.clip((log_t - math.log(SILENT)) / math.log(100.0), 0.0, 1.0)
        d = log_t[:, 0::2] - log_t[:, 1::2]  # each pair's value at each start frame
        w = np.minimum(cell_w[:, 0::2], cell_w[:, 1::2])
        # lossy codecs spend their noise where the loudest band of a tile masks it: a pair
        # far below that band is unreliable (full weight within 10 dB, none 40 dB below)
        rel = np.minimum(log_t[:, 0::2], log_t[:, 1::2]) - log_t.max(1, keepdims=True)
        w *= np.clip(1.0 + (rel + math.log(10.0)) / math.log(1000.0), 0.0, 1.0)
        # its soft value is Re(z e^(-i 2π dither/Δ))
        return (w * np.exp(1j * (2 * np.pi / DELTA) * d)).astype(np.complex64)

    def _score_key(self, ks: _KeyState, starts: np.ndarray, zs: list[np.ndarray]) -> None:
        rows, nt = zs[0].shape[0], ks.n_twins
        cands: list[_Candidate] = []
        all_starts = starts
        for k, speed in enumerate(SPEEDS):
            z, starts = zs[_SCALE_OF[k]], all_starts
            # per pair, its phasor summed over the periods so far (each turned back by its
            # period's turn), and the sum of the products of consecutive periods' phasors
            acc = np.zeros((starts.size, CODED_BITS + nt), np.complex64)
            step = np.zeros_like(acc)
            last = acc
            # pairs whose tile lies before the stream's start are read one period later
            late = (starts[:, None] + self._e_base + ks.tile_at[k]) < 0
            early = bool(late.any())
            for m in range(1, _MAX_PERIODS + 1):
                at = starts + _PERIOD_AT[k][m - 1]
                ok = at + _SPAN <= rows
                if early:  # the late pairs' tiles lie within the first -start frames
                    ahead = _PERIOD_AT[k][m] - _PERIOD_AT[k][m - 1] + MEASURED_FRAMES
                    ok &= at + ahead + np.maximum(-(starts + self._e_base), 0) <= rows
                if not ok.all():
                    if m == 1 or not ok.any():
                        break
                    starts, at, acc, step, last = starts[ok], at[ok], acc[ok], step[ok], last[ok]
                    late = late[ok]
                idx = at[:, None] * PAIRS_PER_TILE + ks.offsets[k]
                if early:
                    shift = (_PERIOD_AT[k][m] - _PERIOD_AT[k][m - 1]) * PAIRS_PER_TILE
                    idx = np.where(late, idx + shift, idx)
                    rot = np.where(late, ks.rotate[m], ks.rotate[m - 1])
                    y = z.flat[idx] * rot
                else:
                    y = z.flat[idx] * ks.rotate[m - 1]
                if m > 1:
                    step += last * np.conj(y)
                acc += y
                last = y
                # Under H0 each term below has a uniformly random phase whatever the host
                # (periodic, steady or not): the two pairs of a bit have independent dithers,
                # and consecutive periods of a pair differ by the bit's keyed turn. So its real
                # part is |term| cos(uniform), independent from bit to bit; under H1 positive.
                cross = acc[:, :nt] * np.conj(acc[:, nt : 2 * nt])
                turned = np.concatenate([step[:, :nt] + step[:, nt : 2 * nt], step[:, 2 * nt :]], 1)
                real = np.concatenate([cross.real, np.zeros_like(turned[:, nt:].real)], 1)
                real += turned.real
                size_c = np.concatenate([np.abs(cross), np.zeros_like(turned[:, nt:].real)], 1)
                size_t = np.abs(turned)
                bound = size_c + size_t
                scale = np.maximum(bound, (m * m) * _REF)
                stat = (real / scale).sum(1, dtype=np.float64)
                var = ((size_c**2 + size_t**2) / (2 * scale * scale)).sum(1, dtype=np.float64)
                bmax = (bound / scale).max(1).astype(np.float64)
                if m == 1:
                    self._weight += float(var.sum())
                self._tests += starts.size * _STRIDE  # the grid stands for every frame
                cands += self._pick(ks, stat, var, bmax, starts, speed, m, acc)
        ks.offer(cands)

    def _pick(
        self,
        ks: _KeyState,
        s: np.ndarray,
        v: np.ndarray,
        b: np.ndarray,
        starts: np.ndarray,
        speed: float,
        periods: int,
        acc: np.ndarray,
    ) -> list[_Candidate]:
        lp = _log_tail(s, v, b)
        i = int(np.argmin(lp))
        z = float(s[i] / math.sqrt(v[i] + 1e-12))
        if lp[i] < ks.top[0]:
            ks.top = (float(lp[i]), z)
        worst = ks.best[-1].log_p if len(ks.best) == _KEEP else 0.0
        if lp[i] >= min(worst, -8.0):
            return []
        nt = ks.n_twins
        sums = np.concatenate([acc[i, :nt] + acc[i, nt : 2 * nt], acc[i, 2 * nt :]])
        soft = np.zeros(CODED_BITS, np.complex128)
        soft[ks.bit_ids] = sums
        return [_Candidate(float(lp[i]), z, int(starts[i]) + self._e_base, speed, periods, soft)]

    # -- output ------------------------------------------------------------------------
    def result(self) -> TimedDetection | list[TimedDetection]:
        """What was found so far (call after the last ``feed``; it flushes the resampler)."""
        self._take(self._down.flush())
        self._score(final=True)
        out = [self._result(ks) for ks in self._keys]
        return out[0] if self._single else out

    def _result(self, ks: _KeyState) -> TimedDetection:
        analysed = self.samples_in / self.sample_rate
        thr = self.threshold

        def nothing(status: str, reason: str | None = None) -> TimedDetection:
            r = TimedDetection.nothing(SCHEME_ID, thr, status, reason)
            return TimedDetection(**{**r.__dict__, "analysed_s": analysed})

        if analysed < MIN_SECONDS or self._tests == 0:
            return nothing("inconclusive", "too-short")
        if self._weight <= 0.0:
            return nothing("inconclusive", "silent")
        log_n = math.log(self._tests)
        if not ks.best:
            p = min(1.0, math.exp(ks.top[0] + log_n))
            return TimedDetection(
                False,
                p,
                None,
                0.0,
                ks.top[1],
                thr,
                "not-detected",
                SCHEME_ID,
                analysed_s=analysed,
            )
        for c in ks.best:
            p = min(1.0, math.exp(c.log_p + log_n))
            if p > thr:
                break
            dec = self._decode(ks, c)
            if dec.payload is not None:
                return self._found(c, p, dec.payload, dec.agreement, analysed, True)
        c = ks.best[0]
        p = min(1.0, math.exp(c.log_p + log_n))
        if p <= thr:
            dec = self._decode(ks, c)
            r = self._found(c, p, None, dec.agreement, analysed, False)
            return TimedDetection(**{**r.__dict__, "reason": "payload-unreadable"})
        return TimedDetection(
            False, p, None, 0.0, c.z, thr, "not-detected", SCHEME_ID, analysed_s=analysed
        )

    @staticmethod
    def _decode(ks: _KeyState, c: _Candidate) -> Decoded:
        """Decode ``c``'s soft values for each of the 8 turns its first period can have; the
        first whose CRC holds (else the best agreement)."""
        best: Decoded | None = None
        for p0 in range(8):
            soft = (c.soft * np.exp(-0.25j * np.pi * p0 * ks.turn)).real
            dec = decode_payload(soft)
            if dec.payload is not None:
                return dec
            if best is None or dec.agreement > best.agreement:
                best = dec
        assert best is not None
        return best

    def _found(
        self, c: _Candidate, p: float, payload: int | None, agree: float, analysed: float, ok: bool
    ) -> TimedDetection:
        start = max(0.0, c.start * HOP / RATE)
        end = start + c.periods * PERIOD_FRAMES * HOP * c.speed / RATE + FRAME / RATE
        return TimedDetection(
            detected=ok,
            p_value=p,
            payload=payload,
            confidence=max(0.0, agree),
            score=c.z,
            threshold=self.threshold,
            status="detected" if ok else "inconclusive",
            scheme=SCHEME_ID,
            start_s=round(start, 3),
            end_s=round(min(end, analysed), 3),
            analysed_s=analysed,
        )


def detect(
    samples: np.ndarray,
    sample_rate: int,
    key: WatermarkKey,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> TimedDetection:
    """Look for the mark of ``key`` in ``samples`` (float, (n,) or (n, channels))."""
    det = AudioDetector(key, sample_rate, threshold=threshold)
    det.feed(samples)
    r = det.result()
    assert isinstance(r, TimedDetection)
    return r
