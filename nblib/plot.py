"""Plots that several chapters share. matplotlib is imported when a function runs."""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import _checks

CLASS_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _axes(ax, figsize=(5, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X, y, ax=None, *, title: str = "Decision regions",
                      resolution: int = 200, padding: float = 0.5, xlabel: str = "$x_1$ (feature 1)",
                      ylabel: str = "$x_2$ (feature 2)", limits=None):
    """Shade the regions a 2-D classifier assigns to each class, and scatter the data on top.

    Args:
        predict: maps points ``(M, 2)`` to integer class labels ``(M,)``.
        X, y: data points ``(N, 2)`` and their labels ``(N,)``.
        limits: ``(xmin, xmax, ymin, ymax)``; by default the data's range plus ``padding``.
    """
    from matplotlib.colors import ListedColormap

    X = _checks.as_array(X, "X", ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2-D points, got X of shape {X.shape}")
    y = _checks.as_labels(y, "y", n=len(X))
    resolution = _checks.integer(resolution, "resolution", minimum=2)
    ax = _axes(ax)
    if limits is None:
        (x0, y0), (x1, y1) = X.min(axis=0) - padding, X.max(axis=0) + padding
    else:
        x0, x1, y0, y1 = limits
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    labels = np.asarray(predict(np.c_[gx.ravel(), gy.ravel()])).reshape(gx.shape)
    n_classes = int(max(labels.max(), y.max())) + 1
    cmap = ListedColormap(CLASS_COLOURS[:n_classes])
    ax.contourf(gx, gy, labels, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.25)
    for c in range(n_classes):
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=14, color=CLASS_COLOURS[c], edgecolor="white", linewidth=0.4,
                   label=f"class {c}")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    return ax


def training_curves(history, metrics=("loss", "val_loss"), ax=None, *, title: str = "Training curves",
                    xlabel: str = "epoch", ylabel: str = "cross-entropy (nats)", logy: bool = False):
    """Plot the named metrics of a :class:`nblib.train.History` (or a dict of lists) per epoch."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    if not hasattr(metrics, "__iter__"):
        raise TypeError(f"metrics must be a sequence of metric names, got {type(metrics).__name__}")
    if not hasattr(history, "__contains__") or not hasattr(history, "__getitem__") or isinstance(history, str):
        raise TypeError(f"history must be a History or a dict of lists, got {type(history).__name__}")
    ax = _axes(ax)
    plotted = 0
    for name in metrics:
        if name in history:
            values = history[name]
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=name)
            plotted += 1
    if plotted == 0:
        raise ValueError(f"none of the metrics {list(metrics)} is in the history")
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
