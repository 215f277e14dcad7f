"""Single neurons in NumPy: Rosenblatt's perceptron and the sigmoid neuron (logistic regression).

Both use scikit-learn's names (``fit``, ``predict``, ``coef_``, ``intercept_``) so
that a test can set them beside ``sklearn.linear_model.Perceptron`` and
``LogisticRegression`` and check that they agree.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from . import rng as _rng


def _check_binary(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = _checks.as_array(X, "X", ndim=2, dtype=np.float64)
    y = _checks.as_labels(y, "y", n=X.shape[0], n_classes=2)
    return X, y


class _LinearUnit:
    """What both neurons share once fitted: a weight row ``coef_`` and a bias ``intercept_``."""

    def _net_input(self, X) -> np.ndarray:
        """The weighted sum :math:`w \\cdot x + b` for each row of ``X``."""
        if not hasattr(self, "coef_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(X, y) first")
        X = _checks.as_array(X, "X", ndim=2)
        if X.shape[1] != self.coef_.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features but {type(self).__name__} was fitted on {self.coef_.shape[1]}")
        return X @ self.coef_[0] + self.intercept_[0]

    def score(self, X, y) -> float:
        """Accuracy of ``predict(X)`` against ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


class Perceptron(_LinearUnit):
    r"""Rosenblatt's perceptron: predict :math:`[w \cdot x + b > 0]`, learn from mistakes.

    For each sample with signed label :math:`t = \pm 1` and
    :math:`t\,(w \cdot x + b) \le 0` (a mistake, or a point on the boundary), update

    .. math:: w \leftarrow w + \eta\, t\, x, \qquad b \leftarrow b + \eta\, t.

    Args:
        lr: step size :math:`\eta > 0`. With zero initial weights it only rescales
            ``w`` and ``b``, so the boundary sequence does not depend on it.
        max_epochs: passes over the data before giving up.
        shuffle: visit samples in a fresh random order each epoch.
        rng: generator or seed for shuffling.

    Attributes (after ``fit``):
        coef_ ``(1, D)``, intercept_ ``(1,)``, mistakes_ (mistakes per epoch),
        converged_ (an epoch without mistakes happened), history_ (``(w, b)`` after
        each epoch).
    """

    def __init__(self, lr: float = 1.0, max_epochs: int = 100, shuffle: bool = False, rng=None):
        self.lr = _checks.positive(lr, "lr")
        self.max_epochs = _checks.integer(max_epochs, "max_epochs", minimum=1)
        self.shuffle = shuffle
        self.rng = rng

    def fit(self, X, y) -> Perceptron:
        X, y = _check_binary(X, y)
        t = np.where(y == 1, 1.0, -1.0)
        gen = _rng.resolve(self.rng)
        w, b = np.zeros(X.shape[1]), 0.0
        self.mistakes_, self.history_ = [], []
        self.converged_ = False
        for _ in range(self.max_epochs):
            order = gen.permutation(len(X)) if self.shuffle else range(len(X))
            mistakes = 0
            for i in order:
                if t[i] * (X[i] @ w + b) <= 0:
                    w = w + self.lr * t[i] * X[i]
                    b = b + self.lr * t[i]
                    mistakes += 1
            self.mistakes_.append(mistakes)
            self.history_.append((w.copy(), b))
            if mistakes == 0:
                self.converged_ = True
                break
        self.coef_, self.intercept_ = w[None, :], np.array([b])
        return self

    def decision_function(self, X) -> np.ndarray:
        return self._net_input(X)

    def predict(self, X) -> np.ndarray:
        return (self._net_input(X) > 0).astype(np.int64)

    def __repr__(self) -> str:
        return f"Perceptron(lr={self.lr:g}, max_epochs={self.max_epochs}, shuffle={self.shuffle})"


def sigmoid(z) -> np.ndarray:
    """The logistic function :math:`1/(1+e^{-z})`, computed without overflow."""
    z = _checks.as_array(z, "z", dtype=np.float64, finite=False)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class LogisticNeuron(_LinearUnit):
    r"""One sigmoid neuron trained by full-batch gradient descent on the mean cross-entropy.

    The prediction :math:`p = \sigma(w \cdot x + b)` is read as the probability of
    class 1. The gradient of the mean cross-entropy is the famously simple
    :math:`\nabla_w L = X^\top (p - y) / N`, :math:`\partial L/\partial b = \overline{p - y}`.
    Without regularisation this is scikit-learn's ``LogisticRegression(C=np.inf)``.

    Args:
        lr: gradient-descent step size.
        epochs: number of full-batch steps.
    """

    def __init__(self, lr: float = 0.5, epochs: int = 2000):
        self.lr = _checks.positive(lr, "lr")
        self.epochs = _checks.integer(epochs, "epochs", minimum=1)

    def fit(self, X, y) -> LogisticNeuron:
        X, y = _check_binary(X, y)
        w, b = np.zeros(X.shape[1]), 0.0
        self.loss_ = []
        for _ in range(self.epochs):
            p = sigmoid(X @ w + b)
            self.loss_.append(_binary_cross_entropy(p, y))
            w = w - self.lr * X.T @ (p - y) / len(X)
            b = b - self.lr * float(np.mean(p - y))
        self.coef_, self.intercept_ = w[None, :], np.array([b])
        return self

    def predict_proba(self, X) -> np.ndarray:
        p1 = sigmoid(self._net_input(X))
        return np.stack([1 - p1, p1], axis=1)

    def predict(self, X) -> np.ndarray:
        return (self._net_input(X) > 0).astype(np.int64)

    def __repr__(self) -> str:
        return f"LogisticNeuron(lr={self.lr:g}, epochs={self.epochs})"


def _binary_cross_entropy(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
