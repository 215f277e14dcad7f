"""The signal-propagation explorer of chapter 3, built through its function and driven like a reader would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from nblib.explorers.activations import INITS, _check, signal_explorer  # noqa: E402
from nblib.init import Propagation  # noqa: E402
from nblib.widgets import SettingError  # noqa: E402


@pytest.fixture(scope="module")
def exp():
    return signal_explorer()


def test_moving_each_slider_changes_the_picture(exp):
    exp.set(depth=20, activation="tanh", init="Xavier")
    start = exp.widget.image.value
    seen = {start}
    for change in (dict(init="He"), dict(activation="relu"), dict(depth=5)):
        frame = exp.set(**change)
        assert frame.ok, frame.message
        assert exp.widget.image.value not in seen, f"{change} did not change the image"
        seen.add(exp.widget.image.value)


def test_every_activation_and_init_name_is_accepted(exp):
    assert set(INITS.values()) == {"normal", "small", "xavier", "he"}
    for activation in ("sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu"):
        assert exp.set(depth=10, activation=activation, init="He").ok


def test_overflow_shows_a_message_naming_the_layer(exp):
    frame = exp.set(depth=50, activation="relu", init="N(0, 1)")
    assert not frame.ok
    assert "overflowed float32" in frame.message and "at layer" in frame.message
    assert "per layer" in frame.message  # the measured growth factor, about sqrt(128)
    assert "overflowed float32" in exp.widget.message.value
    assert exp.widget.image.layout.display == "none"


def test_underflow_to_zero_shows_a_message(exp):
    frame = exp.set(depth=100, activation="relu", init="N(0, 0.01²)")
    assert not frame.ok and "underflowed to exactly zero" in frame.message


def test_back_to_a_working_setting_after_a_message(exp):
    exp.set(depth=100, activation="relu", init="N(0, 1)")
    frame = exp.set(depth=20, init="He")
    assert frame.ok and exp.widget.message.value == ""


@pytest.mark.slow
@pytest.mark.parametrize("depth", [2, 100], ids=["depth-2", "depth-100"])
def test_extremes_give_a_figure_or_a_message_never_an_error(depth):
    exp = signal_explorer()
    for activation in ("sigmoid", "relu"):  # a saturating and a scale-free one: the two ways to fail
        for init in INITS:
            frame = exp.frame(depth=depth, activation=activation, init=init)
            assert frame.ok or "float32" in frame.message, (activation, init, frame.message)
            if depth == 2:
                assert frame.ok, (activation, init, frame.message)  # two layers cannot overflow


def test_check_names_which_statistic_failed():
    ok = np.ones(4)
    bad_grad = Propagation("relu", "he", ok, np.array([np.inf, 1.0, 1.0, 1.0]), np.dtype(np.float32))
    with pytest.raises(SettingError, match="weight gradients overflowed float32 .* at layer 1 of 4"):
        _check(bad_grad, 4)
    nan_std = Propagation("relu", "he", np.array([1.0, 2.0, np.nan, np.nan]), ok, np.dtype(np.float32))
    with pytest.raises(SettingError, match="activations overflowed float32 .* at layer 3 of 4"):
        _check(nan_std, 4)
    _check(Propagation("relu", "he", ok, ok, np.dtype(np.float32)), 4)  # nothing to report


def test_book_frames_and_summary(exp):
    summary = exp.summary()
    assert summary.startswith("Signals through a deep MLP at initialisation [explorer: 48 precomputed frames")
    assert "with a message" in summary and " 0 with a message" not in summary
