"""The pruning-and-quantisation explorer (chapter 13), built through its function and driven like a reader would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
torch = pytest.importorskip("torch")

from nblib.explorers.compression import BITS, SPARSITIES, compression_explorer  # noqa: E402
from explorer_helpers import axes_titles  # noqa: E402


@pytest.fixture(scope="module")
def exp():
    from nblib.data import load_digits

    d = load_digits(seed=0)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    X, y = torch.from_numpy(d.X_train), torch.from_numpy(d.y_train)
    for _ in range(100):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return compression_explorer(model, d.X_test, d.y_test)


def _title(exp, **setting):
    return axes_titles(exp, **setting)[1]


def _accuracy(title):
    return float(title.split("accuracy ")[1].split("%")[0]) / 100


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["sparsity", "bits"]
    assert int(np.prod([len(c.book_values) for c in exp.controls])) <= 64
    assert min(SPARSITIES) == 0 and max(SPARSITIES) == 1 and min(BITS) == 1


def test_every_control_changes_the_picture(exp):
    exp.set(sparsity=0.5, bits=8)
    seen = {exp.widget.image.value}
    for setting in ({"sparsity": 0.9}, {"bits": 3}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert exp.widget.image.value not in seen
        seen.add(exp.widget.image.value)


def test_mild_compression_keeps_accuracy_and_harsh_loses_it(exp):
    mild = _title(exp, sparsity=0.0, bits=8)
    harsh = _title(exp, sparsity=0.99, bits=2)
    assert _accuracy(mild) > 0.85
    assert _accuracy(harsh) < _accuracy(mild) - 0.2
    # 8-bit codes for float32 weights: 4x on the weights, a little less with float32 biases and scales
    ratio = float(mild.split(", ")[1].split("x")[0])
    assert 3.0 < ratio < 4.0
    assert float(harsh.split(", ")[1].split("x")[0]) > 8


def test_extremes_give_messages(exp):
    frame = exp.set(sparsity=1.0, bits=8)
    assert not frame.ok and "removes every weight" in frame.message
    frame = exp.set(sparsity=0.5, bits=1)
    assert not frame.ok and "1-bit" in frame.message
    assert exp.set(bits=4).ok


def test_rejects_other_models():
    with pytest.raises(TypeError, match="Sequential"):
        compression_explorer(torch.nn.Linear(64, 10), np.zeros((2, 64)), np.zeros(2, int))
