"""A streaming polyphase resampler: the same output as one call of
``scipy.signal.resample_poly`` on the whole signal (to rounding), fed in blocks of any size,
with bounded memory.

Example:
    >>> import numpy as np
    >>> r = Resampler(48_000, 16_000)
    >>> y = np.concatenate([r.process(np.zeros(1000)), r.process(np.zeros(2000)), r.flush()])
    >>> y.size
    1000
"""

from __future__ import annotations

import math

import numpy as np

from aimark.errors import MissingExtraError

__all__ = ["Resampler"]


def _resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    try:
        from scipy.signal import resample_poly
    except ImportError:
        raise MissingExtraError(
            "the audio watermark needs SciPy: pip install 'aimark[audio]'"
        ) from None
    return np.asarray(resample_poly(x, up, down))


class Resampler:
    """Resample a 1-D stream from ``rate_in`` to ``rate_out`` Hz."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        g = math.gcd(rate_in, rate_out)
        self.up, self.down = rate_out // g, rate_in // g
        # context each side, in input samples: the filter's half length, whole input periods
        half = math.ceil(10 * max(self.up, self.down) / self.up) + 2
        self._margin = math.ceil(half / self.down) * self.down
        # input chunk: whole periods of `down` samples, about 0.25 s or more
        self._chunk = max(1, math.ceil(rate_in / 4 / self.down)) * self.down
        self._buf = np.zeros(self._margin, np.float64)  # [margin of history | pending]
        self._pending = 0  # input samples after the history not yet turned into output
        self._total_in = 0
        self._total_out = 0

    def _run(self, seg: np.ndarray, n_in: int) -> np.ndarray:
        y = _resample_poly(seg, self.up, self.down)
        start = self._margin * self.up // self.down
        return y[start : start + n_in * self.up // self.down]

    def process(self, x: np.ndarray) -> np.ndarray:
        """The output samples that ``x`` (and what came before) fully determine."""
        x = np.asarray(x, np.float64).reshape(-1)
        if self.up == self.down:
            self._total_in += x.size
            self._total_out += x.size
            return x.copy()
        self._buf = np.concatenate([self._buf, x])
        self._pending += x.size
        self._total_in += x.size
        out = []
        while self._pending >= self._chunk + self._margin:
            seg = self._buf[: 2 * self._margin + self._chunk]
            out.append(self._run(seg, self._chunk))
            self._buf = self._buf[self._chunk :]
            self._pending -= self._chunk
        y = np.concatenate(out) if out else np.zeros(0)
        self._total_out += y.size
        return y

    def flush(self) -> np.ndarray:
        """The rest of the output (the input's end padded with zeros)."""
        if self.up == self.down:
            return np.zeros(0)
        want = -(-self._total_in * self.up // self.down) - self._total_out
        pad = self._chunk + 2 * self._margin
        seg = np.concatenate([self._buf, np.zeros(pad)])
        n_in = math.ceil(self._pending / self.down) * self.down
        y = self._run(seg[: 2 * self._margin + n_in], n_in)[: max(0, want)]
        self._buf = np.zeros(self._margin)
        self._pending = 0
        self._total_out += y.size
        return y
