"""Explorer for the leaky integrate-and-fire neuron: input current, membrane time constant and Euler step."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

CURRENTS = (0.0, 1.0, 1.4, 1.6, 2.0, 3.0, 5.0, 10.0, 50.0)  # nA; the rheobase is 1.5 nA
TAUS = (2.0, 5.0, 10.0, 20.0, 50.0)  # ms
STEPS = (0.01, 0.1, 0.5, 1.0, 2.0, 5.0)  # ms
TRACE_MS = 150.0  # the voltage trace shown
RATE_MS = 1000.0  # the run over which the rate is measured


def lif_explorer() -> Explorer:
    r"""Constant current :math:`I`, membrane time constant :math:`\tau_m` and Euler step :math:`\Delta t` of one LIF neuron.

    The left panel shows the voltage trace (spikes drawn as vertical strokes) with the
    threshold; the right panel the analytic f-I curve :func:`nblib.spiking.lif_rate` for
    this :math:`\tau_m`, with the rate measured from a one-second Euler simulation at
    this :math:`\Delta t` placed on it. Other parameters are :class:`nblib.spiking.LIFParams`'s
    defaults (rest and reset at -65 mV, threshold -50 mV, R = 10 MΩ, refractory 2 ms).

    Settings that cannot work are messages: an Euler step as long as :math:`\tau_m` (the
    update jumps to or past the steady state in one step) and a step longer than the
    refractory period (which then rounds to zero steps).
    """
    import matplotlib.pyplot as plt

    from ..spiking import LIFParams, lif_rate, rheobase, simulate_lif, spike_rate

    grid = np.linspace(0.0, 6.0, 241)  # nA, for the analytic curve

    def render(current, tau_m, dt):
        p = LIFParams(tau_m=tau_m)
        if dt >= tau_m:
            raise SettingError(f"The Euler step $\\Delta t$ = {dt:g} ms is not shorter than the membrane time "
                               f"constant $\\tau_m$ = {tau_m:g} ms: each update jumps to (or past) the steady "
                               "state in one step, so the trace says nothing about the neuron. Pick a step well "
                               "below $\\tau_m$ (a tenth or less).")
        if dt > p.t_ref:
            raise SettingError(f"The Euler step $\\Delta t$ = {dt:g} ms is longer than the refractory period "
                               f"({p.t_ref:g} ms), which rounds to {int(round(p.t_ref / dt))} steps: the neuron "
                               "could fire on consecutive steps. Pick $\\Delta t$ ≤ 2 ms.")
        n = int(RATE_MS / dt)
        v, s = simulate_lif(np.full(n, current), dt=dt, params=p)
        measured = spike_rate(s, dt)
        expected = lif_rate(current, p)
        shown = int(TRACE_MS / dt)
        t = dt * np.arange(1, shown + 1)
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.4, 3.2), gridspec_kw={"width_ratios": [1.5, 1]})
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.86, wspace=0.28)
        ax0.plot(t, v[:shown], color="C0", lw=1.2, label="membrane voltage")
        ax0.vlines(t[s[:shown]], p.v_th, 0.0, color="C0", lw=1.0)
        ax0.axhline(p.v_th, color="C3", ls="--", lw=0.8, label="threshold")
        ax0.set(xlim=(0, TRACE_MS), ylim=(-70, 5), xlabel="time (ms)", ylabel="V (mV)",
                title=f"I = {current:g} nA, $\\tau_m$ = {tau_m:g} ms, $\\Delta t$ = {dt:g} ms")
        ax0.legend(loc="upper right", fontsize=7)
        ax1.plot(grid, lif_rate(grid, p), color="k", lw=1.2, label="formula")
        ax1.scatter([min(current, grid[-1])], [measured], color="C1", s=45, zorder=3, marker="D",
                    label="simulated" + (" (I clipped to axis)" if current > grid[-1] else ""))
        ax1.axvline(rheobase(p), color="grey", ls=":", lw=0.8, label="rheobase")
        ax1.set(xlabel="input current I (nA)", ylabel="firing rate (Hz)", ylim=(0, 520))
        ax1.legend(loc="upper left", fontsize=7)
        if expected == 0:
            verdict = "below rheobase: silent" if measured == 0 else f"formula 0 Hz, simulated {measured:.0f} Hz"
        else:
            verdict = f"simulated {measured:.0f} Hz, formula {expected:.0f} Hz"
        ax1.set_title(verdict, fontsize=9)
        return fig

    return explorer(render, [
        Slider("current", CURRENTS, label="input current I (nA)", book_values=(0.0, 1.6, 3.0, 50.0),
               value=3.0),
        Slider("tau_m", TAUS, label="membrane time constant $\\tau_m$ (ms)", book_values=(5.0, 20.0), value=20.0),
        Slider("dt", STEPS, label="Euler step $\\Delta t$ (ms)", book_values=(0.1, 1.0, 5.0), value=0.1),
    ], title="A leaky integrate-and-fire neuron: voltage trace and f-I curve", dpi=64)
