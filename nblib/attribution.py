r"""Attribution from scratch: which inputs does a network's output depend on, and how much?

Every method here takes a trained ``torch.nn.Module`` ``model`` that maps a batch
``x`` of shape ``(B, ...)`` to class scores (logits) of shape ``(B, C)``, and a target
class per row, and returns one attribution per input entry, with the shape of ``x``:

* :func:`saliency`: the gradient :math:`\partial F_c / \partial x` of the target logit
  (Simonyan et al., 2014);
* :func:`gradient_x_input`: :math:`x \odot \partial F_c / \partial x`;
* :func:`integrated_gradients`: :math:`(x - x') \odot \int_0^1 \nabla F_c(x' + \alpha (x - x'))\,d\alpha`,
  a Riemann sum over ``steps`` points of the straight path from a baseline :math:`x'`
  (Sundararajan et al., 2017). It is *complete*: the attributions sum to
  :math:`F_c(x) - F_c(x')` up to the quadrature error, which :func:`completeness_gap` measures;
* :func:`lrp`: layer-wise relevance propagation for ``nn.Sequential`` nets of
  ``Linear``, ``Conv2d``, ``ReLU`` and ``Flatten`` layers (Bach et al., 2015), with the
  LRP-0, LRP-:math:`\epsilon` and :math:`z^+` rules, optionally returning the relevance at
  every layer so that its conservation can be checked.

Faithfulness and comparison tools: :func:`deletion_curve` (delete the most-attributed
inputs first, Samek et al., 2017), :func:`curve_area`, and :func:`rank_correlation`
(Spearman's, with average ranks for ties). Concept tools (TCAV, Kim et al., 2018):
:func:`layer_gradients`, :func:`concept_activation_vector` and :func:`tcav_score`.

torch and scikit-learn are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = [
    "saliency", "gradient_x_input", "integrated_gradients", "completeness_gap", "lrp", "LRP_RULES",
    "deletion_curve", "curve_area", "rank_correlation", "rankdata", "layer_gradients",
    "concept_activation_vector", "tcav_score",
]

LRP_RULES = ("zero", "epsilon", "zplus")


# ----------------------------------------------------------------------------- helpers
def _check_model(model):
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _check_input(x, name: str = "x"):
    import torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, ...), got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(f"{name} must have a batch dimension, shape (B, ...), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point, got {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf")
    return x.detach()


def _targets(model, x, target):
    """``target`` as a ``(B,)`` long tensor; ``None`` means each row's predicted class."""
    import torch

    B = x.shape[0]
    if target is None:
        with torch.no_grad():
            return model(x).argmax(dim=1)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        return torch.full((B,), int(target), dtype=torch.long, device=x.device)
    if not isinstance(target, torch.Tensor):
        arr = np.asarray(target)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"target must hold integer class indices, got dtype {arr.dtype}")
        target = arr
    t = torch.as_tensor(target)
    if t.dtype.is_floating_point or t.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices, got {t.dtype}")
    if t.shape != (B,):
        raise ValueError(f"target must be an int or have shape ({B},), got shape {tuple(t.shape)}")
    if t.numel() and t.min() < 0:
        raise ValueError(f"target must hold class indices >= 0, got {t.min().item()}")
    return t.to(device=x.device, dtype=torch.long)


def _gather(logits, target):
    """``logits[b, target[b]]`` as ``(B, 1)``, after checking that every target names one of the C classes."""
    if logits.dim() != 2:
        raise ValueError(f"model must return logits of shape (B, C), got shape {tuple(logits.shape)}")
    if target.numel() and target.max() >= logits.shape[1]:
        raise ValueError(f"target must lie in [0, {logits.shape[1]}) (the model's classes), got {target.max().item()}")
    return logits.gather(1, target.view(-1, 1))


def _target_logit_grad(model, x, target):
    """Gradient of the target logits (summed over the batch: rows are independent) with respect to x."""
    import torch

    x = x.detach().clone().requires_grad_(True)
    logits = model(x)  # (B, C)
    chosen = _gather(logits, target).sum()
    (grad,) = torch.autograd.grad(chosen, x)
    return grad


# ----------------------------------------------------------------------------- gradients
def saliency(model, x, target=None):
    r"""The gradient of the target class's logit with respect to the input, :math:`\partial F_c(x)/\partial x`.

    Simonyan et al. (2014) plot its absolute value as a *saliency map*. The gradient says
    how the logit would change for an infinitesimal change of each input; it says nothing
    about inputs whose effect is already saturated.

    Args:
        model: maps ``(B, ...)`` to logits ``(B, C)``; put it in ``eval()`` mode first.
        x: ``(B, ...)`` float tensor.
        target: class per row: an int, a ``(B,)`` integer tensor or array, or ``None``
            for each row's predicted class.

    Shape:
        returns ``(B, ...)``, like ``x``.

    Example:
        >>> g = saliency(model, x[:4], target=y[:4])     # (4, 1, 8, 8) for images
    """
    _check_model(model)
    x = _check_input(x)
    return _target_logit_grad(model, x, _targets(model, x, target))


def gradient_x_input(model, x, target=None):
    r"""Gradient times input, :math:`x \odot \partial F_c(x)/\partial x` (same arguments as :func:`saliency`).

    For a linear model :math:`F_c(x) = w^\top x + b` its entries are the terms
    :math:`w_i x_i` of the sum, so they add up to :math:`F_c(x) - b`.
    """
    _check_model(model)
    x = _check_input(x)
    return x * _target_logit_grad(model, x, _targets(model, x, target))


def _alphas(steps: int, rule: str) -> np.ndarray:
    k = np.arange(steps, dtype=np.float64)
    if rule == "midpoint":
        return (k + 0.5) / steps
    if rule == "left":
        return k / steps
    if rule == "right":
        return (k + 1) / steps
    raise ValueError(f"rule must be 'midpoint', 'left' or 'right', got {rule!r}")


def _baseline(x, baseline):
    import torch

    if baseline is None:
        return torch.zeros_like(x)
    if not isinstance(baseline, torch.Tensor):
        baseline = torch.as_tensor(_checks.as_array(baseline, "baseline"), dtype=x.dtype)
    if not torch.isfinite(baseline).all():
        raise ValueError("baseline contains NaN or inf")
    try:
        return torch.broadcast_to(baseline.detach().to(device=x.device, dtype=x.dtype), x.shape)
    except RuntimeError:
        raise ValueError(f"baseline of shape {tuple(baseline.shape)} does not broadcast to x's shape "
                         f"{tuple(x.shape)}") from None


def integrated_gradients(model, x, target=None, baseline=None, steps: int = 32, rule: str = "midpoint"):
    r"""Integrated gradients along the straight path from ``baseline`` to ``x``.

    .. math::
        \mathrm{IG}_i(x) = (x_i - x'_i) \int_0^1 \frac{\partial F_c}{\partial x_i}\big(x' + \alpha (x - x')\big)\, d\alpha
        \approx (x_i - x'_i)\, \frac{1}{m} \sum_{k=1}^{m} \frac{\partial F_c}{\partial x_i}\big(x' + \alpha_k (x - x')\big)

    By the fundamental theorem of calculus for path integrals the exact attributions sum to
    :math:`F_c(x) - F_c(x')` (*completeness*); the Riemann sum meets it up to a quadrature
    error that shrinks as ``steps`` grows: like :math:`1/m^2` for the midpoint rule on a
    smooth model, like :math:`1/m` where the gradient jumps (ReLU kinks along the path).

    Args:
        model, x, target: as in :func:`saliency`.
        baseline: :math:`x'`: ``None`` (zeros, a black image), a number, or a tensor that
            broadcasts to ``x``.
        steps: :math:`m`, the number of gradient evaluations per input.
        rule: where the :math:`\alpha_k` sit in their cells: ``"midpoint"``
            (:math:`(k - 1/2)/m`, the default), ``"left"`` or ``"right"``.

    Shape:
        returns ``(B, ...)``, like ``x``. The model sees batches of ``steps * B`` rows.

    Example:
        >>> ig = integrated_gradients(model, x, target=y, steps=64)
        >>> completeness_gap(model, x, ig, target=y)        # (B,), small
    """
    import torch

    _check_model(model)
    x = _check_input(x)
    steps = _checks.integer(steps, "steps", minimum=1)
    alphas = torch.as_tensor(_alphas(steps, rule), dtype=x.dtype, device=x.device)
    target = _targets(model, x, target)
    x0 = _baseline(x, baseline)
    B = x.shape[0]
    shape = (steps,) + (1,) * x.dim()
    path = x0.unsqueeze(0) + alphas.view(shape) * (x - x0).unsqueeze(0)  # (m, B, ...)
    grads = _target_logit_grad(model, path.reshape(steps * B, *x.shape[1:]), target.repeat(steps))
    mean_grad = grads.reshape(steps, *x.shape).mean(dim=0)  # (B, ...)
    return (x - x0) * mean_grad


def completeness_gap(model, x, attributions, target=None, baseline=None):
    r"""How far attributions are from complete: :math:`\left|\sum_i a_i - (F_c(x) - F_c(x'))\right|` per row.

    Args:
        model, x, target, baseline: as in :func:`integrated_gradients`.
        attributions: ``(B, ...)``, like ``x``.

    Returns:
        ``(B,)`` NumPy array of absolute gaps, in logit units.
    """
    import torch

    _check_model(model)
    x = _check_input(x)
    if not isinstance(attributions, torch.Tensor) or attributions.shape != x.shape:
        raise ValueError(f"attributions must be a tensor of x's shape {tuple(x.shape)}")
    target = _targets(model, x, target)
    x0 = _baseline(x, baseline)
    with torch.no_grad():
        diff = (_gather(model(x), target) - _gather(model(x0), target)).squeeze(1)
    total = attributions.detach().reshape(len(x), -1).sum(dim=1)
    return (total - diff).abs().cpu().numpy().astype(np.float64)


# ----------------------------------------------------------------------------- LRP
def _lrp_layers(model):
    import torch.nn as nn

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"lrp needs a torch.nn.Sequential, got {type(model).__name__}")
    layers = list(model)
    for m in layers:
        if not isinstance(m, (nn.Linear, nn.Conv2d, nn.ReLU, nn.Flatten, nn.Identity, nn.Dropout)):
            raise TypeError(f"lrp supports Linear, Conv2d, ReLU, Flatten, Identity and Dropout layers, "
                            f"got {type(m).__name__}")
        if isinstance(m, nn.Conv2d) and (m.groups != 1 or m.padding_mode != "zeros"):
            raise ValueError("lrp supports Conv2d with groups=1 and zero padding only")
    return layers


def _layer_rules(rule, n_weighted: int) -> list[str]:
    rules = [rule] * n_weighted if isinstance(rule, str) else list(rule)
    if len(rules) != n_weighted:
        raise ValueError(f"rule must be one string or one per Linear/Conv2d layer ({n_weighted}), got {len(rules)}")
    for r in rules:
        if r not in LRP_RULES:
            raise ValueError(f"rule must be one of {LRP_RULES}, got {r!r}")
    return rules


def _weighted_forward(layer, a, rule: str):
    """The pre-activations ``z`` that a rule divides by: with the layer's weights, or only their positive part."""
    import torch.nn.functional as F

    weight, bias = layer.weight, layer.bias
    if rule == "zplus":
        weight, bias = weight.clamp(min=0), None
    if hasattr(layer, "stride"):  # Conv2d
        return F.conv2d(a, weight, bias, layer.stride, layer.padding, layer.dilation), weight
    return F.linear(a, weight, bias), weight


def _transpose(layer, weight, s, input_shape):
    """:math:`W^\\top s`: how much each input feeds the outputs, weighted by the messages ``s``."""
    import torch

    if hasattr(layer, "stride"):
        return torch.nn.grad.conv2d_input(input_shape, weight, s, layer.stride, layer.padding, layer.dilation)
    return s @ weight  # (B, out) @ (out, in) -> (B, in)


def lrp(model, x, target=None, rule="epsilon", epsilon: float = 1e-6, return_relevances: bool = False):
    r"""Layer-wise relevance propagation: share the target logit out among the inputs, layer by layer.

    Start from :math:`R = F_c(x)` at the target output (zero elsewhere). At a ``Linear``
    or ``Conv2d`` layer with inputs :math:`a_j` and pre-activations
    :math:`z_k = \sum_j a_j w_{jk} + b_k`, input :math:`j` receives the share of each
    output's relevance that it contributed:

    .. math::
        R_j = a_j \sum_k \frac{w_{jk}\, R_k}{z_k + \epsilon\, \mathrm{sign}(z_k)}.

    ``rule="zero"`` is LRP-0 (:math:`\epsilon = 0`), ``"epsilon"`` absorbs weak or
    contradictory contributions in :math:`\epsilon`, and ``"zplus"`` keeps only positive
    weights, :math:`w^+_{jk} = \max(w_{jk}, 0)`, and no bias (it assumes inputs
    :math:`a_j \ge 0`, true after a ReLU and for pixel intensities). ``ReLU``, ``Flatten``,
    ``Dropout`` and ``Identity`` pass relevance through unchanged (reshaped).

    Conservation: with zero biases, :math:`\sum_j R_j = \sum_k R_k` at every layer for
    LRP-0 (and for :math:`z^+` where no :math:`z_k` is zero); biases absorb the share
    :math:`R_k b_k / z_k`. For a ReLU network, LRP-0 equals :func:`gradient_x_input` (with
    or without biases; Ancona et al., 2018).

    Args:
        model: ``nn.Sequential`` of the layers above, in ``eval()`` mode.
        x, target: as in :func:`saliency`.
        rule: one of :data:`LRP_RULES`, or a sequence with one rule per ``Linear``/``Conv2d``
            layer, first layer first (e.g. ``z+`` low, :math:`\epsilon` high).
        epsilon: the stabiliser of ``"epsilon"`` (must be ``> 0`` there).
        return_relevances: also return the relevance at the input of every layer.

    Returns:
        ``R`` of shape ``(B, ...)``, like ``x``; with ``return_relevances``, ``(R, layers)``
        where ``layers[i]`` is the relevance entering ``model[i]`` (``layers[0] is R``) and
        ``layers[-1]`` the output relevance ``(B, C)``.

    Example:
        >>> R, per_layer = lrp(model, x, target=y, rule="zero", return_relevances=True)
        >>> [r.sum().item() for r in per_layer]      # conserved when the biases are zero
    """
    import torch
    import torch.nn as nn

    _check_model(model)
    layers = _lrp_layers(model)
    x = _check_input(x)
    epsilon = _checks.positive(epsilon, "epsilon", allow_zero=True)
    n_weighted = sum(isinstance(m, (nn.Linear, nn.Conv2d)) for m in layers)
    rules = _layer_rules(rule, n_weighted)
    if "epsilon" in rules and epsilon == 0:
        raise ValueError("epsilon must be > 0 for rule 'epsilon' (use rule='zero' for LRP-0)")
    target = _targets(model, x, target)
    with torch.no_grad():
        acts = [x]
        for m in layers:
            acts.append(m(acts[-1]))  # acts[i] enters layers[i]
        out = acts[-1]
        if out.dim() != 2:
            raise ValueError(f"model must return logits of shape (B, C), got shape {tuple(out.shape)}")
        R = torch.zeros_like(out)
        R.scatter_(1, target.view(-1, 1), _gather(out, target))  # (B, C)
        relevances = [R]
        k = n_weighted
        for i in range(len(layers) - 1, -1, -1):
            m, a = layers[i], acts[i]
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                k -= 1
                z, weight = _weighted_forward(m, a, rules[k])
                if rules[k] == "epsilon":
                    z = z + epsilon * torch.where(z >= 0, 1.0, -1.0).to(z.dtype)
                s = torch.where(z != 0, R / torch.where(z != 0, z, 1.0), 0.0)  # a zero z passes nothing
                R = a * _transpose(m, weight, s, a.shape)
            else:
                R = R.reshape(a.shape)
            relevances.append(R)
    relevances.reverse()
    return (R, relevances) if return_relevances else R


# ----------------------------------------------------------------------------- faithfulness
def deletion_curve(model, x, attribution, target=None, *, n_steps: int = 16, fill: float = 0.0):
    r"""The target class's probability as the most-attributed inputs are deleted first.

    The inputs of each row are ranked by ``attribution`` (largest first, ties in index
    order) and deleted, i.e. set to ``fill``, in ``n_steps`` equal chunks (Samek et al.'s
    *most relevant first* region perturbation). A faithful attribution makes the
    probability fall fast, so the area under the curve (:func:`curve_area`) is small.
    Pass random numbers as ``attribution`` for the random-order control.

    Args:
        model, x, target: as in :func:`saliency`.
        attribution: ``(B, ...)`` tensor or array, like ``x``.
        n_steps: number of deletion chunks; the curve has ``n_steps + 1`` points.
        fill: the value a deleted input takes (0, the background, for the digits).

    Returns:
        ``(fractions, probs)``: ``(n_steps + 1,)`` fractions of inputs deleted and a
        ``(B, n_steps + 1)`` NumPy array of target-class probabilities.
    """
    import torch

    _check_model(model)
    x = _check_input(x)
    attr = _checks.as_array(attribution.detach().cpu().numpy() if isinstance(attribution, torch.Tensor)
                            else attribution, "attribution")
    if attr.shape != tuple(x.shape):
        raise ValueError(f"attribution must have x's shape {tuple(x.shape)}, got {attr.shape}")
    n_steps = _checks.integer(n_steps, "n_steps", minimum=1)
    fill = _checks.as_real(fill, "fill")
    target = _targets(model, x, target)
    B = x.shape[0]
    D = int(np.prod(x.shape[1:]))
    if n_steps > D:
        raise ValueError(f"n_steps ({n_steps}) cannot exceed the number of inputs per row ({D})")
    order = np.argsort(-attr.reshape(B, D), axis=1, kind="stable")  # most attributed first
    counts = np.round(np.linspace(0, D, n_steps + 1)).astype(int)
    flat = x.reshape(B, D)
    batch = flat.unsqueeze(0).repeat(n_steps + 1, 1, 1)  # (n_steps + 1, B, D)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(D)[None, :].repeat(B, 0), axis=1)  # rank of each input
    deleted = torch.as_tensor(rank[None, :, :] < counts[:, None, None])  # (n_steps + 1, B, D)
    batch = torch.where(deleted.to(x.device), torch.as_tensor(fill, dtype=x.dtype), batch)
    with torch.no_grad():
        logits = model(batch.reshape((n_steps + 1) * B, *x.shape[1:]))
        probs = _gather(torch.softmax(logits, dim=1), target.repeat(n_steps + 1))
    return counts / D, probs.reshape(n_steps + 1, B).T.cpu().numpy().astype(np.float64)


def curve_area(fractions, values) -> np.ndarray:
    """Area under each row of ``values`` (``(B, K)``) over ``fractions`` (``(K,)``), by the trapezoid rule.

    With fractions from 0 to 1 the area is the curve's mean height; ``(B,)`` is returned.
    """
    f = _checks.as_array(fractions, "fractions", ndim=1, dtype=np.float64)
    v = _checks.as_array(values, "values", dtype=np.float64)
    if v.ndim == 1:
        v = v[None]
    if v.ndim != 2 or v.shape[1] != f.size:
        raise ValueError(f"values must be (B, {f.size}) to match fractions, got shape {v.shape}")
    if np.any(np.diff(f) < 0):
        raise ValueError("fractions must be non-decreasing")
    return ((v[:, 1:] + v[:, :-1]) / 2 * np.diff(f)).sum(axis=1)


def rankdata(a) -> np.ndarray:
    """Ranks 1..n of a 1-D array, ties given the mean of the ranks they span (like ``scipy.stats.rankdata``)."""
    a = _checks.as_array(a, "a", ndim=1)
    if a.size == 0:
        return np.empty(0)
    order = np.argsort(a, kind="stable")
    sorted_a = a[order]
    starts = np.r_[True, sorted_a[1:] != sorted_a[:-1]]  # first element of each run of equal values
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    sizes = np.diff(np.r_[first, a.size])
    mean_rank = first + (sizes + 1) / 2.0  # ranks first+1 .. first+size, averaged
    ranks = np.empty(a.size, dtype=np.float64)
    ranks[order] = mean_rank[group]
    return ranks


def rank_correlation(a, b) -> np.ndarray:
    r"""Spearman's rank correlation between matching rows of ``a`` and ``b``.

    The Pearson correlation of the rows' ranks (ties averaged), in :math:`[-1, 1]`. A row
    that is constant has no ranking, and gives ``nan``.

    Args:
        a, b: arrays or tensors of the same shape ``(B, ...)``; each row is flattened.

    Returns:
        ``(B,)`` NumPy array.
    """
    a = _numpy(a, "a")
    b = _numpy(b, "b")
    if a.shape != b.shape or a.ndim < 1 or a.size == 0:
        raise ValueError(f"a and b must have the same shape (B, ...), got {a.shape} and {b.shape}")
    a = a.reshape(len(a), -1) if a.ndim > 1 else a[None]
    b = b.reshape(len(b), -1) if b.ndim > 1 else b[None]
    out = np.empty(len(a))
    for i, (u, v) in enumerate(zip(a, b)):
        ru, rv = rankdata(u) - (u.size + 1) / 2, rankdata(v) - (v.size + 1) / 2
        denom = np.sqrt((ru @ ru) * (rv @ rv))
        out[i] = (ru @ rv) / denom if denom > 0 else np.nan
    return out


def _numpy(x, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return _checks.as_array(x, name, dtype=np.float64)


# ----------------------------------------------------------------------------- concepts (TCAV)
def layer_gradients(model, x, layer: int, target):
    r"""Activations after ``model[:layer]`` and the gradient of the target logit with respect to them.

    TCAV asks whether moving the activations :math:`h = f_l(x)` in a concept's direction
    raises a class's logit: the sign of :math:`\nabla_h F_c \cdot v`. This function
    splits an ``nn.Sequential`` at ``layer`` and returns both pieces, flattened per row.

    Args:
        model: ``nn.Sequential`` in ``eval()`` mode.
        x: ``(B, ...)`` inputs.
        layer: split point: ``model[:layer]`` gives the activations, ``model[layer:]`` the logits.
        target: as in :func:`saliency`.

    Returns:
        ``(activations, gradients)``: two ``(B, D)`` NumPy arrays.
    """
    import torch

    _check_model(model)
    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    x = _check_input(x)
    layer = _checks.integer(layer, "layer", minimum=1)
    if layer >= len(model):
        raise ValueError(f"layer must be below the number of layers ({len(model)}), got {layer}")
    target = _targets(model, x, target)
    with torch.no_grad():
        h = model[:layer](x)
    h = h.detach().clone().requires_grad_(True)
    logits = model[layer:](h)
    (grad,) = torch.autograd.grad(_gather(logits, target).sum(), h)
    B = len(x)
    if B == 0:
        raise ValueError("x has no rows")
    return (h.detach().reshape(B, -1).cpu().numpy().astype(np.float64),
            grad.reshape(B, -1).cpu().numpy().astype(np.float64))


def concept_activation_vector(concept, other, C: float = 1.0, seed: int = 0):
    r"""A concept activation vector (CAV): the unit normal of a linear probe separating two sets of activations.

    A logistic-regression probe learns to tell the activations of concept examples
    (label 1) from those of other examples (label 0); its weight vector, normalised,
    points from "other" towards the concept (Kim et al., 2018).

    Args:
        concept: ``(N1, D)`` activations of concept examples.
        other: ``(N0, D)`` activations of counter-examples (random images, for TCAV).
        C: inverse L2 regularisation strength of ``sklearn.linear_model.LogisticRegression``.
        seed: the probe's ``random_state``.

    Returns:
        ``(cav, probe)``: a ``(D,)`` unit vector and the fitted scikit-learn probe, whose
        ``score(X, y)`` gives the probe's accuracy.
    """
    from sklearn.linear_model import LogisticRegression

    concept = _checks.as_array(concept, "concept", ndim=2, dtype=np.float64)
    other = _checks.as_array(other, "other", ndim=2, dtype=np.float64)
    if concept.shape[1] != other.shape[1]:
        raise ValueError(f"concept and other must have the same width, got {concept.shape[1]} and {other.shape[1]}")
    if len(concept) < 2 or len(other) < 2:
        raise ValueError("concept and other need at least two rows each")
    C = _checks.positive(C, "C")
    X = np.vstack([concept, other])
    y = np.r_[np.ones(len(concept)), np.zeros(len(other))]
    probe = LogisticRegression(C=C, max_iter=2000, random_state=_checks.integer(seed, "seed", minimum=0)).fit(X, y)
    w = probe.coef_[0]
    norm = np.linalg.norm(w)
    if norm == 0:
        raise ValueError("the probe learned a zero weight vector: the two sets cannot be told apart")
    return w / norm, probe


def tcav_score(gradients, cav) -> float:
    r"""TCAV score: the fraction of rows whose directional derivative :math:`\nabla_h F_c \cdot v` is positive.

    Args:
        gradients: ``(B, D)`` gradients of a class logit with respect to a layer's
            activations (see :func:`layer_gradients`), one row per input of that class.
        cav: ``(D,)`` concept activation vector.

    Returns:
        a float in ``[0, 1]``: 0.5 is what a direction unrelated to the class gives on average.
    """
    g = _checks.as_array(gradients, "gradients", ndim=2, dtype=np.float64)
    v = _checks.as_array(cav, "cav", ndim=1, dtype=np.float64)
    if g.shape[1] != v.size:
        raise ValueError(f"gradients have width {g.shape[1]} but cav has {v.size} entries")
    if len(g) == 0:
        raise ValueError("gradients has no rows")
    return float(np.mean(g @ v > 0))
