"""Explorer for model compression: prune a trained MLP's weights and quantise the rest, then measure."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

SPARSITIES = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0)
BITS = (1, 2, 3, 4, 6, 8)


def compression_explorer(model, X, y) -> Explorer:
    r"""Sparsity and bit width applied to one trained ``Sequential`` MLP, with accuracy and size.

    Each frame prunes the smallest weights of all ``Linear`` layers together (global
    magnitude pruning, no fine-tuning) to ``sparsity``, quantises what is left to
    signed ``bits``-bit codes with one symmetric scale per output neuron
    (:func:`nblib.compression.fake_quantize`), and evaluates the result on ``(X, y)``.
    The left panel shows a histogram of the first layer's surviving weights, each divided by
    the largest magnitude in its row so that the rows' levels line up (the quantisation
    levels appear as spikes); the right panel places the setting on the accuracy/size plane
    beside the float32 original. Size counts the weight codes (dense, or nonzero codes
    plus a one-bit-per-weight mask if that is smaller), float32 scales and biases.

    Settings that cannot work are messages: 1-bit symmetric codes can only be 0 (a
    sign-only network needs a different scheme and training), and 100% sparsity
    removes every weight, so the output no longer depends on the input.

    Args:
        model: a trained ``torch.nn.Sequential`` of ``Linear`` and ``ReLU`` layers.
        X, y: evaluation inputs ``(N, features)`` and labels ``(N,)``.
    """
    import torch

    from .. import _checks
    from ..compression import compressed_bytes, fake_quantize, magnitude_masks

    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    X = _checks.as_array(X, "X", ndim=2).astype(np.float32)
    y = _checks.as_labels(y, "y", n=len(X))
    layers = []
    for m in model:
        if isinstance(m, torch.nn.Linear):
            layers.append([m.weight.detach().cpu().numpy().astype(np.float32),
                           m.bias.detach().cpu().numpy().astype(np.float32), False])
        elif isinstance(m, torch.nn.ReLU) and layers:
            layers[-1][2] = True
        else:
            raise TypeError(f"compression_explorer supports Linear and ReLU layers, got {type(m).__name__}")
    weights = [w for w, _, _ in layers]
    n_weights = sum(w.size for w in weights)
    n_rows = sum(w.shape[0] for w in weights)
    n_bias = sum(b.size for _, b, _ in layers)

    def predict(ws):
        h = X
        for w, (_, b, relu) in zip(ws, layers):
            h = h @ w.T + b
            if relu:
                h = np.maximum(h, 0)
        return h

    float_acc = float((predict(weights).argmax(1) == y).mean())
    float_kb = 4 * (n_weights + n_bias) / 1024

    def render(sparsity, bits):
        import matplotlib.pyplot as plt

        if sparsity >= 1.0:
            raise SettingError("Sparsity 100% removes every weight: each layer outputs only its bias, so the "
                               "network gives the same answer for every image. Pick a sparsity below 100%.")
        if bits < 2:
            raise SettingError("1-bit symmetric codes can only hold the values -1 and 0, and a symmetric scale "
                               "maps every weight to 0. Binary networks (weights +-1) need their own scheme and "
                               "training; pick 2 bits or more.")
        masks = magnitude_masks(weights, sparsity, scope="global")
        ws = [fake_quantize(w * m, bits=bits, symmetric=True, axis=0) * m for w, m in zip(weights, masks)]
        acc = float((predict(ws).argmax(1) == y).mean())
        nonzero = int(sum(np.count_nonzero(w) for w in ws))
        kb = (compressed_bytes(n_weights, nonzero, bits) + 4 * n_rows + 4 * n_bias) / 1024
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8, 3.2))
        # each row has its own scale, so divide by the row's largest |weight|: the levels line up
        row_max = np.abs(ws[0]).max(axis=1, keepdims=True)
        relative = (ws[0] / np.where(row_max > 0, row_max, 1.0))[masks[0]]
        first = ws[0][masks[0]]
        ax0.hist(relative, bins=201, range=(-1.005, 1.005), color="C0")
        ax0.set_yscale("log")
        ax0.set_xlabel("kept weight / its row's largest |weight| (layer 1)")
        ax0.set_ylabel("count (log scale)")
        ax0.set_title(f"{first.size} of {weights[0].size} weights kept")
        ax1.scatter([float_kb], [100 * float_acc], s=60, color="grey", label="float32 original")
        ax1.scatter([kb], [100 * acc], s=80, color="C3", marker="D", label=f"{sparsity:.0%} sparse, {bits}-bit")
        ax1.set_xlim(0, 1.1 * float_kb)
        ax1.set_ylim(0, 105)
        ax1.set_xlabel("model size (KiB)")
        ax1.set_ylabel("test accuracy (%)")
        ax1.axhline(10, color="k", lw=0.8, ls=":", label="chance (10%)")
        ax1.legend(loc="lower right", fontsize=8)
        ax1.set_title(f"accuracy {acc:.1%}, {float_kb / kb:.1f}x smaller")
        fig.tight_layout()
        return fig

    controls = [
        Slider("sparsity", SPARSITIES, label="sparsity (fraction pruned)", value=0.8, fmt="{:.0%}"),
        Slider("bits", BITS, label="bits per weight", value=4, fmt="{:d}"),
    ]
    return explorer(render, controls, title="Prune, then quantise: accuracy against size", dpi=64)
