r"""Convolution and pooling from scratch, in NumPy, with torch's layout and argument names.

A 2-D convolution layer (in deep learning's sense: a cross-correlation, no kernel flip)
maps an input ``x`` of shape ``(N, C, H, W)`` and a weight ``w`` of shape
``(F, C, kH, kW)`` to

.. math::

    y_{n,f,i,j} = b_f + \sum_{c} \sum_{u=0}^{kH-1} \sum_{v=0}^{kW-1}
        w_{f,c,u,v}\; \tilde x_{n,c,\,s i + d u,\; s j + d v},

where :math:`\tilde x` is ``x`` padded with ``p`` zeros on every side, :math:`s` is the
stride and :math:`d` the dilation. Along each axis the output has

.. math::

    \left\lfloor \frac{H + 2p - d(k - 1) - 1}{s} \right\rfloor + 1

positions (:func:`conv_output_size`).

Everything here rests on one rearrangement, :func:`im2col`: copy every window of the input
that the kernel visits into a column of a matrix of shape ``(N, C kH kW, L)``, with ``L``
output positions. The convolution is then one matrix product with the weight reshaped
to ``(F, C kH kW)``, and its gradients are two more matrix products plus
:func:`col2im`, which adds each column back into the windows it came from. Pooling
uses the same windows, one channel at a time, with a maximum or a mean in place of the
product. The layout of ``im2col``'s columns is that of ``torch.nn.functional.unfold``,
and ``col2im`` is ``torch.nn.functional.fold``.

The ``*_forward``/``*_backward`` functions work on plain arrays. :func:`conv2d`,
:func:`max_pool2d` and :func:`avg_pool2d` wrap them as operations on
:class:`nblib.autograd.Tensor`, and :class:`Conv2d`, :class:`MaxPool2d`,
:class:`AvgPool2d` and :class:`Flatten` are the matching :class:`nblib.nn.Module` layers,
so an nblib CNN trains like an nblib MLP.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks
from . import rng as _rng
from .autograd import Tensor
from .nn import Module, Parameter


# ----------------------------------------------------------------------------- helpers
def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, as torch accepts for kernel_size, stride, padding and dilation."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return (_checks.integer(value[0], name, minimum=minimum), _checks.integer(value[1], name, minimum=minimum))
    value = _checks.integer(value, name, minimum=minimum)
    return value, value


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    r"""Positions along one axis: :math:`\lfloor (size + 2p - d(k-1) - 1)/s \rfloor + 1`.

    Raises:
        ValueError: if the (dilated) kernel does not fit in the padded input.

    Example:
        >>> conv_output_size(28, 3, stride=2, padding=1)
        14
    """
    size = _checks.integer(size, "size", minimum=1)
    kernel_size = _checks.integer(kernel_size, "kernel_size", minimum=1)
    stride = _checks.integer(stride, "stride", minimum=1)
    padding = _checks.integer(padding, "padding", minimum=0)
    dilation = _checks.integer(dilation, "dilation", minimum=1)
    span = dilation * (kernel_size - 1) + 1  # the dilated kernel's extent
    if span > size + 2 * padding:
        raise ValueError(f"the kernel spans {span} positions (kernel_size={kernel_size}, dilation={dilation}) "
                         f"but the padded input has only {size + 2 * padding} (size={size}, padding={padding})")
    return (size + 2 * padding - span) // stride + 1


def _as_input(x, name: str = "x") -> np.ndarray:
    arr = _checks.as_array(x, name)
    if arr.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got shape {arr.shape}")
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _geometry(shape, kernel_size, stride, padding, dilation):
    """Kernel, stride, padding, dilation as pairs, and the output height and width."""
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    sh, sw = _pair(stride, "stride", 1)
    ph, pw = _pair(padding, "padding", 0)
    dh, dw = _pair(dilation, "dilation", 1)
    H, W = shape[-2:]
    oh = conv_output_size(H, kh, sh, ph, dh)
    ow = conv_output_size(W, kw, sw, pw, dw)
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow)


# ------------------------------------------------------------------------- im2col
def im2col(x, kernel_size, stride=1, padding=0, dilation=1, pad_value: float = 0.0) -> np.ndarray:
    """Every window the kernel visits, as a column: ``(N, C, H, W) -> (N, C*kH*kW, L)``.

    Column ``l = i * OW + j`` holds the window under output position ``(i, j)``; its rows run
    over channels, then kernel rows, then kernel columns (torch's ``unfold`` order). The
    copy is made with one strided slice per kernel offset: ``kH * kW`` slices, each
    covering all windows at once.

    Args:
        x: input of shape ``(N, C, H, W)``.
        kernel_size, stride, padding, dilation: ints or ``(height, width)`` pairs.
        pad_value: what padding adds around the input (0 for convolution, ``-inf`` for max-pooling).

    Shape:
        output ``(N, C * kH * kW, OH * OW)``, with ``OH``, ``OW`` from :func:`conv_output_size`.

    Example:
        >>> im2col(np.arange(16.0).reshape(1, 1, 4, 4), 2, stride=2)[0]
        array([[ 0.,  2.,  8., 10.],
               [ 1.,  3.,  9., 11.],
               [ 4.,  6., 12., 14.],
               [ 5.,  7., 13., 15.]])
    """
    x = _as_input(x)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = _geometry(x.shape, kernel_size, stride, padding, dilation)
    n, c = x.shape[:2]
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u * dh, u * dh + sh * (oh - 1) + 1, sh)  # the rows that kernel row u meets
            columns = slice(v * dw, v * dw + sw * (ow - 1) + 1, sw)
            cols[:, :, u, v] = x[:, :, rows, columns]  # (N, C, OH, OW)
    return cols.reshape(n, c * kh * kw, oh * ow)


def col2im(cols, output_size, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """The adjoint of :func:`im2col`: add each column back into the window it came from.

    Where windows overlap, their contributions add up, which is exactly what the gradient
    of :func:`im2col` needs (a pixel used by several windows collects the gradient of each).
    It is torch's ``fold``.

    Args:
        cols: columns of shape ``(N, C*kH*kW, L)``.
        output_size: ``(H, W)`` of the image to rebuild (the input size of ``im2col``).

    Shape:
        output ``(N, C, H, W)``.
    """
    cols = _checks.as_array(cols, "cols")
    if cols.ndim != 3:
        raise ValueError(f"cols must have shape (N, C*kH*kW, L), got shape {cols.shape}")
    H, W = _pair(output_size, "output_size", 1)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = _geometry((H, W), kernel_size, stride, padding, dilation)
    n, rows_per_channel, length = cols.shape
    if rows_per_channel % (kh * kw) or length != oh * ow:
        raise ValueError(f"cols has shape {cols.shape}, which does not fit a {kh}x{kw} kernel over an image of "
                         f"size {(H, W)}: expected (N, C*{kh * kw}, {oh * ow})")
    c = rows_per_channel // (kh * kw)
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    out = np.zeros((n, c, H + 2 * ph, W + 2 * pw), dtype=cols.dtype if cols.dtype.kind == "f" else np.float64)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u * dh, u * dh + sh * (oh - 1) + 1, sh)
            columns = slice(v * dw, v * dw + sw * (ow - 1) + 1, sw)
            out[:, :, rows, columns] += cols[:, :, u, v]
    return out[:, :, ph:ph + H, pw:pw + W]


# ---------------------------------------------------------------------- convolution
def _check_weight(x: np.ndarray, weight, bias):
    weight = _checks.as_array(weight, "weight")
    if weight.ndim != 4:
        raise ValueError(f"weight must have shape (out_channels, in_channels, kH, kW), got shape {weight.shape}")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight expects {weight.shape[1]} input channels (shape {weight.shape}) "
                         f"but x has {x.shape[1]} (shape {x.shape})")
    if bias is not None:
        bias = _checks.as_array(bias, "bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias must have shape ({weight.shape[0]},), one per output channel, got {bias.shape}")
    return weight, bias


def conv2d_forward(x, weight, bias=None, stride=1, padding=0, dilation=1) -> np.ndarray:
    """2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d`` with ``groups=1``.

    Args:
        x: input ``(N, C, H, W)``.
        weight: kernels ``(F, C, kH, kW)``.
        bias: ``(F,)`` or None.
        stride, padding, dilation: ints or ``(height, width)`` pairs; padding adds zeros.

    Shape:
        output ``(N, F, OH, OW)`` (see :func:`conv_output_size`).

    Example:
        >>> x = np.ones((2, 3, 5, 5))
        >>> conv2d_forward(x, np.ones((4, 3, 3, 3)), padding=1).shape
        (2, 4, 5, 5)
    """
    x = _as_input(x)
    weight, bias = _check_weight(x, weight, bias)
    kernel = weight.shape[2:]
    *_, (oh, ow) = _geometry(x.shape, kernel, stride, padding, dilation)
    cols = im2col(x, kernel, stride, padding, dilation)  # (N, C*kH*kW, L)
    out = np.matmul(weight.reshape(weight.shape[0], -1), cols)  # (F, Ckk) @ (N, Ckk, L) -> (N, F, L)
    if bias is not None:
        out += bias[:, None]
    return out.reshape(x.shape[0], weight.shape[0], oh, ow)


def conv2d_backward(grad_output, x, weight, stride=1, padding=0, dilation=1) -> tuple:
    r"""Gradients of a loss with respect to the input, weight and bias of :func:`conv2d_forward`.

    With ``X = im2col(x)`` and ``Wm = weight`` reshaped to ``(F, C kH kW)`` the forward pass is
    ``Y = Wm @ X + b``, so for the upstream gradient ``G = dL/dY``:

    * ``dL/dWm = sum over n of G @ X.T`` (each window, weighted by the gradient at its output);
    * ``dL/dX = Wm.T @ G``, which :func:`col2im` folds back onto the input pixels;
    * ``dL/db = G`` summed over samples and positions.

    Returns:
        ``(grad_input, grad_weight, grad_bias)`` with the shapes of ``x``, ``weight`` and ``(F,)``.
    """
    x = _as_input(x)
    weight, _ = _check_weight(x, weight, None)
    kernel = weight.shape[2:]
    *_, (oh, ow) = _geometry(x.shape, kernel, stride, padding, dilation)
    n, f = x.shape[0], weight.shape[0]
    grad_output = _checks.as_array(grad_output, "grad_output")
    if grad_output.shape != (n, f, oh, ow):
        raise ValueError(f"grad_output must have the output's shape {(n, f, oh, ow)}, got {grad_output.shape}")
    g = grad_output.reshape(n, f, oh * ow)  # (N, F, L)
    cols = im2col(x, kernel, stride, padding, dilation)  # (N, CkK, L)
    grad_weight = np.einsum("nfl,nkl->fk", g, cols).reshape(weight.shape)
    grad_cols = np.matmul(weight.reshape(f, -1).T, g)  # (CkK, F) @ (N, F, L) -> (N, CkK, L)
    grad_input = col2im(grad_cols, x.shape[2:], kernel, stride, padding, dilation)
    return grad_input, grad_weight, g.sum(axis=(0, 2))


# ------------------------------------------------------------------------- pooling
def _pool_geometry(x: np.ndarray, kernel_size, stride, padding):
    stride = kernel_size if stride is None else stride
    (kh, kw), (sh, sw), (ph, pw), _, (oh, ow) = _geometry(x.shape, kernel_size, stride, padding, 1)
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"padding {(ph, pw)} must be at most half the kernel size {(kh, kw)} "
                         "(as in torch): a window could otherwise see padding only")
    return (kh, kw), (sh, sw), (ph, pw), (oh, ow)


def _channel_columns(x: np.ndarray, kernel, stride, padding, pad_value: float) -> np.ndarray:
    """Windows of every channel separately: ``(N, C, H, W) -> (N, C, kH*kW, L)``."""
    n, c, h, w = x.shape
    cols = im2col(x.reshape(n * c, 1, h, w), kernel, stride, padding, pad_value=pad_value)
    return cols.reshape(n, c, cols.shape[1], cols.shape[2])


def max_pool2d_forward(x, kernel_size, stride=None, padding=0, return_indices: bool = False):
    """Maximum over each window, per channel, as ``torch.nn.functional.max_pool2d``.

    Padding adds ``-inf``, so it never wins. With ``return_indices=True`` it also returns,
    like torch, the flat index ``row * W + col`` of each maximum in its input channel (the
    first maximum in reading order when several tie).

    Args:
        x: input ``(N, C, H, W)``.
        kernel_size: int or pair; stride defaults to ``kernel_size`` (non-overlapping windows).
        padding: at most half the kernel size.

    Shape:
        output ``(N, C, OH, OW)``.
    """
    x = _as_input(x)
    kernel, stride, padding, (oh, ow) = _pool_geometry(x, kernel_size, stride, padding)
    cols = _channel_columns(x, kernel, stride, padding, -np.inf)  # (N, C, kk, L)
    winner = cols.argmax(axis=2)  # (N, C, L): the first maximum of each window
    out = np.take_along_axis(cols, winner[:, :, None], axis=2)[:, :, 0].reshape(*x.shape[:2], oh, ow)
    if not return_indices:
        return out
    (_, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    position = np.arange(oh * ow)
    row = (position // ow) * sh - ph + winner // kw  # the winner's row in the unpadded input
    col = (position % ow) * sw - pw + winner % kw
    return out, (row * x.shape[3] + col).reshape(*x.shape[:2], oh, ow).astype(np.int64)


def max_pool2d_backward(grad_output, x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Gradient of :func:`max_pool2d_forward` with respect to ``x``.

    Each window passes its gradient to its maximum only; a pixel that is the maximum of
    several overlapping windows collects all of their gradients.
    """
    x = _as_input(x)
    kernel, stride_, padding_, (oh, ow) = _pool_geometry(x, kernel_size, stride, padding)
    grad_output = _checks.as_array(grad_output, "grad_output")
    if grad_output.shape != (*x.shape[:2], oh, ow):
        raise ValueError(f"grad_output must have the output's shape {(*x.shape[:2], oh, ow)}, got {grad_output.shape}")
    cols = _channel_columns(x, kernel, stride_, padding_, -np.inf)  # (N, C, kk, L)
    winner = cols.argmax(axis=2)
    grad_cols = np.zeros_like(cols)
    np.put_along_axis(grad_cols, winner[:, :, None], grad_output.reshape(*x.shape[:2], 1, oh * ow), axis=2)
    n, c, h, w = x.shape
    grad = col2im(grad_cols.reshape(n * c, -1, oh * ow), (h, w), kernel, stride_, padding_)
    return grad.reshape(x.shape)


def _avg_divisor(x: np.ndarray, kernel, stride, padding, count_include_pad: bool) -> np.ndarray | float:
    if count_include_pad or padding == (0, 0):
        return float(kernel[0] * kernel[1])
    ones = np.ones((1, 1, *x.shape[2:]), dtype=x.dtype)
    return im2col(ones, kernel, stride, padding).sum(axis=1)[0]  # (L,): real pixels per window


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, count_include_pad: bool = True) -> np.ndarray:
    """Mean over each window, per channel, as ``torch.nn.functional.avg_pool2d``.

    Padding adds zeros; with ``count_include_pad=False`` each window is divided by the
    number of real pixels it covers instead of the full kernel size.
    """
    x = _as_input(x)
    kernel, stride, padding, (oh, ow) = _pool_geometry(x, kernel_size, stride, padding)
    cols = _channel_columns(x, kernel, stride, padding, 0.0)  # (N, C, kk, L)
    out = cols.sum(axis=2) / _avg_divisor(x, kernel, stride, padding, count_include_pad)
    return out.reshape(*x.shape[:2], oh, ow)


def avg_pool2d_backward(grad_output, x, kernel_size, stride=None, padding=0,
                        count_include_pad: bool = True) -> np.ndarray:
    """Gradient of :func:`avg_pool2d_forward`: each window spreads its gradient evenly over its pixels."""
    x = _as_input(x)
    kernel, stride_, padding_, (oh, ow) = _pool_geometry(x, kernel_size, stride, padding)
    grad_output = _checks.as_array(grad_output, "grad_output")
    if grad_output.shape != (*x.shape[:2], oh, ow):
        raise ValueError(f"grad_output must have the output's shape {(*x.shape[:2], oh, ow)}, got {grad_output.shape}")
    n, c, h, w = x.shape
    share = grad_output.reshape(n * c, 1, oh * ow) / _avg_divisor(x, kernel, stride_, padding_, count_include_pad)
    grad_cols = np.broadcast_to(share, (n * c, kernel[0] * kernel[1], oh * ow))
    return col2im(grad_cols, (h, w), kernel, stride_, padding_).reshape(x.shape).astype(x.dtype, copy=False)


# ------------------------------------------------------------- autograd operations
def _tensor(value, name: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be an nblib Tensor, got {type(value).__name__}")
    return value


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1) -> Tensor:
    """:func:`conv2d_forward` as an autograd operation: gradients flow to ``x``, ``weight`` and ``bias``."""
    x, weight = _tensor(x, "x"), _tensor(weight, "weight")
    parents = (x, weight) if bias is None else (x, weight, _tensor(bias, "bias"))
    out = conv2d_forward(x.data, weight.data, None if bias is None else bias.data, stride, padding, dilation)

    def backward(g):
        grad_x, grad_w, grad_b = conv2d_backward(g, x.data, weight.data, stride, padding, dilation)
        return (grad_x, grad_w) if bias is None else (grad_x, grad_w, grad_b)

    return Tensor._result(out, parents, backward, "conv2d")


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0) -> Tensor:
    """:func:`max_pool2d_forward` as an autograd operation."""
    x = _tensor(x, "x")
    out = max_pool2d_forward(x.data, kernel_size, stride, padding)
    return Tensor._result(out, (x,), lambda g: (max_pool2d_backward(g, x.data, kernel_size, stride, padding),),
                          "max_pool2d")


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, count_include_pad: bool = True) -> Tensor:
    """:func:`avg_pool2d_forward` as an autograd operation."""
    x = _tensor(x, "x")
    out = avg_pool2d_forward(x.data, kernel_size, stride, padding, count_include_pad)
    return Tensor._result(
        out, (x,), lambda g: (avg_pool2d_backward(g, x.data, kernel_size, stride, padding, count_include_pad),),
        "avg_pool2d")


# ------------------------------------------------------------------------- modules
class Conv2d(Module):
    r"""2-D convolution layer with torch's arguments, initialisation and shapes (``groups=1``).

    Args:
        in_channels, out_channels: channels ``C`` of the input and ``F`` of the output.
        kernel_size, stride, padding, dilation: ints or ``(height, width)`` pairs.
        bias: whether to learn one bias per output channel.
        dtype: parameter dtype (float32 by default; float64 for gradient checks).
        rng: generator or seed for the initialisation.

    Initialisation follows torch: weight and bias uniform in :math:`\pm 1/\sqrt{C\,kH\,kW}`.

    Shape:
        input ``(N, C, H, W)``, output ``(N, F, OH, OW)``.

    Example:
        >>> Conv2d(1, 8, 3, padding=1, rng=0)(np.zeros((2, 1, 8, 8))).shape
        (2, 8, 8, 8)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, dtype=np.float32, rng=None):
        self.in_channels = _checks.integer(in_channels, "in_channels", minimum=1)
        self.out_channels = _checks.integer(out_channels, "out_channels", minimum=1)
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        self.dilation = _pair(dilation, "dilation", 1)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"dtype must be a floating type, got {self.dtype}")
        self.weight = Parameter(np.zeros((out_channels, in_channels, *self.kernel_size), dtype=self.dtype))
        self.bias = Parameter(np.zeros(out_channels, dtype=self.dtype)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        gen = _rng.resolve(rng)
        bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        self.weight.data[...] = gen.uniform(-bound, bound, self.weight.shape)
        if self.bias is not None:
            self.bias.data[...] = gen.uniform(-bound, bound, self.bias.shape)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d expected input of shape (N, {self.in_channels}, H, W), got {x.shape}")
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, bias={self.bias is not None}")


class MaxPool2d(Module):
    """Max-pooling layer: ``MaxPool2d(2)`` halves the height and width."""

    def __init__(self, kernel_size, stride=None, padding=0):
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(MaxPool2d):
    """Average-pooling layer (zero padding counted in the mean, as torch's default)."""

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class Flatten(Module):
    """``(N, C, H, W) -> (N, C*H*W)``: the bridge from feature maps to a Linear layer."""

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2:
            raise ValueError(f"Flatten needs a batch dimension: input must be at least 1-D, got shape {x.shape}")
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64)))


__all__ = [
    "AvgPool2d", "Conv2d", "Flatten", "MaxPool2d", "avg_pool2d", "avg_pool2d_backward", "avg_pool2d_forward",
    "col2im", "conv2d", "conv2d_backward", "conv2d_forward", "conv_output_size", "im2col",
    "max_pool2d", "max_pool2d_backward", "max_pool2d_forward",
]
