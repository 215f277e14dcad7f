r"""The learning-rate range test: sweep the learning rate upwards and watch the loss.

:func:`lr_range_test` trains a *copy* of the model (the original is untouched) for at
most ``steps`` mini-batch steps while the learning rate grows geometrically from
``lr_min`` to ``lr_max``:

.. math::  \eta_t = \eta_{\min} \left(\frac{\eta_{\max}}{\eta_{\min}}\right)^{t/(T-1)},
           \qquad t = 0, \dots, T-1.

The recorded loss is smoothed by a bias-corrected exponential moving average,
:math:`s_t = \beta s_{t-1} + (1-\beta)\,\ell_t`, :math:`\hat s_t = s_t / (1-\beta^{t+1})`,
and the sweep stops early once :math:`\hat s_t > k \cdot \min_{u \le t} \hat s_u` (the
loss has diverged) or the loss is NaN/inf.

**The suggestion.** Let :math:`\eta^\star` be the learning rate at the minimum of the
smoothed loss. The suggested learning rate is :math:`\eta^\star / 10`: the loss is still
falling fast there, a comfortable factor below the rates where it turns around. (The
"steepest descent" point, the rate where :math:`d\hat s / d\log\eta` is most negative, is
also returned as ``lr_steepest``; it is noisier.)
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from . import _checks


@dataclass
class LRFinderResult:
    """What :func:`lr_range_test` measured.

    Attributes:
        lrs: the learning rate of each step taken.
        losses: the raw mini-batch loss of each step.
        smoothed: the bias-corrected moving average of ``losses``.
        lr_min_loss: the learning rate where ``smoothed`` is lowest.
        suggestion: ``lr_min_loss / 10``, the suggested learning rate.
        lr_steepest: where the smoothed loss falls fastest per factor of learning rate.
        diverged: whether the sweep stopped early because the loss blew up.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    lr_min_loss: float
    suggestion: float
    lr_steepest: float
    diverged: bool

    @property
    def steps(self) -> int:
        return len(self.lrs)

    def plot(self, ax=None, title: str = "Learning-rate range test"):
        """Smoothed loss against learning rate (log axis), with the suggestion marked; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.6))
        ax.plot(self.lrs, self.losses, color="0.75", lw=0.8, label="mini-batch loss")
        ax.plot(self.lrs, self.smoothed, color="C0", label="smoothed loss")
        ax.axvline(self.lr_min_loss, color="C3", ls=":", label=f"minimum at {self.lr_min_loss:.2g}")
        ax.axvline(self.suggestion, color="C2", ls="--", label=f"suggestion {self.suggestion:.2g} (min / 10)")
        ax.set_xscale("log")
        top = min(np.nanmax(self.smoothed), 4 * self.smoothed[0]) * 1.1
        ax.set_ylim(0, top)
        ax.set(title=title, xlabel="learning rate (log scale)", ylabel="training loss (nats)")
        ax.legend(fontsize=8)
        return ax


def lr_range_test(model, loader, *, loss_fn=None, optimizer="sgd", lr_min: float = 1e-5, lr_max: float = 10.0,
                  steps: int = 100, beta: float = 0.9, diverge_factor: float = 4.0, momentum: float = 0.9,
                  device=None) -> LRFinderResult:
    """Run the learning-rate range test on a deep copy of ``model``.

    Args:
        model: a ``torch.nn.Module``; it is copied, never modified.
        loader: iterable of ``(inputs, target)`` batches; cycled if shorter than ``steps``.
        loss_fn: ``loss_fn(output, target)``; cross-entropy by default.
        optimizer: ``"sgd"`` (with ``momentum``), ``"adam"``, or a callable
            ``params -> torch.optim.Optimizer`` (its learning rate is overwritten).
        lr_min, lr_max: the first and last learning rate of the sweep.
        steps: the number of steps of the full sweep, :math:`T`.
        beta: smoothing factor of the moving average, in [0, 1).
        diverge_factor: stop once the smoothed loss exceeds this times its minimum, :math:`k`.
        momentum: SGD momentum.
        device: where to train the copy (the model's device by default).

    Returns:
        An :class:`LRFinderResult`.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    lr_min = _checks.positive(lr_min, "lr_min")
    lr_max = _checks.positive(lr_max, "lr_max")
    if lr_max <= lr_min:
        raise ValueError(f"lr_max must exceed lr_min, got lr_min={lr_min}, lr_max={lr_max}")
    steps = _checks.integer(steps, "steps", minimum=3)
    beta = _checks.in_range(beta, "beta", 0.0, 1.0, high_open=True)
    diverge_factor = _checks.as_real(diverge_factor, "diverge_factor")
    if diverge_factor <= 1:
        raise ValueError(f"diverge_factor must be > 1, got {diverge_factor}")
    loss_fn = loss_fn or torch.nn.functional.cross_entropy
    net = copy.deepcopy(model)
    if device is not None:
        net.to(device)
    device = next(net.parameters()).device
    net.train()
    if optimizer == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=lr_min, momentum=momentum)
    elif optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=lr_min)
    elif callable(optimizer):
        opt = optimizer(net.parameters())
    else:
        raise ValueError(f"optimizer must be 'sgd', 'adam' or a callable, got {optimizer!r}")
    lrs = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    taken, raw, smooth = [], [], []
    avg, best, diverged = 0.0, math.inf, False
    batches = iter(loader)
    for t, lr in enumerate(lrs):
        try:
            inputs, target = next(batches)
        except StopIteration:
            batches = iter(loader)
            try:
                inputs, target = next(batches)
            except StopIteration:
                raise ValueError("loader yielded no batches") from None
        for group in opt.param_groups:
            group["lr"] = float(lr)
        loss = loss_fn(net(inputs.to(device)), target.to(device))
        value = loss.item()
        if not math.isfinite(value):
            diverged = True
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        avg = beta * avg + (1 - beta) * value
        s = avg / (1 - beta ** (t + 1))
        taken.append(float(lr)); raw.append(value); smooth.append(s)
        best = min(best, s)
        if s > diverge_factor * best:
            diverged = True
            break
    if len(taken) < 2:
        raise ValueError(f"the loss diverged within {len(taken) + 1} steps: lower lr_min (got {lr_min})")
    lrs_arr, sm = np.array(taken), np.array(smooth)
    i_min = int(np.argmin(sm))
    lr_best = float(lrs_arr[i_min])
    slope = np.gradient(sm, np.log(lrs_arr))
    i_steep = int(np.argmin(slope[: i_min + 1])) if i_min > 0 else 0
    return LRFinderResult(lrs_arr, np.array(raw), sm, lr_best, lr_best / 10, float(lrs_arr[i_steep]), diverged)
