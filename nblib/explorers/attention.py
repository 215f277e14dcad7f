"""Explorers for attention: how the scale of the query-key logits shapes the softmax."""

from __future__ import annotations

import math

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

SCALINGS = {"none": False, "1/√d": True}


def attention_logits(d_k: int, length: int = 12, seed: int = 0) -> np.ndarray:
    """Raw query-key dot products ``(length, length)`` for queries and keys drawn from N(0, 1) in ``d_k`` dimensions.

    The same seed gives the same first coordinates for every ``d_k``, so changing the
    dimension adds coordinates rather than drawing a new picture.
    """
    gen = np.random.default_rng(seed)
    q = gen.standard_normal((length, 1024))[:, :d_k]
    k = gen.standard_normal((length, 1024))[:, :d_k]
    return q @ k.T


def softmax_weights(logits: np.ndarray) -> np.ndarray:
    """Row softmax computed as written, with the maximum subtracted (NaN where a row holds inf)."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_gradient_norm(weights: np.ndarray) -> float:
    r"""Mean over rows of the Frobenius norm of the softmax Jacobian :math:`\mathrm{diag}(p) - p p^\top`.

    It measures how much the weights can still respond to the logits: it is 0 for a
    one-hot row (a saturated softmax passes no gradient back to the queries and keys).
    """
    norms = [np.linalg.norm(np.diag(p) - np.outer(p, p)) for p in weights]
    return float(np.mean(norms))


def attention_scale_explorer(length: int = 12) -> Explorer:
    """Key dimension, scaling and temperature of the logits, and the softmax attention they produce.

    Each frame draws ``length`` random queries and keys with ``d_k`` N(0, 1) coordinates,
    computes the logits :math:`q \\cdot k / (\\tau \\sqrt{d_k})` (or without the
    :math:`\\sqrt{d_k}`), and shows the attention matrix and the entropy of each row.
    A temperature of 0 divides by zero and is reported as a message.
    """
    import matplotlib.pyplot as plt

    def render(d_k, scaling, temperature):
        raw = attention_logits(d_k, length)
        scale = 1.0 / math.sqrt(d_k) if SCALINGS[scaling] else 1.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            logits = raw * scale / temperature
            weights = softmax_weights(logits)
        if not np.isfinite(weights).all():
            raise SettingError(
                f"temperature {temperature:g} divides the logits by zero: they become $\\pm\\infty$ and the "
                "softmax gives $\\infty/\\infty$ = NaN. The limit $\\tau \\to 0$ is an arg-max (each query takes "
                "exactly one key) with zero gradient everywhere. Choose a temperature above 0.")
        entropy = -(weights * np.log(np.where(weights > 0, weights, 1.0))).sum(axis=1)
        grad = softmax_gradient_norm(weights)
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.5), gridspec_kw={"width_ratios": [1, 1.25]})
        fig.subplots_adjust(left=0.07, right=0.97, bottom=0.15, top=0.78, wspace=0.35)
        left.imshow(weights, cmap="viridis", vmin=0, vmax=1)
        left.set_xticks(range(0, length, 2)); left.set_yticks(range(0, length, 2))
        left.set(xlabel="key position", ylabel="query position", title="attention weights (yellow = 1)")
        rows = np.arange(length)
        right.bar(rows, entropy, color="#1f77b4", label="row entropy")
        right.axhline(math.log(length), color="k", ls="--", lw=1, label=f"uniform: ln {length}")
        right.set(xlabel="query position", ylabel="entropy (nats)", ylim=(0, 1.45 * math.log(length)),
                  title=f"mean largest weight {weights.max(axis=1).mean():.2f}")
        right.legend(fontsize=8, loc="upper right", ncol=2)
        fig.suptitle(f"logit std {logits.std():.3g};  softmax gradient size |J| = {grad:.3f}", fontsize=10)
        return fig

    return explorer(render, [
        Slider("d_k", [1, 4, 16, 64, 256, 1024], label="key dimension $d_k$", book_values=[4, 64, 1024], value=64,
               fmt="{:d}"),
        Slider("scaling", list(SCALINGS), label="logit scaling", value="1/√d"),
        Slider("temperature", [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 16.0, 1000.0], label="temperature $\\tau$",
               book_values=[0.0, 1.0, 4.0], value=1.0),
    ], title="Softmax attention: key dimension, scaling and temperature", dpi=64)
