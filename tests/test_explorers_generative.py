"""The GAN-training explorer (chapter 15), built through its function and driven like a reader would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from nblib.explorers.generative import gan_explorer  # noqa: E402
from nblib.generative import ring_centers, ring_gaussians  # noqa: E402
from explorer_helpers import axes_titles  # noqa: E402

STEPS = [0, 100, 200, 300, 400]
CENTERS = ring_centers(8, 2.0)


def _snapshots():
    """Stored samples (S, R, n, 2): 'plain' drifts onto one mode, 'packed' spreads over all eight."""
    rng = np.random.default_rng(0)
    n = 400
    start = 0.1 * rng.standard_normal((n, 2))
    full, _ = ring_gaussians(n, std=0.05, rng=1)
    one = CENTERS[0] + 0.05 * rng.standard_normal((n, 2))
    plain = np.stack([[(1 - a) * start + a * one] * 3 for a in np.linspace(0, 1, len(STEPS))])
    packed = np.stack([[(1 - a) * start + a * full] * 3 for a in np.linspace(0, 1, len(STEPS))])
    packed[2, 2] = np.nan  # run 2 "diverges" at step 200
    return {"plain": plain, "packed": packed}


@pytest.fixture(scope="module")
def exp():
    return gan_explorer(_snapshots(), STEPS, CENTERS, 0.05, run_ids=(0, 1, 2))


def _title(exp, **setting):
    return axes_titles(exp, **setting)[0]


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["step", "fix", "run"]
    assert list(exp.controls[0].values) == STEPS
    assert list(exp.controls[0].book_values) == [0, 200, 400]  # every other snapshot, the last included
    assert int(np.prod([len(c.book_values) for c in exp.controls])) <= 64
    assert exp.setting == {"step": 400, "fix": "plain", "run": 0}


def test_every_control_changes_the_picture(exp):
    exp.set(step=200, fix="plain", run=0)
    seen = {exp.widget.image.value}
    for setting in ({"step": 400}, {"fix": "packed"}, {"run": 1}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert exp.widget.image.value not in seen
        seen.add(exp.widget.image.value)


def test_titles_report_modes_and_quality(exp):
    title = _title(exp, step=400, fix="plain")
    assert "1 of 8 modes" in title and int(title.split("modes, ")[1].split("%")[0]) >= 97  # 3 sigma holds 98.9%
    assert "8 of 8 modes" in _title(exp, step=400, fix="packed")
    assert "0 of 8 modes, 0% high quality" in _title(exp, step=0, fix="packed")


def test_a_diverged_snapshot_gives_a_message(exp):
    frame = exp.set(step=200, fix="packed", run=2)
    assert not frame.ok and "diverged" in frame.message
    assert exp.set(step=400).ok


def test_summary_counts_frames(exp):
    assert "[explorer: 18 precomputed frames, 1 with a message]" in exp.summary()


def test_rejects_bad_inputs():
    snaps = _snapshots()
    with pytest.raises(TypeError, match="runs"):
        gan_explorer([], STEPS, CENTERS, 0.05)
    with pytest.raises(ValueError, match="shape"):
        gan_explorer({"plain": snaps["plain"][:2]}, STEPS, CENTERS, 0.05)
    with pytest.raises(ValueError, match="run_ids"):
        gan_explorer(snaps, STEPS, CENTERS, 0.05, run_ids=(0, 5))
    with pytest.raises(ValueError, match="book_steps"):
        gan_explorer(snaps, STEPS, CENTERS, 0.05, book_steps=[0, 250])


def test_works_on_real_training_snapshots():
    pytest.importorskip("torch")
    from nblib.generative import GANConfig, train_gan

    X, _ = ring_gaussians(500, rng=0)
    out = train_gan(X, GANConfig(n_runs=2, steps=10, n_snapshots=3, n_samples=100), seed=0)
    e = gan_explorer({"plain GAN": out["samples"]}, out["steps"], CENTERS, 0.05, run_ids=(0, 1))
    assert e.current.ok and len(e.book_frames()) == 4
