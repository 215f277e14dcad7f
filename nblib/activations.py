"""Activation functions and their derivatives, in NumPy.

Each entry of :data:`ACTIVATIONS` pairs a function ``f`` with its derivative
``df``, both elementwise on arrays. :func:`apply` lifts a pair into the autograd
graph, which is how :mod:`nblib.nn`'s activation modules are built.

Conventions follow torch: ``relu'(0) = 0``, Leaky ReLU's slope is 0.01 by default
and its derivative at 0 is the slope, and GELU is the exact form
:math:`x\\,\\Phi(x)` (``approximate="tanh"`` gives the tanh approximation).

Every function keeps a floating input's dtype (float32 stays float32, so that a
float32 network is not silently promoted to float64) and turns integer input into
float64.

Example:
    >>> relu_grad(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _checks

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715  # the cubic coefficient of GELU's tanh approximation


def _float(x) -> np.ndarray:
    """``x`` as a floating array: float32/float64 kept, anything else converted to float64."""
    x = _checks.as_array(x, "x", finite=False)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def sigmoid(x):
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, in :math:`(0, 1)`.

    Computed as :math:`1/(1+e^{-|x|})` or :math:`e^{-|x|}/(1+e^{-|x|})` by sign, so
    that no exponential overflows.
    """
    x = _float(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def sigmoid_grad(x):
    r""":math:`\sigma'(x) = \sigma(x)\,(1 - \sigma(x))`, at most 1/4 (at :math:`x = 0`)."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    r"""Hyperbolic tangent, in :math:`(-1, 1)`: :math:`\tanh(x) = 2\sigma(2x) - 1`."""
    return np.tanh(_float(x))


def tanh_grad(x):
    r""":math:`\tanh'(x) = 1 - \tanh^2(x)`, at most 1 (at :math:`x = 0`)."""
    t = np.tanh(_float(x))
    return 1.0 - t * t


def relu(x):
    r"""Rectified linear unit :math:`\max(x, 0)`."""
    x = _float(x)
    return np.maximum(x, 0.0).astype(x.dtype, copy=False)


def relu_grad(x):
    """1 where ``x > 0`` and 0 elsewhere (0 at the kink, like torch)."""
    x = _float(x)
    return (x > 0).astype(x.dtype)


def leaky_relu(x, negative_slope: float = 0.01):
    r""":math:`x` for :math:`x > 0`, :math:`\alpha x` otherwise, with :math:`\alpha` = ``negative_slope``."""
    x = _float(x)
    _checks.as_real(negative_slope, "negative_slope")
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype, copy=False)


def leaky_relu_grad(x, negative_slope: float = 0.01):
    """1 where ``x > 0``, ``negative_slope`` elsewhere (the slope at the kink, like torch)."""
    x = _float(x)
    _checks.as_real(negative_slope, "negative_slope")
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype)


def _erf(x):
    from scipy.special import erf  # vectorised; scipy comes with scikit-learn

    return erf(x)


def _check_approximate(approximate: str) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(x, approximate: str = "none"):
    r"""Gaussian error linear unit :math:`x\,\Phi(x)`, with :math:`\Phi` the standard normal CDF.

    ``approximate="tanh"`` gives torch's fast form
    :math:`\tfrac12 x\,(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715\,x^3)))`.
    """
    _check_approximate(approximate)
    x = _float(x)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3)))
    return 0.5 * x * (1.0 + _erf(x / _SQRT_2))


def gelu_grad(x, approximate: str = "none"):
    r""":math:`\frac{d}{dx}\,x\Phi(x) = \Phi(x) + x\,\varphi(x)`, with :math:`\varphi` the normal density.

    For ``approximate="tanh"``, the derivative of the tanh form (by the product and
    chain rules).
    """
    _check_approximate(approximate)
    x = _float(x)
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3))
        dinner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x**2)
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner
    cdf = 0.5 * (1.0 + _erf(x / _SQRT_2))
    pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return cdf + x * pdf


def silu(x):
    r"""SiLU, also called Swish: :math:`x\,\sigma(x)`."""
    x = _float(x)
    return x * sigmoid(x)


def silu_grad(x):
    r""":math:`\frac{d}{dx}\,x\sigma(x) = \sigma(x)\,(1 + x\,(1 - \sigma(x)))`."""
    x = _float(x)
    s = sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


def softmax(x, axis: int = -1):
    r"""Softmax along ``axis``: :math:`p_k = e^{x_k} / \sum_j e^{x_j}`.

    The maximum is subtracted first, which leaves the result unchanged and keeps
    ``exp`` from overflowing.
    """
    x = _float(x)
    _checks.axis(axis, max(x.ndim, 1))
    if x.size == 0:
        return x.copy()
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_jacobian(x) -> np.ndarray:
    r"""The Jacobian of softmax for one vector: :math:`\partial p_i / \partial x_j = p_i(\delta_{ij} - p_j)`.

    Args:
        x: logits, shape ``(C,)``.

    Returns:
        ``diag(p) - p p^T``, shape ``(C, C)``: symmetric, and every row sums to zero
        (adding a constant to all logits changes nothing).
    """
    x = _checks.as_array(x, "x", ndim=1)
    p = softmax(x)
    return np.diag(p) - np.outer(p, p)


@dataclass(frozen=True)
class Activation:
    """An elementwise activation ``f`` and its derivative ``df``."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]


ACTIVATIONS: dict[str, Activation] = {
    a.name: a for a in (
        Activation("sigmoid", sigmoid, sigmoid_grad),
        Activation("tanh", tanh, tanh_grad),
        Activation("relu", relu, relu_grad),
        Activation("leaky_relu", leaky_relu, leaky_relu_grad),
        Activation("gelu", gelu, gelu_grad),
        Activation("silu", silu, silu_grad),
    )
}


def get(name: str) -> Activation:
    """Look an activation up by name (``"relu"``, ``"gelu"``, ...)."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; name must be one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def apply(x, name: str):
    """The activation ``name`` as an autograd operation on a :class:`~nblib.autograd.Tensor`.

    Example:
        >>> from nblib.autograd import Tensor
        >>> x = Tensor([-1.0, 2.0], requires_grad=True)
        >>> apply(x, "relu").sum().backward()
        >>> x.grad
        array([0., 1.])
    """
    from .autograd import elementwise

    act = get(name)
    return elementwise(x, act.f, act.df, name)
