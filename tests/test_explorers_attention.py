"""The attention temperature explorer, built through its function and driven like a reader would."""

import math

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from nblib.explorers.attention import (SCALINGS, attention_logits, attention_scale_explorer,  # noqa: E402
                                       softmax_gradient_norm, softmax_weights)


@pytest.fixture()
def exp():
    return attention_scale_explorer()


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["d_k", "scaling", "temperature"]
    assert np.prod([len(c.book_values) for c in exp.controls]) <= 64
    assert exp.setting == {"d_k": 64, "scaling": "1/√d", "temperature": 1.0}
    assert set(exp.controls[1].values) == set(SCALINGS)


def test_every_control_changes_the_picture(exp):
    box = exp.widget
    start = box.image.value
    assert exp.current.ok and start
    seen = {start}
    for setting in ({"d_k": 1024}, {"scaling": "none"}, {"temperature": 4.0}, {"d_k": 4}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert box.image.value not in seen, f"{setting} did not change the image"
        seen.add(box.image.value)


def test_zero_temperature_is_explained_not_plotted(exp):
    frame = exp.set(temperature=0.0)
    assert not frame.ok
    assert "divides the logits by zero" in frame.message and "arg-max" in frame.message
    assert "temperature above 0" in frame.message
    assert "zero" in exp.widget.message.value and exp.widget.image.layout.display == "none"
    assert exp.set(temperature=0.1).ok  # and back


@pytest.mark.parametrize("d_k", [1, 1024])
@pytest.mark.parametrize("scaling", list(SCALINGS))
@pytest.mark.parametrize("temperature", [0.1, 1000.0], ids=["coldest", "hottest"])
def test_extreme_settings_give_a_figure(d_k, scaling, temperature):
    frame = attention_scale_explorer().frame(d_k=d_k, scaling=scaling, temperature=temperature)
    assert frame.ok, frame.message
    assert frame.png.startswith(b"\x89PNG")


def test_scaling_keeps_the_softmax_alive_and_its_absence_saturates_it():
    raw = attention_logits(1024)
    saturated = softmax_weights(raw)
    scaled = softmax_weights(raw / math.sqrt(1024))
    assert saturated.max(axis=1).mean() > 0.9 and scaled.max(axis=1).mean() < 0.5
    assert softmax_gradient_norm(saturated) < 0.2 * softmax_gradient_norm(scaled)
    assert raw.std() == pytest.approx(32, rel=0.25)  # sqrt(1024)


def test_helpers():
    assert softmax_gradient_norm(np.eye(3)) == 0.0  # one-hot rows pass no gradient
    uniform = softmax_weights(np.zeros((2, 4)))
    np.testing.assert_allclose(uniform, 0.25)
    # |diag(p) - p p^T|_F^2 = sum p^2 - 2 sum p^3 + (sum p^2)^2 = 1/4 - 1/8 + 1/16 for p uniform over 4
    assert softmax_gradient_norm(uniform) == pytest.approx(math.sqrt(0.1875), rel=1e-12)
    # a larger key dimension adds coordinates to the same vectors rather than drawing new ones
    small, large = attention_logits(4, length=5), attention_logits(8, length=5)
    assert small.shape == (5, 5) and not np.allclose(small, large)
    gen = np.random.default_rng(0)
    q = gen.standard_normal((5, 1024))[:, :4]
    k = gen.standard_normal((5, 1024))[:, :4]
    np.testing.assert_allclose(small, q @ k.T)
