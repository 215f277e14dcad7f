"""The barren-plateau explorer (chapter 18), built through its function and driven like a reader would.

It is fed a synthetic sweep with known variances, so the test needs no quantum simulation and
knows exactly which settings must drown in shot noise.
"""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from nblib.explorers.quantum import SHOTS, barren_plateau_explorer  # noqa: E402
from explorer_helpers import axes_titles  # noqa: E402

QUBITS, LAYERS = [2, 4, 6, 8, 10], [2, 16]


def _sweep():
    """Global variance 0.5 * 2^-n at every depth; local variance 0.25 when shallow, 0.5 * 2^-n when deep."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal(400)
    base /= base.std()
    n = np.array(QUBITS)[:, None, None]
    glob = np.broadcast_to(np.sqrt(0.5 * 2.0 ** -n) * base, (5, 2, 400)).copy()
    local = glob.copy()
    local[:, 0] = 0.5 * base
    return {"global": glob, "local": local}


@pytest.fixture(scope="module")
def exp():
    return barren_plateau_explorer(QUBITS, LAYERS, _sweep(), qubits_book=(2, 6, 10), shots_book=(100, 10_000))


def _title(exp, **setting):
    return axes_titles(exp, **setting)[1]


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["qubits", "layers", "cost", "shots"]
    assert int(np.prod([len(c.book_values) for c in exp.controls])) <= 64
    assert exp.setting == {"qubits": 6, "layers": 2, "cost": "global", "shots": 100}
    assert "precomputed frames" in exp.summary()


def test_every_control_changes_the_picture(exp):
    exp.set(qubits=2, layers=2, cost="global", shots=10_000)
    seen = {exp.widget.image.value}
    for setting in ({"qubits": 4}, {"layers": 16}, {"cost": "local"}, {"shots": 1000}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert exp.widget.image.value not in seen, f"{setting} did not change the picture"
        seen.add(exp.widget.image.value)


def test_the_picture_reports_the_spread_it_was_given(exp):
    title = _title(exp, qubits=4, layers=2, cost="global", shots=10_000)
    assert title.startswith("4 qubits, 2 layers")
    assert float(title.split("s.d. ")[1]) == pytest.approx(np.sqrt(0.5 / 16), rel=0.03)  # printed to 2 digits


def test_gradients_below_shot_noise_give_a_message(exp):
    # 10 qubits, global: variance 0.5/1024 ~ 4.9e-4 < 1/(2*100) = 5e-3, so 100 shots cannot resolve it
    frame = exp.set(qubits=10, layers=2, cost="global", shots=100)
    assert not frame.ok
    assert "Barren plateau" in frame.message and "shot noise" in frame.message and "100 shots" in frame.message
    # ...but 10,000 shots can (floor 5e-5), and so can a shallow local cost at 100 shots
    assert exp.set(shots=10_000).ok
    assert exp.set(shots=100, cost="local").ok
    # the deep local cost has a plateau too
    assert not exp.set(layers=16).ok
    assert max(SHOTS) >= 100_000


def test_rejects_malformed_sweeps():
    sweep = _sweep()
    with pytest.raises(TypeError, match="keys"):
        barren_plateau_explorer(QUBITS, LAYERS, {"global": sweep["global"]})
    with pytest.raises(ValueError, match="shape"):
        barren_plateau_explorer(QUBITS[:3], LAYERS, sweep)


def test_render_is_fast(exp):
    # the frames are plots of stored numbers: the 100 ms budget of a NumPy widget (about 30 ms measured)
    import time

    import matplotlib.pyplot as plt

    plt.close(exp.render(qubits=2, layers=2, cost="local", shots=10_000))  # warm up fonts and caches
    times = []
    for qubits in (2, 4, 6, 8, 10):
        start = time.process_time()
        plt.close(exp.render(qubits=qubits, layers=2, cost="local", shots=10_000))
        times.append(time.process_time() - start)
    assert np.median(times) <= 0.1


def test_a_parameter_the_cost_ignores_gets_its_own_message():
    sweep = _sweep()
    sweep["global"][:, 0] = 0.0          # derivative exactly zero at every start, as for one layer and a global cost
    exp = barren_plateau_explorer(QUBITS, [1, 16], sweep, qubits_book=(2,), shots_book=(100, 10_000))
    frame = exp.set(qubits=2, layers=1, cost="global", shots=100_000)
    assert not frame.ok and "does not depend on this parameter" in frame.message and "1 layer the" in frame.message
    assert exp.set(cost="local").ok
