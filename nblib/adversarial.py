r"""Adversarial examples from scratch: the fast gradient sign method, attacks over a range of budgets, and training on them.

The fast gradient sign method (FGSM, Goodfellow et al., 2015) moves every input entry
by the same amount :math:`\epsilon` in the direction that increases the loss:

.. math::
    x_{\mathrm{adv}} = \operatorname{clip}\big(x + \epsilon\, \operatorname{sign}(\nabla_x L(f(x), y)),\; x_{\min},\; x_{\max}\big).

It is the loss-maximising step of size :math:`\epsilon` in the :math:`\ell_\infty` norm
for a model that is linear near :math:`x`; the many small moves add up across the
inputs. :func:`accuracy_under_attack` sweeps :math:`\epsilon`, and
:func:`adversarial_training` trains on a mix of clean and attacked batches.

torch is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = ["fgsm", "accuracy_under_attack", "adversarial_training"]


def _check_batch(model, x, y):
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch.Tensor, got {type(x).__name__}")
    if not isinstance(y, torch.Tensor) or y.dtype.is_floating_point or y.dtype == torch.bool:
        raise TypeError("y must be a torch.Tensor of integer class labels")
    if x.dim() < 2 or y.shape != (x.shape[0],):
        raise ValueError(f"x must be (B, ...) and y (B,), got shapes {tuple(x.shape)} and {tuple(y.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or inf")
    if y.numel() and y.min() < 0:
        raise ValueError(f"y must hold class indices >= 0, got {y.min().item()}")


def _clamp(clamp):
    if clamp is None:
        return None
    if not isinstance(clamp, (list, tuple)) or len(clamp) != 2:
        raise TypeError(f"clamp must be None or a pair (low, high), got {clamp!r}")
    lo, hi = (_checks.as_real(v, "clamp") for v in clamp)
    if lo >= hi:
        raise ValueError(f"clamp must be (low, high) with low < high, got {clamp}")
    return lo, hi


def fgsm(model, x, y, epsilon: float, *, clamp=(0.0, 1.0), loss_fn=None):
    r"""The fast gradient sign attack: :math:`\operatorname{clip}(x + \epsilon\,\operatorname{sign}\nabla_x L)`.

    Args:
        model: maps ``(B, ...)`` to logits ``(B, C)``. Its mode (train or eval) is left as it is.
        x: ``(B, ...)`` clean inputs.
        y: ``(B,)`` labels the attack moves away from (the true labels).
        epsilon: the :math:`\ell_\infty` budget, the same units as ``x``; ``0`` returns ``x``.
        clamp: ``(low, high)`` range of valid inputs, or ``None`` for no clipping.
        loss_fn: ``loss_fn(logits, y)`` summed or averaged over the batch; cross-entropy
            by default. (Averaging scales the gradient, not its sign.)

    Shape:
        returns ``(B, ...)``, detached.

    Example:
        >>> x_adv = fgsm(model, x, y, epsilon=0.1)
        >>> (x_adv - x).abs().max() <= 0.1
        tensor(True)
    """
    import torch

    _check_batch(model, x, y)
    epsilon = _checks.positive(epsilon, "epsilon", allow_zero=True)
    lo_hi = _clamp(clamp)
    if loss_fn is None:
        loss_fn = torch.nn.functional.cross_entropy
    x = x.detach()
    if epsilon == 0:
        return x.clone()
    xr = x.clone().requires_grad_(True)
    logits = model(xr)
    if logits.dim() == 2 and y.numel() and y.max() >= logits.shape[1]:
        raise ValueError(f"y must lie in [0, {logits.shape[1]}) (the model's classes), got {y.max().item()}")
    (grad,) = torch.autograd.grad(loss_fn(logits, y), xr)
    x_adv = x + epsilon * grad.sign()
    if lo_hi is not None:
        x_adv = x_adv.clamp(*lo_hi)
    return x_adv.detach()


def accuracy_under_attack(model, x, y, epsilons, *, clamp=(0.0, 1.0)) -> np.ndarray:
    """Accuracy of ``model`` on FGSM examples made from ``(x, y)``, one value per epsilon.

    Args:
        model: in ``eval()`` mode.
        x, y: ``(B, ...)`` inputs and ``(B,)`` labels.
        epsilons: sequence of budgets; ``0`` gives the clean accuracy.
        clamp: as in :func:`fgsm`.

    Returns:
        ``(len(epsilons),)`` NumPy array of accuracies in ``[0, 1]``.
    """
    import torch

    _check_batch(model, x, y)
    eps = _checks.as_array(epsilons, "epsilons", ndim=1, dtype=np.float64)
    if np.any(eps < 0):
        raise ValueError("epsilons must be >= 0")
    out = []
    for e in eps:
        x_adv = fgsm(model, x, y, float(e), clamp=clamp)
        with torch.no_grad():
            out.append((model(x_adv).argmax(1) == y).float().mean().item())
    return np.array(out)


def adversarial_training(model, loader, *, epochs: int, optimizer, epsilon: float, mix: float = 0.5,
                         clamp=(0.0, 1.0)) -> list[float]:
    r"""Train on FGSM examples made on the fly: :math:`(1 - \mu) L(x, y) + \mu L(x_{\mathrm{adv}}, y)`.

    Each batch is attacked with the current weights (Goodfellow et al., 2015), then the
    weights take one optimiser step on the mixed loss. ``mix=0`` or ``epsilon=0`` is
    ordinary training.

    Args:
        model: ``nn.Module`` (trained in place, left in ``train()`` mode).
        loader: iterable of ``(x, y)`` batches, e.g. :class:`nblib.torch_train.ArrayLoader`.
        epochs: passes over ``loader``.
        optimizer: over ``model``'s parameters.
        epsilon: the FGSM budget.
        mix: :math:`\mu`, the weight of the adversarial loss, in ``[0, 1]``.
        clamp: as in :func:`fgsm`.

    Returns:
        the mean mixed loss of each epoch.
    """
    import torch
    import torch.nn.functional as F

    epochs = _checks.integer(epochs, "epochs", minimum=1)
    epsilon = _checks.positive(epsilon, "epsilon", allow_zero=True)
    mix = _checks.in_range(mix, "mix", 0.0, 1.0)
    if isinstance(loader, (str, bytes)) or not hasattr(loader, "__iter__"):
        raise TypeError(f"loader must be an iterable of (x, y) batches, got {type(loader).__name__}")
    losses = []
    for _ in range(epochs):
        model.train()
        total, count = 0.0, 0
        for x, y in loader:
            x_adv = fgsm(model, x, y, epsilon, clamp=clamp) if mix > 0 else x
            loss = (1 - mix) * F.cross_entropy(model(x), y) + mix * F.cross_entropy(model(x_adv), y)
            if not torch.isfinite(loss):
                raise ArithmeticError("adversarial training diverged: the loss became NaN or inf")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
        if count == 0:
            raise ValueError("adversarial_training: the loader yielded no samples")
        losses.append(total / count)
    return losses
