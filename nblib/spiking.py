r"""Spiking neurons in NumPy: the leaky integrate-and-fire neuron and spike-timing-dependent plasticity.

Units throughout: time in milliseconds (ms), voltage in millivolts (mV), current in
nanoamperes (nA) and resistance in megaohms (MΩ), so that :math:`R I` is in mV.

**Leaky integrate-and-fire (LIF).** Below threshold the membrane is a leaky capacitor,

.. math:: \tau_m \frac{dV}{dt} = -(V - V_\text{rest}) + R\,I(t),

and when :math:`V` reaches :math:`V_\text{th}` the neuron emits a spike, :math:`V` is set
to :math:`V_\text{reset}` and held there for a refractory period :math:`t_\text{ref}`.
For a constant current the time to climb from reset to threshold has a closed form,
which gives the firing rate (:func:`lif_rate`).

**STDP.** A pair of spikes, presynaptic at :math:`t_\text{pre}` and postsynaptic at
:math:`t_\text{post}`, changes the weight by :math:`W(\Delta t)` with
:math:`\Delta t = t_\text{post} - t_\text{pre}`:
:math:`A_+ e^{-\Delta t/\tau_+}` for :math:`\Delta t > 0` (pre before post: potentiation),
:math:`-A_- e^{\Delta t/\tau_-}` for :math:`\Delta t < 0` (depression), and 0 for
simultaneous spikes. :func:`stdp_pairwise` sums the window over all pairs;
:func:`stdp_online` computes the same sum with decaying traces, one time step at a
time, as a synapse (or neuromorphic chip) would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _checks
from . import rng as _rng

__all__ = ["LIFParams", "simulate_lif", "lif_rate", "rheobase", "spike_rate", "stdp_window",
           "stdp_pairwise", "stdp_online", "poisson_spikes", "STDPResult", "simulate_stdp_neuron"]


@dataclass(frozen=True)
class LIFParams:
    """Parameters of a leaky integrate-and-fire neuron (textbook values for a cortical cell).

    Attributes:
        tau_m: membrane time constant (ms): how fast the voltage forgets its input.
        R: membrane resistance (MΩ); ``R * I`` is the steady-state depolarisation (mV).
        v_rest: resting potential (mV), where the voltage settles without input.
        v_th: threshold (mV); reaching it emits a spike.
        v_reset: voltage after a spike (mV).
        t_ref: absolute refractory period (ms) during which the voltage is held at ``v_reset``.
    """

    tau_m: float = 10.0
    R: float = 10.0
    v_rest: float = -65.0
    v_th: float = -50.0
    v_reset: float = -65.0
    t_ref: float = 2.0

    def __post_init__(self):
        _checks.positive(self.tau_m, "tau_m")
        _checks.positive(self.R, "R")
        _checks.positive(self.t_ref, "t_ref", allow_zero=True)
        for name in ("v_rest", "v_th", "v_reset"):
            _checks.as_real(getattr(self, name), name)
        if not self.v_reset < self.v_th:
            raise ValueError(f"v_reset must lie below v_th, got v_reset={self.v_reset}, v_th={self.v_th}")
        if not self.v_rest < self.v_th:
            raise ValueError(f"v_rest must lie below v_th, got v_rest={self.v_rest}, v_th={self.v_th}")


def _params(params) -> LIFParams:
    if params is None:
        return LIFParams()
    if not isinstance(params, LIFParams):
        raise TypeError(f"params must be an LIFParams, got {type(params).__name__}")
    return params


def rheobase(params: LIFParams | None = None) -> float:
    r"""The smallest constant current that makes the LIF fire: :math:`I_\text{rh} = (V_\text{th} - V_\text{rest}) / R` (nA)."""
    p = _params(params)
    return (p.v_th - p.v_rest) / p.R


def simulate_lif(current, dt: float = 0.1, params: LIFParams | None = None, v0: float | None = None):
    r"""Simulate LIF neurons with forward Euler: :math:`V \leftarrow V + \frac{\Delta t}{\tau_m}(V_\text{rest} - V + R I)`.

    A step that ends at or above threshold records a spike at that step, sets the voltage
    to ``v_reset`` and clamps it there for ``t_ref`` ms (``round(t_ref / dt)`` steps).
    Several neurons (columns of ``current``) are simulated together.

    Args:
        current: input current in nA, shape ``(T,)`` for one neuron or ``(T, N)`` for ``N``.
        dt: Euler step (ms); it must be below ``tau_m`` (a step of ``tau_m`` or more jumps
            to or past the steady state in one go, and the trace means nothing).
        params: an :class:`LIFParams` (default values if omitted).
        v0: starting voltage (mV), ``v_rest`` by default.

    Returns:
        ``(v, spikes)``: the voltage after each step and a boolean spike raster, both
        shaped like ``current``. ``v`` shows ``v_reset`` at a spike step (the spike itself
        is instantaneous; plots draw it separately).

    Example:
        >>> v, s = simulate_lif(np.full(10_000, 2.0), dt=0.1)  # 1 s at 2 nA
        >>> int(s.sum())
        63
    """
    p = _params(params)
    dt = _checks.positive(dt, "dt")
    if dt >= p.tau_m:
        raise ValueError(f"dt must be smaller than tau_m for forward Euler, got dt={dt}, tau_m={p.tau_m}")
    I = _checks.as_array(current, "current", dtype=np.float64)
    if I.ndim not in (1, 2) or I.shape[0] == 0:
        raise ValueError(f"current must have shape (T,) or (T, N) with T > 0, got {I.shape}")
    one = I.ndim == 1
    I2 = I[:, None] if one else I  # (T, N)
    T, N = I2.shape
    v = np.full(N, p.v_rest if v0 is None else _checks.as_real(v0, "v0"))
    hold = np.zeros(N, dtype=np.int64)  # refractory steps left
    ref_steps = int(round(p.t_ref / dt))
    a = dt / p.tau_m
    if N == 1:  # one neuron: a loop over Python floats is ~20x faster than NumPy calls on 1-element arrays
        vs1, sp1 = _lif_scalar(I2[:, 0].tolist(), float(v[0]), a, ref_steps, p)
        vs, spikes = np.array(vs1)[:, None], np.array(sp1, dtype=bool)[:, None]
        return (vs[:, 0], spikes[:, 0]) if one else (vs, spikes)
    vs = np.empty((T, N))
    spikes = np.zeros((T, N), dtype=bool)
    for t in range(T):
        free = hold == 0
        v = np.where(free, v + a * (p.v_rest - v + p.R * I2[t]), p.v_reset)
        hold = np.where(free, 0, hold - 1)
        fired = v >= p.v_th
        spikes[t] = fired
        v = np.where(fired, p.v_reset, v)
        hold = np.where(fired, ref_steps, hold)
        vs[t] = v
    return (vs[:, 0], spikes[:, 0]) if one else (vs, spikes)


def _lif_scalar(current: list, v: float, a: float, ref_steps: int, p: LIFParams):
    """The update of :func:`simulate_lif` for one neuron, on Python floats."""
    vs, spikes = [], []
    hold = 0
    for i in current:
        if hold == 0:
            v = v + a * (p.v_rest - v + p.R * i)
        else:
            v = p.v_reset
            hold -= 1
        fired = v >= p.v_th
        if fired:
            v, hold = p.v_reset, ref_steps
        vs.append(v)
        spikes.append(fired)
    return vs, spikes


def lif_rate(current, params: LIFParams | None = None):
    r"""The analytic firing rate (Hz) of the LIF neuron under a constant current.

    Starting from :math:`V_\text{reset}`, the voltage approaches :math:`V_\infty = V_\text{rest} + R I`
    exponentially; it reaches threshold after
    :math:`T = \tau_m \ln\frac{V_\infty - V_\text{reset}}{V_\infty - V_\text{th}}`, so

    .. math:: f = \frac{1}{t_\text{ref} + T} \quad (R I > V_\text{th} - V_\text{rest}), \qquad f = 0 \text{ otherwise}.

    With :math:`V_\text{reset} = V_\text{rest}` the logarithm is the familiar
    :math:`\ln\frac{R I}{R I - (V_\text{th} - V_\text{reset})}`.

    Args:
        current: constant current(s) in nA, any shape.
        params: an :class:`LIFParams`.

    Returns:
        Rates in Hz (spikes per second), same shape as ``current`` (a float for a scalar).

    Example:
        >>> round(float(lif_rate(2.0)), 2)   # R I = 20 mV against a 15 mV gap: 1000 / (2 + 10 ln 4)
        63.04
    """
    p = _params(params)
    I = _checks.as_array(current, "current", dtype=np.float64)
    v_inf = p.v_rest + p.R * I
    above = v_inf > p.v_th
    with np.errstate(divide="ignore", invalid="ignore"):
        climb = p.tau_m * np.log((v_inf - p.v_reset) / (v_inf - p.v_th))
        rate = np.where(above, 1000.0 / (p.t_ref + climb), 0.0)
    return float(rate) if rate.ndim == 0 else rate


def spike_rate(spikes, dt: float, skip_first: bool = True):
    r"""Firing rate (Hz) from a spike raster, as 1 / mean interspike interval.

    Using intervals rather than a count over the whole run avoids the bias of the
    start-up transient and of a partly finished last interval. A neuron with fewer
    than two spikes (or one, if ``skip_first`` is False) gets rate 0.

    Args:
        spikes: boolean raster ``(T,)`` or ``(T, N)``.
        dt: time step (ms).
        skip_first: measure from the first spike on (the default), so the climb from the
            initial voltage, which differs from a climb from reset, is excluded.
    """
    s = _checks.as_array(spikes, "spikes").astype(bool)
    if s.ndim not in (1, 2):
        raise ValueError(f"spikes must have shape (T,) or (T, N), got {s.shape}")
    dt = _checks.positive(dt, "dt")
    one = s.ndim == 1
    s2 = s[:, None] if one else s  # (T, N)
    rates = np.zeros(s2.shape[1])
    for j in range(s2.shape[1]):
        idx = np.flatnonzero(s2[:, j])
        if not skip_first:
            idx = np.concatenate([[-1], idx])
        if len(idx) >= 2:
            rates[j] = 1000.0 / (dt * np.mean(np.diff(idx)))
    return float(rates[0]) if one else rates


def stdp_window(delta_t, a_plus: float = 0.01, a_minus: float = 0.0105, tau_plus: float = 20.0,
                tau_minus: float = 20.0):
    r"""The pair-based STDP window :math:`W(\Delta t)`, with :math:`\Delta t = t_\text{post} - t_\text{pre}` in ms.

    .. math::
        W(\Delta t) = \begin{cases} A_+ e^{-\Delta t / \tau_+} & \Delta t > 0 \\
                                    -A_- e^{\Delta t / \tau_-} & \Delta t < 0 \\
                                    0 & \Delta t = 0 \end{cases}

    The defaults follow Song, Miller & Abbott (2000): equal time constants of 20 ms and a
    depression slightly stronger than potentiation (:math:`A_- / A_+ = 1.05`).

    Args:
        delta_t: spike-time differences (ms), any shape.
        a_plus, a_minus: amplitudes (>= 0) of potentiation and depression.
        tau_plus, tau_minus: decay times (ms, > 0) of the two sides.

    Example:
        >>> stdp_window(np.array([-20.0, 0.0, 20.0]), a_plus=1.0, a_minus=1.0).round(4)
        array([-0.3679,  0.    ,  0.3679])
    """
    d = _checks.as_array(delta_t, "delta_t", dtype=np.float64)
    a_plus, a_minus = _checks.positive(a_plus, "a_plus", allow_zero=True), _checks.positive(a_minus, "a_minus", allow_zero=True)
    tau_plus, tau_minus = _checks.positive(tau_plus, "tau_plus"), _checks.positive(tau_minus, "tau_minus")
    with np.errstate(over="ignore"):
        w = np.where(d > 0, a_plus * np.exp(-np.abs(d) / tau_plus), 0.0)
        w = np.where(d < 0, -a_minus * np.exp(-np.abs(d) / tau_minus), w)
    return float(w) if w.ndim == 0 else w


def stdp_pairwise(pre_times, post_times, **window) -> float:
    r"""Total weight change :math:`\sum_{i,j} W(t^\text{post}_j - t^\text{pre}_i)` over all spike pairs (all-to-all).

    This is the direct definition, :math:`O(n_\text{pre} n_\text{post})`; :func:`stdp_online`
    computes the same number in one pass. ``window`` is passed to :func:`stdp_window`.
    """
    pre = _checks.as_array(pre_times, "pre_times", dtype=np.float64).ravel()
    post = _checks.as_array(post_times, "post_times", dtype=np.float64).ravel()
    if pre.size == 0 or post.size == 0:
        return 0.0
    return float(np.sum(stdp_window(post[None, :] - pre[:, None], **window)))


def stdp_online(pre_spikes, post_spikes, dt: float, a_plus: float = 0.01, a_minus: float = 0.0105,
                tau_plus: float = 20.0, tau_minus: float = 20.0):
    r"""The all-to-all pair STDP sum computed online with two decaying traces.

    Each synapse keeps a presynaptic trace :math:`x` (a sum of :math:`e^{-(t - t_\text{pre})/\tau_+}`
    over past presynaptic spikes) and the neuron a postsynaptic trace :math:`y` (time
    constant :math:`\tau_-`). At each step both decay by :math:`e^{-\Delta t/\tau}`; then a
    postsynaptic spike adds :math:`A_+ x` to every weight (potentiation by earlier inputs)
    and a presynaptic spike subtracts :math:`A_- y` (depression by earlier outputs);
    only then are this step's spikes added to the traces, so simultaneous spikes
    contribute nothing, as in :func:`stdp_window`.

    Args:
        pre_spikes: boolean raster ``(T,)`` or ``(T, N)`` of presynaptic spikes.
        post_spikes: boolean raster ``(T,)`` of postsynaptic spikes.
        dt: time step (ms); spike ``k`` happens at time ``k * dt``.

    Returns:
        Weight changes, a float or shape ``(N,)``.
    """
    pre = _checks.as_array(pre_spikes, "pre_spikes").astype(bool)
    post = _checks.as_array(post_spikes, "post_spikes").astype(bool)
    if post.ndim != 1 or pre.ndim not in (1, 2) or pre.shape[0] != post.shape[0]:
        raise ValueError(f"pre_spikes must be (T,) or (T, N) and post_spikes (T,), got {pre.shape} and {post.shape}")
    dt = _checks.positive(dt, "dt")
    one = pre.ndim == 1
    pre2 = pre[:, None] if one else pre  # (T, N)
    decay_x, decay_y = math.exp(-dt / _checks.positive(tau_plus, "tau_plus")), math.exp(-dt / _checks.positive(tau_minus, "tau_minus"))
    x = np.zeros(pre2.shape[1])
    y = 0.0
    dw = np.zeros(pre2.shape[1])
    for t in range(pre2.shape[0]):
        x *= decay_x
        y *= decay_y
        if post[t]:
            dw += a_plus * x
        dw -= a_minus * y * pre2[t]
        x += pre2[t]
        y += float(post[t])
    return float(dw[0]) if one else dw


def poisson_spikes(rate_hz, n_steps: int, dt: float, rng=None) -> np.ndarray:
    """Independent Bernoulli approximations of Poisson spike trains: P(spike in a step) = rate * dt.

    Args:
        rate_hz: rate(s) in Hz, a scalar or shape ``(N,)``.
        n_steps: number of time steps ``T``.
        dt: step (ms).

    Returns:
        Boolean raster ``(T, N)`` (``N = 1`` for a scalar rate).
    """
    r = np.atleast_1d(_checks.as_array(rate_hz, "rate_hz", dtype=np.float64))
    n_steps = _checks.integer(n_steps, "n_steps", minimum=1)
    p = r * _checks.positive(dt, "dt") / 1000.0
    if (p < 0).any() or (p > 1).any():
        raise ValueError(f"rate_hz * dt must give probabilities in [0, 1], got {p.min()}..{p.max()}")
    return _rng.resolve(rng).random((n_steps, r.size)) < p  # (T, N)


@dataclass
class STDPResult:
    """What :func:`simulate_stdp_neuron` returns: the weights over time and the output spikes."""

    weights: np.ndarray  # (n_snapshots, N) weights at the snapshot times
    times_s: np.ndarray  # (n_snapshots,) snapshot times in seconds
    post_rate_hz: np.ndarray  # (n_snapshots,) output rate over each snapshot interval
    final: np.ndarray  # (N,) final weights


def simulate_stdp_neuron(pre_spikes, dt: float = 0.5, w0=None, w_max: float = 1.0, g_scale: float = 0.25,
                         tau_syn: float = 5.0, params: LIFParams | None = None, n_snapshots: int = 50,
                         **window) -> STDPResult:
    r"""An LIF neuron driven by many synapses whose weights follow online pair STDP.

    Each presynaptic spike of input :math:`i` injects a current pulse of charge
    proportional to :math:`w_i` (an exponential synaptic current with time constant
    ``tau_syn``, amplitude ``g_scale * w_i`` nA); the weights change by the trace rule
    of :func:`stdp_online` at every step, scaled by ``w_max`` (so the amplitudes are
    fractions of the largest weight), and are clipped to ``[0, w_max]`` (hard bounds,
    as in Song, Miller & Abbott 2000).

    Args:
        pre_spikes: boolean raster ``(T, N)`` of input spikes.
        dt: step (ms).
        w0: initial weights ``(N,)``, ``w_max / 2`` each by default.
        w_max: upper weight bound.
        g_scale: current (nA) injected per unit weight per spike.
        tau_syn: synaptic current decay (ms).
        params: :class:`LIFParams` of the neuron.
        n_snapshots: how many times to record the weights.
        window: ``a_plus, a_minus, tau_plus, tau_minus`` of :func:`stdp_window`.
    """
    p = _params(params)
    pre = _checks.as_array(pre_spikes, "pre_spikes").astype(bool)
    if pre.ndim != 2:
        raise ValueError(f"pre_spikes must be (T, N), got shape {pre.shape}")
    T, N = pre.shape
    dt = _checks.positive(dt, "dt")
    w_max = _checks.positive(w_max, "w_max")
    unknown = set(window) - {"a_plus", "a_minus", "tau_plus", "tau_minus"}
    if unknown:
        raise TypeError(f"unknown window argument(s) {sorted(unknown)}; use a_plus, a_minus, tau_plus, tau_minus")
    a_plus = window.get("a_plus", 0.01) * w_max
    a_minus = window.get("a_minus", 0.0105) * w_max
    decay_x = math.exp(-dt / window.get("tau_plus", 20.0))
    decay_y = math.exp(-dt / window.get("tau_minus", 20.0))
    w = np.full(N, w_max / 2) if w0 is None else _checks.as_array(w0, "w0", ndim=1, dtype=np.float64).copy()
    if w.shape != (N,):
        raise ValueError(f"w0 must have shape ({N},), got {w.shape}")
    n_snapshots = _checks.integer(n_snapshots, "n_snapshots", minimum=1)
    every = max(T // n_snapshots, 1)
    decay_syn = math.exp(-dt / _checks.positive(tau_syn, "tau_syn"))
    a = dt / p.tau_m
    ref_steps = int(round(p.t_ref / dt))
    v, I_syn, hold, y = p.v_rest, 0.0, 0, 0.0
    x = np.zeros(N)
    snaps, times, rates = [], [], []
    count = 0
    rows = [np.flatnonzero(pre[t]) for t in range(T)]  # the few inputs that spike at each step
    for t in range(T):
        idx = rows[t]
        I_syn = I_syn * decay_syn + g_scale * float(w[idx].sum())
        if hold > 0:
            hold -= 1
            v = p.v_reset
        else:
            v += a * (p.v_rest - v + p.R * I_syn)
        fired = v >= p.v_th
        x *= decay_x
        y *= decay_y
        if fired:
            v, hold = p.v_reset, ref_steps
            w += a_plus * x  # causal inputs: pre before post
            count += 1
        if idx.size:
            w[idx] -= a_minus * y  # acausal: post before pre
        np.clip(w, 0.0, w_max, out=w)
        x[idx] += 1.0
        y += float(fired)
        if (t + 1) % every == 0:
            snaps.append(w.copy())
            times.append((t + 1) * dt / 1000.0)
            rates.append(count / (every * dt / 1000.0))
            count = 0
    return STDPResult(np.array(snaps), np.array(times), np.array(rates), w.copy())
