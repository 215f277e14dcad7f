"""Central-difference gradient checking.

For a scalar function :math:`f`, the central difference
:math:`(f(x + \\epsilon e_i) - f(x - \\epsilon e_i)) / 2\\epsilon` has error
:math:`O(\\epsilon^2)`, against :math:`O(\\epsilon)` for a one-sided difference.
In float64 with :math:`\\epsilon = 10^{-6}` it agrees with an exact gradient to
about 1e-8 relative, which is what makes it a trustworthy reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from . import _checks
from .autograd import Tensor


def numerical_grad(f: Callable[[np.ndarray], float], x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f`` at ``x`` (float64)."""
    eps = _checks.positive(eps, "eps")
    x = _checks.as_array(x, "x", dtype=np.float64).copy()
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        up = float(f(x))
        flat[i] = saved - eps
        down = float(f(x))
        flat[i] = saved
        gflat[i] = (up - down) / (2 * eps)
    return grad


@dataclass(frozen=True)
class GradcheckResult:
    """Largest absolute and relative errors between analytic and numerical gradients."""

    max_abs_error: float
    max_rel_error: float
    passed: bool

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return f"GradcheckResult({verdict}: max abs error {self.max_abs_error:.2e}, max rel error {self.max_rel_error:.2e})"


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Tensor], eps: float = 1e-6,
              rtol: float = 1e-6, atol: float = 1e-8, seed: int = 0) -> GradcheckResult:
    """Compare :meth:`Tensor.backward` gradients of ``fn(*inputs)`` with central differences.

    A non-scalar output is reduced to the scalar ``sum(out * r)`` with a fixed random
    ``r``, which checks the full vector-Jacobian product rather than only its sum.
    Inputs must be float64: float32 rounding swamps a central difference.
    """
    if isinstance(inputs, (str, bytes, Tensor)) or not hasattr(inputs, "__iter__"):
        raise TypeError(f"inputs must be a sequence of Tensors, got {type(inputs).__name__}")
    inputs = list(inputs)
    if not inputs:
        raise ValueError("inputs is empty: pass the Tensors to differentiate")
    eps = _checks.positive(eps, "eps")
    if eps >= 1:
        raise ValueError(f"eps is a finite-difference step and must be < 1, got {eps}")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"inputs[{i}] must be a Tensor, got {type(t).__name__}")
        if t.dtype != np.float64:
            raise TypeError(f"inputs[{i}] must be float64 for gradient checking, got {t.dtype}")
    weights = None

    def scalar(out: Tensor) -> Tensor:
        nonlocal weights
        if out.size == 1:
            return out.sum()
        if weights is None:
            weights = np.random.default_rng(seed).standard_normal(out.shape)
        return (out * weights).sum()

    for t in inputs:
        t.grad = None
    scalar(fn(*inputs)).backward()
    analytic = [np.zeros_like(t.data) if t.grad is None else t.grad.copy() for t in inputs]

    max_abs = max_rel = 0.0
    passed = True
    for k, t in enumerate(inputs):
        original = t.data.copy()

        def f(values, k=k):
            t.data = values
            return scalar(fn(*inputs)).item()

        numeric = numerical_grad(f, original, eps)
        t.data = original
        diff = np.abs(analytic[k] - numeric)
        max_abs = max(max_abs, float(diff.max(initial=0.0)))
        rel = diff / np.maximum(np.abs(numeric), atol / rtol)
        max_rel = max(max_rel, float(rel.max(initial=0.0)))
        passed &= bool(np.allclose(analytic[k], numeric, rtol=rtol, atol=atol))
    return GradcheckResult(max_abs, max_rel, passed)
