"""The label-smoothing and dropout explorer (chapter 11), built through its function and driven like a reader would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
torch = pytest.importorskip("torch")

from nblib.explorers.regularisation import smoothing_dropout_explorer  # noqa: E402


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def exp():
    return smoothing_dropout_explorer(n_train=120, epochs=4, width=32)  # the book's code paths, smaller


def _title(exp, **setting):
    import matplotlib.pyplot as plt

    fig = exp.render(**{**exp.setting, **setting})
    try:
        ys = [np.asarray(line.get_ydata(), dtype=float) for ax in fig.axes for line in ax.lines]
        assert all(np.isfinite(y).all() for y in ys), "a frame must never plot NaN or inf"
        return fig._suptitle.get_text(), [ax.get_title() for ax in fig.axes]
    finally:
        plt.close(fig)


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["label_smoothing", "dropout"]
    assert int(np.prod([len(c.book_values) for c in exp.controls])) <= 16
    for control in exp.controls:
        assert control.value in control.book_values
        assert list(control.values) == sorted(control.values)


def test_frame_shows_curves_and_a_reliability_diagram(exp):
    title, axes = _title(exp, label_smoothing=0.1, dropout=0.3)
    assert "ε = 0.1" in title and "dropout p = 0.3" in title
    assert any("ECE" in t for t in axes)


def test_moving_a_slider_changes_the_image(exp):
    first = exp.set(label_smoothing=0.0, dropout=0.0)
    second = exp.set(label_smoothing=0.3)
    assert first.ok and second.ok and second.png != first.png


@pytest.mark.parametrize("dropout", [0.0, 0.9], ids=["no-dropout", "max-dropout"])
def test_smoothing_of_one_is_a_clear_message(exp, dropout):
    frame = exp.set(label_smoothing=1.0, dropout=dropout)
    assert not frame.ok
    assert "uniform" in frame.message and "ε < 1" in frame.message


def test_largest_dropout_and_smoothing_below_one_still_plot(exp):
    title, _ = _title(exp, label_smoothing=0.8, dropout=0.9)
    assert "validation accuracy" in title


@pytest.mark.parametrize(("kwargs", "match"), [
    pytest.param({"n_train": 5}, "n_train", id="too-few-images"),
    pytest.param({"n_train": 10**6}, "n_train", id="more-than-available"),
    pytest.param({"epochs": 1}, "epochs", id="one-epoch"),
])
def test_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        smoothing_dropout_explorer(**kwargs)
