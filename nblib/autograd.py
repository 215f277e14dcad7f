"""Reverse-mode automatic differentiation on NumPy arrays.

A :class:`Tensor` wraps an ndarray. Every operation on tensors that require
gradients records its inputs and a small closure that maps the gradient of the
output to the gradients of the inputs. :meth:`Tensor.backward` visits the graph
in reverse topological order and accumulates gradients into the leaves.

Broadcasting follows NumPy. When an input was broadcast in the forward pass, its
gradient is summed over the broadcast axes in the backward pass (see
:func:`unbroadcast`), which is what makes ``x @ W.T + b`` differentiate correctly
for a bias ``b`` of shape ``(out,)``.

Example:
    >>> x = Tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([[2., 4.]])
"""

from __future__ import annotations

import contextlib
import numbers
from typing import Callable, Iterator

import numpy as np

from . import _checks

_grad_enabled = True


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Context in which operations record no graph (evaluation, parameter updates)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    return _grad_enabled


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting.

    Broadcasting prepends axes and stretches axes of length 1; the gradient of a
    broadcast input is the sum of the output gradient over exactly those axes.
    """
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _broadcast_shape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(s) for s in shapes)
        raise ValueError(f"{op}: operands with shapes {listed} cannot be broadcast together") from None


class Tensor:
    """An ndarray that records the operations applied to it, for reverse-mode autodiff.

    Args:
        data: array-like of real numbers. Integer and boolean data are converted to
            float64 (gradients need a floating dtype); float32 and float64 are kept.
        requires_grad: whether :meth:`backward` should compute ``.grad`` for this tensor.

    Attributes:
        data: the wrapped ``numpy.ndarray``.
        grad: the accumulated gradient (an ndarray of ``data``'s shape), or None.
    """

    __array_priority__ = 100  # make `ndarray + Tensor` call Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, (str, bytes)):
            raise TypeError(f"Tensor data must be numeric, got {type(data).__name__}")
        try:
            array = np.asarray(data)
        except (TypeError, ValueError) as err:
            raise TypeError(f"Tensor data must be numeric array-like: {err}") from None
        if array.dtype.kind in "biu":
            array = array.astype(np.float64)
        elif array.dtype.kind != "f":
            raise TypeError(f"Tensor data must hold real numbers, got dtype {array.dtype}")
        self.data: np.ndarray = array
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Callable[[np.ndarray], tuple] | None = None
        self._op = ""

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        extra = f", op={self._op!r}" if self._op else (", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({body}{extra})"

    def numpy(self) -> np.ndarray:
        """The data, detached from the graph."""
        return self.data

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return float(self.data.reshape(()))

    def detach(self) -> Tensor:
        return Tensor(self.data)

    def zero_grad(self) -> None:
        self.grad = None

    # ------------------------------------------------------------ graph making
    def _lift(self, other) -> Tensor:
        """Wrap a Python scalar or array so that it keeps this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Tensor(np.asarray(other, dtype=self.dtype))
        return Tensor(other)

    @staticmethod
    def _result(data: np.ndarray, parents: tuple[Tensor, ...], backward, op: str) -> Tensor:
        out = Tensor(data)
        if _grad_enabled and any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._parents = parents
            out._backward = backward
            out._op = op
        return out

    # ---------------------------------------------------------- elementwise ops
    def __add__(self, other) -> Tensor:
        other = self._lift(other)
        a, b = self, other
        _broadcast_shape("add", a.shape, b.shape)
        return self._result(
            a.data + b.data, (a, b),
            lambda g: (unbroadcast(g, a.shape), unbroadcast(g, b.shape)), "add")

    def __radd__(self, other) -> Tensor:
        return self._lift(other) + self

    def __neg__(self) -> Tensor:
        return self._result(-self.data, (self,), lambda g: (-g,), "neg")

    def __sub__(self, other) -> Tensor:
        other = self._lift(other)
        a, b = self, other
        _broadcast_shape("sub", a.shape, b.shape)
        return self._result(
            a.data - b.data, (a, b),
            lambda g: (unbroadcast(g, a.shape), -unbroadcast(g, b.shape)), "sub")

    def __rsub__(self, other) -> Tensor:
        return self._lift(other) - self

    def __mul__(self, other) -> Tensor:
        other = self._lift(other)
        a, b = self, other
        _broadcast_shape("mul", a.shape, b.shape)
        return self._result(
            a.data * b.data, (a, b),
            lambda g: (unbroadcast(g * b.data, a.shape), unbroadcast(g * a.data, b.shape)), "mul")

    def __rmul__(self, other) -> Tensor:
        return self._lift(other) * self

    def __truediv__(self, other) -> Tensor:
        other = self._lift(other)
        a, b = self, other
        _broadcast_shape("div", a.shape, b.shape)
        out = a.data / b.data
        return self._result(
            out, (a, b),
            lambda g: (unbroadcast(g / b.data, a.shape), unbroadcast(-g * out / b.data, b.shape)), "div")

    def __rtruediv__(self, other) -> Tensor:
        return self._lift(other) / self

    def __pow__(self, exponent) -> Tensor:
        """Power with a scalar exponent, or with a tensor exponent (then the base must be > 0)."""
        if isinstance(exponent, numbers.Real) and not isinstance(exponent, bool):
            p = float(exponent)
            base = self.data
            return self._result(base**p, (self,), lambda g: (g * p * base ** (p - 1),), "pow")
        exponent = self._lift(exponent)
        a, b = self, exponent
        _broadcast_shape("pow", a.shape, b.shape)
        out = a.data**b.data

        def backward(g):
            grad_b = None
            if b.requires_grad:
                with np.errstate(divide="ignore", invalid="ignore"):
                    grad_b = unbroadcast(g * out * np.log(a.data), b.shape)
            return unbroadcast(g * b.data * a.data ** (b.data - 1), a.shape), grad_b

        return self._result(out, (a, b), backward, "pow")

    def __rpow__(self, base) -> Tensor:
        return self._lift(base) ** self

    def exp(self) -> Tensor:
        out = np.exp(self.data)
        return self._result(out, (self,), lambda g: (g * out,), "exp")

    def log(self) -> Tensor:
        x = self.data
        return self._result(np.log(x), (self,), lambda g: (g / x,), "log")

    def relu(self) -> Tensor:
        mask = self.data > 0
        return self._result(self.data * mask, (self,), lambda g: (g * mask,), "relu")

    def sigmoid(self) -> Tensor:
        # 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) for x < 0: neither branch overflows.
        x = self.data
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        return self._result(out, (self,), lambda g: (g * out * (1.0 - out),), "sigmoid")

    def tanh(self) -> Tensor:
        out = np.tanh(self.data)
        return self._result(out, (self,), lambda g: (g * (1.0 - out * out),), "tanh")

    # -------------------------------------------------------------- reductions
    def _normalised_axes(self, axis) -> tuple[int, ...]:
        if axis is None:
            return tuple(range(self.ndim))
        if isinstance(axis, (str, bytes)) or not isinstance(axis, (int, np.integer, tuple, list)):
            raise TypeError(f"axis must be an int, a tuple of ints or None, got {type(axis).__name__}")
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        for a in axes:
            if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
                raise TypeError(f"axis must hold ints, got {type(a).__name__}")
            if not -self.ndim <= a < self.ndim:
                raise ValueError(f"axis {a} is out of range for a tensor of shape {self.shape}")
        return tuple(sorted({int(a) % self.ndim for a in axes}))

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        axes = self._normalised_axes(axis)
        shape = self.shape

        def backward(g):
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g, shape),)

        return self._result(self.data.sum(axis=axes, keepdims=keepdims), (self,), backward, "sum")

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        axes = self._normalised_axes(axis)
        count = int(np.prod([self.shape[a] for a in axes])) if axes else 1
        return self.sum(axis=axes, keepdims=keepdims) * (1.0 / max(count, 1))

    # ---------------------------------------------------------- linear algebra
    def __matmul__(self, other) -> Tensor:
        other = self._lift(other)
        a, b = self, other
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            inner = b.shape[-2 if b.ndim > 1 else 0]
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({a.shape[-1]} != {inner})")
        try:
            out = a.data @ b.data
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of shapes {a.shape} and {b.shape} cannot be broadcast") from None

        def backward(g):
            # Promote 1-D operands to matrices, as np.matmul does, then undo it.
            A = a.data[None, :] if a.ndim == 1 else a.data  # (..., n, k)
            B = b.data[:, None] if b.ndim == 1 else b.data  # (..., k, m)
            G = g.reshape(np.broadcast_shapes(A.shape[:-2], B.shape[:-2]) + (A.shape[-2], B.shape[-1]))
            grad_a = unbroadcast(G @ np.swapaxes(B, -1, -2), A.shape)
            grad_b = unbroadcast(np.swapaxes(A, -1, -2) @ G, B.shape)
            return grad_a.reshape(a.shape), grad_b.reshape(b.shape)

        return self._result(out, (a, b), backward, "matmul")

    def __rmatmul__(self, other) -> Tensor:
        return self._lift(other) @ self

    # ----------------------------------------------------------- shape changes
    def reshape(self, *shape) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
            raise TypeError(f"reshape: shape must hold ints, got {shape}")
        try:
            out = self.data.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"({self.size} elements) into {shape}") from None
        original = self.shape
        return self._result(out, (self,), lambda g: (g.reshape(original),), "reshape")

    def transpose(self, *axes) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = axes or tuple(reversed(range(self.ndim)))
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
            raise TypeError(f"transpose: axes must be ints, got {axes}")
        if len(axes) != self.ndim or not all(-max(self.ndim, 1) <= a < max(self.ndim, 1) for a in axes):
            raise ValueError(f"transpose: axes {axes} are not a permutation of a tensor with shape {self.shape}")
        if sorted(a % max(self.ndim, 1) for a in axes) != list(range(self.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of a tensor with shape {self.shape}")
        inverse = tuple(np.argsort([a % self.ndim for a in axes]))
        return self._result(self.data.transpose(axes), (self,), lambda g: (g.transpose(inverse),), "transpose")

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, index) -> Tensor:
        if isinstance(index, Tensor):
            index = index.data.astype(np.int64)
        shape, dtype = self.shape, self.dtype
        try:
            out = self.data[index]
        except IndexError as err:
            raise IndexError(f"index into a tensor of shape {shape}: {err}") from None

        def backward(g):
            grad = np.zeros(shape, dtype=dtype)
            np.add.at(grad, index, g)  # repeated indices accumulate
            return (grad,)

        return self._result(np.array(out, copy=True), (self,), backward, "getitem")

    # --------------------------------------------------------------- backward
    def backward(self, grad=None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is the gradient flowing into this tensor; it may be omitted only for
        a tensor with one element (a loss), where it defaults to 1.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad "
                               "(no input had requires_grad=True, or it was made under no_grad())")
        if grad is None:
            if self.size != 1:
                raise ValueError(f"backward() without a gradient needs a one-element tensor, got shape {self.shape}; "
                                 "pass grad= explicitly or reduce to a scalar first")
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward(): grad has shape {grad.shape} but the tensor has shape {self.shape}")

        order = self._topological_order()
        grads: dict[int, np.ndarray] = {id(self): grad}
        for node in order:
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if not node._parents:  # a leaf
                node.grad = g.copy() if node.grad is None else node.grad + g
                continue
            for parent, pg in zip(node._parents, node._backward(g)):
                if pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg

    def _topological_order(self) -> list[Tensor]:
        """Nodes reachable from self, each after every node that uses it (iterative DFS)."""
        order: list[Tensor] = []
        visited: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for parent in node._parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
        order.reverse()
        return order


# ------------------------------------------------------------------ functions
def tensor(data, requires_grad: bool = False) -> Tensor:
    return Tensor(data, requires_grad=requires_grad)


def elementwise(x: Tensor, f: Callable[[np.ndarray], np.ndarray], df: Callable[[np.ndarray], np.ndarray],
                op: str) -> Tensor:
    """Apply ``f`` elementwise, with derivative ``df``: the chain rule gives ``grad * df(x)``.

    This is how new activation functions join the graph without touching Tensor::

        elementwise(x, np.sin, np.cos, "sin")
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{op} expects a Tensor, got {type(x).__name__} for x")
    data = x.data
    return Tensor._result(f(data).astype(data.dtype, copy=False), (x,), lambda g: (g * df(data),), op)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``, computed without overflow.

    Subtracting the maximum first keeps ``exp`` in range; the shift cancels in the
    result, so the gradient needs no term for it.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"log_softmax expects a Tensor, got {type(x).__name__} for x")
    _checks.axis(axis, max(x.ndim, 1))
    if x.size == 0:
        return Tensor._result(x.data.copy(), (x,), lambda g: (g,), "log_softmax")
    shifted = x.data - x.data.max(axis=axis, keepdims=True)
    logsumexp = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    out = shifted - logsumexp
    softmax = np.exp(out)
    return Tensor._result(
        out, (x,), lambda g: (g - softmax * g.sum(axis=axis, keepdims=True),), "log_softmax")


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return log_softmax(x, axis=axis).exp()


def cross_entropy(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """Cross-entropy between logits ``(N, C)`` and integer class targets ``(N,)``, as torch's.

    Args:
        logits: unnormalised scores, shape ``(N, C)``.
        target: class indices in ``[0, C)``, shape ``(N,)``.
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
    """
    from ._checks import as_labels

    if not isinstance(logits, Tensor):
        raise TypeError(f"cross_entropy: logits must be a Tensor, got {type(logits).__name__}")
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    n, c = logits.shape
    target = as_labels(target.data if isinstance(target, Tensor) else target, "target", n=n, n_classes=c)
    picked = log_softmax(logits, axis=1)[np.arange(n), target]  # (N,)
    losses = -picked
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()
