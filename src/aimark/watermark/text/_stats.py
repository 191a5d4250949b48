"""Exact tail probabilities for the two detection statistics (numpy only, no SciPy).

* bias mode: the number of green tokens among ``n`` scored ones is Binomial(n, γ) without a
  watermark; the p-value is the exact upper tail P(X ≥ k).
* gumbel mode: each scored token contributes ``-log(1 - r)`` with ``r`` uniform, an Exp(1)
  variable; the sum of ``n`` is Gamma(n, 1) and the p-value is its exact upper tail, which for
  an integer shape equals P(Poisson(s) ≤ n - 1).

Both are returned as natural logarithms so that very strong detections do not underflow to 0.

Example:
    >>> import numpy as np
    >>> from aimark.watermark.text._stats import binomial_logsf, gamma_logsf
    >>> round(float(np.exp(binomial_logsf(np.array([10]), np.array([10]), 0.5)[0])), 6)
    0.000977
    >>> round(float(np.exp(gamma_logsf(np.array([1]), np.array([2.0]))[0])), 6)  # e^-2
    0.135335
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["binomial_logsf", "gamma_logsf", "log_factorials"]

_LF_CHUNK = 1 << 12


@functools.lru_cache(maxsize=8)
def _log_factorials(size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.float64)
    out[1:] = np.cumsum(np.log(np.arange(1, size, dtype=np.float64)))
    out.flags.writeable = False
    return out


def log_factorials(n: int) -> np.ndarray:
    """``log(k!)`` for ``k = 0 .. n`` (read-only; cached in chunks)."""
    size = (int(n) // _LF_CHUNK + 1) * _LF_CHUNK
    return _log_factorials(size)[: int(n) + 1]


@functools.lru_cache(maxsize=4096)
def _binomial_logsf_table(n: int, gamma: float) -> np.ndarray:
    """``log P(X ≥ k)`` for ``k = 0 .. n + 1`` with X ~ Binomial(n, gamma)."""
    lf = log_factorials(n)
    j = np.arange(n + 1, dtype=np.float64)
    logpmf = lf[n] - lf - lf[::-1] + j * np.log(gamma) + (n - j) * np.log1p(-gamma)
    tail = np.logaddexp.accumulate(logpmf[::-1])[::-1]
    out = np.empty(n + 2)
    out[: n + 1] = np.minimum(tail, 0.0)
    out[n + 1] = -np.inf
    out.flags.writeable = False
    return out


def binomial_logsf(k: np.ndarray, n: np.ndarray, gamma: float) -> np.ndarray:
    """``log P(X ≥ k)`` for X ~ Binomial(n, gamma), element-wise over integer arrays."""
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    out = np.zeros(k.shape, dtype=np.float64)
    for size in np.unique(n):
        rows = n == size
        out[rows] = _binomial_logsf_table(int(size), float(gamma))[np.clip(k[rows], 0, size + 1)]
    return out


def gamma_logsf(n: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``log P(S ≥ s)`` for S ~ Gamma(n, 1) with integer ``n ≥ 0`` (``n = 0`` gives 0).

    The regularised upper incomplete gamma function: a continued fraction where ``s > n + 1``
    (the tail, where precision matters), one minus a power series elsewhere (Numerical Recipes
    §6.2), both vectorised over the batch and iterated to double precision.
    """
    a = np.asarray(n, dtype=np.float64)
    x = np.maximum(np.asarray(s, dtype=np.float64), 0.0)
    out = np.zeros(a.shape, dtype=np.float64)
    live = (a > 0) & (x > 0)
    if not live.any():
        return out
    lf = log_factorials(int(a.max()))
    lgamma_a = np.zeros(a.shape)
    lgamma_a[a > 0] = lf[a[a > 0].astype(np.int64) - 1]
    with np.errstate(divide="ignore"):
        log_front = a * np.log(np.where(x > 0, x, 1.0)) - x - lgamma_a
    tail = live & (x > a + 1)
    if tail.any():
        out[tail] = log_front[tail] + np.log(_upper_cf(a[tail], x[tail]))
    head = live & ~tail
    if head.any():
        lower = np.exp(log_front[head]) * _lower_series(a[head], x[head])
        out[head] = np.log1p(-np.minimum(lower, 1.0))
    return np.minimum(out, 0.0)


def _upper_cf(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Continued fraction of Γ(a, x) e^x x^-a (modified Lentz), valid for x > a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full(a.shape, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, 10_000):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) < 1e-15):
            break
    return h


def _lower_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The series Σ_k x^k / (a (a+1) … (a+k)); P(a, x) = e^-x x^a / Γ(a) times it."""
    term = 1.0 / a
    total = term.copy()
    ap = a.copy()
    for _ in range(100_000):
        ap = ap + 1.0
        term = term * x / ap
        total = total + term
        if np.all(np.abs(term) < np.abs(total) * 1e-16):
            break
    return total
