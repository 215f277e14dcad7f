"""Synthetic sequence tasks and real time series, generated or loaded offline.

Inputs are batch-first, like ``torch.nn.RNN(batch_first=True)``: a batch of ``N``
sequences of length ``T`` with ``F`` features has shape ``(N, T, F)``. Token tasks
return integer arrays ``(N, T)``.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from . import rng as _rng


def adding_problem(n: int, T: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem of Hochreiter and Schmidhuber: sum the two marked numbers.

    Each sequence has ``T`` steps with two features: a value uniform in [0, 1) and a
    marker that is 1 at exactly two steps, one in each half. The target is the sum of
    the two marked values. Predicting the mean, 1, scores an MSE of 1/6 (the variance
    of a sum of two uniforms): the baseline that a network must beat.

    Returns:
        X ``(n, T, 2)`` float32 and y ``(n,)`` float32.
    """
    n = _checks.integer(n, "n", minimum=1)
    T = _checks.integer(T, "T", minimum=2)
    gen = _rng.resolve(rng)
    values = gen.random((n, T))
    first = gen.integers(0, T // 2, n)
    second = gen.integers(T // 2, T, n)
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1).astype(np.float32)  # (n, T, 2)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    return X, y


ADDING_BASELINE_MSE = 1.0 / 6.0


def _tokens(n, length, vocab, rng):
    n = _checks.integer(n, "n", minimum=1)
    length = _checks.integer(length, "length", minimum=1)
    vocab = _checks.integer(vocab, "vocab", minimum=2)
    return _rng.resolve(rng).integers(0, vocab, (n, length))


def copy_task(n: int, length: int = 10, vocab: int = 10, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences ``(n, length)`` and the same sequences as targets."""
    X = _tokens(n, length, vocab, rng)
    return X, X.copy()


def reversal_task(n: int, length: int = 10, vocab: int = 10, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences ``(n, length)`` and the same sequences reversed."""
    X = _tokens(n, length, vocab, rng)
    return X, X[:, ::-1].copy()


def sorting_task(n: int, length: int = 10, vocab: int = 10, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences ``(n, length)`` and the same tokens in ascending order."""
    X = _tokens(n, length, vocab, rng)
    return X, np.sort(X, axis=1)


def sine_waves(n: int, T: int = 50, noise: float = 0.05, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Windows of noisy sines with random frequency and phase, and the next value of each.

    Returns:
        X ``(n, T, 1)`` float32 and y ``(n,)`` float32 (the clean value at step ``T``).
    """
    n = _checks.integer(n, "n", minimum=1)
    T = _checks.integer(T, "T", minimum=1)
    noise = _checks.positive(noise, "noise", allow_zero=True)
    gen = _rng.resolve(rng)
    freq = gen.uniform(0.05, 0.2, (n, 1))
    phase = gen.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(T + 1)[None, :]
    clean = np.sin(2 * np.pi * freq * t + phase)
    X = clean[:, :T] + noise * gen.standard_normal((n, T))
    if not np.all(np.abs(X) <= np.finfo(np.float32).max):
        raise ValueError(f"noise={noise} is too large: the series overflow float32")
    return X[..., None].astype(np.float32), clean[:, T].astype(np.float32)


def windows(series, length: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Sliding windows over a 1-D series: inputs ``(M, length)`` and the value ``horizon`` steps later.

    ``M = len(series) - length - horizon + 1``; window ``i`` is ``series[i:i+length]``
    and its target ``series[i+length+horizon-1]``.
    """
    series = _checks.as_array(series, "series", ndim=1)
    length = _checks.integer(length, "length", minimum=1)
    horizon = _checks.integer(horizon, "horizon", minimum=1)
    m = len(series) - length - horizon + 1
    if m < 1:
        raise ValueError(f"series of length {len(series)} is too short for windows of {length} "
                         f"and horizon {horizon}")
    idx = np.arange(length)[None, :] + np.arange(m)[:, None]
    return series[idx], series[np.arange(m) + length + horizon - 1]


def load_prices() -> tuple[np.ndarray, np.ndarray]:
    """Google's daily adjusted closing prices, 2004-08-19 to 2008-10-14, as shipped with matplotlib.

    Returns:
        dates ``(1047,)`` as ``datetime64[D]`` and prices ``(1047,)`` float64 (US dollars).
    """
    from matplotlib import cbook

    data = cbook.get_sample_data("goog.npz")["price_data"]
    return data["date"].astype("datetime64[D]"), data["adj_close"].astype(np.float64)
