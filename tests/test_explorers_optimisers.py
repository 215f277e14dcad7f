"""The optimiser race explorer, built through its function and driven like a reader would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from nblib.autograd import Tensor  # noqa: E402
from nblib.explorers.optimisers import RACE_COLOURS, optimiser_race_explorer, race, racers  # noqa: E402
from nblib.optim import SGD, Adam  # noqa: E402

STEPS = {"rosenbrock": 300, "saddle": 100, "ravine": 100}  # shorter races: the same behaviour, faster


@pytest.fixture()
def exp():
    return optimiser_race_explorer(steps=STEPS)


def test_controls_and_book_frames_fit_the_budget(exp):
    names = [c.name for c in exp.controls]
    assert names == ["surface", "lr", "beta"]
    assert np.prod([len(c.book_values) for c in exp.controls]) <= 64
    assert set(exp.controls[0].values) == {"rosenbrock", "saddle", "ravine"}


def test_every_control_changes_the_picture(exp):
    box = exp.widget
    start = box.image.value
    assert exp.current.ok and start
    seen = {start}
    for setting in ({"surface": "saddle"}, {"lr": 0.1}, {"beta": 0.5}, {"surface": "ravine"}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert box.image.value not in seen, f"{setting} did not change the image"
        seen.add(box.image.value)


def test_a_diverging_optimiser_is_named_and_the_others_are_drawn(exp):
    # On Rosenbrock at lr 0.01 the SGD family is thrown out by the steep walls; RMSprop and Adam are not.
    surface, finished, diverged = race("rosenbrock", 0.01, 0.9, steps=300)
    assert set(diverged) == {"SGD", "momentum", "Nesterov"} and set(finished) == {"RMSprop", "Adam"}
    frame = exp.set(surface="rosenbrock", lr=0.01, beta=0.9)
    assert frame.ok  # the survivors are drawn; the title names the others


def test_when_every_optimiser_diverges_the_explorer_explains(exp):
    frame = exp.set(surface="rosenbrock", lr=3.0, beta=0.99)
    assert not frame.ok
    for name in ("SGD", "momentum", "Nesterov", "RMSprop", "Adam"):
        assert name in frame.message
    assert "diverged" in frame.message and "smaller" in frame.message
    assert "diverged" in exp.widget.message.value and exp.widget.image.layout.display == "none"
    assert exp.set(lr=0.001).ok  # and back


@pytest.mark.parametrize("surface", ["rosenbrock", "saddle", "ravine"])
@pytest.mark.parametrize("lr", [1e-4, 3.0], ids=["smallest-lr", "largest-lr"])
@pytest.mark.parametrize("beta", [0.0, 0.99], ids=["beta-0", "beta-0.99"])
def test_extreme_settings_give_a_figure_or_a_message(surface, lr, beta):
    exp = optimiser_race_explorer(steps=STEPS)
    frame = exp.frame(surface=surface, lr=lr, beta=beta)
    assert frame.ok or ("diverged" in frame.message)
    if frame.ok:
        assert frame.png.startswith(b"\x89PNG")


def test_racers_share_lr_and_beta():
    made = {name: make([Tensor([1.0, 2.0], requires_grad=True)]) for name, make in racers(0.05, 0.8).items()}
    assert set(made) == {"SGD", "momentum", "Nesterov", "RMSprop", "Adam"} <= set(RACE_COLOURS)
    assert all(opt.lr == 0.05 for opt in made.values())
    assert isinstance(made["momentum"], SGD) and made["momentum"].momentum == 0.8
    assert made["Nesterov"].nesterov
    assert isinstance(made["Adam"], Adam) and made["Adam"].betas == (0.8, 0.999)


def test_beta_zero_turns_momentum_into_sgd():
    made = racers(0.05, 0.0)
    for name in ("momentum", "Nesterov"):
        opt = made[name]([Tensor([1.0], requires_grad=True)])
        assert opt.momentum == 0 and not opt.nesterov
