"""Listen-free measures of how much a mark changed the audio, fed in blocks: the SNR, the
segmental SNR (20 ms frames, each clamped to [-10, 35] dB, silent frames left out) and the
log-spectral distortion (32 ms Hann frames, RMS over frequency of the dB difference of the
power spectra, averaged over frames that are not silent).

Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((16_000, 1)) * 0.1
    >>> q = QualityMeter(16_000)
    >>> q.add(x, x * 1.01)
    >>> round(q.result()["snr_db"], 1)
    40.0
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["QualityMeter"]

_SILENT = 1e-5  # mean square of a frame left out (-50 dBFS)


class QualityMeter:
    """Accumulate (original, marked) block pairs of shape (n, channels) at ``sample_rate``."""

    def __init__(self, sample_rate: int) -> None:
        self._seg = max(1, int(0.02 * sample_rate))
        self._fft = 1 << max(4, math.ceil(math.log2(0.032 * sample_rate)))
        self._win = np.hanning(self._fft)
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._x2 = self._e2 = 0.0
        self._segs: list[float] = []
        self._lsd: list[float] = []

    def add(self, original: np.ndarray, marked: np.ndarray) -> None:
        """Take the next block of the original and the same block marked."""
        x = np.asarray(original, np.float64)
        y = np.asarray(marked, np.float64)
        self._x2 += float(np.square(x).sum())
        self._e2 += float(np.square(y - x).sum())
        xm = x.mean(1) if x.ndim == 2 else x
        ym = y.mean(1) if y.ndim == 2 else y
        self._x = np.concatenate([self._x, xm])
        self._y = np.concatenate([self._y, ym])
        n = self._x.size // self._fft * self._fft
        if n:
            self._frames(self._x[:n], self._y[:n])
            self._x, self._y = self._x[n:], self._y[n:]

    def _frames(self, x: np.ndarray, y: np.ndarray) -> None:
        m = x.size // self._seg * self._seg
        fx = x[:m].reshape(-1, self._seg)
        fe = (y[:m] - x[:m]).reshape(-1, self._seg)
        px, pe = np.square(fx).mean(1), np.square(fe).mean(1)
        live = px > _SILENT
        snr = 10 * np.log10((px[live] + 1e-20) / (pe[live] + 1e-20))
        self._segs += np.clip(snr, -10.0, 35.0).tolist()
        fx = x.reshape(-1, self._fft)
        fy = y.reshape(-1, self._fft)
        live = np.square(fx).mean(1) > _SILENT
        if live.any():
            sx = np.abs(np.fft.rfft(fx[live] * self._win, axis=1)) ** 2
            sy = np.abs(np.fft.rfft(fy[live] * self._win, axis=1)) ** 2
            floor = 1e-10 * self._fft
            diff = 10 * np.log10((sx + floor) / (sy + floor))
            self._lsd += np.sqrt(np.square(diff).mean(1)).tolist()

    def result(self) -> dict[str, float]:
        """``snr_db``, ``segsnr_db`` and ``lsd_db`` (rounded to 0.01; inf SNR for no change)."""
        snr = 10 * math.log10(self._x2 / self._e2) if self._e2 > 0 else math.inf
        seg = float(np.mean(self._segs)) if self._segs else math.inf
        lsd = float(np.mean(self._lsd)) if self._lsd else 0.0
        return {"snr_db": round(snr, 2), "segsnr_db": round(seg, 2), "lsd_db": round(lsd, 3)}
