"""Streaming embedding of ``io.aimark.audio.1``: blocks of samples in, marked blocks out, at
the source's rate and channels, with memory bounded by a period (4.6 s) and the resamplers.

The source is downmixed (mean of the channels) and resampled to 16 kHz; each period's
watermark is computed there (:mod:`._period`), resampled to the source rate and added to every
channel alike (so a downmix keeps it). Output lags input by about a period; ``flush`` gives
the rest. :func:`embed` is one ``process`` and one ``flush``: streaming and one-shot give the
same samples.

Example:
    >>> import numpy as np
    >>> from aimark.keys import WatermarkKey
    >>> x = np.random.default_rng(0).standard_normal((48_000, 2)).astype(np.float32) * 0.1
    >>> y = embed(x, 48_000, WatermarkKey(bytes(32)), 42)
    >>> y.shape, y.dtype, bool(np.abs(y - x).max() < 0.05)
    ((48000, 2), dtype('float32'), True)
"""

from __future__ import annotations

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.audio._period import LEAD, SEGMENT, mark_period
from aimark.watermark.audio.code import encode_payload
from aimark.watermark.audio.layout import PERIOD_TILES, RATE, TILE, Layout
from aimark.watermark.audio.resample import Resampler

__all__ = ["AudioEmbedder", "check_samples", "embed"]

_PERIOD = PERIOD_TILES * TILE


def check_samples(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``samples`` as a float (n, channels) view, or ValueError saying what is wrong."""
    a = np.asarray(samples)
    if a.dtype not in (np.float32, np.float64):
        raise ValueError(f"samples must be float32 or float64 in [-1, 1], not {a.dtype}")
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[1] < 1:
        raise ValueError(f"samples must have shape (n,) or (n, channels), not {a.shape}")
    if not isinstance(sample_rate, (int, np.integer)) or not 1000 <= sample_rate <= 768_000:
        raise ValueError(f"unsupported sample rate {sample_rate!r} (1000 to 768000 Hz)")
    if a.size and not np.isfinite(a).all():
        raise ValueError("samples contain NaN or infinity")
    return a


class AudioEmbedder:
    """Mark a stream: ``process(block)`` returns the marked samples that are ready (fewer
    than given, at first), ``flush()`` the rest. Blocks are (n, channels) or (n,) float
    arrays in [-1, 1]; output blocks have the same dtype, shape (n, channels) (or (n,) for
    1-D input) and are clipped to [-1, 1].
    """

    def __init__(
        self,
        key: WatermarkKey,
        payload: int,
        sample_rate: int,
        channels: int,
        strength: float = 1.0,
    ) -> None:
        if not isinstance(key, WatermarkKey):
            raise TypeError(f"expected a WatermarkKey, not {type(key).__name__}")
        if not 1 <= int(channels) <= 64:
            raise ValueError(f"unsupported channel count {channels!r}")
        if not 0.0 < float(strength) <= 4.0:
            raise ValueError("strength must be in (0, 4]")
        check_samples(np.zeros((0, channels), np.float32), sample_rate)
        self.sample_rate, self.channels, self.strength = int(sample_rate), int(channels), strength
        self._layout = Layout.from_key(key)
        self._bits = encode_payload(payload)
        self._down = Resampler(self.sample_rate, RATE)
        self._up = Resampler(RATE, self.sample_rate)
        self._x16 = np.zeros(LEAD)  # analysis samples from index _x_base on
        self._x_base = -LEAD
        self._x_total = 0
        self._w16 = np.zeros(SEGMENT)  # watermark (16 kHz) from index _w_base on
        self._w_base = -LEAD
        self._w_sent = 0  # watermark samples handed to the up-sampler
        self._period = 0
        self._src: list[np.ndarray] = []  # source samples waiting for their watermark
        self._w_src = np.zeros(0)  # watermark at the source rate, not yet added
        self._out_dtype: np.dtype | None = None
        self._one_d = False
        self.samples_in = 0
        self.samples_out = 0

    # -- the 16 kHz side ---------------------------------------------------------------
    def _mark_ready_periods(self, final: bool) -> None:
        while True:
            start = self._period * _PERIOD - LEAD  # segment start (16 kHz index)
            if final:
                if self._period * _PERIOD >= self._x_total:
                    break
                need = start + SEGMENT - (self._x_base + self._x16.size)
                if need > 0:
                    self._x16 = np.concatenate([self._x16, np.zeros(need)])
            elif self._x_base + self._x16.size < start + SEGMENT:
                break
            i = start - self._x_base
            seg = self._x16[i : i + SEGMENT]
            w = mark_period(seg, self._layout, self._bits, self._period, self.strength)
            j = start - self._w_base
            if self._w16.size < j + SEGMENT:
                self._w16 = np.concatenate([self._w16, np.zeros(j + SEGMENT - self._w16.size)])
            self._w16[j : j + SEGMENT] += w
            self._period += 1
            keep = self._period * _PERIOD - LEAD - self._x_base  # drop what is done with
            self._x16, self._x_base = self._x16[keep:], self._x_base + keep
        ready = self._period * _PERIOD - LEAD  # watermark final before this index
        if final:
            ready = self._x_total
        if ready > self._w_sent:
            a, b = self._w_sent - self._w_base, ready - self._w_base
            chunk = self._w16[a:b]
            if self._w_sent < 0:
                chunk = chunk[-self._w_sent :]
            self._w_src = np.concatenate([self._w_src, self._up.process(chunk)])
            self._w16, self._w_base = self._w16[b:], ready
            self._w_sent = ready

    # -- the source side ---------------------------------------------------------------
    def _emit(self) -> np.ndarray:
        n = min(self._w_src.size, sum(b.shape[0] for b in self._src))
        src = np.concatenate(self._src) if self._src else np.zeros((0, self.channels))
        out, rest = src[:n], src[n:]
        self._src = [rest] if rest.shape[0] else []
        marked = np.clip(out + self._w_src[:n, None], -1.0, 1.0)
        self._w_src = self._w_src[n:]
        self.samples_out += n
        dtype = self._out_dtype or np.dtype(np.float32)
        res = marked.astype(dtype, copy=False)
        return res[:, 0] if self._one_d else res

    def process(self, block: np.ndarray) -> np.ndarray:
        """Take ``block``; return the marked samples ready so far (possibly none)."""
        a = check_samples(block, self.sample_rate)
        if a.shape[1] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {a.shape[1]}")
        if self._out_dtype is None:
            self._out_dtype, self._one_d = a.dtype, np.asarray(block).ndim == 1
        self._src.append(np.array(a, np.float64))
        self.samples_in += a.shape[0]
        x = self._down.process(a.mean(axis=1))
        self._x16 = np.concatenate([self._x16, x])
        self._x_total += x.size
        self._mark_ready_periods(final=False)
        return self._emit()

    def flush(self) -> np.ndarray:
        """The marked samples still held (call once, at the end)."""
        x = self._down.flush()
        self._x16 = np.concatenate([self._x16, x])
        self._x_total += x.size
        self._mark_ready_periods(final=True)
        self._w_src = np.concatenate([self._w_src, self._up.flush()])
        missing = self.samples_in - self.samples_out - self._w_src.size
        if missing > 0:
            self._w_src = np.concatenate([self._w_src, np.zeros(missing)])
        return self._emit()


def embed(
    samples: np.ndarray,
    sample_rate: int,
    key: WatermarkKey,
    payload: int,
    *,
    strength: float = 1.0,
) -> np.ndarray:
    """``samples`` (float32/float64, shape (n,) or (n, channels), in [-1, 1]) with the mark of
    ``key`` carrying the 64-bit ``payload``; same shape and dtype, input untouched. Clips
    shorter than :data:`~aimark.watermark.audio.MIN_SECONDS` are marked but cannot carry a
    whole copy."""
    a = check_samples(samples, sample_rate)
    if a.shape[0] == 0:
        raise ValueError("no samples to mark")
    emb = AudioEmbedder(key, payload, sample_rate, a.shape[1], strength)
    head = emb.process(a)
    out = np.concatenate([head, emb.flush()])
    return out.reshape(np.asarray(samples).shape).astype(np.asarray(samples).dtype, copy=False)
