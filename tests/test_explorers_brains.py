"""The LIF explorer (chapter 17), built through its function and driven like a reader would."""

import time

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from nblib.explorers.brains import CURRENTS, STEPS, TAUS, lif_explorer  # noqa: E402
from explorer_helpers import axes_titles  # noqa: E402


@pytest.fixture(scope="module")
def exp():
    return lif_explorer()


def _title(exp, **setting):
    return axes_titles(exp, **setting)[1]


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["current", "tau_m", "dt"]
    assert int(np.prod([len(c.book_values) for c in exp.controls])) <= 64
    assert min(CURRENTS) == 0 and max(TAUS) >= 50 and max(STEPS) >= 5


def test_every_control_changes_the_picture(exp):
    exp.set(current=2.0, tau_m=10.0, dt=0.1)
    seen = {exp.widget.image.value}
    for setting in ({"current": 3.0}, {"tau_m": 20.0}, {"dt": 1.0}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert exp.widget.image.value not in seen, f"{setting} did not change the image"
        seen.add(exp.widget.image.value)


def test_simulated_rate_agrees_with_the_formula(exp):
    title = _title(exp, current=3.0, tau_m=10.0, dt=0.01)
    simulated, formula = (float(part.split()[-2]) for part in title.split(", "))
    assert simulated == pytest.approx(formula, abs=1.0)
    assert _title(exp, current=1.4, tau_m=10.0, dt=0.1) == "below rheobase: silent"


def test_extremes_give_messages(exp):
    frame = exp.set(current=2.0, tau_m=5.0, dt=5.0)
    assert not frame.ok and "not shorter than the membrane time constant" in frame.message
    frame = exp.set(tau_m=50.0, dt=5.0)
    assert not frame.ok and "refractory" in frame.message
    assert exp.widget.image.layout.display == "none"
    assert exp.set(current=50.0, tau_m=2.0, dt=0.1).ok  # the strongest drive fires at the refractory ceiling
    assert exp.set(current=0.0, tau_m=50.0, dt=2.0).ok


def test_render_is_fast(exp):
    import matplotlib.pyplot as plt

    times = []
    for current in (0.0, 2.0, 10.0, 50.0, 3.0):
        start = time.process_time()
        plt.close(exp.render(current=current, tau_m=10.0, dt=0.1))
        times.append(time.process_time() - start)
    assert np.median(times) <= 0.1
