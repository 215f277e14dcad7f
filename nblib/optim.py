"""Optimisers that update :class:`nblib.nn.Parameter` objects in place, with torch's semantics."""

from __future__ import annotations

import numpy as np

from . import _checks
from .autograd import Tensor


class Optimizer:
    """Base class: keeps the parameter list and per-parameter state."""

    def __init__(self, params, lr: float):
        if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
            raise TypeError(f"params must be an iterable of Tensors, got {type(params).__name__}")
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list (params)")
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


def _beta(value, name: str) -> float:
    return _checks.in_range(value, name, 0.0, 1.0, high_open=True)


def _betas(betas, name: str = "betas") -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{name} must be a pair (beta1, beta2), got {betas!r}")
    return _beta(betas[0], f"{name}[0]"), _beta(betas[1], f"{name}[1]")


class RMSprop(Optimizer):
    r"""RMSprop: divide each coordinate's step by a running root-mean-square of its gradients.

    Matches ``torch.optim.RMSprop``. With :math:`g` the gradient (plus :math:`\lambda\theta` when
    ``weight_decay`` is set):

    .. math::
        s \leftarrow \alpha s + (1-\alpha) g^2, \quad
        d = \sqrt{s - \bar g^2 \text{ if centered else } s} + \epsilon, \quad
        \theta \leftarrow \theta - \eta\, g / d

    where the centred form also tracks :math:`\bar g \leftarrow \alpha\bar g + (1-\alpha) g`, so
    that it divides by a running standard deviation rather than a root mean square. With
    ``momentum`` :math:`\mu > 0` the normalised step is accumulated first,
    :math:`b \leftarrow \mu b + g/d`, and :math:`\theta \leftarrow \theta - \eta b`. All running
    quantities start at zero.

    Args:
        params: the parameters to update.
        lr: learning rate :math:`\eta > 0` (torch's default 0.01).
        alpha: smoothing constant :math:`\alpha \in [0, 1)` of the running averages.
        eps: :math:`\epsilon > 0`, added to the denominator so that it is never zero.
        weight_decay: L2 coefficient :math:`\lambda \ge 0` added to the gradient.
        momentum: :math:`\mu \in [0, 1)`.
        centered: divide by the running standard deviation instead of the root mean square.

    Example:
        >>> p = Tensor([1.0, -2.0], requires_grad=True)
        >>> opt = RMSprop([p], lr=0.01)
        >>> p.grad = np.array([0.5, 0.5]); opt.step()
        >>> p.data.round(6)   # the first step is lr / sqrt(1 - alpha) = 0.1 per coordinate
        array([ 0.9, -2.1])
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, lr)
        self.alpha = _beta(alpha, "alpha")
        self.eps = _checks.positive(eps, "eps")
        self.weight_decay = _checks.positive(weight_decay, "weight_decay", allow_zero=True)
        self.momentum = _beta(momentum, "momentum")
        self.centered = bool(centered)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict) -> None:
        if not state:
            state["square_avg"] = np.zeros_like(p.data)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p.data)
            if self.momentum:
                state["momentum_buffer"] = np.zeros_like(p.data)
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data
        a = self.alpha
        state["square_avg"] = a * state["square_avg"] + (1 - a) * grad * grad
        mean_square = state["square_avg"]
        if self.centered:
            state["grad_avg"] = state["grad_avg"] + (1 - a) * (grad - state["grad_avg"])
            mean_square = mean_square - state["grad_avg"] ** 2  # a running variance
        denom = np.sqrt(mean_square) + self.eps
        if self.momentum:
            state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + grad / denom
            step = state["momentum_buffer"]
        else:
            step = grad / denom
        p.data -= (self.lr * step).astype(p.dtype, copy=False)

    def __repr__(self) -> str:
        return (f"RMSprop(lr={self.lr:g}, alpha={self.alpha:g}, eps={self.eps:g}, "
                f"weight_decay={self.weight_decay:g}, momentum={self.momentum:g}, centered={self.centered})")


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop's scaling, and a correction for starting at zero.

    Matches ``torch.optim.Adam``. At step :math:`t = 1, 2, \dots`, with :math:`g` the gradient
    (plus :math:`\lambda\theta`: ``weight_decay`` is an L2 penalty here, see :class:`AdamW`):

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        \theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,
            \frac{m}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    Both averages start at zero, so early on they are biased towards zero; dividing by
    :math:`1-\beta^t` removes that bias. With ``amsgrad`` the denominator uses the largest
    :math:`v` seen so far, so the effective step size never grows.

    Args:
        params: the parameters to update.
        lr: learning rate :math:`\eta > 0` (torch's default 0.001).
        betas: :math:`(\beta_1, \beta_2)`, each in ``[0, 1)``: decay rates of the first and second
            moment averages.
        eps: :math:`\epsilon > 0` in the denominator.
        weight_decay: L2 coefficient :math:`\lambda \ge 0` added to the gradient (it is then
            rescaled by the denominator like the rest of the gradient).
        amsgrad: use the running maximum of :math:`v`.
    """

    _decoupled = False

    def __init__(self, params, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, lr)
        self.betas = _betas(betas)
        self.eps = _checks.positive(eps, "eps")
        self.weight_decay = _checks.positive(weight_decay, "weight_decay", allow_zero=True)
        self.amsgrad = bool(amsgrad)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        beta1, beta2 = self.betas
        state["step"] += 1
        t = state["step"]
        if self.weight_decay:
            if self._decoupled:
                p.data *= np.asarray(1 - self.lr * self.weight_decay, dtype=p.dtype)  # shrink, outside Adam
            else:
                grad = grad + self.weight_decay * p.data  # an L2 term, inside Adam
        state["exp_avg"] = state["exp_avg"] + (1 - beta1) * (grad - state["exp_avg"])
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
        second = state["exp_avg_sq"]
        if self.amsgrad:
            state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], second)
            second = state["max_exp_avg_sq"]
        bias1, bias2 = 1 - beta1**t, 1 - beta2**t
        denom = np.sqrt(second) / np.sqrt(bias2) + self.eps
        p.data -= ((self.lr / bias1) * state["exp_avg"] / denom).astype(p.dtype, copy=False)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(lr={self.lr:g}, betas=({self.betas[0]:g}, {self.betas[1]:g}), "
                f"eps={self.eps:g}, weight_decay={self.weight_decay:g}, amsgrad={self.amsgrad})")


class AdamW(Adam):
    r"""Adam with decoupled weight decay: shrink the weights directly, outside the adaptive step.

    Matches ``torch.optim.AdamW``. Each step first multiplies the parameters by
    :math:`1 - \eta\lambda`, then takes :class:`Adam`'s step with the plain gradient:

    .. math::
        \theta \leftarrow (1 - \eta\lambda)\,\theta, \qquad
        \theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,
            \frac{m}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    With an L2 term inside Adam (``Adam(weight_decay=...)``) the decay is divided by
    :math:`\sqrt{v}` like any gradient, so weights with large gradients are hardly decayed and
    weights with tiny gradients are decayed hard. Decoupling makes every weight decay at the same
    relative rate :math:`\eta\lambda` per step (Loshchilov and Hutter, 2019).

    Args:
        params, lr, betas, eps, amsgrad: as for :class:`Adam`.
        weight_decay: :math:`\lambda \ge 0` (torch's default 0.01).
    """

    _decoupled = True

    def __init__(self, params, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
