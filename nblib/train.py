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
from .regularisation import EarlyStopping, l2_penalty


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
    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_labels(y, "y", n=len(X))
    if len(X) == 0:
        raise ValueError("mean_loss: X is empty")
    total = 0.0
    with no_grad():
        for idx in minibatches(len(X), batch_size, shuffle=False):
            total += cross_entropy(model(Tensor(X[idx])), y[idx], reduction="sum").item()
    return total / len(X)


def fit(model, optimizer, X, y, *, epochs: int, batch_size: int = 32, X_val=None, y_val=None,
        rng=None, on_epoch: Callable[[int, History], bool | None] | None = None,
        early_stopping: EarlyStopping | None = None, l2: float = 0.0) -> History:
    r"""Minibatch training of a classifier with cross-entropy; returns a :class:`History`.

    Records per epoch: ``loss`` (mean training loss over the epoch's batches, in training
    mode, so with dropout active and without the L2 term), ``train_acc``, and, when
    validation data are given, ``val_loss`` and ``val_acc`` (both in evaluation mode).

    Args:
        model, optimizer: the network and the optimiser updating its parameters.
        X, y: training inputs ``(N, D)`` and integer labels ``(N,)``.
        epochs: the most epochs to train (fewer if training is stopped early).
        batch_size: rows per update step.
        X_val, y_val: optional validation data.
        rng: generator or seed for the batch order.
        on_epoch: called as ``on_epoch(epoch, history)`` after each epoch (``epoch``
            counts from 0); it may append its own metrics to ``history``, and returning
            True stops training after this epoch. Any other return value (None, or a
            number such as a new learning rate) carries on.
        early_stopping: an :class:`nblib.regularisation.EarlyStopping`. It is reset, then
            stepped after each epoch (after ``on_epoch``) with the metric it monitors;
            training stops when it says so, and if its ``restore_best`` is set the model
            ends with the parameters of the best epoch. The history keeps every epoch run.
        l2: coefficient :math:`\lambda` of an L2 penalty
            :math:`\tfrac{\lambda}{2}\sum\theta^2` over all parameters, added to each
            batch loss before ``backward()`` (see :func:`nblib.regularisation.l2_penalty`).
            For plain or momentum SGD this gives the same updates as ``SGD(weight_decay=l2)``.

    Raises:
        TrainingDiverged: if a batch loss is NaN or inf; the message names the
            epoch and the optimiser, so a widget can show it as is.
    """
    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_labels(y, "y", n=len(X))
    epochs = _checks.integer(epochs, "epochs", minimum=1)
    l2 = _checks.positive(l2, "l2", allow_zero=True)
    if (X_val is None) != (y_val is None):
        raise ValueError("pass both X_val and y_val, or neither")
    if X_val is not None:
        X_val = _checks.as_array(X_val, "X_val", ndim=2)
        y_val = _checks.as_labels(y_val, "y_val", n=len(X_val))
        if len(X_val) == 0:
            raise ValueError("X_val is empty: pass validation rows, or neither X_val nor y_val")
    if early_stopping is not None:
        if not isinstance(early_stopping, EarlyStopping):
            raise TypeError(f"early_stopping must be an EarlyStopping, got {type(early_stopping).__name__}")
        if early_stopping.monitor.startswith("val_") and X_val is None:
            raise ValueError(f"early_stopping monitors {early_stopping.monitor!r}, but fit got no validation "
                             "data: pass X_val and y_val")
        early_stopping.reset()
    gen = _rng.resolve(rng)
    params = model.parameters() if l2 else None
    history = History()
    for epoch in range(epochs):
        model.train()
        losses = []
        for idx in minibatches(len(X), batch_size, rng=gen):
            loss = cross_entropy(model(Tensor(X[idx])), y[idx])
            if not math.isfinite(loss.item()):
                raise TrainingDiverged(f"training diverged at epoch {epoch + 1}: the loss became "
                                       f"{loss.item()} with {optimizer!r}; try a smaller learning rate")
            objective = loss + l2_penalty(params, l2) if l2 else loss
            optimizer.zero_grad()
            objective.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        metrics = {"loss": np.mean(losses), "train_acc": accuracy(model, X, y)}
        if X_val is not None:
            metrics["val_loss"] = mean_loss(model, X_val, y_val)
            metrics["val_acc"] = accuracy(model, X_val, y_val)
        history.append(**metrics)
        result = on_epoch(epoch, history) if on_epoch is not None else None
        stop = isinstance(result, (bool, np.bool_)) and bool(result)  # only True stops, not any truthy value
        if early_stopping is not None:
            if early_stopping.monitor not in history:
                raise ValueError(f"early_stopping monitors {early_stopping.monitor!r}, which fit does not record; "
                                 f"recorded: {history.keys()}")
            stop = early_stopping.step(history[early_stopping.monitor][-1], model) or stop
        if stop:
            break
    if early_stopping is not None and early_stopping.restore_best and early_stopping.best_epoch is not None:
        early_stopping.restore(model)
    return history
