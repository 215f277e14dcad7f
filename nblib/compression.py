r"""Model compression from scratch: magnitude pruning, affine quantisation, distillation, size and latency.

Everything works on small ``torch.nn.Sequential`` MLPs built from ``Linear`` and
activation layers (the chapter's models) and on NumPy arrays.

Affine quantisation maps a real number :math:`x` to an integer
:math:`q = \operatorname{clamp}(\operatorname{round}(x / s) + z, q_{\min}, q_{\max})`
and back with :math:`\hat x = s\,(q - z)`; the scale :math:`s` and zero point :math:`z`
come from the range of the values. Rounding is half-to-even, as in torch.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import numpy as np

from . import _checks

__all__ = [
    "quant_range", "choose_qparams", "quantize", "dequantize", "fake_quantize",
    "magnitude_masks", "prune_magnitude", "prune_neurons", "weight_sparsity",
    "QuantizedMLP", "quantize_mlp", "param_bytes", "state_dict_bytes", "median_latency",
    "distillation_loss", "compressed_bytes",
]


def quant_range(bits: int = 8, signed: bool = True) -> tuple[int, int]:
    """The integer range of a ``bits``-bit code: ``[-2^(b-1), 2^(b-1) - 1]`` signed, ``[0, 2^b - 1]`` unsigned.

    Example:
        >>> quant_range(8), quant_range(8, signed=False)
        ((-128, 127), (0, 255))
    """
    bits = _checks.integer(bits, "bits", minimum=2)
    if bits > 16:
        raise ValueError(f"bits must be at most 16, got {bits}")
    if signed:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2 ** bits - 1


def _reduce(x: np.ndarray, axis, fn):
    if axis is None:
        return fn(x)
    other = tuple(i for i in range(x.ndim) if i != axis)
    return fn(x, axis=other) if other else x.copy()


def _axis(axis, x, name="axis"):
    if axis is None:
        return None
    axis = _checks.integer(axis, name)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{name} must index a dimension of an array of shape {x.shape}, got {axis}")
    return axis % x.ndim


def _scale(scale) -> np.ndarray:
    """Quantisation scales as float32, each positive and finite."""
    scale = _checks.as_array(scale, "scale", finite=False).astype(np.float32)
    if np.any(scale <= 0) or not np.all(np.isfinite(scale)):
        raise ValueError("scale must be positive and finite")
    return scale


def _zero_point(zero_point) -> np.ndarray:
    """Zero points as int64; they must be whole numbers."""
    arr = _checks.as_array(zero_point, "zero_point")
    if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
        raise ValueError(f"zero_point must hold whole numbers, got {zero_point}")
    return arr.astype(np.int64)


def choose_qparams(x, bits: int = 8, symmetric: bool = False, signed: bool = True, axis: int | None = None):
    r"""Scale and zero point that map the range of ``x`` onto ``bits``-bit integers.

    Asymmetric (min/max): the range is widened to include 0, so that 0 is exact, and
    :math:`s = (\max - \min) / (q_{\max} - q_{\min})`,
    :math:`z = \operatorname{clamp}(q_{\min} - \operatorname{round}(\min / s))`.
    Symmetric: :math:`z = 0` (signed) or the middle of the range :math:`m` (unsigned), and
    :math:`s = \max|x| / (q_{\max} - z)`, so :math:`\pm\max|x|` are both representable. An all-zero range gets :math:`s = 1`.

    Args:
        x: the values (any shape).
        bits: code width; ``symmetric`` needs ``bits >= 2``.
        symmetric: symmetric or asymmetric (affine) range.
        signed: signed (``qint8``-like) or unsigned (``quint8``-like) integers.
        axis: ``None`` for one scale for the whole tensor, or the channel axis for
            one scale per slice along it (per-channel).

    Returns:
        ``(scale, zero_point)``: float32 and int64, scalars or 1-D arrays of length ``x.shape[axis]``.
    """
    x = _checks.as_array(x, "x").astype(np.float32)
    if x.size == 0:
        raise ValueError(f"x is empty (shape {x.shape}): there is no range to quantise")
    axis = _axis(axis, x)
    qmin, qmax = quant_range(bits, signed)
    lo = np.minimum(_reduce(x, axis, np.min), 0.0).astype(np.float32)
    hi = np.maximum(_reduce(x, axis, np.max), 0.0).astype(np.float32)
    if symmetric:
        amax = np.maximum(-lo, hi)
        mid = 0 if signed else (qmin + qmax + 1) // 2
        scale = (amax / np.float32(qmax - mid)).astype(np.float32)
        scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)
        zero = np.full(np.shape(scale), mid, np.int64)
    else:
        scale = ((hi - lo) / np.float32(qmax - qmin)).astype(np.float32)
        scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)
        zero = np.clip(qmin - np.round(lo / scale), qmin, qmax).astype(np.int64)
    if axis is None:
        return np.float32(scale), int(zero)
    return scale, zero


def _broadcast(param, x_ndim, axis):
    param = np.asarray(param)
    if axis is None or param.ndim == 0:
        return param
    shape = [1] * x_ndim
    shape[axis] = -1
    return param.reshape(shape)


def quantize(x, scale, zero_point, bits: int = 8, signed: bool = True, axis: int | None = None) -> np.ndarray:
    r"""Integer codes :math:`q = \operatorname{clamp}(\operatorname{round}(x / s) + z, q_{\min}, q_{\max})`.

    Matches ``torch.quantize_per_tensor`` / ``torch.quantize_per_channel`` (``.int_repr()``)
    for the same scale and zero point: like torch, ``x / s`` is computed as ``x * (1 / s)``
    in float32 (which can differ from true division in the last bit, and so at a tie),
    then rounded half to even.

    Args:
        x: values; scale, zero_point: scalars, or 1-D arrays along ``axis`` (per-channel).
        bits, signed: the integer range (see :func:`quant_range`).
        axis: the channel axis for per-channel parameters.

    Returns:
        int64 codes with the shape of ``x``.
    """
    x = _checks.as_array(x, "x").astype(np.float32)
    axis = _axis(axis, x)
    qmin, qmax = quant_range(bits, signed)
    scale = _scale(scale)
    if axis is None and scale.ndim:
        raise ValueError("scale must be a scalar when axis is None (per-tensor)")
    if axis is not None and scale.ndim and scale.shape[0] != x.shape[axis]:
        raise ValueError(f"scale has {scale.shape[0]} entries but x has {x.shape[axis]} channels along axis {axis}")
    s = _broadcast(scale, x.ndim, axis)
    z = _broadcast(_zero_point(zero_point), x.ndim, axis)
    inv = (np.float32(1.0) / s).astype(np.float32)
    q = np.round(x * inv).astype(np.int64) + z
    return np.clip(q, qmin, qmax)


def dequantize(q, scale, zero_point, axis: int | None = None) -> np.ndarray:
    r"""Real values :math:`\hat x = s\,(q - z)` (float32), per-tensor or per-channel along ``axis``."""
    q = _checks.as_array(q, "q")
    if q.dtype.kind not in "iu":
        raise TypeError(f"q must hold integer codes, got dtype {q.dtype}")
    axis = _axis(axis, q)
    s = _broadcast(_scale(scale), q.ndim, axis)
    z = _broadcast(_zero_point(zero_point), q.ndim, axis)
    return ((q - z).astype(np.float32) * s).astype(np.float32)


def fake_quantize(x, bits: int = 8, symmetric: bool = True, axis: int | None = None) -> np.ndarray:
    """Quantise ``x`` to ``bits`` bits (signed) and back: the values a quantised model computes with."""
    scale, zero = choose_qparams(x, bits=bits, symmetric=symmetric, axis=axis)
    return dequantize(quantize(x, scale, zero, bits=bits, axis=axis), scale, zero, axis=axis)


# --------------------------------------------------------------------------- pruning
def _linears(model):
    import torch

    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not layers:
        raise ValueError("model has no torch.nn.Linear layers to compress")
    return layers


def magnitude_masks(weights, sparsity: float, scope: str = "global") -> list[np.ndarray]:
    r"""Boolean keep-masks that zero the fraction ``sparsity`` of smallest-magnitude weights.

    ``scope="global"`` ranks all weights together (one threshold), ``"layer"`` prunes
    each array to ``sparsity`` on its own. Exactly :math:`\lfloor \text{sparsity}\cdot n \rceil`
    weights are removed (ties broken by position).

    Args:
        weights: a list of arrays (one per layer).
        sparsity: fraction to remove, in [0, 1].
        scope: ``"global"`` or ``"layer"``.
    """
    sparsity = _checks.in_range(sparsity, "sparsity", 0.0, 1.0)
    if scope not in ("global", "layer"):
        raise ValueError(f"scope must be 'global' or 'layer', got {scope!r}")
    if isinstance(weights, (str, bytes)) or not hasattr(weights, "__iter__"):
        raise TypeError(f"weights must be a list of weight arrays, got {type(weights).__name__}")
    arrays = [np.abs(_checks.as_array(w, f"weights[{i}]")) for i, w in enumerate(weights)]
    if not arrays:
        raise ValueError("weights is empty")

    def keep(flat):
        n_cut = int(round(sparsity * flat.size))
        mask = np.ones(flat.size, bool)
        mask[np.argsort(flat, kind="stable")[:n_cut]] = False
        return mask

    if scope == "layer":
        return [keep(a.ravel()).reshape(a.shape) for a in arrays]
    flat = keep(np.concatenate([a.ravel() for a in arrays]))
    out, start = [], 0
    for a in arrays:
        out.append(flat[start:start + a.size].reshape(a.shape))
        start += a.size
    return out


def prune_magnitude(model, sparsity: float, scope: str = "global") -> list:
    """Zero the smallest weights of every ``Linear`` layer in place and keep them zero while training.

    Each pruned weight gets a gradient hook that multiplies its gradient by the mask,
    so SGD or Adam (whose updates are zero when every gradient so far was zero)
    never revives a pruned weight during fine-tuning; weight decay only shrinks, so
    zero stays zero. Biases are not pruned.
    Calling it again replaces nothing: masks combine with the hooks already there.

    Returns:
        the masks, as float tensors, one per ``Linear`` layer.
    """
    import torch

    layers = _linears(model)
    masks = magnitude_masks([layer.weight.detach().cpu().numpy() for layer in layers], sparsity, scope)
    out = []
    for layer, mask in zip(layers, masks):
        m = torch.as_tensor(mask, dtype=layer.weight.dtype, device=layer.weight.device)
        with torch.no_grad():
            layer.weight.mul_(m)
        layer.weight.register_hook(lambda grad, m=m: grad * m)
        out.append(m)
    return out


def weight_sparsity(model) -> float:
    """Fraction of ``Linear`` weights (not biases) that are exactly zero."""
    layers = _linears(model)
    zeros = sum(int((layer.weight == 0).sum()) for layer in layers)
    return zeros / sum(layer.weight.numel() for layer in layers)


def prune_neurons(model, keep: float):
    r"""Structured pruning: a smaller ``Sequential`` keeping the ``keep`` fraction of each hidden layer's neurons.

    A hidden neuron's importance is the L2 norm of its incoming weights (its row of
    the layer's weight), counting only inputs that survived the previous layer's pruning. The output layer keeps all its units. Removing neuron
    :math:`j` deletes row :math:`j` (and bias :math:`j`) of its layer and column
    :math:`j` of the next, so the result is a genuinely smaller dense model.

    Args:
        model: a ``torch.nn.Sequential`` of ``Linear`` layers and element-wise activations.
        keep: fraction of hidden neurons to keep per layer, in (0, 1]; at least one survives.
    """
    import copy

    import torch

    keep = _checks.in_range(keep, "keep", 0.0, 1.0)
    if keep == 0:
        raise ValueError("keep must be > 0: a layer with no neurons cannot pass anything on")
    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    new = copy.deepcopy(model).cpu()
    idx = [i for i, m in enumerate(new) if isinstance(m, torch.nn.Linear)]
    if not idx:
        raise ValueError("model has no torch.nn.Linear layers to compress")
    for a, b in zip(idx[:-1], idx[1:]):
        la, lb = new[a], new[b]
        n = la.out_features
        k = max(1, int(round(keep * n)))
        norms = la.weight.detach().norm(dim=1)
        kept = torch.sort(torch.argsort(norms, descending=True, stable=True)[:k]).values
        small_a = torch.nn.Linear(la.in_features, k, bias=la.bias is not None)
        small_b = torch.nn.Linear(k, lb.out_features, bias=lb.bias is not None)
        with torch.no_grad():
            small_a.weight.copy_(la.weight[kept])
            if la.bias is not None:
                small_a.bias.copy_(la.bias[kept])
            small_b.weight.copy_(lb.weight[:, kept])
            if lb.bias is not None:
                small_b.bias.copy_(lb.bias)
        new[a], new[b] = small_a, small_b
    return new


# ---------------------------------------------------------------- quantised inference
@dataclass
class QuantizedMLP:
    """An MLP with integer weights: ``Linear`` weights as codes plus per-row (or per-tensor) scales.

    Built by :func:`quantize_mlp`. ``forward(X)`` runs the layers in NumPy:
    with ``activations="float"`` the weights are dequantised and the inputs stay float;
    with ``activations="int8"`` each layer's input is quantised to uint8 (asymmetric,
    range from the batch: dynamic quantisation) and the product is computed in integers,
    :math:`y = s_x s_w \\sum (q_x - z_x)(q_w - z_w) + b`.
    """

    codes: list
    scales: list
    zero_points: list
    biases: list
    activations: list
    bits: int = 8
    per_channel: bool = True
    meta: dict = field(default_factory=dict)

    def forward(self, X, activations: str = "float") -> np.ndarray:
        if activations not in ("float", "int8"):
            raise ValueError(f"activations must be 'float' or 'int8', got {activations!r}")
        h = _checks.as_array(X, "X", ndim=2).astype(np.float32)
        if self.codes and h.shape[1] != self.codes[0].shape[1]:
            raise ValueError(f"X has {h.shape[1]} features but the model's first layer expects "
                             f"{self.codes[0].shape[1]}")
        axis = 0 if self.per_channel else None
        for i, (q, s, z, b) in enumerate(zip(self.codes, self.scales, self.zero_points, self.biases)):
            if activations == "float":
                h = h @ dequantize(q, s, z, axis=axis).T + b
            else:
                sx, zx = choose_qparams(h, bits=8, signed=False)
                qx = quantize(h, sx, zx, bits=8, signed=False)
                acc = (qx - zx) @ (q - _broadcast(z, 2, axis)).T            # integer accumulation
                h = (acc.astype(np.float32) * (sx * np.asarray(s, np.float32))).astype(np.float32) + b
            act = self.activations[i]
            if act is not None:
                h = act(h)
        return h

    __call__ = forward

    def nbytes(self) -> int:
        """Bytes as stored: ``bits`` per weight code (packed), float32 scales and biases, int32 zero points."""
        n = 0
        for q, s, z, b in zip(self.codes, self.scales, self.zero_points, self.biases):
            n += (q.size * self.bits + 7) // 8 + 4 * np.size(s) + 4 * np.size(z) + 4 * b.size
        return int(n)


def _np_activation(module):
    import torch

    if isinstance(module, torch.nn.ReLU):
        return lambda h: np.maximum(h, 0)
    if isinstance(module, torch.nn.Tanh):
        return np.tanh
    raise TypeError(f"quantize_mlp supports ReLU and Tanh activations, got {type(module).__name__}")


def quantize_mlp(model, bits: int = 8, per_channel: bool = True, symmetric: bool = True) -> QuantizedMLP:
    """Quantise every ``Linear`` weight of a ``Sequential`` MLP to signed ``bits``-bit codes (biases stay float32)."""
    import torch

    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    codes, scales, zeros, biases, acts = [], [], [], [], []
    for m in model:
        if isinstance(m, torch.nn.Linear):
            w = m.weight.detach().cpu().numpy()
            axis = 0 if per_channel else None
            s, z = choose_qparams(w, bits=bits, symmetric=symmetric, axis=axis)
            codes.append(quantize(w, s, z, bits=bits, axis=axis))
            scales.append(s)
            zeros.append(z)
            biases.append(m.bias.detach().cpu().numpy().astype(np.float32) if m.bias is not None
                          else np.zeros(m.out_features, np.float32))
            acts.append(None)
        elif isinstance(m, torch.nn.Flatten):
            continue
        else:
            if not acts or acts[-1] is not None:
                raise TypeError(f"an activation must follow a Linear layer, got {type(m).__name__}")
            acts[-1] = _np_activation(m)
    if not codes:
        raise ValueError("model has no torch.nn.Linear layers to compress")
    return QuantizedMLP(codes, scales, zeros, biases, acts, bits=bits, per_channel=per_channel)


# ------------------------------------------------------------------ size and latency
def param_bytes(model) -> int:
    """Bytes of a model's parameters as stored in memory (``numel * element_size``)."""
    return int(sum(p.numel() * p.element_size() for p in model.parameters()))


def state_dict_bytes(model) -> int:
    """Length of ``torch.save(model.state_dict())``: the size of the file on disk, packed params included."""
    import torch

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


def compressed_bytes(n_weights: int, n_nonzero: int, bits: int) -> int:
    """Bytes to store ``n_weights`` weights at ``bits`` bits each, or, if smaller, only the nonzero codes plus a 1-bit-per-weight mask."""
    n_weights = _checks.integer(n_weights, "n_weights", minimum=0)
    n_nonzero = _checks.integer(n_nonzero, "n_nonzero", minimum=0)
    bits = _checks.integer(bits, "bits", minimum=1)
    if n_nonzero > n_weights:
        raise ValueError(f"n_nonzero ({n_nonzero}) cannot exceed n_weights ({n_weights})")
    dense = n_weights * bits
    sparse = n_nonzero * bits + n_weights
    return (min(dense, sparse) + 7) // 8


def median_latency(fn, *args, repeats: int = 50, warmup: int = 5) -> float:
    """Median wall-clock seconds of ``fn(*args)`` over ``repeats`` calls after ``warmup`` calls."""
    repeats = _checks.integer(repeats, "repeats", minimum=1)
    warmup = _checks.integer(warmup, "warmup", minimum=0)
    for _ in range(warmup):
        fn(*args)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# ----------------------------------------------------------------------- distillation
def distillation_loss(student_logits, teacher_logits, target, T: float = 4.0, alpha: float = 0.9):
    r"""Knowledge-distillation loss: softened KL to the teacher, scaled by :math:`T^2`, mixed with cross-entropy.

    .. math::
        L = \alpha\, T^2\, \mathrm{KL}\big(\operatorname{softmax}(t/T)\,\|\,\operatorname{softmax}(s/T)\big)
            + (1 - \alpha)\, \mathrm{CE}(s, y)

    with the KL summed over classes and averaged over the batch. The :math:`T^2` keeps
    the soft term's gradients on the same scale as :math:`T` changes.

    Args:
        student_logits, teacher_logits: ``(N, C)`` tensors (the teacher's are detached).
        target: ``(N,)`` class labels.
        T: temperature > 0. alpha: weight of the soft term, in [0, 1].
    """
    import torch
    import torch.nn.functional as F

    T = _checks.positive(T, "T")
    alpha = _checks.in_range(alpha, "alpha", 0.0, 1.0)
    for name, logits in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        if not isinstance(logits, torch.Tensor) or not logits.is_floating_point() or logits.ndim != 2:
            raise TypeError(f"{name} must be a floating torch.Tensor of shape (N, C), got "
                            + (f"{logits.dtype} of shape {tuple(logits.shape)}" if isinstance(logits, torch.Tensor)
                               else type(logits).__name__))
    if not isinstance(target, torch.Tensor) or target.is_floating_point() or target.dtype == torch.bool:
        raise TypeError("target must be an integer torch.Tensor of class labels, got "
                        + (str(target.dtype) if isinstance(target, torch.Tensor) else type(target).__name__))
    n, c = student_logits.shape
    if tuple(target.shape) != (n,) or (n and (target.min() < 0 or target.max() >= c)):
        raise ValueError(f"target must have shape ({n},) with labels in [0, {c}), got shape {tuple(target.shape)}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student_logits {tuple(student_logits.shape)} and teacher_logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape")
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1), F.log_softmax(teacher_logits.detach() / T, dim=1),
                    reduction="batchmean", log_target=True)
    hard = F.cross_entropy(student_logits, target)
    return alpha * T * T * soft + (1 - alpha) * hard
