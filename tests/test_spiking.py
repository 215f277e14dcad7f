"""The LIF neuron against its analytic firing rate, and online STDP against the pairwise sum."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.spiking import (LIFParams, lif_rate, poisson_spikes, rheobase, simulate_lif, simulate_stdp_neuron,
                           spike_rate, stdp_online, stdp_pairwise, stdp_window)


def test_rheobase_and_rate_formula_by_hand():
    p = LIFParams()  # tau 10 ms, R 10 MOhm, rest = reset = -65 mV, threshold -50 mV, t_ref 2 ms
    assert rheobase(p) == pytest.approx(1.5)
    # R I = 20 mV against a 15 mV gap: f = 1000 / (2 + 10 ln(20 / 5)) Hz
    assert lif_rate(2.0, p) == pytest.approx(1000 / (2 + 10 * np.log(4.0)))
    assert lif_rate(1.5, p) == 0.0 and lif_rate(1.0, p) == 0.0 and lif_rate(-3.0, p) == 0.0


def test_rate_with_reset_below_rest_uses_the_general_formula():
    p = LIFParams(v_reset=-70.0, t_ref=0.0)
    v_inf = -65 + 10 * 3.0
    assert lif_rate(3.0, p) == pytest.approx(1000 / (10 * np.log((v_inf + 70) / (v_inf + 50))))


@pytest.mark.parametrize("tau_m", [5.0, 20.0], ids=["tau5", "tau20"])
def test_euler_simulation_matches_the_analytic_f_i_curve(tau_m):
    p = LIFParams(tau_m=tau_m)
    currents = np.array([0.5, 1.4, 1.6, 2.0, 3.0, 5.0])
    dt = tau_m / 500
    _, spikes = simulate_lif(np.tile(currents, (int(500 / dt), 1)), dt=dt, params=p)  # 0.5 s each
    measured = spike_rate(spikes, dt)
    expected = lif_rate(currents, p)
    assert (measured[currents < rheobase(p)] == 0).all()
    firing = expected > 0
    # Euler with dt = tau/500: the threshold crossing is late by < one step per interval
    assert_allclose(measured[firing], expected[firing], rtol=0.01)


def test_refractory_period_caps_the_rate_and_holds_the_voltage():
    p = LIFParams(t_ref=5.0)
    v, s = simulate_lif(np.full(20_000, 1000.0), dt=0.05, params=p)
    assert spike_rate(s, 0.05) < 1000 / p.t_ref
    k = np.flatnonzero(s)[3]
    assert_allclose(v[k:k + int(p.t_ref / 0.05) + 1], p.v_reset)


def test_subthreshold_voltage_relaxes_exponentially():
    p = LIFParams()
    dt = 0.001
    v, s = simulate_lif(np.full(int(30 / dt), 1.0), dt=dt, params=p)  # R I = 10 mV < 15 mV
    t = dt * np.arange(1, len(v) + 1)
    assert not s.any()
    assert_allclose(v, -65 + 10 * (1 - np.exp(-t / p.tau_m)), atol=1e-3)


def test_lif_validates_arguments():
    with pytest.raises(ValueError, match="dt"):
        simulate_lif(np.ones(10), dt=20.0)
    with pytest.raises(ValueError, match="v_reset"):
        LIFParams(v_reset=-40.0)
    with pytest.raises(TypeError, match="params"):
        lif_rate(1.0, params={"tau_m": 1})
    with pytest.raises(ValueError, match="current"):
        simulate_lif(np.ones((2, 2, 2)))


def test_stdp_window_values_and_signs():
    d = np.array([-40.0, -20.0, -1e-9, 0.0, 1e-9, 20.0, 40.0])
    w = stdp_window(d, a_plus=0.5, a_minus=0.25, tau_plus=20.0, tau_minus=10.0)
    assert_allclose(w, [-0.25 * np.exp(-4), -0.25 * np.exp(-2), -0.25, 0.0, 0.5, 0.5 * np.exp(-1), 0.5 * np.exp(-2)],
                    rtol=1e-8)
    # the integral of the window: A+ tau+ - A- tau-
    grid = np.linspace(-400, 400, 800_001)
    assert np.trapezoid(stdp_window(grid), grid) == pytest.approx(0.01 * 20 - 0.0105 * 20, rel=1e-3)


def test_online_traces_equal_the_pairwise_sum():
    rng = np.random.default_rng(3)
    dt = 1.0
    pre = rng.random((400, 5)) < 0.05
    post = rng.random(400) < 0.04
    pre[10, 0] = post[10] = True  # a simultaneous pair, which both versions ignore
    online = stdp_online(pre, post, dt, a_plus=0.3, a_minus=0.2, tau_plus=15.0, tau_minus=25.0)
    post_t = dt * np.flatnonzero(post)
    pairwise = [stdp_pairwise(dt * np.flatnonzero(pre[:, j]), post_t, a_plus=0.3, a_minus=0.2, tau_plus=15.0,
                              tau_minus=25.0) for j in range(5)]
    assert_allclose(online, pairwise, rtol=1e-10, atol=1e-12)


def test_hand_worked_pair():
    # pre at 10 ms, post at 15 ms, then pre again at 30 ms: one causal pair (+5 ms), one acausal (-15 ms)
    pre, post = np.zeros(40, bool), np.zeros(40, bool)
    pre[[10, 30]] = True
    post[15] = True
    expected = 0.01 * np.exp(-5 / 20) - 0.0105 * np.exp(-15 / 20)
    assert stdp_pairwise([10.0, 30.0], [15.0]) == pytest.approx(expected)
    assert stdp_online(pre, post, 1.0) == pytest.approx(expected)


def test_poisson_rate_and_validation():
    s = poisson_spikes([5.0, 50.0], 200_000, 0.5, rng=0)
    assert_allclose(s.mean(0) * 2000, [5.0, 50.0], rtol=0.05)
    with pytest.raises(ValueError, match="rate_hz"):
        poisson_spikes(5000.0, 10, 1.0)


def test_stdp_neuron_potentiates_correlated_inputs():
    rng = np.random.default_rng(0)
    dt, T, N, c = 0.5, 60_000, 40, 0.3
    mother = rng.random(T) < 10 * dt / 1000
    pre = rng.random((T, N)) < 10 * (1 - c) * dt / 1000
    pre[:, :20] |= mother[:, None] & (rng.random((T, 20)) < c)
    pre[:, 20:] |= rng.random((T, 20)) < 10 * c * dt / 1000
    res = simulate_stdp_neuron(pre, dt=dt, g_scale=1.0, a_minus=0.012)
    assert res.final[:20].mean() > res.final[20:].mean() + 0.3
    assert res.weights.shape == (50, N) and np.all((res.final >= 0) & (res.final <= 1))


def test_one_neuron_fast_path_equals_the_batched_loop():
    rng = np.random.default_rng(1)
    I = rng.uniform(0, 4, size=(3000, 3))
    v, s = simulate_lif(I, dt=0.1)
    for j in range(3):
        v1, s1 = simulate_lif(I[:, j], dt=0.1)
        assert_allclose(v1, v[:, j], rtol=0, atol=1e-12)
        assert (s1 == s[:, j]).all()
    assert s.any()
