"""Offline data sets and generators.

Everything here is either shipped with an installed package (scikit-learn's
digits) or generated procedurally, so nothing is downloaded. Features are float
arrays of shape ``(N, D)``; labels are int64 class indices of shape ``(N,)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from . import _checks
from . import rng as _rng


@dataclass(frozen=True)
class Split:
    """Train, validation and test arrays of one data set."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_val.max(), self.y_test.max())) + 1

    def __repr__(self) -> str:
        return (f"Split(train={len(self.X_train)}, val={len(self.X_val)}, test={len(self.X_test)}, "
                f"features={self.n_features}, classes={self.n_classes})")


def load_digits(val_size: float = 0.15, test_size: float = 0.15, seed: int = 0,
                dtype=np.float32) -> Split:
    """scikit-learn's 1797 handwritten 8x8 digits, pixels scaled to [0, 1], stratified split.

    Args:
        val_size, test_size: fractions of all samples held out for validation and test.
        seed: fixes the split, so every chapter sees the same test set.
        dtype: feature dtype.
    """
    from sklearn.datasets import load_digits as _load
    from sklearn.model_selection import train_test_split

    _checks.in_range(val_size, "val_size", 0.0, 1.0, high_open=True)
    _checks.in_range(test_size, "test_size", 0.0, 1.0, high_open=True)
    if val_size + test_size >= 1.0:
        raise ValueError(f"val_size + test_size must be < 1, got {val_size} + {test_size}")
    if _checks.integer(seed, "seed", minimum=0) >= 2**32:
        raise ValueError(f"seed must be < 2**32, got {seed}")
    digits = _load()
    X = (digits.data / 16.0).astype(dtype)
    y = digits.target.astype(np.int64)
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    if val_size == 0:
        empty = np.empty((0, X.shape[1]), dtype=dtype)
        return Split(X_rest, y_rest, empty, np.empty(0, np.int64), X_test, y_test)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_size / (1.0 - test_size), stratify=y_rest, random_state=seed)
    return Split(X_train, y_train, X_val, y_val, X_test, y_test)


XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = np.array([0, 1, 1, 0])


def xor(n: int = 200, noise: float = 0.15, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Noisy copies of the four XOR corners: label 1 where exactly one coordinate is 1."""
    n = _checks.integer(n, "n", minimum=4)
    noise = _checks.positive(noise, "noise", allow_zero=True)
    gen = _rng.resolve(rng)
    corner = gen.integers(0, 4, n)
    X = XOR_INPUTS[corner] + noise * gen.standard_normal((n, 2))
    return X, XOR_TARGETS[corner].astype(np.int64)


def blobs(n: int = 200, centers=((-1.5, -1.0), (1.5, 1.0)), std: float = 0.5, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs, one class per centre (separable with the defaults)."""
    n = _checks.integer(n, "n", minimum=1)
    std = _checks.positive(std, "std", allow_zero=True)
    centers = _checks.as_array(centers, "centers", ndim=2, dtype=np.float64)
    if len(centers) == 0:
        raise ValueError("centers is empty: give at least one centre, one per class")
    gen = _rng.resolve(rng)
    y = np.arange(n) % len(centers)
    X = centers[y] + std * gen.standard_normal((n, centers.shape[1]))
    order = gen.permutation(n)
    return X[order], y[order].astype(np.int64)


def moons(n: int = 200, noise: float = 0.1, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``)."""
    from sklearn.datasets import make_moons

    n = _checks.integer(n, "n", minimum=2)
    noise = _checks.positive(noise, "noise", allow_zero=True)
    seed = int(_rng.resolve(rng).integers(2**31 - 1))
    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return X, y.astype(np.int64)


def spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, turns: float = 1.0,
            rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class: a classic task no linear model can solve."""
    n_per_class = _checks.integer(n_per_class, "n_per_class", minimum=1)
    n_classes = _checks.integer(n_classes, "n_classes", minimum=2)
    noise = _checks.positive(noise, "noise", allow_zero=True)
    turns = _checks.positive(turns, "turns")
    gen = _rng.resolve(rng)
    radius = np.tile(np.linspace(0.05, 1.0, n_per_class), n_classes)
    label = np.repeat(np.arange(n_classes), n_per_class)
    angle = (2 * np.pi * turns * radius + 2 * np.pi * label / n_classes
             + noise * gen.standard_normal(radius.shape))
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return X, label.astype(np.int64)


def minibatches(n: int, batch_size: int, shuffle: bool = True, rng=None) -> Iterator[np.ndarray]:
    """Index arrays that cover ``range(n)`` once, in batches of ``batch_size`` (the last may be smaller)."""
    n = _checks.integer(n, "n", minimum=0)
    batch_size = _checks.integer(batch_size, "batch_size", minimum=1)
    order = _rng.resolve(rng).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def one_hot(y, n_classes: int) -> np.ndarray:
    """Rows of the identity: ``one_hot([2, 0], 3) == [[0, 0, 1], [1, 0, 0]]``."""
    n_classes = _checks.integer(n_classes, "n_classes", minimum=1)
    y = _checks.as_labels(y, "y", n_classes=n_classes)
    return np.eye(n_classes)[y]
