r"""Weight initialisers with ``torch.nn.init``'s names, formulas and in-place API.

Each initialiser fills a :class:`~nblib.nn.Parameter` (or any :class:`~nblib.autograd.Tensor`,
or a writable NumPy array) in place and returns it, so that
``kaiming_normal_(layer.weight, nonlinearity="relu")`` reads as in torch.

The scale of a good initialisation comes from a variance argument. A unit of a
linear layer sums ``fan_in`` products :math:`w_{ij} x_j`; with independent,
zero-mean weights of variance :math:`s^2`,
:math:`\operatorname{Var}(z_i) = \text{fan\_in}\, s^2\, \mathbb{E}[x_j^2]`. Keeping that
variance from shrinking or growing layer after layer fixes :math:`s`:

* **Xavier/Glorot** (tanh-like activations, slope 1 at 0): the forward pass needs
  :math:`s^2 = 1/\text{fan\_in}` and the backward pass :math:`s^2 = 1/\text{fan\_out}`;
  the compromise is :math:`s^2 = \text{gain}^2 \cdot 2/(\text{fan\_in} + \text{fan\_out})`.
* **Kaiming/He** (rectifiers): a ReLU zeroes half of a symmetric input, so
  :math:`\mathbb{E}[\mathrm{relu}(z)^2] = \operatorname{Var}(z)/2`, and
  :math:`s^2 = 2/\text{fan\_in}` (gain :math:`\sqrt 2`) restores the factor of two.

Fans are computed like torch's: for a weight of shape ``(out_features, in_features)``
(nblib's and torch's ``Linear``), ``fan_in = in_features`` and ``fan_out = out_features``;
dimensions beyond the second (convolution kernels) multiply both.

:func:`signal_propagation` measures what an initialisation does to a deep network:
the spread of the activations and the size of the weight gradients, layer by layer.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _checks
from . import rng as _rng

_LINEAR_NAMES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
_GAIN_NAMES = _LINEAR_NAMES + ("sigmoid", "tanh", "relu", "leaky_relu", "selu")


# ----------------------------------------------------------------------- helpers
def _target(tensor, name: str = "tensor") -> np.ndarray:
    """The array to fill in place: a Tensor's ``.data`` or a writable floating ndarray."""
    from .autograd import Tensor

    array = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be an nblib Tensor/Parameter or a NumPy array, got {type(tensor).__name__}")
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must hold floating-point values to be initialised, got dtype {array.dtype}")
    if not array.flags.writeable:
        raise ValueError(f"{name} is read-only; initialisers fill their argument in place")
    return array


def _fill(tensor, values: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray], rng):
    array = _target(tensor)
    gen = _rng.resolve(rng)
    if array.size:
        array[...] = values(gen, array.shape)
    return tensor


def calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``, as torch computes them.

    Raises:
        ValueError: for fewer than two dimensions (a bias has no fan-in).

    Example:
        >>> calculate_fan_in_and_fan_out(np.zeros((128, 64)))
        (64, 128)
    """
    shape = _target(tensor).shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended scale factor for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    ========================  ===============================================
    nonlinearity              gain
    ========================  ===============================================
    linear, conv*, sigmoid    1
    tanh                      5/3
    relu                      :math:`\sqrt 2`
    leaky_relu                :math:`\sqrt{2 / (1 + \text{negative\_slope}^2)}`
    selu                      3/4
    ========================  ===============================================

    Args:
        nonlinearity: the function's name in ``torch.nn.functional`` style.
        param: ``leaky_relu``'s negative slope (0.01 when None); ignored otherwise.

    Example:
        >>> round(calculate_gain("leaky_relu", 0.2), 4)
        1.3868
    """
    if not isinstance(nonlinearity, str) or nonlinearity not in _GAIN_NAMES:
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; choose one of {list(_GAIN_NAMES)}")
    if nonlinearity in _LINEAR_NAMES or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    if param is None:
        slope = 0.01
    elif isinstance(param, numbers.Real) and not isinstance(param, bool):
        slope = float(param)
    else:
        raise ValueError(f"param (leaky_relu's negative slope) must be a number, got {param!r}")
    return math.sqrt(2.0 / (1.0 + slope**2))


# ------------------------------------------------------------------- simple fills
def uniform_(tensor, a: float = 0.0, b: float = 1.0, rng=None):
    """Fill ``tensor`` in place with draws from :math:`U(a, b)`; returns ``tensor``."""
    a, b = _checks.as_real(a, "a"), _checks.as_real(b, "b")
    if b < a:
        raise ValueError(f"uniform_ needs a <= b, got a={a}, b={b}")
    return _fill(tensor, lambda gen, shape: gen.uniform(a, b, shape), rng)


def normal_(tensor, mean: float = 0.0, std: float = 1.0, rng=None):
    r"""Fill ``tensor`` in place with draws from :math:`\mathcal N(\text{mean}, \text{std}^2)`; returns ``tensor``."""
    mean = _checks.as_real(mean, "mean")
    std = _checks.positive(std, "std", allow_zero=True)
    return _fill(tensor, lambda gen, shape: mean + std * gen.standard_normal(shape), rng)


def constant_(tensor, val: float):
    """Fill ``tensor`` in place with ``val``; returns ``tensor``."""
    val = _checks.as_real(val, "val")
    _target(tensor)[...] = val
    return tensor


def zeros_(tensor):
    """Fill ``tensor`` in place with zeros (the usual bias initialisation); returns ``tensor``."""
    return constant_(tensor, 0.0)


# ------------------------------------------------------------- Xavier and Kaiming
def _gain(gain) -> float:
    return _checks.positive(gain, "gain")


def xavier_uniform_(tensor, gain: float = 1.0, rng=None):
    r"""Glorot/Xavier uniform initialisation, in place.

    Draws from :math:`U(-a, a)` with
    :math:`a = \text{gain} \sqrt{6 / (\text{fan\_in} + \text{fan\_out})}`, whose standard
    deviation is :math:`\text{gain}\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`.

    Args:
        tensor: a Parameter, Tensor or floating ndarray with at least 2 dimensions.
        gain: scale factor, e.g. ``calculate_gain("tanh")``.
        rng: a numpy Generator or int seed; nblib's default generator when omitted.

    Example:
        >>> w = xavier_uniform_(np.empty((20, 30)), rng=0)
        >>> bool(np.abs(w).max() <= np.sqrt(6 / 50))
        True
    """
    gain = _gain(gain)
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, lambda gen, shape: gen.uniform(-bound, bound, shape), rng)


def xavier_normal_(tensor, gain: float = 1.0, rng=None):
    r"""Glorot/Xavier normal initialisation, in place: :math:`\mathcal N(0, s^2)`,
    :math:`s = \text{gain}\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`.

    Args are those of :func:`xavier_uniform_`.
    """
    gain = _gain(gain)
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, lambda gen, shape: std * gen.standard_normal(shape), rng)


def _kaiming_std(tensor, a, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng=None):
    r"""Kaiming/He uniform initialisation, in place.

    Draws from :math:`U(-b, b)` with :math:`b = \text{gain}\sqrt{3 / \text{fan}}`, so that the
    standard deviation is :math:`\text{gain} / \sqrt{\text{fan}}`.

    Args:
        tensor: a Parameter, Tensor or floating ndarray with at least 2 dimensions.
        a: the negative slope of the rectifier that follows (``leaky_relu`` only); with the
            defaults, ``a=0`` gives the ReLU gain :math:`\sqrt 2`.
        mode: ``"fan_in"`` keeps the forward activations' variance, ``"fan_out"`` the
            backward gradients'.
        nonlinearity: a name accepted by :func:`calculate_gain`; ``"relu"`` or ``"leaky_relu"``
            are the ones this scheme was derived for.
        rng: a numpy Generator or int seed; nblib's default generator when omitted.

    Example:
        >>> w = kaiming_uniform_(np.empty((64, 100)), nonlinearity="relu", rng=0)
        >>> bool(np.abs(w).max() <= np.sqrt(2) * np.sqrt(3 / 100))
        True
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _fill(tensor, lambda gen, shape: gen.uniform(-bound, bound, shape), rng)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng=None):
    r"""Kaiming/He normal initialisation, in place: :math:`\mathcal N(0, s^2)`, :math:`s = \text{gain}/\sqrt{\text{fan}}`.

    Args are those of :func:`kaiming_uniform_`.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return _fill(tensor, lambda gen, shape: std * gen.standard_normal(shape), rng)


# ----------------------------------------------------- measuring what init does
def _scheme(init: str) -> Callable:
    schemes = {
        "normal": lambda w, gen: normal_(w, 0.0, 1.0, rng=gen),     # "small random numbers", too big
        "small": lambda w, gen: normal_(w, 0.0, 0.01, rng=gen),     # small random numbers, too small
        "xavier": lambda w, gen: xavier_normal_(w, rng=gen),       # Glorot and Bengio (2010), gain 1
        "he": lambda w, gen: kaiming_normal_(w, nonlinearity="relu", rng=gen),  # He et al. (2015)
    }
    if init not in schemes:
        raise ValueError(f"unknown init {init!r}; choose one of {list(schemes)} or pass a function (weight, rng)")
    return schemes[init]


INIT_SCHEMES = ("normal", "small", "xavier", "he")
"""The named schemes :func:`signal_propagation` knows: N(0, 1), N(0, 0.01²), Xavier normal, He normal."""


@dataclass(frozen=True)
class Propagation:
    """Per-layer statistics of one deep MLP at initialisation (index 0 is the first hidden layer).

    Attributes:
        activation, init: what was measured.
        activation_std: standard deviation of each hidden layer's output, over the batch and units.
        grad_norm: Frobenius norm of the loss gradient with respect to each layer's weight matrix.
        dtype: the floating type the network computed in.
    """

    activation: str
    init: str
    activation_std: np.ndarray
    grad_norm: np.ndarray
    dtype: np.dtype

    @property
    def depth(self) -> int:
        return len(self.activation_std)

    def finite(self) -> bool:
        """True if no statistic overflowed to inf or became NaN."""
        return bool(np.isfinite(self.activation_std).all() and np.isfinite(self.grad_norm).all())

    def __repr__(self) -> str:
        return (f"Propagation({self.activation}, init={self.init}, depth={self.depth}: activation std "
                f"{self.activation_std[0]:.3g} -> {self.activation_std[-1]:.3g}, gradient norm "
                f"{self.grad_norm[0]:.3g} (first layer) vs {self.grad_norm[-1]:.3g} (last))")


def signal_propagation(activation: str = "relu", init="he", depth: int = 30, width: int = 256,
                       n_samples: int = 256, dtype=np.float32, rng=None) -> Propagation:
    r"""Push random inputs through a deep MLP at initialisation and measure each layer.

    The network is ``depth`` blocks of ``Linear(width, width)`` followed by the activation,
    built from :mod:`nblib.nn` modules, with zero biases and weights from ``init``. The
    inputs are standard normal, shape ``(n_samples, width)``. The loss is a fixed random
    projection of the last hidden layer, :math:`L = \frac1N \sum_{n,i} r_{ni} h^{(D)}_{ni}`
    with :math:`r_{ni} \sim \mathcal N(0, 1)`, so that the gradient arriving at the top does
    not depend on the forward pass: whatever happens to the gradients on the way down is the
    network's doing.

    Args:
        activation: a name from :data:`nblib.activations.ACTIVATIONS`.
        init: ``"normal"`` (N(0, 1)), ``"small"`` (N(0, 0.01²)), ``"xavier"`` (Xavier normal,
            gain 1), ``"he"`` (Kaiming normal for ReLU), or a function ``(weight, rng)`` that
            initialises a weight Parameter in place.
        depth, width, n_samples: the network and the batch.
        dtype: float32 (like torch) overflows where float64 may not.
        rng: a numpy Generator or int seed for weights, inputs and the projection.

    Returns:
        a :class:`Propagation` with one entry per layer; statistics are inf or NaN where the
        computation overflowed (check :meth:`Propagation.finite`).

    Example:
        >>> p = signal_propagation("relu", "he", depth=10, width=64, n_samples=64, rng=0)
        >>> 0.3 < p.activation_std[-1] / p.activation_std[0] < 3
        True
    """
    from . import nn
    from .autograd import Tensor

    modules = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
               "gelu": nn.GELU, "silu": nn.SiLU}
    if activation not in modules:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(modules)}")
    fill = init if callable(init) else _scheme(init)
    label = getattr(init, "__name__", "custom") if callable(init) else init
    depth = _checks.integer(depth, "depth", minimum=1)
    width = _checks.integer(width, "width", minimum=1)
    n_samples = _checks.integer(n_samples, "n_samples", minimum=2)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a floating type, got {dtype}")
    gen = _rng.resolve(rng)

    layers = []
    for _ in range(depth):
        layer = nn.Linear(width, width, dtype=dtype, rng=gen)
        fill(layer.weight, gen)
        zeros_(layer.bias)
        layers.append(layer)
    act = modules[activation]()
    x = Tensor(gen.standard_normal((n_samples, width)).astype(dtype))  # (N, width)
    projection = gen.standard_normal((n_samples, width)).astype(dtype)

    stds = []
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        h = x
        for layer in layers:
            h = act(layer(h))  # (N, width)
            stds.append(_spread(h.data))
        loss = (h * projection).sum() / n_samples
        loss.backward()
        norms = [_norm(layer.weight.grad) for layer in layers]
    return Propagation(activation, label, np.array(stds), np.array(norms), dtype)


def _spread(values: np.ndarray) -> float:
    """Standard deviation computed in float64 (a float32 sum of squares overflows early); NaN/inf kept."""
    if not np.isfinite(values).all():
        return math.inf if not np.isnan(values).any() else math.nan
    return float(values.std(dtype=np.float64))


def _norm(grad: np.ndarray) -> float:
    if not np.isfinite(grad).all():
        return math.inf if not np.isnan(grad).any() else math.nan
    return float(np.linalg.norm(grad.astype(np.float64)))
