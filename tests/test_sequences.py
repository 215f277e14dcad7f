"""Sequence tasks and time series: shapes, targets and determinism."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nblib import sequences


def test_adding_problem_targets_and_baseline():
    X, y = sequences.adding_problem(20_000, 50, rng=0)
    assert X.shape == (20_000, 50, 2) and y.shape == (20_000,) and X.dtype == np.float32
    assert (X[..., 1].sum(axis=1) == 2).all()
    assert (X[:, :25, 1].sum(axis=1) == 1).all()  # one marker in each half
    np.testing.assert_allclose(y, (X[..., 0] * X[..., 1]).sum(axis=1), rtol=1e-6)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(sequences.ADDING_BASELINE_MSE, rel=0.03)


@pytest.mark.parametrize("task, expected", [
    (sequences.copy_task, lambda X: X),
    (sequences.reversal_task, lambda X: X[:, ::-1]),
    (sequences.sorting_task, lambda X: np.sort(X, axis=1)),
], ids=["copy", "reversal", "sorting"])
def test_token_tasks(task, expected):
    X, y = task(50, length=7, vocab=5, rng=1)
    assert X.shape == y.shape == (50, 7) and X.max() < 5
    assert_array_equal(y, expected(X))
    assert_array_equal(task(50, length=7, vocab=5, rng=1)[0], X)


def test_sine_waves_and_windows():
    X, y = sequences.sine_waves(4, T=30, noise=0.0, rng=0)
    assert X.shape == (4, 30, 1) and np.abs(y).max() <= 1.0
    inputs, targets = sequences.windows(np.arange(10.0), length=3, horizon=2)
    assert inputs.shape == (6, 3)
    assert_array_equal(inputs[0], [0, 1, 2]) and targets[0] == 4.0
    with pytest.raises(ValueError, match="too short"):
        sequences.windows(np.arange(3.0), length=3)


def test_prices_ship_with_matplotlib():
    dates, prices = sequences.load_prices()
    assert len(dates) == len(prices) == 1047
    assert str(dates[0]) == "2004-08-19" and prices[0] == pytest.approx(100.34)
    assert (np.diff(dates.astype(int)) > 0).all() and (prices > 0).all()
