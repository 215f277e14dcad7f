"""Regularisers that are not layers: an explicit L2 penalty, and early stopping.

Dropout is a layer (:class:`nblib.nn.Dropout`), and decoupled-from-the-loss weight
decay is an optimiser option (``nblib.optim.SGD(weight_decay=...)``). This module
holds the other two tools of chapter 5:

* :func:`l2_penalty`, the term :math:`\\tfrac{\\lambda}{2}\\sum\\theta^2` added to a loss,
  whose gradient :math:`\\lambda\\theta` is exactly what SGD's ``weight_decay`` adds;
* :class:`EarlyStopping`, which watches a validation metric, remembers the best
  parameters seen so far, says when to stop, and puts the best parameters back.
  ``nblib.train.fit(..., early_stopping=EarlyStopping(...))`` uses it.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks
from .autograd import Tensor


def l2_penalty(parameters, weight_decay: float) -> Tensor:
    r"""The L2 penalty :math:`\frac{\lambda}{2}\sum_k \lVert\theta_k\rVert^2` as a differentiable scalar.

    Its gradient with respect to each parameter is :math:`\lambda\theta`, so adding it
    to the loss and taking an SGD step is the same update as ``SGD(weight_decay=λ)``
    without the penalty. (For adaptive optimisers such as Adam the two differ; that is
    the point of AdamW.)

    Args:
        parameters: the tensors to penalise, e.g. ``model.parameters()`` (biases included,
            as torch's ``weight_decay`` does).
        weight_decay: :math:`\lambda \ge 0`.

    Example:
        >>> w = Tensor(np.array([3.0, 4.0]), requires_grad=True)
        >>> penalty = l2_penalty([w], weight_decay=0.1)   # 0.05 * (9 + 16)
        >>> penalty.backward()
        >>> penalty.item(), np.allclose(w.grad, [0.3, 0.4])
        (1.25, True)
    """
    weight_decay = _checks.positive(weight_decay, "weight_decay", allow_zero=True)
    if isinstance(parameters, (str, bytes)) or not hasattr(parameters, "__iter__"):
        raise TypeError(f"parameters must be an iterable of Tensors, got {type(parameters).__name__}")
    params = list(parameters)
    if not params:
        raise ValueError("l2_penalty: parameters is empty")
    total = None
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"l2_penalty: parameters must be Tensors, got {type(p).__name__}")
        term = (p * p).sum()
        total = term if total is None else total + term
    return total * (0.5 * weight_decay)


class EarlyStopping:
    """Stop training when a monitored metric has not improved for ``patience`` epochs.

    After every epoch, call :meth:`step` with the metric's value (``fit`` does this
    for you). A value *improves* on the best so far when it is better by more than
    ``min_delta``: lower for ``mode="min"`` (losses), higher for ``mode="max"``
    (accuracies). On an improvement the parameters are copied; after ``patience``
    epochs in a row without one, :meth:`step` returns True, and :meth:`restore` puts
    the best parameters back into the model.

    Args:
        monitor: the name of a :class:`nblib.train.History` metric, e.g. ``"val_loss"``
            or ``"val_acc"``.
        patience: epochs without improvement to tolerate before stopping (at least 1).
        min_delta: the smallest change that counts as an improvement (``>= 0``).
        mode: ``"min"``, ``"max"``, or ``"auto"`` (``"max"`` for names ending in ``acc``,
            ``"min"`` otherwise).
        restore_best: whether ``fit`` should load the best parameters when it ends.

    Attributes:
        best_score: the best value seen (None before the first step).
        best_epoch: the epoch, counted from 1 as in the plots, that gave ``best_score``.
        stopped_epoch: the epoch at which :meth:`step` first returned True, or None.
        wait: epochs since the last improvement.

    Example:
        >>> stopper = EarlyStopping("val_acc", patience=2)
        >>> [stopper.step(s) for s in [0.80, 0.85, 0.84, 0.86, 0.85, 0.85]]
        [False, False, False, False, False, True]
        >>> stopper.best_epoch, stopper.best_score, stopper.stopped_epoch
        (4, 0.86, 6)
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True):
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be a metric name such as 'val_loss', got {monitor!r}")
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.monitor = monitor
        self.patience = _checks.integer(patience, "patience", minimum=1)
        self.min_delta = _checks.positive(min_delta, "min_delta", allow_zero=True)
        self.mode = ("max" if monitor.endswith("acc") else "min") if mode == "auto" else mode
        self.restore_best = bool(restore_best)
        self.reset()

    def reset(self) -> None:
        """Forget everything seen, to watch a new training run."""
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self._epoch = 0
        self._best_params: list[np.ndarray] | None = None

    def improves(self, score: float) -> bool:
        """Whether ``score`` beats the best so far by more than ``min_delta`` (NaN never does)."""
        if math.isnan(score):
            return False
        if self.best_score is None:
            return True
        if self.mode == "min":
            return score < self.best_score - self.min_delta
        return score > self.best_score + self.min_delta

    def step(self, score, model=None) -> bool:
        """Record one epoch's ``score``; return True when training should stop.

        Args:
            score: the monitored metric after this epoch.
            model: a :class:`nblib.nn.Module` whose parameters are copied when the
                score improves (omit it to track scores only).
        """
        try:
            score = float(score)
        except (TypeError, ValueError):
            raise TypeError(f"score must be a real number, got {type(score).__name__}") from None
        self._epoch += 1
        if self.improves(score):
            self.best_score, self.best_epoch, self.wait = score, self._epoch, 0
            if model is not None:
                self._best_params = [p.data.copy() for p in model.parameters()]
        else:
            self.wait += 1
        stop = self.wait >= self.patience
        if stop and self.stopped_epoch is None:
            self.stopped_epoch = self._epoch
        return stop

    def restore(self, model) -> None:
        """Copy the parameters of the best epoch back into ``model`` (the one passed to :meth:`step`)."""
        if self._best_params is None:
            raise RuntimeError("EarlyStopping.restore: no parameters were saved; pass the model to step()")
        params = model.parameters()
        if len(params) != len(self._best_params) or any(
                p.shape != saved.shape for p, saved in zip(params, self._best_params)):
            raise ValueError("EarlyStopping.restore: the model's parameters do not match the saved ones")
        for p, saved in zip(params, self._best_params):
            p.data[...] = saved

    def __repr__(self) -> str:
        state = "" if self.best_epoch is None else f"; best {self.best_score:.4g} at epoch {self.best_epoch}"
        return (f"EarlyStopping(monitor={self.monitor!r}, mode={self.mode!r}, patience={self.patience}, "
                f"min_delta={self.min_delta:g}{state})")
