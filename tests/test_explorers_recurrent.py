"""The gradient-flow explorer of chapter 8, built through its function and driven like a reader would."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("torch")

from nblib.explorers.recurrent import CELLS, _check, _per_step_factor, gradient_flow_explorer, gradient_profiles  # noqa: E402
from nblib.widgets import SettingError  # noqa: E402


@pytest.fixture(scope="module")
def exp():
    return gradient_flow_explorer()


def test_moving_each_slider_changes_the_picture(exp):
    exp.set(T=100, cell="RNN", scale=1.0)
    seen = {exp.widget.image.value}
    for change in (dict(cell="LSTM"), dict(T=25), dict(scale=2.0), dict(cell="GRU")):
        frame = exp.set(**change)
        assert frame.ok, frame.message
        assert exp.widget.image.value not in seen, f"{change} did not change the image"
        seen.add(exp.widget.image.value)


def test_profiles_decay_at_the_default_scale_and_the_rnn_explodes_when_scaled_up():
    default = gradient_profiles(50, 1.0)
    assert set(default) == set(CELLS)
    for cell, norms in default.items():
        assert norms.shape == (50,) and _per_step_factor(norms) < 0.8, cell  # vanishing at initialisation
    assert _per_step_factor(gradient_profiles(50, 4.0)["RNN"]) > 1.0  # recurrent weights x 4: exploding


def test_underflow_shows_a_message_and_the_widget_hides_the_image(exp):
    frame = exp.set(T=400, cell="RNN", scale=0.25)
    assert not frame.ok
    assert "vanished to exactly zero" in frame.message and "of 400" in frame.message
    assert "vanished to exactly zero" in exp.widget.message.value
    assert exp.widget.image.layout.display == "none"
    back = exp.set(T=100, scale=1.0)
    assert back.ok and exp.widget.message.value == ""


def test_check_reports_overflow_and_underflow_with_the_step():
    with pytest.raises(SettingError, match=r"overflowed .* at step 2 of 3"):
        _check({"RNN": np.array([np.inf, np.inf, 1.0])}, "RNN", 3, 8.0)
    with pytest.raises(SettingError, match="vanished to exactly zero for steps 1 to 2 of 3"):
        _check({"LSTM": np.array([0.0, 0.0, 1.0])}, "LSTM", 3, 0.25)
    _check({"GRU": np.array([1e-300, 1e-5, 1.0])}, "GRU", 3, 1.0)  # tiny but drawable


@pytest.mark.slow
@pytest.mark.parametrize("T", [10, 400], ids=["T-10", "T-400"])
def test_extremes_give_a_figure_or_a_message_never_an_error(T):
    exp = gradient_flow_explorer()
    for cell in CELLS:
        for scale in (0.25, 8.0):
            frame = exp.frame(T=T, cell=cell, scale=scale)
            assert frame.ok or "float64" in frame.message, (cell, scale, frame.message)
            if T == 10:
                assert frame.ok, (cell, scale, frame.message)


def test_book_frames_and_summary(exp):
    summary = exp.summary()
    assert summary.startswith("Gradient flow back through time at initialisation [explorer: 36 precomputed frames")
    assert "1 with a message" in summary  # the vanilla RNN at T = 400, scale 0.5: below float64's range
    assert "cell type: RNN, GRU, LSTM" in summary


def test_importing_the_module_loads_no_heavy_library():
    code = ("import sys, nblib.rnn, nblib.explorers.recurrent\n"
            "print(','.join(m for m in ('torch', 'matplotlib', 'ipywidgets') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
