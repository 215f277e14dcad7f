r"""Attention from scratch: a NumPy reference, and small torch modules built from primitives.

The NumPy half is the reference, in float64, written to compute exactly what torch
computes so that the two can be compared to round-off:

* :func:`scaled_dot_product_attention` follows
  ``torch.nn.functional.scaled_dot_product_attention``,
  :math:`\mathrm{softmax}(QK^\top/\sqrt{d} + M)\,V`;
* :func:`multi_head_attention` follows ``torch.nn.MultiheadAttention(batch_first=True)``
  and takes its parameters in torch's layout (``in_proj_weight`` of shape ``(3E, E)``
  holding the query, key and value projections one above the other, ``in_proj_bias``,
  ``out_proj_weight``, ``out_proj_bias``); :func:`mha_parameters` copies them out of a
  torch module;
* :func:`causal_mask` and :func:`sinusoidal_encoding` build the usual masks and
  positional encodings.

.. warning::
   torch uses **opposite boolean mask conventions** in its two attention APIs, and so do
   the functions here, which follow them. In ``scaled_dot_product_attention`` a ``True``
   entry means *may attend*; in ``MultiheadAttention`` (``attn_mask`` and
   ``key_padding_mask``) ``True`` means *masked out*. An additive float mask (``0`` where
   allowed, ``-inf`` where not) means the same in both: ``causal_mask(T, additive=True)``.

The torch half (imported lazily, so that importing this module does not import torch)
provides modules for training, written with matrix products and softmax rather than
``torch.nn.MultiheadAttention``, and with torch's parameter names, so that a state dict
moves between them and torch's own layers:

* :class:`MultiHeadAttention` (``nn.MultiheadAttention``'s parameters and call);
* :class:`SinusoidalPositionalEncoding` and :class:`LearnedPositionalEncoding`;
* :class:`TransformerBlock`, pre-norm or post-norm (``nn.TransformerEncoderLayer``'s
  parameters and ``norm_first`` flag);
* :class:`TransformerModel`: embedding, positions, blocks, a head; bidirectional or
  causal; with :meth:`~TransformerModel.generate` for sampling;
* :func:`sequence_cross_entropy`, :func:`token_accuracy` and :func:`sequence_accuracy`,
  losses and metrics for ``(N, T, C)`` outputs that plug into :func:`nblib.torch_train.fit`.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks

_TORCH_NAMES = ("MultiHeadAttention", "SinusoidalPositionalEncoding", "LearnedPositionalEncoding",
                "TransformerBlock", "TransformerModel")


# ---------------------------------------------------------------------------- NumPy reference
def softmax(x, axis: int = -1) -> np.ndarray:
    r"""Softmax along ``axis`` that tolerates ``-inf`` logits.

    :math:`p_k = e^{x_k - m} / \sum_j e^{x_j - m}` with :math:`m = \max_j x_j`. A slice
    whose logits are all ``-inf`` (a query that may attend to nothing) gives zeros, as
    ``torch.nn.functional.scaled_dot_product_attention`` does, rather than NaN.
    """
    x = _checks.as_array(x, "x", dtype=np.float64, finite=False)
    _checks.axis(axis, max(x.ndim, 1))
    if x.size == 0:
        return x.copy()
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(x - top)
    total = e.sum(axis=axis, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def causal_mask(size: int, *, additive: bool = False) -> np.ndarray:
    """The mask that lets position ``i`` attend only to positions ``j <= i``.

    Args:
        size: the sequence length ``T``.
        additive: return a float mask (``0`` where allowed, ``-inf`` above the diagonal),
            which means the same to every attention API, instead of a boolean one.

    Returns:
        ``(T, T)``: boolean, ``True`` on and below the diagonal (*may attend*, the
        convention of :func:`scaled_dot_product_attention`; negate it for
        :func:`multi_head_attention`), or the float mask.

    Example:
        >>> causal_mask(3).astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
    """
    size = _checks.integer(size, "size", minimum=1)
    allowed = np.tril(np.ones((size, size), dtype=bool))
    if additive:
        return np.where(allowed, 0.0, -np.inf)
    return allowed


def _as_float(x, name: str, ndim_min: int = 2) -> np.ndarray:
    arr = _checks.as_array(x, name, dtype=np.float64)
    if arr.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} dimensions (..., length, features), got shape {arr.shape}")
    return arr


def _additive(mask, name: str, *, true_means_allowed: bool) -> np.ndarray:
    """A boolean or float mask as an additive float mask (0 or -inf for booleans)."""
    mask = np.asarray(mask)
    if mask.dtype == bool:
        allowed = mask if true_means_allowed else ~mask
        return np.where(allowed, 0.0, -np.inf)
    if mask.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be boolean or floating, got dtype {mask.dtype}")
    mask = mask.astype(np.float64)
    if np.isnan(mask).any() or np.isposinf(mask).any():
        raise ValueError(f"{name} may hold -inf but not NaN or +inf")
    return mask


def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal: bool = False,
                                 scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Scaled dot-product attention, :math:`\mathrm{softmax}(Q K^\top s + M)\, V`, with :math:`s = 1/\sqrt{d}`.

    Each query row is compared with every key row by a dot product; the softmax of the
    scaled scores over the keys gives weights that sum to one, and the output is the
    weighted mean of the value rows. Dividing by :math:`\sqrt{d}` keeps the scores'
    spread independent of the key dimension :math:`d`: for independent unit-variance
    entries the dot product has variance :math:`d`.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        attn_mask: broadcastable to ``(..., L, S)``. Boolean: ``True`` means *may attend*
            (torch's ``scaled_dot_product_attention`` convention). Float: added to the
            scores (use ``-inf`` to forbid).
        is_causal: apply :func:`causal_mask` (query ``i`` sees keys ``j <= i``); cannot be
            combined with ``attn_mask``, as in torch.
        scale: the factor :math:`s`; ``1/sqrt(E)`` by default.

    Returns:
        ``(output, weights)``: ``(..., L, Ev)`` and ``(..., L, S)``. (torch returns only the
        output.) A query whose keys are all masked gets zero weights and a zero output,
        like torch.

    Example:
        >>> q = k = v = np.eye(2)[None]        # (1, 2, 2)
        >>> out, w = scaled_dot_product_attention(q, k, v)
        >>> w.sum(axis=-1)
        array([[1., 1.]])
    """
    q, k, v = _as_float(query, "query"), _as_float(key, "key"), _as_float(value, "value")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"query and key must have the same feature size, got {q.shape[-1]} and {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"key and value must have the same length, got {k.shape[-2]} and {v.shape[-2]}")
    if is_causal and attn_mask is not None:
        raise ValueError("pass either attn_mask or is_causal=True, not both (as in torch)")
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else _checks.positive(scale, "scale")
    scores = (q @ np.swapaxes(k, -1, -2)) * s  # (..., L, S)
    if is_causal:
        L, S = scores.shape[-2:]
        attn_mask = np.tril(np.ones((L, S), dtype=bool))  # query i sees keys 0..i (top-left aligned, like torch)
    if attn_mask is not None:
        mask = _additive(attn_mask, "attn_mask", true_means_allowed=True)
        try:
            scores = scores + mask
        except ValueError:
            raise ValueError(f"attn_mask of shape {mask.shape} does not broadcast to the scores' shape "
                             f"{scores.shape}") from None
    weights = softmax(scores, axis=-1)  # (..., L, S)
    return weights @ v, weights


def multi_head_attention(query, key, value, num_heads: int, in_proj_weight, in_proj_bias, out_proj_weight,
                         out_proj_bias, key_padding_mask=None, attn_mask=None,
                         average_attn_weights: bool = True) -> tuple[np.ndarray, np.ndarray]:
    r"""Multi-head attention with ``torch.nn.MultiheadAttention``'s parameters (``batch_first=True``).

    The inputs are projected to queries, keys and values,
    :math:`Q = X_q W_q^\top + b_q` (and likewise for :math:`K, V`), where
    ``in_proj_weight`` stacks :math:`W_q, W_k, W_v` as rows ``[0:E], [E:2E], [2E:3E]``. Each
    projection is split along its features into ``num_heads`` heads of size
    :math:`d = E / h`; every head runs :func:`scaled_dot_product_attention` on its own
    slice; the heads' outputs are concatenated and mixed by the output projection,
    :math:`O W_o^\top + b_o`.

    Args:
        query: ``(N, L, E)``.
        key, value: ``(N, S, E)``.
        num_heads: :math:`h`; must divide ``E``.
        in_proj_weight: ``(3E, E)``, the query, key and value projections stacked.
        in_proj_bias: ``(3E,)``, or None for none.
        out_proj_weight: ``(E, E)``.
        out_proj_bias: ``(E,)``, or None for none.
        key_padding_mask: ``(N, S)`` boolean, ``True`` marks a key to **ignore** (padding),
            or float, added to the scores.
        attn_mask: ``(L, S)`` or ``(N * h, L, S)``; boolean ``True`` means **not allowed**
            (``nn.MultiheadAttention``'s convention, the opposite of
            :func:`scaled_dot_product_attention`'s), or float, added to the scores.
        average_attn_weights: average the returned weights over the heads.

    Returns:
        ``(output, weights)``: ``(N, L, E)``, and ``(N, L, S)`` averaged or ``(N, h, L, S)``.
        A query with every key masked gets zero weights (torch's module returns NaN there).
    """
    q_in, k_in, v_in = (_as_float(a, name, 3) for a, name in ((query, "query"), (key, "key"), (value, "value")))
    if q_in.ndim != 3 or k_in.ndim != 3 or v_in.ndim != 3:
        raise ValueError("query, key and value must be 3-D (N, length, E) (batch_first=True)")
    N, L, E = q_in.shape
    S = k_in.shape[1]
    if k_in.shape != (N, S, E) or v_in.shape != (N, S, E):
        raise ValueError(f"key and value must both have shape (N, S, E) = ({N}, S, {E}), got {k_in.shape} and {v_in.shape}")
    h = _checks.integer(num_heads, "num_heads", minimum=1)
    if E % h:
        raise ValueError(f"num_heads ({h}) must divide the embedding size E ({E})")
    W = _checks.as_array(in_proj_weight, "in_proj_weight", ndim=2, dtype=np.float64)
    if W.shape != (3 * E, E):
        raise ValueError(f"in_proj_weight must have shape (3E, E) = ({3 * E}, {E}), got {W.shape}")
    b = np.zeros(3 * E) if in_proj_bias is None else _checks.as_array(in_proj_bias, "in_proj_bias", ndim=1,
                                                                         dtype=np.float64)
    if b.shape != (3 * E,):
        raise ValueError(f"in_proj_bias must have shape ({3 * E},), got {b.shape}")
    Wo = _checks.as_array(out_proj_weight, "out_proj_weight", ndim=2, dtype=np.float64)
    if Wo.shape != (E, E):
        raise ValueError(f"out_proj_weight must have shape ({E}, {E}), got {Wo.shape}")
    bo = np.zeros(E) if out_proj_bias is None else _checks.as_array(out_proj_bias, "out_proj_bias", ndim=1,
                                                                       dtype=np.float64)
    if bo.shape != (E,):
        raise ValueError(f"out_proj_bias must have shape ({E},), got {bo.shape}")
    d = E // h

    def heads(x, rows):  # project, then (N, T, E) -> (N, h, T, d)
        projected = x @ W[rows].T + b[rows]
        return projected.reshape(N, x.shape[1], h, d).transpose(0, 2, 1, 3)

    q = heads(q_in, slice(0, E))          # (N, h, L, d)
    k = heads(k_in, slice(E, 2 * E))      # (N, h, S, d)
    v = heads(v_in, slice(2 * E, 3 * E))  # (N, h, S, d)
    mask = np.zeros((1, 1, L, S))
    if attn_mask is not None:
        am = _additive(attn_mask, "attn_mask", true_means_allowed=False)
        if am.shape == (L, S):
            mask = mask + am
        elif am.shape == (N * h, L, S):
            mask = mask + am.reshape(N, h, L, S)
        else:
            raise ValueError(f"attn_mask must have shape (L, S) = ({L}, {S}) or (N*num_heads, L, S) = "
                             f"({N * h}, {L}, {S}), got {am.shape}")
    if key_padding_mask is not None:
        kpm = _additive(key_padding_mask, "key_padding_mask", true_means_allowed=False)
        if kpm.shape != (N, S):
            raise ValueError(f"key_padding_mask must have shape (N, S) = ({N}, {S}), got {kpm.shape}")
        mask = mask + kpm[:, None, None, :]
    out, weights = scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (N, h, L, d), (N, h, L, S)
    out = out.transpose(0, 2, 1, 3).reshape(N, L, E) @ Wo.T + bo  # concatenate the heads, then mix
    return out, (weights.mean(axis=1) if average_attn_weights else weights)


def mha_parameters(module) -> dict:
    """NumPy float64 copies of a multi-head attention module's parameters, ready for :func:`multi_head_attention`.

    Works for ``torch.nn.MultiheadAttention`` (packed projections) and for this module's
    :class:`MultiHeadAttention`, which use the same names.

    Example:
        >>> out, w = multi_head_attention(x, x, x, **mha_parameters(torch_mha))
    """
    state = module.state_dict()
    if "in_proj_weight" not in state:
        raise TypeError(f"module must have a packed in_proj_weight (like nn.MultiheadAttention with equal "
                        f"query, key and value sizes), got {type(module).__name__}")

    def grab(name):
        return state[name].detach().cpu().double().numpy() if name in state else None

    return {"num_heads": int(module.num_heads), "in_proj_weight": grab("in_proj_weight"),
            "in_proj_bias": grab("in_proj_bias"), "out_proj_weight": grab("out_proj.weight"),
            "out_proj_bias": grab("out_proj.bias")}


def sinusoidal_encoding(length: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    r"""The sinusoidal positional encodings of Vaswani et al.

    :math:`PE_{p, 2i} = \sin(p / b^{2i/d})` and :math:`PE_{p, 2i+1} = \cos(p / b^{2i/d})`
    for position :math:`p`, pair :math:`i` and base :math:`b` (10000): each pair of
    features is a clock turning at its own speed, from one radian per position down to
    one turn per :math:`2\pi b` positions. The encoding of :math:`p + k` is a rotation of
    that of :math:`p` that depends only on :math:`k`.

    Args:
        length: positions ``0 .. length-1``.
        d_model: features (an odd ``d_model`` drops the last cosine).

    Returns:
        ``(length, d_model)`` float64, entries in [-1, 1].
    """
    length = _checks.integer(length, "length", minimum=1)
    d_model = _checks.integer(d_model, "d_model", minimum=1)
    base = _checks.positive(base, "base")
    position = np.arange(length)[:, None]                                # (T, 1)
    rates = base ** (-np.arange(0, d_model, 2) / d_model)                # (ceil(d/2),)
    angles = position * rates                                            # (T, ceil(d/2))
    pe = np.empty((length, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe


def attention_entropy(weights) -> np.ndarray:
    r"""Entropy of each row of attention weights, :math:`-\sum_j w_j \ln w_j` in nats.

    It is 0 for a query that puts all its weight on one key and :math:`\ln S` for
    uniform weights over ``S`` keys. Shape: ``(..., L, S)`` in, ``(..., L)`` out.
    """
    w = _checks.as_array(weights, "weights", dtype=np.float64)
    if w.ndim < 1 or (w < -1e-12).any():
        raise ValueError("weights must be non-negative, with keys on the last axis")
    logs = np.log(np.where(w > 0, w, 1.0))
    return -(w * logs).sum(axis=-1)


# ---------------------------------------------------------------------------- torch: losses, metrics
def sequence_cross_entropy(logits, target):
    """Mean cross-entropy over every position: ``logits (N, T, C)``, ``target (N, T)`` integer classes."""
    import torch.nn.functional as F

    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


def _check_predictions(output, target) -> None:
    """``output`` floating scores ``(..., C)`` and ``target`` integer classes of shape ``output.shape[:-1]``."""
    from .torch_train import check_scores_and_classes

    check_scores_and_classes(output, target)
    if output.ndim < 2 or tuple(target.shape) != tuple(output.shape[:-1]):
        raise ValueError(f"target must have shape output.shape[:-1]; got output {tuple(output.shape)} "
                         f"and target {tuple(target.shape)}")


def token_accuracy(output, target) -> float:
    """Fraction of positions whose arg-max class is right (``output (N, T, C)``, ``target (N, T)``)."""
    _check_predictions(output, target)
    return (output.argmax(dim=-1) == target).float().mean().item()


def sequence_accuracy(output, target) -> float:
    """Fraction of sequences with *every* position right: the exact-sequence accuracy."""
    _check_predictions(output, target)
    return (output.argmax(dim=-1) == target).all(dim=-1).float().mean().item()


# ---------------------------------------------------------------------------- torch: modules
def __getattr__(name):
    """Build the torch modules on first use, so that ``import nblib.attention`` does not import torch."""
    if name in _TORCH_NAMES:
        globals().update(_build_torch_modules())
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_TORCH_NAMES))


def _build_torch_modules() -> dict:
    """Define the torch modules; called once, on the first access to one of them."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def torch_additive(mask, name, like):
        """A boolean (True = blocked, nn.MultiheadAttention's convention) or float mask, as additive floats."""
        if mask is None:
            return None
        if mask.dtype == torch.bool:
            return torch.zeros(mask.shape, dtype=like.dtype, device=like.device).masked_fill(mask, float("-inf"))
        if not mask.is_floating_point():
            raise TypeError(f"{name} must be boolean or floating, got {mask.dtype}")
        return mask.to(like.dtype)

    def _check_sequence(x, d_model: int) -> None:
        """``x`` must be a floating ``(N, T, d_model)`` tensor."""
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"x must be a floating torch.Tensor, got {type(x).__name__}"
                            + (f" of dtype {x.dtype}" if isinstance(x, torch.Tensor) else ""))
        if x.dim() != 3 or x.shape[-1] != d_model:
            raise ValueError(f"x must be (N, T, d_model={d_model}), got shape {tuple(x.shape)}")

    class MultiHeadAttention(nn.Module):
        r"""Multi-head self- or cross-attention from matrix products and a softmax.

        The same computation, parameters and call as ``nn.MultiheadAttention(embed_dim,
        num_heads, batch_first=True)``, so ``load_state_dict`` moves weights either way.
        Queries, keys and values are projected by the three ``(E, E)`` blocks of
        ``in_proj_weight``, split into ``num_heads`` heads of ``E / num_heads`` features,
        attended with :math:`\mathrm{softmax}(QK^\top/\sqrt{d} + M)V` per head, concatenated
        and projected by ``out_proj``.

        Args:
            embed_dim: :math:`E`, the model width.
            num_heads: :math:`h`; must divide ``embed_dim``.
            dropout: dropout on the attention weights during training.
            bias: learn the projections' biases.

        Shape:
            query ``(N, L, E)``, key and value ``(N, S, E)``; output ``(N, L, E)`` and
            weights ``(N, L, S)`` (averaged over heads) or ``(N, h, L, S)``.

        Masks follow ``nn.MultiheadAttention``: boolean ``True`` means *blocked*, floats are
        added to the scores. ``is_causal=True`` builds the causal mask itself (torch's module
        needs it passed as ``attn_mask`` as well).

        Example:
            >>> mha = MultiHeadAttention(64, 4)
            >>> out, w = mha(x, x, x)                # x: (N, T, 64)
        """

        def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                     device=None, dtype=None):
            super().__init__()
            self.embed_dim = _checks.integer(embed_dim, "embed_dim", minimum=1)
            self.num_heads = _checks.integer(num_heads, "num_heads", minimum=1)
            if embed_dim % num_heads:
                raise ValueError(f"num_heads ({num_heads}) must divide embed_dim ({embed_dim})")
            self.head_dim = embed_dim // num_heads
            self.dropout = _checks.in_range(dropout, "dropout", 0.0, 1.0, high_open=True)
            factory = {"device": device, "dtype": dtype}
            self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim, **factory))
            self.in_proj_bias = nn.Parameter(torch.empty(3 * embed_dim, **factory)) if bias else None
            self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias, **factory)
            self._future_masks = {}
            self.reset_parameters()

        def reset_parameters(self) -> None:
            """torch's initialisation: Xavier-uniform projections, zero biases."""
            nn.init.xavier_uniform_(self.in_proj_weight)
            if self.in_proj_bias is not None:
                nn.init.zeros_(self.in_proj_bias)
                nn.init.zeros_(self.out_proj.bias)

        def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                    average_attn_weights: bool = True, is_causal: bool = False):
            for name, t in (("query", query), ("key", key), ("value", value)):
                if not isinstance(t, torch.Tensor) or not t.is_floating_point():
                    raise TypeError(f"{name} must be a floating torch.Tensor, got {type(t).__name__}"
                                    + (f" of dtype {t.dtype}" if isinstance(t, torch.Tensor) else ""))
            if query.dim() != 3:
                raise ValueError(f"query must be (N, L, E) (batch first), got shape {tuple(query.shape)}")
            N, L, E = query.shape
            S = key.shape[1]
            if E != self.embed_dim:
                raise ValueError(f"query has {E} features but embed_dim is {self.embed_dim}")
            h, d = self.num_heads, self.head_dim
            if key is query and value is query:  # self-attention: one product for all three projections
                qkv = F.linear(query, self.in_proj_weight, self.in_proj_bias)  # (N, L, 3E)
                q, k, v = qkv.view(N, L, 3, h, d).permute(2, 0, 3, 1, 4)       # 3 x (N, h, L, d)
            else:
                w_q, w_k, w_v = self.in_proj_weight.chunk(3)
                b_q, b_k, b_v = self.in_proj_bias.chunk(3) if self.in_proj_bias is not None else (None,) * 3
                q = F.linear(query, w_q, b_q).view(N, L, h, d).transpose(1, 2)  # (N, h, L, d)
                k = F.linear(key, w_k, b_k).view(N, S, h, d).transpose(1, 2)    # (N, h, S, d)
                v = F.linear(value, w_v, b_v).view(N, S, h, d).transpose(1, 2)  # (N, h, S, d)
            scores = (q / math.sqrt(d)) @ k.transpose(-2, -1)  # (N, h, L, S); scaling q is cheaper than scores
            mask = torch_additive(attn_mask, "attn_mask", scores)
            if mask is not None:
                scores = scores + (mask.view(N, h, L, S) if mask.dim() == 3 else mask)
            if is_causal:
                scores = scores.masked_fill(self._future(L, S, scores.device), float("-inf"))
            padding = torch_additive(key_padding_mask, "key_padding_mask", scores)
            if padding is not None:
                scores = scores + padding.view(N, 1, 1, S)
            weights = scores.softmax(dim=-1)                                # (N, h, L, S)
            if self.dropout > 0 and self.training:
                out = F.dropout(weights, self.dropout) @ v                  # (N, h, L, d)
            else:
                out = weights @ v
            out = self.out_proj(out.transpose(1, 2).reshape(N, L, E))       # (N, L, E)
            if not need_weights:
                return out, None
            return out, (weights.mean(dim=1) if average_attn_weights else weights)

        def _future(self, L: int, S: int, device):
            """The boolean (L, S) mask of keys after each query (True = blocked), cached per shape."""
            key = (L, S, str(device))
            if key not in self._future_masks:
                self._future_masks[key] = torch.ones(L, S, dtype=torch.bool, device=device).triu(1)
            return self._future_masks[key]

        def extra_repr(self) -> str:
            return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout:g}"

    class SinusoidalPositionalEncoding(nn.Module):
        r"""Adds the fixed encodings of :func:`sinusoidal_encoding` to ``(N, T, d_model)`` inputs.

        Nothing is learned; the table is a buffer (it moves with ``.to(device)``) for up to
        ``max_len`` positions. Optional dropout follows the sum, as in Vaswani et al.
        """

        def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0, base: float = 10000.0):
            super().__init__()
            self.d_model = _checks.integer(d_model, "d_model", minimum=1)
            self.max_len = _checks.integer(max_len, "max_len", minimum=1)
            table = torch.from_numpy(sinusoidal_encoding(max_len, d_model, base)).float()
            self.register_buffer("pe", table, persistent=False)  # (max_len, d_model)
            self.dropout = nn.Dropout(_checks.in_range(dropout, "dropout", 0.0, 1.0, high_open=True))

        def forward(self, x):
            _check_sequence(x, self.d_model)
            T = x.shape[1]
            if T > self.max_len:
                raise ValueError(f"sequence length {T} exceeds max_len={self.max_len}")
            return self.dropout(x + self.pe[:T].to(x.dtype))

        def extra_repr(self) -> str:
            return f"d_model={self.d_model}, max_len={self.max_len}"

    class LearnedPositionalEncoding(nn.Module):
        """Adds a learned vector per position (an ``nn.Embedding`` over positions) to ``(N, T, d_model)`` inputs."""

        def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0):
            super().__init__()
            self.max_len = _checks.integer(max_len, "max_len", minimum=1)
            self.embedding = nn.Embedding(max_len, _checks.integer(d_model, "d_model", minimum=1))
            self.dropout = nn.Dropout(_checks.in_range(dropout, "dropout", 0.0, 1.0, high_open=True))

        def forward(self, x):
            _check_sequence(x, self.embedding.embedding_dim)
            T = x.shape[1]
            if T > self.max_len:
                raise ValueError(f"sequence length {T} exceeds max_len={self.max_len}")
            return self.dropout(x + self.embedding.weight[:T])

    class TransformerBlock(nn.Module):
        r"""Self-attention and a two-layer MLP, each wrapped in a residual connection and LayerNorm.

        Post-norm (``norm_first=False``, the original transformer) normalises after each
        residual sum::

            x = norm1(x + attn(x));  x = norm2(x + mlp(x))

        Pre-norm (``norm_first=True``) normalises each branch's input and leaves the residual
        stream untouched::

            x = x + attn(norm1(x));  x = x + mlp(norm2(x))

        The parameters have ``nn.TransformerEncoderLayer(batch_first=True)``'s names
        (``self_attn``, ``linear1``, ``linear2``, ``norm1``, ``norm2``), so the two load each
        other's state dicts and compute the same function.

        Args:
            d_model: width :math:`E`.
            nhead: attention heads.
            dim_feedforward: hidden width of the MLP (``4 * d_model`` by default).
            dropout: applied to attention weights, the MLP's hidden layer and each branch output.
            activation: ``"relu"`` (torch's default) or ``"gelu"``.
            norm_first: pre-norm when True.

        Shape:
            ``(N, T, E)`` in and out.
        """

        def __init__(self, d_model: int, nhead: int, dim_feedforward: int | None = None, dropout: float = 0.0,
                     activation: str = "relu", norm_first: bool = True, layer_norm_eps: float = 1e-5,
                     device=None, dtype=None):
            super().__init__()
            factory = {"device": device, "dtype": dtype}
            d_model = _checks.integer(d_model, "d_model", minimum=1)
            dim_feedforward = 4 * d_model if dim_feedforward is None else dim_feedforward
            dim_feedforward = _checks.integer(dim_feedforward, "dim_feedforward", minimum=1)
            if activation not in ("relu", "gelu"):
                raise ValueError(f"activation must be 'relu' or 'gelu', got {activation!r}")
            self.self_attn = MultiHeadAttention(d_model, nhead, dropout=dropout, **factory)
            self.linear1 = nn.Linear(d_model, dim_feedforward, **factory)
            self.dropout = nn.Dropout(dropout)
            self.linear2 = nn.Linear(dim_feedforward, d_model, **factory)
            self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, **factory)
            self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, **factory)
            self.dropout1 = nn.Dropout(dropout)
            self.dropout2 = nn.Dropout(dropout)
            self.activation = activation
            self.norm_first = bool(norm_first)

        @staticmethod
        def _drop(module, x):
            return module(x) if module.p > 0 else x  # skip the no-op call when dropout is off: faster on CPU

        def _attend(self, x, mask, padding, is_causal, need_weights):
            out, weights = self.self_attn(x, x, x, key_padding_mask=padding, attn_mask=mask, is_causal=is_causal,
                                          need_weights=need_weights, average_attn_weights=False)
            return self._drop(self.dropout1, out), weights

        def _mlp(self, x):
            act = F.relu if self.activation == "relu" else F.gelu
            hidden = self._drop(self.dropout, act(self.linear1(x)))
            return self._drop(self.dropout2, self.linear2(hidden))

        def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False,
                    need_weights: bool = False):
            """``src (N, T, E)`` -> ``(N, T, E)``; with ``need_weights`` also the weights ``(N, h, T, T)``."""
            x = src
            if self.norm_first:
                attended, weights = self._attend(self.norm1(x), src_mask, src_key_padding_mask, is_causal,
                                                 need_weights)
                x = x + attended
                x = x + self._mlp(self.norm2(x))
            else:
                attended, weights = self._attend(x, src_mask, src_key_padding_mask, is_causal, need_weights)
                x = self.norm1(x + attended)
                x = self.norm2(x + self._mlp(x))
            return (x, weights) if need_weights else x

        def extra_repr(self) -> str:
            return f"norm_first={self.norm_first}, activation={self.activation!r}"

    class TransformerModel(nn.Module):
        r"""A small transformer over token sequences: embed, add positions, ``num_layers`` blocks, project.

        ``causal=False`` gives a bidirectional encoder (every position sees every other), for
        sequence-to-sequence tasks of equal length such as sorting; ``causal=True`` gives a
        decoder-only language model (position ``t`` sees ``0..t``) that predicts the next
        token at every position. A pre-norm stack ends with a final LayerNorm, as is usual;
        a post-norm stack already ends normalised.

        Args:
            vocab_size: input tokens are integers in ``[0, vocab_size)``.
            d_model, nhead, num_layers, dim_feedforward, dropout, activation, norm_first:
                as in :class:`TransformerBlock`.
            max_len: longest sequence the positional encoding covers.
            positional: ``"sinusoidal"``, ``"learned"`` or ``None`` (no position information:
                the model is then permutation-equivariant).
            causal: mask attention to the past.
            out_features: classes per position (``vocab_size`` by default).

        Shape:
            ``(N, T)`` integer tokens in, ``(N, T, out_features)`` logits out.
        """

        def __init__(self, vocab_size: int, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                     dim_feedforward: int | None = None, max_len: int = 256, dropout: float = 0.0,
                     activation: str = "relu", norm_first: bool = True, positional: str | None = "sinusoidal",
                     causal: bool = False, out_features: int | None = None):
            super().__init__()
            self.vocab_size = _checks.integer(vocab_size, "vocab_size", minimum=1)
            d_model = _checks.integer(d_model, "d_model", minimum=1)
            self.max_len = _checks.integer(max_len, "max_len", minimum=1)
            self.causal = bool(causal)
            self.embedding = nn.Embedding(vocab_size, d_model)
            if positional == "sinusoidal":
                self.positional = SinusoidalPositionalEncoding(d_model, max_len, dropout)
            elif positional == "learned":
                self.positional = LearnedPositionalEncoding(d_model, max_len, dropout)
            elif positional is None:
                self.positional = nn.Dropout(dropout)
            else:
                raise ValueError(f"positional must be 'sinusoidal', 'learned' or None, got {positional!r}")
            self.layers = nn.ModuleList(
                TransformerBlock(d_model, nhead, dim_feedforward, dropout, activation, norm_first)
                for _ in range(_checks.integer(num_layers, "num_layers", minimum=1)))
            self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
            self.head = nn.Linear(d_model, out_features or vocab_size)

        def forward(self, idx, need_weights: bool = False):
            """Logits ``(N, T, C)``; with ``need_weights`` also a list of each layer's weights ``(N, h, T, T)``."""
            if not isinstance(idx, torch.Tensor) or idx.is_floating_point() or idx.is_complex() \
                    or idx.dtype == torch.bool:
                raise TypeError(f"idx must be an integer torch.Tensor of token ids, got {type(idx).__name__}"
                                + (f" of dtype {idx.dtype}" if isinstance(idx, torch.Tensor) else ""))
            if idx.dim() != 2:
                raise ValueError(f"idx must be (N, T) integer tokens, got shape {tuple(idx.shape)}")
            if idx.numel() and (idx.min() < 0 or idx.max() >= self.vocab_size):
                raise ValueError(f"idx holds token ids outside [0, vocab_size={self.vocab_size})")
            if idx.shape[1] > self.max_len:
                raise ValueError(f"sequence length {idx.shape[1]} exceeds max_len={self.max_len}")
            x = self.positional(self.embedding(idx))  # (N, T, E)
            maps = []
            for layer in self.layers:
                if need_weights:
                    x, w = layer(x, is_causal=self.causal, need_weights=True)
                    maps.append(w)
                else:
                    x = layer(x, is_causal=self.causal)
            logits = self.head(self.norm(x))  # (N, T, C)
            return (logits, maps) if need_weights else logits

        @torch.no_grad()
        def generate(self, idx, max_new_tokens: int, temperature: float = 1.0, generator=None):
            r"""Extend ``idx (N, T)`` by sampling ``max_new_tokens`` tokens, one at a time.

            Each step feeds the last ``max_len`` tokens, divides the last position's logits
            by ``temperature`` (below 1 sharpens the distribution, above 1 flattens it) and
            samples from their softmax with ``generator`` (a ``torch.Generator``, for a
            reproducible sample). Needs ``causal=True``.
            """
            if not self.causal:
                raise ValueError("generate needs a causal model (causal=True): an encoder sees the future")
            temperature = _checks.positive(temperature, "temperature")
            max_new_tokens = _checks.integer(max_new_tokens, "max_new_tokens", minimum=0)
            was_training = self.training
            self.eval()
            for _ in range(max_new_tokens):
                logits = self(idx[:, -self.max_len:])[:, -1] / temperature  # (N, C)
                probs = logits.double().softmax(dim=-1).cpu()
                nxt = torch.multinomial(probs, 1, generator=generator)       # (N, 1)
                idx = torch.cat([idx, nxt.to(idx.device)], dim=1)
            self.train(was_training)
            return idx

    built = {cls.__name__: cls for cls in (MultiHeadAttention, SinusoidalPositionalEncoding,
                                           LearnedPositionalEncoding, TransformerBlock, TransformerModel)}
    for cls in built.values():
        cls.__qualname__ = cls.__name__  # documented and pickled as nblib.attention.<name>
    return built
