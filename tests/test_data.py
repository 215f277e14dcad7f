"""Offline data sets: shapes, ranges, splits and determinism."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nblib import data


def test_digits_split_sizes_ranges_and_disjointness():
    split = data.load_digits(seed=0)
    sizes = len(split.X_train), len(split.X_val), len(split.X_test)
    assert sum(sizes) == 1797
    assert split.X_test.shape[0] == pytest.approx(0.15 * 1797, abs=1)
    assert split.X_train.dtype == np.float32 and split.n_features == 64 and split.n_classes == 10
    assert 0.0 <= split.X_train.min() and split.X_train.max() <= 1.0
    # stratified: every class in every part
    for y in (split.y_train, split.y_val, split.y_test):
        assert set(np.unique(y)) == set(range(10))


def test_digits_split_is_deterministic():
    a, b = data.load_digits(seed=3), data.load_digits(seed=3)
    assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.y_train, data.load_digits(seed=4).y_train)


def test_xor_labels_follow_the_truth_table():
    X, y = data.xor(n=400, noise=0.0, rng=0)
    assert_array_equal(y, (X[:, 0] != X[:, 1]).astype(int))
    assert_array_equal(data.XOR_TARGETS, [0, 1, 1, 0])


@pytest.mark.parametrize("make, kwargs, n", [
    (data.blobs, dict(n=50), 50),
    (data.moons, dict(n=60), 60),
    (data.spirals, dict(n_per_class=30, n_classes=4), 120),
    (data.xor, dict(n=40), 40),
], ids=["blobs", "moons", "spirals", "xor"])
def test_generators_shapes_and_seeds(make, kwargs, n):
    X, y = make(**kwargs, rng=5)
    X2, y2 = make(**kwargs, rng=5)
    assert X.shape == (n, 2) and y.shape == (n,) and y.dtype == np.int64
    assert_array_equal(X, X2)
    assert_array_equal(y, y2)


def test_minibatches_cover_every_index_once():
    batches = list(data.minibatches(10, 3, rng=0))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sorted(np.concatenate(batches)) == list(range(10))


def test_one_hot():
    assert_array_equal(data.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
