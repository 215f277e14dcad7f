"""The FGSM explorer (chapter 14), built through its function and driven like a reader would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
torch = pytest.importorskip("torch")

from nblib.explorers.interpretability import EPSILONS, MAX_EPSILON, fgsm_explorer  # noqa: E402
from explorer_helpers import axes_titles  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def exp():
    from nblib.data import load_digits

    d = load_digits(seed=0)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    X, y = torch.from_numpy(d.X_train), torch.from_numpy(d.y_train)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    model.eval()
    return fgsm_explorer(model, d.X_test[:4], d.y_test[:4])


def _titles(exp, **setting):
    return axes_titles(exp, **setting)


def _confidence(title):
    return float(title.split("(")[1].split("%")[0]) / 100


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["image", "epsilon"]
    assert int(np.prod([len(c.book_values) for c in exp.controls])) <= 64
    assert exp.setting == {"image": 0, "epsilon": 0.1}
    assert min(EPSILONS) == 0 and max(EPSILONS) > MAX_EPSILON


def test_every_control_changes_the_picture(exp):
    exp.set(image=0, epsilon=0.05)
    seen = {exp.widget.image.value}
    for setting in ({"epsilon": 0.2}, {"image": 2}, {"epsilon": 0.0}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert exp.widget.image.value not in seen, f"{setting} did not change the image"
        seen.add(exp.widget.image.value)


def test_zero_budget_changes_nothing_and_a_large_one_lowers_confidence(exp):
    clean, perturbation, attacked, bars = _titles(exp, image=1, epsilon=0.0)
    assert "max 0.00" in perturbation
    assert clean.split(":")[1] == attacked.split(":")[1]
    strong = _titles(exp, image=1, epsilon=0.3)
    assert "max 0.30" in strong[1]
    same_class = strong[2].split("says ")[1][0] == clean.split("says ")[1][0]
    assert not same_class or _confidence(strong[2]) < _confidence(clean)


def test_a_budget_beyond_the_range_is_explained(exp):
    frame = exp.set(epsilon=0.5)
    assert not frame.ok and "no longer a small" in frame.message
    assert exp.set(epsilon=0.1).ok


def test_bad_arguments_are_named():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    with pytest.raises(ValueError, match="images"):
        fgsm_explorer(model, np.zeros((9, 64)), np.zeros(9, int))
    with pytest.raises(TypeError, match="model"):
        fgsm_explorer("net", np.zeros((2, 64)), np.zeros(2, int))
