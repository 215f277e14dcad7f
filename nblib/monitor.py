r"""A training monitor built on PyTorch hooks, reusable with any ``nn.Module``.

:class:`Monitor` attaches forward hooks to chosen layers (by default every
``Linear``/``Conv`` layer and every activation module) and, once per training step,
records

* the loss (passed to :meth:`Monitor.step`);
* per parameterised layer, the gradient norm :math:`\lVert \nabla_W L \rVert_2` of its
  weight (read from ``weight.grad`` when :meth:`Monitor.step` is called, i.e. after
  ``loss.backward()``);
* per layer, statistics of its output on the step's batch: mean, standard deviation
  and fraction of exact zeros;
* per activation layer, which units were active (output :math:`> 0`) for at least one
  sample; a unit (a feature, or a channel for convolutions) never active over the last
  ``window`` steps is *dead*.

The hooks are removed by :meth:`Monitor.detach`, or on leaving a ``with`` block::

    with Monitor(model) as mon:
        for X, y in loader:
            loss = F.cross_entropy(model(X), y)
            opt.zero_grad(); loss.backward()
            mon.step(loss)          # after backward, before or after opt.step()
            opt.step()
    mon.dashboard()
"""

from __future__ import annotations

import math
from collections import defaultdict, deque

import numpy as np

from . import _checks

_ACTIVATIONS = ("ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Tanh", "Sigmoid", "Softplus", "ReLU6", "Mish")


def default_layers(model) -> dict:
    """Name -> module for every ``Linear``/``Conv1d/2d/3d`` and activation module in ``model``."""
    import torch.nn as nn

    convs = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    acts = tuple(getattr(nn, name) for name in _ACTIVATIONS if hasattr(nn, name))
    return {name: m for name, m in model.named_modules() if name and isinstance(m, convs + acts)}


def _is_activation(module) -> bool:
    return type(module).__name__ in _ACTIVATIONS


class Monitor:
    """Record per-step gradient norms, activation statistics and dead units of a model.

    Args:
        model: a ``torch.nn.Module``.
        layers: the layers to watch: a list of names from ``model.named_modules()``
            or a dict name -> module; default :func:`default_layers`.
        window: dead units are those never active over the last ``window`` steps.

    After ``n`` calls of :meth:`step`, ``monitor.loss`` has ``n`` values and, for each
    watched layer ``name``, ``monitor.stats[name]["mean" | "std" | "zero_frac"]`` has
    ``n`` values; ``monitor.grad_norm[name]`` has ``n`` values for each layer with a
    ``weight``. Only forward passes in training mode with gradients enabled are recorded
    (evaluation passes are ignored); if a step runs several forward passes, the last
    one counts.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())
        >>> with Monitor(model) as mon:
        ...     loss = model(torch.ones(2, 3)).sum(); loss.backward(); mon.step(loss)
        >>> len(mon.loss), sorted(mon.grad_norm)
        (1, ['0'])
    """

    def __init__(self, model, layers=None, window: int = 20):
        import torch.nn as nn

        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.window = _checks.integer(window, "window", minimum=1)
        modules = dict(model.named_modules())
        if layers is None:
            chosen = default_layers(model)
        elif isinstance(layers, dict):
            chosen = dict(layers)
        else:
            if isinstance(layers, str) or not hasattr(layers, "__iter__"):
                raise TypeError("layers must be a list of layer names or a dict name -> module, "
                                f"got {type(layers).__name__}")
            unknown = [name for name in layers if name not in modules]
            if unknown:
                raise ValueError(f"layers {unknown} are not modules of the model; known: {sorted(modules)[:12]}")
            chosen = {name: modules[name] for name in layers}
        if not chosen:
            raise ValueError("no layers to monitor: the model has no Linear/Conv/activation modules; pass layers=")
        self.model = model
        self.layers = chosen
        self.loss: list[float] = []
        self.stats: dict[str, dict[str, list[float]]] = {n: defaultdict(list) for n in chosen}
        self.grad_norm: dict[str, list[float]] = {n: [] for n in chosen if _weight(chosen[n]) is not None}
        self._active: dict[str, deque] = {n: deque(maxlen=self.window) for n in chosen if _is_activation(chosen[n])}
        self._pending: dict[str, tuple] = {}
        self._handles = [m.register_forward_hook(self._hook(n)) for n, m in chosen.items()]

    # ----------------------------------------------------------------- hooks
    def _hook(self, name):
        import torch

        def hook(module, inputs, output):
            if not (module.training and torch.is_grad_enabled()) or not torch.is_tensor(output):
                return
            out = output.detach().float()
            active = None
            if name in self._active:
                # a unit is a feature (last dim for Linear outputs) or a channel (dim 1 for conv maps)
                pos = (out > 0)
                active = pos.flatten(0, -2).any(dim=0) if out.dim() <= 2 else pos.transpose(0, 1).flatten(1).any(dim=1)
            self._pending[name] = (out.mean().item(), out.std().item() if out.numel() > 1 else 0.0,
                                   (out == 0).float().mean().item(), active)
        return hook

    def step(self, loss=None) -> None:
        """Close one training step: store the loss, the gradient norms and the batch's statistics.

        Call it after ``loss.backward()`` (the gradients are read now).
        """
        if loss is not None:
            self.loss.append(float(loss.detach() if hasattr(loss, "detach") else loss))
        for name, module in self.layers.items():
            if name in self.grad_norm:
                g = _weight(module).grad
                self.grad_norm[name].append(float(g.detach().norm()) if g is not None else math.nan)
            pending = self._pending.pop(name, None)
            if pending is None:
                continue
            mean, std, zero, active = pending
            self.stats[name]["mean"].append(mean)
            self.stats[name]["std"].append(std)
            self.stats[name]["zero_frac"].append(zero)
            if active is not None:
                self._active[name].append(active.cpu().numpy())

    @property
    def steps(self) -> int:
        """Number of calls of :meth:`step` that recorded a loss."""
        return len(self.loss)

    def dead_units(self, name: str | None = None):
        """Indices of the units never active (output > 0) over the last ``window`` steps.

        With ``name``: an int array for that activation layer; without: a dict name -> array.
        """
        if name is None:
            return {n: self.dead_units(n) for n in self._active}
        if name not in self._active:
            raise ValueError(f"name must be a monitored activation layer, one of {sorted(self._active)}, got {name!r}")
        seen = self._active[name]
        if not seen:
            return np.array([], dtype=int)
        ever = np.logical_or.reduce(np.stack(list(seen)), axis=0)
        return np.flatnonzero(~ever)

    def dead_fraction(self) -> dict[str, float]:
        """Name -> fraction of that activation layer's units that are dead (see :meth:`dead_units`)."""
        out = {}
        for n, seen in self._active.items():
            if seen:
                out[n] = len(self.dead_units(n)) / len(seen[-1])
        return out

    # ----------------------------------------------------------------- lifetime
    def detach(self) -> None:
        """Remove every hook; the recorded values stay available."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._pending.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()
        return False

    def __repr__(self) -> str:
        return f"Monitor({len(self.layers)} layers, {self.steps} steps, {'attached' if self._handles else 'detached'})"

    # ----------------------------------------------------------------- plot
    def dashboard(self, title: str = "Training dashboard", smooth: int = 1):
        """A 2x2 figure: loss, weight-gradient norm per layer (log scale), activation std per layer,
        dead-unit fraction per activation layer over the steps; returns the Figure.

        Args:
            title: the figure's title.
            smooth: moving-average window (in steps) for the loss and the norms.
        """
        import matplotlib.pyplot as plt

        smooth = _checks.integer(smooth, "smooth", minimum=1)
        fig, axes = plt.subplots(2, 2, figsize=(9, 5.6))
        ax = axes[0, 0]
        if self.loss:
            ax.plot(np.arange(1, self.steps + 1), _smooth(self.loss, smooth), color="k")
            lo, hi = min(self.loss), max(self.loss)
            if np.all(np.isfinite(self.loss)) and lo > 0 and hi / lo > 20:  # log scale only for a wide range
                ax.set_yscale("log")
        ax.set(title="training loss", xlabel="step", ylabel="loss (nats)")
        ax = axes[0, 1]
        for name, values in self.grad_norm.items():
            v = np.asarray(values, dtype=float)
            if len(v) and np.any(v > 0):
                ax.plot(np.arange(1, len(v) + 1), _smooth(np.where(v > 0, v, np.nan), smooth), label=name)
        ax.set_yscale("log")
        ax.set(title=r"gradient norm $\|\nabla_W L\|$ per layer", xlabel="step", ylabel="norm (log scale)")
        _legend(ax)
        ax = axes[1, 0]
        for name, st in self.stats.items():
            if st["std"] and (name in self._active or not self._active):
                ax.plot(np.arange(1, len(st["std"]) + 1), st["std"], label=name)
        ax.set(title="activation std per layer", xlabel="step", ylabel="std of activations")
        _legend(ax)
        ax = axes[1, 1]
        for name in self._active:
            z = self.stats[name]["zero_frac"]
            if z:
                ax.plot(np.arange(1, len(z) + 1), z, label=f"{name}: zeros in batch")
        dead = self.dead_fraction()
        for i, (name, frac) in enumerate(dead.items()):
            ax.axhline(frac, color=f"C{i}", ls="--", lw=1,
                       label=f"dashed: dead units (last {self.window} steps)" if i == 0 else None)
        ax.set(title="zeros per batch (solid), dead units (dashed)", xlabel="step", ylabel="fraction", ylim=(-0.03, 1.03))
        _legend(ax)
        fig.suptitle(title)
        fig.tight_layout()
        return fig


def _weight(module):
    w = getattr(module, "weight", None)
    return w if w is not None and getattr(w, "requires_grad", False) else None


def _smooth(values, k: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if k <= 1 or len(v) < k:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    head = c[1:k] / np.arange(1, k)
    return np.concatenate([head, (c[k:] - c[:-k]) / k])


def _legend(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")
