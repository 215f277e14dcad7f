"""A training loop for nblib's NumPy models, with a history of losses and accuracies."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Callable

import numpy as np

from . import _checks
from . import rng as _rng
from .autograd import Tensor, cross_entropy, no_grad
from .data import minibatches


class TrainingDiverged(ValueError):
    """The loss became NaN or inf: usually a learning rate too large for the problem."""


class History:
    """Per-epoch metrics: ``history["val_acc"]`` is a list with one value per epoch."""

    def __init__(self):
        self._metrics: dict[str, list[float]] = defaultdict(list)

    def append(self, **metrics: float) -> None:
        for name, value in metrics.items():
            self._metrics[name].append(float(value))

    def __getitem__(self, name: str) -> list[float]:
        if name not in self._metrics:
            raise KeyError(f"no metric {name!r}; recorded: {sorted(self._metrics)}")
        return self._metrics[name]

    def __contains__(self, name: str) -> bool:
        return name in self._metrics

    def keys(self) -> list[str]:
        return list(self._metrics)

    def __len__(self) -> int:
        return max((len(v) for v in self._metrics.values()), default=0)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self._metrics.items() if v)
        return f"History({len(self)} epochs; last: {last})"


def accuracy(model: Callable[[Tensor], Tensor], X, y, batch_size: int = 1024) -> float:
    """Fraction of rows whose arg-max logit equals the label."""
    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_labels(y, "y", n=len(X))
    if len(X) == 0:
        raise ValueError("accuracy: X is empty")
    correct = 0
    with no_grad():
        for idx in minibatches(len(X), batch_size, shuffle=False):
            correct += int((model(Tensor(X[idx])).data.argmax(axis=1) == y[idx]).sum())
    return correct / len(X)


def mean_loss(model, X, y, batch_size: int = 1024) -> float:
    """Mean cross-entropy of ``model`` on ``(X, y)``, without building a graph."""
    total = 0.0
    with no_grad():
        for idx in minibatches(len(X), batch_size, shuffle=False):
            total += cross_entropy(model(Tensor(X[idx])), y[idx], reduction="sum").item()
    return total / len(X)


def fit(model, optimizer, X, y, *, epochs: int, batch_size: int = 32, X_val=None, y_val=None,
        rng=None, on_epoch: Callable[[int, History], None] | None = None) -> History:
    """Minibatch training of a classifier with cross-entropy; returns a :class:`History`.

    Records per epoch: ``loss`` (mean training loss over the epoch's batches),
    ``train_acc``, and, when validation data are given, ``val_loss`` and ``val_acc``.

    Raises:
        TrainingDiverged: if a batch loss is NaN or inf; the message names the
            epoch and the optimiser, so a widget can show it as is.
    """
    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_labels(y, "y", n=len(X))
    epochs = _checks.integer(epochs, "epochs", minimum=1)
    if (X_val is None) != (y_val is None):
        raise ValueError("pass both X_val and y_val, or neither")
    gen = _rng.resolve(rng)
    history = History()
    for epoch in range(epochs):
        model.train()
        losses = []
        for idx in minibatches(len(X), batch_size, rng=gen):
            loss = cross_entropy(model(Tensor(X[idx])), y[idx])
            if not math.isfinite(loss.item()):
                raise TrainingDiverged(f"training diverged at epoch {epoch + 1}: the loss became "
                                       f"{loss.item()} with {optimizer!r}; try a smaller learning rate")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        metrics = {"loss": np.mean(losses), "train_acc": accuracy(model, X, y)}
        if X_val is not None:
            metrics["val_loss"] = mean_loss(model, X_val, y_val)
            metrics["val_acc"] = accuracy(model, X_val, y_val)
        history.append(**metrics)
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history
