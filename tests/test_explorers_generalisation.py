"""The capacity-and-regularisation explorer, built through its function and driven like a reader would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from nblib import nn  # noqa: E402
from nblib.explorers.generalisation import overfitting_explorer, regularised_mlp  # noqa: E402
from explorer_helpers import suptitle  # noqa: E402


@pytest.fixture(scope="module")
def explorer():
    # Fewer images and epochs than the book's explorer: the same code paths, a fraction of the time.
    return overfitting_explorer(n_train=120, epochs=8)


def _title(explorer, **setting):
    return suptitle(explorer, **setting)


def test_every_control_changes_the_picture(explorer):
    start = explorer.widget.image.value
    shown = {start}
    for setting in (dict(hidden=32), dict(dropout=0.5), dict(weight_decay=0.01)):
        frame = explorer.set(**setting)
        assert frame.ok, frame.message
        shown.add(explorer.widget.image.value)
    assert len(shown) == 4, "each slider move should show a different figure"


def test_title_reports_the_setting_and_accuracies(explorer):
    title = _title(explorer, hidden=64, dropout=0.0, weight_decay=0.0)
    assert title.startswith("64 hidden units, dropout 0, weight decay 0\ntraining ")
    assert "validation" in title


def test_tiny_network_with_heavy_dropout_is_a_sensible_figure(explorer):
    frame = explorer.set(hidden=2, dropout=0.9, weight_decay=0.0)
    assert frame.ok, "an extreme but legal setting should show its (poor) curves"
    assert "too few hidden units survive dropout" in _title(explorer, hidden=2, dropout=0.9, weight_decay=0.0)


def test_huge_weight_decay_collapses_the_network_and_says_why(explorer):
    frame = explorer.set(hidden=32, dropout=0.0, weight_decay=10.0)
    assert frame.ok
    assert "weight decay has shrunk the weights" in _title(explorer, hidden=32, dropout=0.0,
                                                                           weight_decay=10.0)


def test_diverging_weight_decay_gives_a_message_not_a_plot(explorer):
    frame = explorer.set(hidden=512, dropout=0.0, weight_decay=100.0)
    assert not frame.ok
    assert "diverged" in frame.message and "stable only for" in frame.message
    assert "diverged" in explorer.widget.message.value
    assert explorer.set(weight_decay=0.0).ok  # and back to a working setting


def test_book_grid_is_within_budget():
    exp = overfitting_explorer(n_train=50, epochs=2)
    n = int(np.prod([len(c.book_values) for c in exp.controls]))
    assert n <= 64
    assert {c.name for c in exp.controls} == {"hidden", "dropout", "weight_decay"}
    for control in exp.controls:
        assert control.value in control.book_values
        assert min(control.values) in control.values and max(control.values) >= max(control.book_values)


def test_explorer_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_train"):
        overfitting_explorer(n_train=100_000)
    with pytest.raises(TypeError, match="epochs"):
        overfitting_explorer(epochs=2.5)


def test_regularised_mlp_structure():
    model = regularised_mlp(16, 0.3, rng=0)
    kinds = [type(layer) for layer in model]
    assert kinds == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert model[0].out_features == 16 and model[2].p == 0.3 and model[3].out_features == 10
    # Without dropout it starts from the same weights as nn.mlp with the same seed.
    plain = nn.mlp([64, 16, 10], rng=0)
    no_dropout = regularised_mlp(16, 0.0, rng=0)
    for p, q in zip(plain.parameters(), no_dropout.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
