r"""Explorer for barren plateaus: is a circuit's gradient still larger than the shot noise of measuring it?

The frames are drawn from a precomputed sweep (:func:`nblib.quantum.gradient_sweep`), so moving a
slider simulates nothing: rendering is a matplotlib plot of stored numbers.
"""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

SHOTS = (100, 1000, 10_000, 100_000)
COSTS = ("local", "global")
_COST_TEXT = {"local": r"local cost $\langle Z_0\rangle$", "global": r"global cost $\langle Z_0 \cdots Z_{n-1}\rangle$"}


def barren_plateau_explorer(qubits, layers, samples, *, qubits_book=None, layers_book=None,
                            shots_book=(100, 10_000)) -> Explorer:
    r"""Qubits, depth, cost and shots against the spread of the gradient at random initialisation.

    Each frame places the variance of :math:`\partial C/\partial\theta` (over random initialisations)
    on a log-scale plot against the number of qubits, beside the variance that shot noise adds to one
    parameter-shift estimate, :math:`\le 1/(2S)` with :math:`S` shots per circuit; the right panel is
    the histogram of the derivatives themselves, with the shot-noise band. When the derivatives are
    smaller than that noise, no optimiser can follow them, and the frame says so instead of plotting.

    Args:
        qubits, layers: the grid of the sweep (qubit counts and layer counts).
        samples: ``{"local": array, "global": array}``, each ``(len(qubits), len(layers), n_samples)``,
            as returned by :func:`nblib.quantum.gradient_sweep`.
        qubits_book, layers_book, shots_book: the values precomputed for the book (by default every
            qubit count and layer count of the grid).
    """
    from .. import _checks

    q_grid = [_checks.integer(q, "qubits", minimum=1) for q in qubits]
    l_grid = [_checks.integer(L, "layers", minimum=1) for L in layers]
    if not isinstance(samples, dict) or set(samples) != set(COSTS):
        raise TypeError(f"samples must be a dict with keys {COSTS} (see nblib.quantum.gradient_sweep)")
    data = {}
    for cost in COSTS:
        arr = _checks.as_array(samples[cost], f"samples[{cost!r}]", ndim=3, dtype=np.float64)
        if arr.shape[:2] != (len(q_grid), len(l_grid)) or arr.shape[2] < 2:
            raise ValueError(f"samples[{cost!r}] must have shape ({len(q_grid)}, {len(l_grid)}, n_samples >= 2), "
                             f"got {arr.shape}")
        data[cost] = arr
    variance = {c: data[c].var(axis=2) for c in COSTS}        # (n_qubits, n_layers)
    positive = [v[v > 0].min() for v in variance.values() if np.any(v > 0)]
    low = min(positive + [1 / (2 * max(SHOTS))]) / 3                # the log axis shows every variance and floor
    edge = max(max(np.abs(data[c]).max() for c in COSTS) * 1.05, 1e-3)

    def render(qubits, layers, cost, shots):
        import matplotlib.pyplot as plt
        from matplotlib.ticker import LogLocator, NullLocator

        i, j = q_grid.index(qubits), l_grid.index(layers)
        depth = f"{layers} layer" + ("s" if layers != 1 else "")
        var = float(variance[cost][i, j])
        floor = 1 / (2 * shots)
        if var < 1e-20:
            raise SettingError(
                f"With {qubits} qubits and {depth} the {cost} cost does not depend on this parameter at all: "
                f"its derivative is zero at every random start, so no number of shots can train it. (The gates "
                f"after it carry its effect away from the measured qubits; add layers or pick the other cost.)")
        if var < floor:
            need = 1 / (2 * var) if var > 0 else float("inf")
            raise SettingError(
                f"Barren plateau: with {qubits} qubits and {depth} the {cost} cost's derivative has a "
                f"standard deviation of {np.sqrt(var):.2g} over random starts, below the shot noise of one "
                f"parameter-shift estimate with {shots:,} shots per circuit ({np.sqrt(floor):.2g}). An optimiser "
                f"would follow noise. It would take about {need:,.0f} shots per circuit to resolve a typical "
                f"derivative; a local cost with fewer layers keeps it measurable.")
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.6, 3.4))
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.9, wspace=0.28)  # fixed: fast to draw
        for jj, L in enumerate(l_grid):
            ax0.plot(q_grid, variance[cost][:, jj], "o-" if L == layers else ".-", lw=2.2 if L == layers else 0.8,
                     alpha=1 if L == layers else 0.45, color=f"C{jj}", label=f"{L} layer" + ("s" if L != 1 else ""))
        ax0.plot([qubits], [var], "D", ms=11, mfc="none", mec="k", mew=1.8)
        ax0.axhline(floor, color="C3", ls="--", lw=1.2, label=f"shot noise, {shots:,} shots")
        ax0.set(yscale="log", ylim=(low, 1), xlabel="qubits $n$", xticks=q_grid,
                ylabel=r"Var$[\partial C/\partial\theta]$", title=_COST_TEXT[cost])
        ax0.yaxis.set_major_locator(LogLocator(numticks=8))
        ax0.yaxis.set_minor_locator(NullLocator())
        ax0.legend(fontsize=7, loc="lower left")
        ax0.grid(alpha=0.3)
        counts, bins = np.histogram(data[cost][i, j], bins=41, range=(-edge, edge))
        ax1.stairs(counts, bins, fill=True, color="C0")  # one artist, faster to draw than 41 bars
        ax1.axvspan(-np.sqrt(floor), np.sqrt(floor), color="C3", alpha=0.15, label=r"$\pm$1 s.d. of shot noise")
        ax1.set(xlabel=r"$\partial C/\partial\theta$ at a random start", ylabel="count of starts",
                title=f"{qubits} qubits, {depth}: s.d. {np.sqrt(var):.2g}")
        ax1.legend(fontsize=7, loc="upper right")
        return fig

    controls = [
        Slider("qubits", q_grid, label="qubits", book_values=qubits_book, fmt="{:d}"),
        Slider("layers", l_grid, label="layers", book_values=layers_book, fmt="{:d}",
               value=(list(layers_book) if layers_book is not None else l_grid)[0]),
        Slider("cost", COSTS, label="cost", value="global"),
        Slider("shots", SHOTS, label="shots per circuit", book_values=shots_book, value=shots_book[0], fmt="{:,}"),
    ]
    return explorer(render, controls, title="Barren plateaus: gradient against shot noise", dpi=64)
