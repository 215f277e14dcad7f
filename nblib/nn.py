"""Layers on top of :mod:`nblib.autograd`, with torch's names and shapes.

A :class:`Module` finds its parameters by walking its attributes, so a model is
written as a plain class whose ``__init__`` assigns layers and whose ``forward``
chains them. Inputs are batch-first, ``(N, in_features)``, as in ``torch.nn``.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from . import _checks
from . import rng as _rng
from .autograd import Tensor


class Parameter(Tensor):
    """A tensor that a :class:`Module` owns and an optimiser updates."""

    def __init__(self, data):
        super().__init__(data, requires_grad=True)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


class Module:
    """Base class: holds parameters and sub-modules; subclasses define ``forward``."""

    training: bool = True

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, x) -> Tensor:
        return self.forward(x if isinstance(x, Tensor) else Tensor(x))

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value.named_parameters(prefix + name + ".")
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield from item.named_parameters(f"{prefix}{name}.{i}.")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def children(self) -> list[Module]:
        kids = []
        for value in vars(self).values():
            if isinstance(value, Module):
                kids.append(value)
            elif isinstance(value, (list, tuple)):
                kids.extend(item for item in value if isinstance(item, Module))
        return kids

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        kids = self.children()
        if not kids:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({i}): " + repr(k).replace("\n", "\n  ") for i, k in enumerate(kids)]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


class Linear(Module):
    r"""Affine map :math:`y = x W^\top + b`.

    Args:
        in_features: size of each input row.
        out_features: size of each output row.
        bias: whether to learn the additive bias ``b``.
        dtype: parameter dtype (float32 like torch by default; float64 for gradient checks).
        rng: a numpy Generator or int seed for the initialisation; nblib's default
            generator (see :func:`nblib.rng.seed_everything`) when omitted.

    Shape:
        input ``(N, in_features)`` (any leading dimensions), output ``(N, out_features)``.

    Initialisation follows torch: weights and bias uniform in
    :math:`\pm 1/\sqrt{\text{in\_features}}`.

    Example:
        >>> layer = Linear(3, 2, rng=0)
        >>> layer(np.ones((5, 3))).shape
        (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=np.float32, rng=None):
        self.in_features = _checks.integer(in_features, "in_features", minimum=1)
        self.out_features = _checks.integer(out_features, "out_features", minimum=1)
        try:
            self.dtype = np.dtype(dtype)
        except TypeError as err:
            raise TypeError(f"dtype must be a floating numpy dtype, got {dtype!r} ({err})") from None
        if self.dtype.kind != "f":
            raise TypeError(f"dtype must be a floating type, got {self.dtype}")
        self.weight = Parameter(np.zeros((out_features, in_features), dtype=self.dtype))
        self.bias = Parameter(np.zeros(out_features, dtype=self.dtype)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        gen = _rng.resolve(rng)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight.data[...] = gen.uniform(-bound, bound, self.weight.shape)
        if self.bias is not None:
            self.bias.data[...] = gen.uniform(-bound, bound, self.bias.shape)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear expected input with last dimension in_features={self.in_features}, "
                             f"got shape {x.shape}")
        out = x @ self.weight.T  # (N, out)
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Sequential(Module):
    """Apply modules one after another: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``."""

    def __init__(self, *layers: Module):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} must be a Module, got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class LeakyReLU(Module):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise: negative inputs keep a small gradient."""

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = _checks.positive(negative_slope, "negative_slope", allow_zero=True)
        if self.negative_slope > 1:
            raise ValueError(f"negative_slope must be <= 1 (the slope for negative inputs), got {negative_slope}")

    def forward(self, x: Tensor) -> Tensor:
        from .activations import leaky_relu, leaky_relu_grad
        from .autograd import elementwise

        a = self.negative_slope
        return elementwise(x, lambda v: leaky_relu(v, a), lambda v: leaky_relu_grad(v, a), "leaky_relu")

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope:g}"


class GELU(Module):
    r"""Gaussian error linear unit :math:`x\,\Phi(x)` (``approximate="tanh"`` for the fast form)."""

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        from .activations import gelu, gelu_grad
        from .autograd import elementwise

        a = self.approximate
        return elementwise(x, lambda v: gelu(v, a), lambda v: gelu_grad(v, a), "gelu")

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    r"""SiLU (Swish): :math:`x\,\sigma(x)`."""

    def forward(self, x: Tensor) -> Tensor:
        from .activations import apply

        return apply(x, "silu")


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

    The scaling keeps the expected activation unchanged, so evaluation (``model.eval()``)
    uses the layer as the identity, with nothing to rescale.

    Args:
        p: drop probability in ``[0, 1)``.
        rng: generator or seed for the masks; nblib's default generator when omitted.
    """

    def __init__(self, p: float = 0.5, rng=None):
        self.p = _checks.in_range(p, "p", 0.0, 1.0, high_open=True)
        self._rng = _rng.resolve(rng)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = (self._rng.random(x.shape) >= self.p).astype(x.dtype) / (1.0 - self.p)
        return x * keep

    def extra_repr(self) -> str:
        return f"p={self.p:g}"


def mlp(sizes: list[int], activation: type[Module] = ReLU, dtype=np.float32, rng=None) -> Sequential:
    """A multilayer perceptron: Linear layers of the given widths with ``activation`` between them.

    ``mlp([64, 128, 10])`` is ``Sequential(Linear(64, 128), ReLU(), Linear(128, 10))``.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"mlp: sizes must be a list of layer widths, got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least an input and an output width, got {sizes}")
    gen = _rng.resolve(rng)
    layers: list[Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, dtype=dtype, rng=gen))
        if i < len(sizes) - 2:
            layers.append(activation())
    return Sequential(*layers)


def to_torch(model: Module):
    """The same network in ``torch.nn``, with this model's parameters copied in.

    Both libraries store a linear layer's weight as ``(out_features, in_features)``,
    so the copy is direct; dtypes are kept. This is how chapters check an nblib model
    against torch with identical weights.

    Raises:
        TypeError: for a layer with no torch counterpart here.
    """
    import torch

    simple = {ReLU: torch.nn.ReLU, Tanh: torch.nn.Tanh, Sigmoid: torch.nn.Sigmoid, SiLU: torch.nn.SiLU}

    def convert(layer: Module):
        if isinstance(layer, Sequential):
            return torch.nn.Sequential(*(convert(child) for child in layer))
        if isinstance(layer, Linear):
            dtype = torch.float64 if layer.dtype == np.float64 else torch.float32
            out = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None, dtype=dtype)
            with torch.no_grad():
                out.weight.copy_(torch.from_numpy(layer.weight.data))
                if layer.bias is not None:
                    out.bias.copy_(torch.from_numpy(layer.bias.data))
            return out
        if type(layer) in simple:
            return simple[type(layer)]()
        if isinstance(layer, LeakyReLU):
            return torch.nn.LeakyReLU(layer.negative_slope)
        if isinstance(layer, GELU):
            return torch.nn.GELU(approximate=layer.approximate)
        if isinstance(layer, Dropout):
            return torch.nn.Dropout(layer.p)
        raise TypeError(f"to_torch: no torch equivalent for {type(layer).__name__}")

    converted = convert(model)
    converted.train(model.training)
    return converted
