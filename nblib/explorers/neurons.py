"""Explorers for single neurons: the boundary that weights and bias draw."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

_HALF_PLANES = "bwr"  # blue where the neuron says 0, red where it says 1


def neuron_boundary_explorer() -> Explorer:
    """Weights ``w1, w2`` and bias ``b`` of one neuron, and the line ``w1 x1 + w2 x2 + b = 0`` they draw."""
    import matplotlib.pyplot as plt

    from ..data import blobs

    X, y = blobs(n=60, centers=((-1.0, -1.0), (1.0, 1.0)), std=0.45, rng=1)
    weights = [round(v, 2) for v in np.linspace(-2, 2, 17)]
    book = [-2.0, -1.0, 0.0, 1.0, 2.0]

    def render(w1, w2, b):
        if w1 == 0 and w2 == 0:
            raise SettingError("with both weights zero the neuron ignores its input: every point gets the "
                               "same output, so there is no boundary to draw. Move w1 or w2.")
        w = np.array([w1, w2])
        predicted = (X @ w + b > 0).astype(int)
        errors = int((predicted != y).sum())
        fig, ax = plt.subplots(figsize=(4.6, 3.8))
        fig.subplots_adjust(left=0.14, right=0.97, bottom=0.13, top=0.91)  # fixed: faster than a layout engine
        gx, gy = np.meshgrid(np.linspace(-3, 3, 200), np.linspace(-3, 3, 200))
        ax.imshow(w1 * gx + w2 * gy + b > 0, extent=(-3, 3, -3, 3), origin="lower", cmap=_HALF_PLANES,
                  alpha=0.15, interpolation="nearest", aspect="auto")
        foot = -b * w / (w @ w)  # the point of the boundary closest to the origin
        ax.axline(foot, foot + np.array([-w2, w1]), color="k", linewidth=1.5)
        for c, colour in ((0, "#1f77b4"), (1, "#d62728")):
            ax.scatter(*X[y == c].T, s=16, color=colour, edgecolor="white", linewidth=0.4, label=f"class {c}")
        ax.annotate("", xy=foot + 0.8 * w / np.linalg.norm(w), xytext=foot,
                    arrowprops=dict(arrowstyle="->", color="k"))
        ax.set(xlim=(-3, 3), ylim=(-3, 3), xlabel="$x_1$ (feature 1)", ylabel="$x_2$ (feature 2)",
               title=f"$w$ = ({w1:g}, {w2:g}), $b$ = {b:g}: {errors} of {len(y)} misclassified")
        ax.legend(loc="lower right", fontsize=8)
        return fig

    return explorer(render, [
        Slider("w1", weights, label="weight $w_1$", book_values=book, value=1.0),
        Slider("w2", weights, label="weight $w_2$", book_values=book, value=1.0),
        Slider("b", [round(v, 2) for v in np.linspace(-2, 2, 9)], label="bias $b$", book_values=[-1.0, 0.0, 1.0],
               value=0.0),
    ], title="One neuron: weights turn the boundary, the bias shifts it", max_frames=75, dpi=64)
