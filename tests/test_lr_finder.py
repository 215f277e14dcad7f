"""nblib.lr_finder: the range test suggests a sane rate, stops on divergence, leaves the model alone."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nblib.lr_finder import lr_range_test  # noqa: E402
from nblib.torch_train import ArrayLoader  # noqa: E402


def _problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(512, 10)).astype(np.float32)
    y = (X[:, :3].sum(1) > 0).astype(np.int64) + 2 * (X[:, 3] > 0)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    return model, ArrayLoader(X, y, batch_size=32, shuffle=True, seed=seed)


def test_original_model_is_untouched():
    model, loader = _problem()
    before = [p.detach().clone() for p in model.parameters()]
    lr_range_test(model, loader, steps=60)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"], ids=["sgd-momentum", "adam"])
def test_suggestion_in_a_sane_band(optimizer):
    model, loader = _problem()
    res = lr_range_test(model, loader, optimizer=optimizer, lr_min=1e-5, lr_max=100.0, steps=150)
    # SGD with momentum 0.9 on this problem trains well around 0.01-0.3; Adam around 1e-3-3e-2
    band = (3e-3, 1.0) if optimizer == "sgd" else (3e-4, 0.1)
    assert band[0] <= res.suggestion <= band[1]
    assert res.suggestion == pytest.approx(res.lr_min_loss / 10)
    assert res.smoothed.min() < 0.7 * res.smoothed[0]      # it did learn at the good rates


def test_divergence_stops_early():
    model, loader = _problem()
    res = lr_range_test(model, loader, lr_min=1e-4, lr_max=1e4, steps=200, diverge_factor=4)
    assert res.diverged and res.steps < 200
    assert res.lrs[-1] < 1e4
    assert np.all(np.diff(res.lrs) > 0)
    calm = lr_range_test(model, loader, lr_min=1e-6, lr_max=1e-4, steps=20)
    assert not calm.diverged and calm.steps == 20


@pytest.mark.parametrize("kwargs", [
    {"lr_min": 1.0, "lr_max": 0.1}, {"steps": 2}, {"beta": 1.0}, {"diverge_factor": 1.0}, {"optimizer": "rmsprop"},
], ids=["reversed-range", "too-few-steps", "beta-one", "factor-one", "unknown-optimizer"])
def test_bad_arguments_raise(kwargs):
    model, loader = _problem()
    with pytest.raises(ValueError):
        lr_range_test(model, loader, **kwargs)
