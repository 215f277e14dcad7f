"""The book's explorers, built through their functions and driven like a reader would."""

import pytest

pytest.importorskip("ipywidgets")

from nblib.explorers.neurons import neuron_boundary_explorer  # noqa: E402
from nblib.explorers.training import mlp_training_explorer  # noqa: E402


def test_neuron_boundary_moves_with_the_weights():
    exp = neuron_boundary_explorer()
    start = exp.widget.image.value
    exp.set(w1=-1.0)
    assert exp.widget.image.value != start
    exp.set(b=1.0)
    assert exp.current.ok


def test_neuron_with_zero_weights_explains_itself():
    exp = neuron_boundary_explorer()
    frame = exp.set(w1=0.0, w2=0.0)
    assert not frame.ok and "no boundary" in frame.message
    assert "no boundary" in exp.widget.message.value


@pytest.mark.slow
def test_mlp_explorer_learns_and_reports_divergence():
    exp = mlp_training_explorer(steps=150)
    assert exp.set(hidden=32, lr=1.0).ok
    frame = exp.set(lr=10.0)
    assert not frame.ok and "diverged" in frame.message and "learning rate" in frame.message
    assert exp.set(lr=0.1).ok  # and back to a working setting
