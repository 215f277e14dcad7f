"""Optimisers that update :class:`nblib.nn.Parameter` objects in place, with torch's semantics."""

from __future__ import annotations

import numpy as np

from . import _checks
from .autograd import Tensor


class Optimizer:
    """Base class: keeps the parameter list and per-parameter state."""

    def __init__(self, params, lr: float):
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"params[{i}] must be a Tensor with requires_grad=True, got {type(p).__name__}")
        self.lr = _checks.positive(lr, "lr")
        self.state: dict[int, dict[str, np.ndarray]] = {id(p): {} for p in self.params}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        for p in self.params:
            if p.grad is not None:
                self._update(p, p.grad, self.state[id(p)])

    def _update(self, p: Tensor, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameter tensors)"


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    Matches ``torch.optim.SGD`` (with ``dampening=0``):

    .. math::
        g \leftarrow \nabla_\theta L + \lambda\theta,\quad
        v \leftarrow \mu v + g,\quad
        \theta \leftarrow \theta - \eta\,(g + \mu v \text{ if Nesterov else } v)

    Args:
        params: the parameters to update, e.g. ``model.parameters()``.
        lr: learning rate :math:`\eta > 0`.
        momentum: :math:`\mu \in [0, 1)`; 0 gives plain SGD.
        nesterov: use Nesterov's look-ahead form (needs ``momentum > 0``).
        weight_decay: L2 coefficient :math:`\lambda \ge 0` added to the gradient.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = _checks.in_range(momentum, "momentum", 0.0, 1.0, high_open=True)
        self.weight_decay = _checks.positive(weight_decay, "weight_decay", allow_zero=True)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = grad.copy()  # torch starts the buffer at the first gradient
            else:
                state["velocity"] = self.momentum * state["velocity"] + grad
            v = state["velocity"]
            grad = grad + self.momentum * v if self.nesterov else v
        p.data -= (self.lr * grad).astype(p.dtype, copy=False)

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, nesterov={self.nesterov}, "
                f"weight_decay={self.weight_decay:g})")
