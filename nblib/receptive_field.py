r"""Exact receptive fields of a chain of convolution and pooling layers.

A unit of a convolutional layer sees only part of the input image: its *receptive field*.
For a chain of layers, each with kernel size :math:`k`, stride :math:`s`, padding :math:`p`
and dilation :math:`d` (effective kernel :math:`k' = d(k - 1) + 1`), three numbers per layer
describe every unit's field along one axis:

* the **size** :math:`r`: how many input pixels one unit sees;
* the **jump** :math:`j`: how far apart, in input pixels, the fields of neighbouring units
  are (the product of the strides so far, the layer's *effective stride*);
* the **start** :math:`c`: the input coordinate of the centre of the first unit's field
  (pixel :math:`m` of the input has coordinate :math:`m`; a negative start or a field
  that reaches below 0 covers padding).

Starting from the input itself (:math:`r_0 = 1`, :math:`j_0 = 1`, :math:`c_0 = 0`), layer
:math:`l` gives

.. math::

    r_l = r_{l-1} + (k'_l - 1)\, j_{l-1}, \qquad
    j_l = j_{l-1}\, s_l, \qquad
    c_l = c_{l-1} + \Bigl(\frac{k'_l - 1}{2} - p_l\Bigr) j_{l-1}.

Each step is exact: a unit of layer :math:`l` reads :math:`k'_l` units of layer
:math:`l-1` whose fields are :math:`j_{l-1}` apart, so its field spans
:math:`(k'_l - 1) j_{l-1}` more pixels than one of theirs. Unit :math:`i` of layer
:math:`l` then covers the input pixels from :math:`c_l + i j_l - (r_l - 1)/2` to
:math:`c_l + i j_l + (r_l - 1)/2` (:meth:`Field.span`). These are the pixels that *can*
influence the unit (for a max-pooling layer, which one does depends on the input). With
dilation or with strides larger than kernels the field can have holes; the size is
then that of the bounding box. :func:`gradient_support` measures the field in torch, as
the pixels with a nonzero gradient, as an independent check of the recurrence, and
:func:`gradient_map` gives that gradient itself, which shows how unevenly a unit weighs
the pixels of its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import _checks

KINDS = ("conv", "maxpool", "avgpool")


@dataclass(frozen=True)
class Layer:
    """Geometry of one convolution or pooling layer along one axis.

    Args:
        kernel_size, stride, padding, dilation: as in ``torch.nn.Conv2d`` (one axis).
        kind: ``"conv"``, ``"maxpool"`` or ``"avgpool"``; the geometry does not depend on it.
        name: a label for tables.
    """

    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    kind: str = "conv"
    name: str = ""

    def __post_init__(self):
        _checks.integer(self.kernel_size, "kernel_size", minimum=1)
        _checks.integer(self.stride, "stride", minimum=1)
        _checks.integer(self.padding, "padding", minimum=0)
        _checks.integer(self.dilation, "dilation", minimum=1)
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not self.name:
            object.__setattr__(self, "name", f"{self.kind} {self.kernel_size}x{self.kernel_size}/{self.stride}")

    @property
    def effective_kernel(self) -> int:
        """:math:`d(k - 1) + 1`: the span of a dilated kernel."""
        return self.dilation * (self.kernel_size - 1) + 1


def conv(kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1, name: str = "") -> Layer:
    """A convolution layer's geometry: ``conv(3, padding=1)`` is a 'same' 3x3 convolution."""
    return Layer(kernel_size, stride, padding, dilation, "conv", name)


def maxpool(kernel_size: int, stride: int | None = None, padding: int = 0, name: str = "") -> Layer:
    """A max-pooling layer's geometry; ``stride`` defaults to ``kernel_size``, as in torch."""
    return Layer(kernel_size, kernel_size if stride is None else stride, padding, 1, "maxpool", name)


def avgpool(kernel_size: int, stride: int | None = None, padding: int = 0, name: str = "") -> Layer:
    """An average-pooling layer's geometry; ``stride`` defaults to ``kernel_size``."""
    return Layer(kernel_size, kernel_size if stride is None else stride, padding, 1, "avgpool", name)


@dataclass(frozen=True)
class Field:
    """The receptive field of the units of one layer (see the module docstring).

    Attributes:
        name: the layer's name.
        size: pixels one unit sees along the axis, :math:`r`.
        jump: input pixels between neighbouring units' fields, :math:`j`.
        start: input coordinate of the centre of unit 0's field, :math:`c`.
        output_size: units along the axis, if the input size was given.
    """

    name: str
    size: int
    jump: int
    start: float
    output_size: int | None = None

    def span(self, index: int = 0) -> tuple[float, float]:
        """First and last input coordinates seen by unit ``index`` (may lie in the padding)."""
        index = _checks.integer(index, "index", minimum=0)
        if self.output_size is not None and index >= self.output_size:
            raise ValueError(f"index {index} is out of range: {self.name} has {self.output_size} units")
        centre = self.start + index * self.jump
        half = (self.size - 1) / 2
        return centre - half, centre + half

    def __repr__(self) -> str:
        units = f", {self.output_size} units" if self.output_size is not None else ""
        return f"Field({self.name!r}: size {self.size}, jump {self.jump}, start {self.start:g}{units})"


def receptive_fields(layers: Sequence[Layer], input_size: int | None = None) -> list[Field]:
    """The receptive field after each layer of a chain, by the recurrences of the module docstring.

    Args:
        layers: the chain, input side first.
        input_size: pixels along the axis; if given, each field also records its
            layer's output size, and a layer whose kernel does not fit raises.

    Returns:
        one :class:`Field` per layer.

    Example:
        >>> [f.size for f in receptive_fields([conv(3), conv(3), maxpool(2), conv(3)])]
        [3, 5, 6, 10]
    """
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of Layer, got {type(layers).__name__}")
    layers = list(layers)
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}] must be a Layer (see conv, maxpool, avgpool), got {type(layer).__name__}")
    n = None if input_size is None else _checks.integer(input_size, "input_size", minimum=1)
    size, jump, start = 1, 1, 0.0
    fields = []
    for i, layer in enumerate(layers):
        k = layer.effective_kernel
        size += (k - 1) * jump
        start += ((k - 1) / 2 - layer.padding) * jump
        jump *= layer.stride
        if n is not None:
            if k > n + 2 * layer.padding:
                raise ValueError(f"layers[{i}] ({layer.name}): its kernel spans {k} positions but its padded "
                                 f"input has {n + 2 * layer.padding}")
            n = (n + 2 * layer.padding - k) // layer.stride + 1
        fields.append(Field(layer.name, size, jump, start, n))
    return fields


def format_table(fields: Sequence[Field]) -> str:
    """A plain-text table of fields: one line per layer with size, jump, start (and units)."""
    width = max([len(f.name) for f in fields] + [5])
    with_units = any(f.output_size is not None for f in fields)
    lines = [f"{'layer':<{width}}  {'field':>5}  {'jump':>4}  {'start':>6}" + ("  units" if with_units else "")]
    for f in fields:
        units = f"  {f.output_size:>5}" if with_units else ""
        lines.append(f"{f.name:<{width}}  {f.size:>5}  {f.jump:>4}  {f.start:>6g}{units}")
    return "\n".join(lines)


# ------------------------------------------------------------------- torch models
_ELEMENTWISE = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid",
                "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "Identity", "Dropout", "Dropout2d",
                "AlphaDropout", "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "LocalResponseNorm")
_LEAVE_GRID = ("Flatten", "Linear", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")


def from_torch(model, axis: int = 0) -> list[Layer]:
    """The conv and pooling geometry of a ``torch.nn.Sequential`` (nested Sequentials too).

    Elementwise layers (activations, batch normalisation, dropout) do not change the field
    and are skipped. The description ends at the first layer that leaves the pixel grid
    (``Flatten``, ``Linear``, adaptive or global pooling), so a whole classifier can be passed.

    Args:
        model: a ``torch.nn.Sequential`` of ``Conv2d``, ``MaxPool2d`` and ``AvgPool2d`` layers.
        axis: 0 for the height geometry, 1 for the width (they differ only for non-square kernels).

    Raises:
        TypeError: for a layer whose geometry is not a conv or pooling window (e.g. ``Upsample``),
            or a module that is not a Sequential chain.
    """
    import torch

    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 (height) or 1 (width), got {axis!r}")
    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"from_torch describes a torch.nn.Sequential chain, got {type(model).__name__}; "
                        "for a network with branches, write its longest path with conv() and maxpool()")

    def pick(value):
        return value[axis] if isinstance(value, (tuple, list)) else value

    layers: list[Layer] = []
    for name, module in model.named_modules():
        kind = type(module).__name__
        if isinstance(module, torch.nn.Sequential) or kind in _ELEMENTWISE:
            continue
        if kind in _LEAVE_GRID:
            break
        if isinstance(module, torch.nn.Conv2d):
            if isinstance(module.padding, str):
                raise TypeError(f"layer {name!r}: padding={module.padding!r}; give the padding as numbers")
            layers.append(Layer(pick(module.kernel_size), pick(module.stride), pick(module.padding),
                                pick(module.dilation), "conv", f"{name}: conv {pick(module.kernel_size)}x"
                                f"{pick(module.kernel_size)}/{pick(module.stride)}"))
        elif isinstance(module, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)):
            if module.ceil_mode:
                raise TypeError(f"layer {name!r}: ceil_mode=True is not supported")
            is_max = isinstance(module, torch.nn.MaxPool2d)
            if is_max and pick(module.dilation) != 1:
                raise TypeError(f"layer {name!r}: dilated pooling is not supported")
            k = pick(module.kernel_size)
            layers.append(Layer(k, pick(module.stride), pick(module.padding), 1, "maxpool" if is_max else "avgpool",
                                f"{name}: {'max' if is_max else 'avg'}pool {k}x{k}/{pick(module.stride)}"))
        else:
            raise TypeError(f"layer {name!r} ({kind}) is neither a Conv2d, a pooling layer nor elementwise, "
                            "so its receptive field is unknown here")
    return layers


def gradient_map(layers: Sequence[Layer], input_size: int, index: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Gradient of unit ``index`` of the last layer with respect to the input, with uniform weights (torch).

    The chain is rebuilt in torch with one channel, all-ones kernels (dilated as given),
    average pooling in place of max pooling (same windows, every pixel counts) and no
    activation, so every path from a pixel to the unit has a positive weight. The gradient
    is then positive exactly on the pixels connected to the unit, its receptive field
    clipped to the image, and its value at a pixel counts the paths from that pixel (each
    pooling step weighting its share). This uses torch's own convolution arithmetic,
    independently of :func:`receptive_fields`.

    Returns:
        a float64 array of shape ``(input_size, input_size)``.
    """
    import torch
    import torch.nn.functional as F

    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of Layer, got {type(layers).__name__}")
    layers = list(layers)
    fields = receptive_fields(layers, input_size)  # also checks that every kernel fits
    if not fields:
        raise ValueError("layers is empty")
    if not (isinstance(index, (tuple, list)) and len(index) == 2):
        raise TypeError(f"index must be a pair (row, column), got {index!r}")
    i, j = (_checks.integer(v, "index") for v in index)
    last = fields[-1].output_size
    if not (0 <= i < last and 0 <= j < last):
        raise ValueError(f"index {tuple(index)} is out of range: the last layer has {last}x{last} units")
    x = torch.ones(1, 1, input_size, input_size, dtype=torch.float64, requires_grad=True)
    h = x
    for layer in layers:
        if layer.kind == "conv":
            kernel = torch.ones(1, 1, layer.kernel_size, layer.kernel_size, dtype=torch.float64)
            h = F.conv2d(h, kernel, stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
        else:
            h = F.avg_pool2d(h, layer.kernel_size, layer.stride, layer.padding)
    h[0, 0, i, j].backward()
    return x.grad[0, 0].numpy()


def gradient_support(layers: Sequence[Layer], input_size: int, index: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The input pixels that reach unit ``index`` of the last layer: where :func:`gradient_map` is positive.

    Returns:
        a boolean array of shape ``(input_size, input_size)``.
    """
    return gradient_map(layers, input_size, index) > 0
