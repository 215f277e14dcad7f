"""Explorers for recurrent networks: how far back a gradient reaches, by cell type and length."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

CELLS = ("RNN", "GRU", "LSTM")
CELL_COLOURS = {"RNN": "#d62728", "GRU": "#2ca02c", "LSTM": "#1f77b4"}


def gradient_profiles(T: int, scale: float, hidden_size: int = 32, n_sequences: int = 16,
                      seed: int = 0) -> dict[str, np.ndarray]:
    r""":math:`\|\partial L/\partial x_t\|` for ``t = 1..T`` of a freshly initialised RNN, GRU and LSTM.

    Each cell is torch's, with its default initialisation from ``torch.manual_seed(seed)``,
    its recurrent weights (``weight_hh_l0``, all gates) multiplied by ``scale``, run in
    float64 on ``n_sequences`` adding-problem inputs of length ``T``; the loss is a fixed unit
    projection of the last output (see :func:`nblib.rnn.input_gradient_norms`).
    """
    import torch

    from ..rnn import input_gradient_norms
    from ..sequences import adding_problem

    x, _ = adding_problem(n_sequences, T, rng=seed)
    profiles = {}
    for cell in CELLS:
        torch.manual_seed(seed)
        model = getattr(torch.nn, cell)(2, hidden_size, batch_first=True, dtype=torch.float64)
        with torch.no_grad():
            model.weight_hh_l0.mul_(scale)
        profiles[cell] = input_gradient_norms(model, x, float64=False)
    return profiles


def _per_step_factor(norms: np.ndarray) -> float:
    """Geometric-mean change of the gradient norm per step back in time, over the whole sequence."""
    return float(np.exp(np.log(norms[0] / norms[-1]) / (len(norms) - 1)))


def _decade(value, _position) -> str:
    return f"1e{round(np.log10(value)):d}"


def _check(profiles: dict[str, np.ndarray], cell: str, T: int, scale: float) -> None:
    norms = profiles[cell]
    bad = np.flatnonzero(~np.isfinite(norms))
    if bad.size:
        raise SettingError(f"the {cell}'s gradient overflowed (inf or NaN) at step {bad[-1] + 1} of {T}: with "
                           f"recurrent weights {scale:g} times their default size it explodes beyond even "
                           "float64's range. Use a smaller weight scale or a shorter sequence.")
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        raise SettingError(f"the {cell}'s gradient vanished to exactly zero for steps 1 to {zero[-1] + 1} of {T}, "
                           "below float64's smallest number, so it cannot be drawn on a log scale: the loss "
                           "cannot feel those inputs at all. Use a larger weight scale or a shorter sequence.")


def gradient_flow_explorer(hidden_size: int = 32, n_sequences: int = 16) -> Explorer:
    r"""Sequence length, cell type and recurrent weight scale against :math:`\|\partial L/\partial x_t\|`.

    Each frame draws, on a log scale, how strongly a loss on the last output depends on
    each input step, for a freshly initialised cell (bold) and, for reference, the two
    other cell types at the same setting (thin). The title gives the ratio between the
    first and last steps and the average factor per step back in time.
    """
    import functools

    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    @functools.lru_cache(maxsize=None)
    def profiles_at(T, scale):  # the three cells share one computation per (T, scale)
        return gradient_profiles(T, scale, hidden_size, n_sequences)

    def render(T, cell, scale):
        profiles = profiles_at(T, scale)
        _check(profiles, cell, T, scale)
        steps = np.arange(1, T + 1)
        fig, ax = plt.subplots(figsize=(7.6, 3.6))
        fig.subplots_adjust(left=0.11, right=0.97, bottom=0.14, top=0.84)  # fixed: faster than a layout engine
        for other in CELLS:
            norms = profiles[other]
            if other == cell or not (np.isfinite(norms).all() and (norms > 0).all()):
                continue
            ax.semilogy(steps, norms, lw=1, ls="--", alpha=0.6, color=CELL_COLOURS[other], label=other)
        norms = profiles[cell]
        ax.semilogy(steps, norms, lw=2.2, color=CELL_COLOURS[cell], label=f"{cell} (selected)")
        drawn = np.concatenate([line.get_ydata() for line in ax.lines])
        low, high = drawn.min(), drawn.max()
        pad = 10.0 if high / low > 1e3 else 100.0  # a flat curve still gets a few decades of context
        ax.set_ylim(low / pad, high * pad)
        ax.yaxis.set_major_locator(LogLocator(numticks=6))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(_decade))  # plain text: mathtext labels cost 0.1 s a frame
        ax.set(xlim=(1, T), xlabel="input step $t$ (the loss reads the output at the last step, $T$)",
               ylabel=r"$\|\partial L / \partial x_t\|$ (log scale)")  # fixed strings: typeset once, cached
        factor = _per_step_factor(norms)
        ax.legend(fontsize=8, loc="upper left" if factor < 1 else "lower left")  # the empty corner
        trend = "shrinks" if factor < 1 else "grows"
        ax.set_title(f"{cell}, T = {T}, recurrent weights × {scale:g}, at initialisation\n"
                     f"step 1 / step T: {norms[0] / norms[-1]:.1e}; the gradient {trend} by a factor "
                     f"{factor:.3g} per step back", fontsize=10, y=1.0)  # a fixed y skips a costly layout pass
        ax.grid(alpha=0.3)
        return fig

    return explorer(render, [
        Slider("T", [10, 25, 50, 100, 200, 400], label="sequence length $T$", book_values=[25, 100, 400], value=100),
        Slider("cell", list(CELLS), label="cell type", value="RNN"),
        Slider("scale", [0.25, 0.5, 1.0, 2.0, 4.0, 8.0], label="recurrent weight scale",
               book_values=[0.5, 1.0, 2.0, 4.0], value=1.0),
    ], title="Gradient flow back through time at initialisation", dpi=64)
