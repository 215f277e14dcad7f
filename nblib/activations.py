"""Activation functions and their derivatives, in NumPy.

Each entry of :data:`ACTIVATIONS` pairs a function ``f`` with its derivative
``df``, both elementwise on arrays. :func:`apply` lifts a pair into the autograd
graph, which is how :mod:`nblib.nn`'s activation modules are built.

Conventions follow torch: ``relu'(0) = 0``, Leaky ReLU's slope is 0.01 by default,
and GELU is the exact form :math:`x\\,\\Phi(x)` (``approximate="tanh"`` gives the
tanh approximation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _checks

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    return np.tanh(x)


def tanh_grad(x):
    return 1.0 - np.tanh(x) ** 2


def relu(x):
    return np.maximum(x, 0.0)


def relu_grad(x):
    return (np.asarray(x) > 0).astype(float)


def leaky_relu(x, negative_slope: float = 0.01):
    return np.where(np.asarray(x) > 0, x, negative_slope * np.asarray(x))


def leaky_relu_grad(x, negative_slope: float = 0.01):
    return np.where(np.asarray(x) > 0, 1.0, negative_slope)


def _erf(x):
    from scipy.special import erf  # vectorised; scipy comes with scikit-learn

    return erf(x)


def gelu(x, approximate: str = "none"):
    """GELU: :math:`x \\Phi(x)`, with Φ the standard normal CDF (or its tanh approximation)."""
    x = np.asarray(x, dtype=float)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    if approximate != "none":
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1.0 + _erf(x / _SQRT_2))


def gelu_grad(x, approximate: str = "none"):
    x = np.asarray(x, dtype=float)
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = np.tanh(inner)
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t**2) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x**2)
    if approximate != "none":
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    cdf = 0.5 * (1.0 + _erf(x / _SQRT_2))
    pdf = np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    return cdf + x * pdf


def silu(x):
    """SiLU, also called Swish: :math:`x \\sigma(x)`."""
    return np.asarray(x, dtype=float) * sigmoid(x)


def silu_grad(x):
    s = sigmoid(x)
    return s * (1.0 + np.asarray(x, dtype=float) * (1.0 - s))


def softmax(x, axis: int = -1):
    """Softmax along ``axis``, shifted by the maximum so that ``exp`` cannot overflow."""
    x = np.asarray(x, dtype=float)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_jacobian(x) -> np.ndarray:
    """The Jacobian of softmax for one vector ``x`` of shape ``(C,)``: ``diag(p) - p p^T``."""
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
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def apply(x, name: str):
    """The activation ``name`` as an autograd operation on a :class:`~nblib.autograd.Tensor`."""
    from .autograd import elementwise

    act = get(name)
    return elementwise(x, act.f, act.df, name)
