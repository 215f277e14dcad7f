"""The batch-size and learning-rate explorer (chapter 6), built through its function and driven like a reader would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
torch = pytest.importorskip("torch")

from nblib.explorers.pytorch import BLOWUP_FACTOR, UNIFORM_LOSS, batch_lr_explorer, batch_size_values  # noqa: E402
from explorer_helpers import suptitle  # noqa: E402

N_TRAIN, EPOCHS = 300, 3  # a fifth of the images and a third of the book's epochs: the same code paths, faster


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def exp():
    return batch_lr_explorer(epochs=EPOCHS, n_train=N_TRAIN)


def _title(exp, **setting):
    return suptitle(exp, **setting)


def test_controls_and_book_frames_fit_the_budget(exp):
    names = [c.name for c in exp.controls]
    assert names == ["batch_size", "lr"]
    n_frames = int(np.prod([len(c.book_values) for c in exp.controls]))
    assert n_frames <= 12, "the brief keeps this explorer's book frames cheap"
    batch = exp.controls[0]
    assert batch.values[-1] == N_TRAIN, "the largest batch is the whole training set (full-batch gradient descent)"
    assert list(batch.values) == sorted(batch.values)
    for control in exp.controls:
        assert control.value in control.book_values


@pytest.mark.parametrize(("n", "expected"), [
    pytest.param(1257, [8, 16, 32, 64, 128, 256, 1257], id="all-digits"),
    pytest.param(100, [8, 16, 32, 64, 100], id="small-subset"),
    pytest.param(64, [8, 16, 32, 64], id="no-duplicate-at-a-power-of-two"),
])
def test_batch_size_values(n, expected):
    assert batch_size_values(n) == expected


def test_every_control_changes_the_picture(exp):
    exp.set(batch_size=64, lr=0.1)
    box = exp.widget
    seen = {box.image.value}
    for setting in ({"batch_size": 32}, {"lr": 0.3}, {"batch_size": 8}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert box.image.value not in seen, f"{setting} did not change the image"
        seen.add(box.image.value)


def test_title_reports_setting_accuracy_and_steps(exp):
    title = _title(exp, batch_size=32, lr=0.1)
    steps = EPOCHS * int(np.ceil(N_TRAIN / 32))
    assert title.startswith("batch size 32, learning rate 0.1: validation accuracy ")
    assert title.endswith(f"after {EPOCHS} epochs ({steps} steps)")
    accuracy = float(title.split("validation accuracy ")[1].split("%")[0]) / 100
    assert 0.3 < accuracy <= 1.0, "a sensible setting learns something even in a few epochs"


def test_frames_are_reproducible(exp):
    assert _title(exp, batch_size=16, lr=0.03) == _title(exp, batch_size=16, lr=0.03)


def test_tiny_steps_say_why_nothing_was_learnt(exp):
    title = _title(exp, batch_size=N_TRAIN, lr=0.001)
    assert f"({EPOCHS} steps)" in title
    assert "near chance: the loss has barely moved" in title


def test_dead_relus_are_named(exp):
    # A rate of 1 with batches of 8 throws every hidden unit into the flat half of the ReLU.
    assert "the large steps killed them all" in _title(exp, batch_size=8, lr=1.0)


def test_divergence_gives_a_message_not_a_plot(exp):
    frame = exp.set(batch_size=8, lr=10.0)
    assert not frame.ok
    assert "training diverged in epoch 1" in frame.message
    assert f"more than {BLOWUP_FACTOR} times the {UNIFORM_LOSS:.2f} nats of a uniform guess" in frame.message
    assert "Try a smaller learning rate" in frame.message
    assert "diverged" in exp.widget.message.value and exp.widget.image.layout.display == "none"
    assert exp.set(lr=0.01).ok, "and back to a working setting"


def test_non_finite_loss_is_reported_as_a_setting_error(monkeypatch):
    # fit raises TrainingDiverged on a NaN or inf batch loss; the explorer turns it into a message.
    import nblib.torch_train
    from nblib.train import TrainingDiverged

    def diverging_fit(*args, **kwargs):
        raise TrainingDiverged("training diverged in epoch 1: the loss became nan")

    monkeypatch.setattr(nblib.torch_train, "fit", diverging_fit)
    exp = batch_lr_explorer(epochs=2, n_train=50)
    frame = exp.frame(batch_size=8, lr=0.1)
    assert not frame.ok and "the loss became NaN or inf" in frame.message


def test_the_book_grid_shows_all_three_regimes():
    # On all training images for the book's ten epochs: the setting offered first learns well, a tiny
    # full-batch rate barely moves, and the largest rate diverges at every batch size.
    exp = batch_lr_explorer()
    summary = exp.summary()
    assert "12 precomputed frames, 3 with a message" in summary
    assert all(not exp.frame(batch_size=b, lr=10.0).ok for b in exp.controls[0].book_values)
    accuracy = float(_title(exp).split("validation accuracy ")[1].split("%")[0]) / 100
    assert accuracy > 0.9


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    pytest.param(dict(n_train=100_000), ValueError, "n_train must be at most", id="too-many-images"),
    pytest.param(dict(n_train=4), ValueError, "n_train must be >= 16", id="too-few-images"),
    pytest.param(dict(epochs=2.5), TypeError, "epochs must be an integer", id="fractional-epochs"),
    pytest.param(dict(momentum=1.0), ValueError, "momentum must lie in", id="momentum-one"),
    pytest.param(dict(hidden=0), ValueError, "hidden must be >= 1", id="no-hidden-units"),
])
def test_explorer_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        batch_lr_explorer(**kwargs)


def test_importing_the_module_loads_no_heavy_library():
    # torch and matplotlib are imported when the explorer is built, not when the module is imported.
    import subprocess
    import sys

    code = ("import sys, nblib.explorers.pytorch\n"
            "print(','.join(m for m in ['torch', 'matplotlib', 'ipywidgets', 'sklearn'] if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"importing nblib.explorers.pytorch loaded {loaded}"
