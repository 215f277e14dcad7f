"""The REINFORCE explorer (chapter 16), built through its function and driven like a reader would."""

import statistics
import time

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from nblib.envs import CliffWalk, learning_curves, plan  # noqa: E402
from nblib.explorers.agents import LRS, reinforce_explorer, stuck_seeds  # noqa: E402
from explorer_helpers import axes_titles  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    env = CliffWalk()
    P, R, _ = env.model()
    optimum = plan(P, R, env.max_steps)[0][env.start]
    random_return = plan(P, R, env.max_steps, policy=np.full((env.n_states, 4), 0.25))[0][env.start]
    curves = learning_curves(env, LRS, seeds=5, episodes=200)
    return curves, optimum, random_return, env.max_steps


@pytest.fixture(scope="module")
def exp(setup):
    return reinforce_explorer(*setup)


def _title(exp, **setting):
    return axes_titles(exp, **setting)[0]


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["lr", "baseline"]
    assert int(np.prod([len(c.book_values) for c in exp.controls])) <= 64
    assert exp.setting == {"lr": 0.03, "baseline": "on"}


def test_every_control_changes_the_picture(exp):
    exp.set(lr=0.03, baseline="on")
    seen = {exp.widget.image.value}
    for setting in ({"baseline": "off"}, {"lr": 0.01}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert exp.widget.image.value not in seen
        seen.add(exp.widget.image.value)


def test_a_good_setting_learns_and_the_title_says_so(exp, setup):
    title = _title(exp, lr=0.03, baseline="on")
    final = float(title.split("final return ")[1].split(",")[0])
    assert final > -15  # optimum about -5.1, random about -41.7
    assert "0/5 seeds stuck" in title


def test_too_large_a_step_gives_a_message(exp):
    for baseline in ("off", "on"):
        frame = exp.set(lr=1.0, baseline=baseline)
        assert not frame.ok and "Step too large" in frame.message and "lr = 1" in frame.message
    assert exp.set(lr=0.03).ok


def test_stuck_seeds_criterion():
    returns = np.array([[-40.0] * 60, [-5.0] * 60, [-30.0] * 60])
    assert stuck_seeds(returns, max_steps=30).tolist() == [True, False, True]


def test_render_is_fast(exp):
    import matplotlib.pyplot as plt

    times = []
    for lr in (0.003, 0.01, 0.1):
        start = time.perf_counter()
        plt.close(exp.render(lr=lr, baseline="on"))
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.25  # NumPy widget: 100 ms budget (about 50 ms measured), margin for a busy machine


def test_rejects_incomplete_curves(setup):
    curves, optimum, random_return, max_steps = setup
    with pytest.raises(ValueError, match="curves lacks"):
        reinforce_explorer({k: v for k, v in curves.items() if k[0] != 1.0}, optimum, random_return, max_steps)
    with pytest.raises(TypeError, match="curves"):
        reinforce_explorer([1, 2], optimum, random_return, max_steps)
