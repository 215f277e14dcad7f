"""The learning-rate and init-scale explorer (chapter 10), built through its function and driven like a reader."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
torch = pytest.importorskip("torch")

from nblib.explorers.diagnostics import lr_init_explorer  # noqa: E402


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def exp():
    return lr_init_explorer(steps=30)   # fewer steps than the book's: the same code paths, faster


def test_controls_and_budget(exp):
    assert [c.name for c in exp.controls] == ["lr", "init_scale"]
    assert int(np.prod([len(c.book_values) for c in exp.controls])) <= 16


def test_a_good_setting_plots_finite_curves_and_moving_changes_the_image(exp):
    import matplotlib.pyplot as plt

    fig = exp.render(lr=0.03, init_scale=1.0)
    ys = [np.asarray(line.get_ydata(), dtype=float) for ax in fig.axes for line in ax.lines]
    assert all(np.isfinite(y).all() for y in ys)
    assert "final loss" in fig._suptitle.get_text()
    plt.close(fig)
    a = exp.set(lr=0.03, init_scale=1.0)
    b = exp.set(lr=0.3, init_scale=1.0)
    assert a.ok and b.ok and a.png != b.png


@pytest.mark.parametrize("setting", [
    pytest.param({"lr": 3.0, "init_scale": 3.0}, id="large-lr-large-init"),
    pytest.param({"lr": 3.0, "init_scale": 1.0}, id="largest-lr"),
])
def test_divergence_is_a_message(exp, setting):
    frame = exp.set(**setting)
    assert not frame.ok
    assert "diverged" in frame.message and "learning rate" in frame.message


def test_every_extreme_is_a_figure_or_a_message(exp):
    lrs, scales = exp.controls[0].values, exp.controls[1].values
    for lr in (lrs[0], lrs[-1]):
        for s in (scales[0], scales[-1]):
            frame = exp.set(lr=lr, init_scale=s)
            assert frame.ok or "diverged" in frame.message or "NaN" in frame.message


def test_tiny_init_is_flagged_as_a_plateau(exp):
    import matplotlib.pyplot as plt

    fig = exp.render(lr=0.001, init_scale=0.1)
    assert "plateau" in fig._suptitle.get_text() or "vanished" in fig._suptitle.get_text()
    plt.close(fig)


def test_bad_arguments():
    with pytest.raises(ValueError):
        lr_init_explorer(steps=1)
    with pytest.raises(TypeError):
        lr_init_explorer(depth=2.5)
