"""Explorers for activation functions and initialisation: signals through a deep MLP."""

from __future__ import annotations

import math

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

# Slider labels -> nblib.init scheme names.
INITS = {"N(0, 1)": "normal", "N(0, 0.01²)": "small", "Xavier": "xavier", "He": "he"}
_COLOURS = {"std": "#1f77b4", "grad": "#d62728"}
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _first_bad(values: np.ndarray, bad) -> int | None:
    hits = np.flatnonzero(bad(values))
    return int(hits[0]) + 1 if hits.size else None  # 1-based layer number


def _check(prop, depth: int) -> None:
    """Raise SettingError, with what happened and where, if a statistic overflowed or vanished."""
    std, grad = prop.activation_std, prop.grad_norm
    layer = _first_bad(std, lambda v: ~np.isfinite(v))
    if layer is not None:
        finite = std[:layer - 1]
        growth = (f" They grew by about {(finite[-1] / finite[0]) ** (1 / (len(finite) - 1)):.3g}x per layer."
                  if len(finite) > 2 and finite[0] > 0 else "")
        raise SettingError(f"the activations overflowed float32 (beyond {_FLOAT32_MAX:.1e}) at layer {layer} of "
                           f"{depth}.{growth} Nothing finite is left to plot: this initialisation is far too large "
                           "for this depth.")
    layer = _first_bad(grad, lambda v: ~np.isfinite(v))
    if layer is not None:
        raise SettingError(f"the activations stayed finite, but the weight gradients overflowed float32 (beyond "
                           f"{_FLOAT32_MAX:.1e}) at layer {layer} of {depth}: a gradient step would destroy the "
                           "network. Use a smaller initialisation or fewer layers.")
    for values, what in ((std, "the activations"), (grad, "the weight gradients")):
        layer = _first_bad(values, lambda v: v == 0)
        if layer is not None:
            raise SettingError(f"{what} underflowed to exactly zero in float32 at layer {layer} of {depth}: the "
                               "signal vanished completely, so nothing can be plotted on a log scale and the "
                               "network cannot learn. Use a larger initialisation or fewer layers.")


def signal_explorer(width: int = 256, n_samples: int = 64) -> Explorer:
    """Depth, activation and initialisation of a deep MLP, and the per-layer statistics they produce.

    Each frame builds ``depth`` layers of ``Linear(width, width)`` plus the activation in
    float32 (see :func:`nblib.init.signal_propagation`), pushes ``n_samples`` random
    inputs through, backpropagates a random projection of the output, and plots the
    standard deviation of each layer's activations and the norm of each layer's weight
    gradient on log scales. Settings that overflow or underflow float32 show a message.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullLocator

    from ..init import signal_propagation

    def render(depth, activation, init):
        prop = signal_propagation(activation, INITS[init], depth=depth, width=width, n_samples=n_samples,
                                  dtype=np.float32, rng=0)
        _check(prop, depth)
        layers = np.arange(1, depth + 1)
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.4))
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.8, wspace=0.3)  # fixed: faster than a layout engine
        panels = ((left, prop.activation_std, "std", "activation std (per layer)",
                   "activations: last / first layer"),
                  (right, prop.grad_norm, "grad", r"$\|\partial L / \partial W\|$ (per layer)",
                   "gradients: first / last layer"))
        for ax, values, key, ylabel, what in panels:
            ax.semilogy(layers, values, marker="o", markersize=3 if depth <= 30 else 0, color=_COLOURS[key])
            ratio = values[-1] / values[0] if key == "std" else values[0] / values[-1]
            low, high = values.min(), values.max()
            span = max(high / low, 1.0)
            pad = math.sqrt(100.0 / span) if span < 100 else 3.0  # show at least two decades
            ax.set(xlabel="layer (1 = next to the input)", ylabel=ylabel, ylim=(low / pad, high * pad),
                   xlim=(0.5, depth + 0.5), title=f"{what}: {ratio:.2g}")
            ax.yaxis.set_major_locator(LogLocator(numticks=5))  # few decade labels: cheaper to draw
            ax.yaxis.set_minor_locator(NullLocator())
            ax.grid(alpha=0.3, which="major")
        fig.suptitle(f"{depth} layers of width {width}, {activation}, {init} initialisation (float32)", fontsize=10)
        return fig

    return explorer(render, [
        Slider("depth", [2, 5, 10, 20, 30, 50, 100], label="depth (layers)", book_values=[5, 20, 50], value=20),
        Slider("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu"], label="activation",
               book_values=["sigmoid", "tanh", "relu", "gelu"], value="tanh"),
        Slider("init", list(INITS), label="initialisation", value="Xavier"),
    ], title="Signals through a deep MLP at initialisation", dpi=64)
