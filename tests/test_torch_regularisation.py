"""nblib.torch_regularisation against references: torch's own losses and optimisers, statistics, hand cases."""

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from nblib.torch_regularisation import (  # noqa: E402
    Config, TorchEarlyStopping, benchmark, confidence_and_ece, l2_in_loss, residual_mlp, smoothed_cross_entropy,
    train_config)
from nblib.train import History  # noqa: E402


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 1.0], ids=["none", "eps0.1", "eps0.5", "all-uniform"])
def test_smoothed_cross_entropy_matches_torch_value_and_gradient(eps):
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(7, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 5, (7,), generator=gen)
    ours = smoothed_cross_entropy(z, y, eps)
    (g_ours,) = torch.autograd.grad(ours, z)
    ref = F.cross_entropy(z, y, label_smoothing=eps)
    (g_ref,) = torch.autograd.grad(ref, z)
    # float64, the same formula rearranged: round-off is about 1e-15
    assert abs(ours.item() - ref.item()) < 1e-12
    assert torch.allclose(g_ours, g_ref, atol=1e-12)


@pytest.mark.parametrize("bad", [-0.1, 1.5], ids=["negative", "above-one"])
def test_smoothed_cross_entropy_rejects_bad_smoothing(bad):
    with pytest.raises(ValueError, match="label_smoothing"):
        smoothed_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]), bad)


def test_drop_path_is_the_identity_in_eval_mode():
    from nblib.torch_regularisation import DropPath

    layer = DropPath(0.7).eval()
    x = torch.randn(50, 4, 3)
    assert torch.equal(layer(x), x)


@pytest.mark.parametrize("p", [0.2, 0.5], ids=["p0.2", "p0.5"])
def test_drop_path_drops_whole_samples_with_probability_p_and_keeps_the_mean(p):
    from nblib.torch_regularisation import DropPath

    torch.manual_seed(0)
    n = 20000
    x = torch.ones(n, 6)
    out = DropPath(p).train()(x)
    dropped = (out == 0).all(dim=1)
    kept = torch.isclose(out, torch.full_like(out, 1 / (1 - p))).all(dim=1)
    assert bool((dropped | kept).all()), "each sample is either dropped whole or rescaled whole"
    # binomial standard error sqrt(p(1-p)/n) <= 0.0036: a band of 5 standard errors
    assert abs(dropped.float().mean().item() - p) < 0.018
    assert abs(out.mean().item() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)


def test_drop_path_extremes():
    from nblib.torch_regularisation import DropPath

    x = torch.randn(8, 3)
    assert torch.equal(DropPath(0.0).train()(x), x)
    assert torch.equal(DropPath(1.0).train()(x), torch.zeros_like(x))
    with pytest.raises(ValueError, match="p"):
        DropPath(1.2)


def test_residual_mlp_shapes_seed_and_linear_depth_rule():
    a = residual_mlp(64, 16, 3, 10, drop_path=0.6, seed=3)
    b = residual_mlp(64, 16, 3, 10, drop_path=0.6, seed=3)
    assert a(torch.zeros(5, 64)).shape == (5, 10)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    probs = [m.drop_path.p for m in a if hasattr(m, "drop_path")]
    assert probs == pytest.approx([0.2, 0.4, 0.6])


def _l2_against_decay(make_l2_opt, make_decay_opt, lam: float, steps: int):
    """Two identical residual MLPs trained on the same batch: one with ``lam``-L2 in the loss, one with the
    optimiser's own weight decay (and no L2 term). Returns the two models."""
    torch.manual_seed(0)
    X, y = torch.randn(20, 4), torch.randint(0, 3, (20,))
    with_l2, with_decay = residual_mlp(4, 8, 1, 3, seed=0), residual_mlp(4, 8, 1, 3, seed=0)
    for model, opt, penalty in ((with_l2, make_l2_opt(with_l2.parameters()), lam),
                                (with_decay, make_decay_opt(with_decay.parameters()), 0.0)):
        for _ in range(steps):
            opt.zero_grad()
            (F.cross_entropy(model(X), y) + l2_in_loss(model.parameters(), penalty)).backward()
            opt.step()
    return with_l2, with_decay


def test_l2_in_loss_hand_case_and_sgd_equivalence():
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    assert l2_in_loss([w], 0.1).item() == pytest.approx(1.25)  # 0.05 * 25
    with_l2, with_decay = _l2_against_decay(lambda ps: torch.optim.SGD(ps, lr=0.1),
                                            lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.05), 0.05, steps=5)
    # SGD: L2 in the loss and weight decay are the same update, up to float32 round-off
    for p, q in zip(with_l2.parameters(), with_decay.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_l2_in_loss_with_adam_differs_from_adamw():
    with_l2, with_decay = _l2_against_decay(lambda ps: torch.optim.Adam(ps, lr=0.01),
                                            lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.5), 0.5, steps=20)
    gap = max((p - q).abs().max().item() for p, q in zip(with_l2.parameters(), with_decay.parameters()))
    assert gap > 1e-3, "with Adam the two regularisers move the weights differently"


@pytest.mark.parametrize(("probs", "labels", "expected"), [
    pytest.param([[0.9, 0.1], [0.8, 0.2]], [0, 1], (0.85, 0.45), id="two-bins"),
    pytest.param([[1.0, 0.0], [0.0, 1.0]], [0, 1], (1.0, 0.0), id="certain-and-right"),
    pytest.param([[0.7, 0.3]] * 10, [0] * 7 + [1] * 3, (0.7, 0.0), id="calibrated"),
])
def test_confidence_and_ece_hand_cases(probs, labels, expected):
    conf, ece = confidence_and_ece(np.array(probs), np.array(labels))
    assert conf == pytest.approx(expected[0], abs=1e-12)
    assert ece == pytest.approx(expected[1], abs=1e-12)


def test_confidence_and_ece_accepts_torch_and_checks_lengths():
    p = torch.softmax(torch.randn(6, 3), dim=1)
    conf, ece = confidence_and_ece(p, torch.tensor([0, 1, 2, 0, 1, 2]))
    assert 1 / 3 <= conf <= 1 and 0 <= ece <= 1
    with pytest.raises(ValueError, match="labels"):
        confidence_and_ece(p, np.array([0, 1]))


def test_torch_early_stopping_keeps_and_restores_the_best_weights():
    model = residual_mlp(4, 4, 1, 2, seed=0)
    stopper = TorchEarlyStopping(model, "val_loss", patience=2)
    history = History()
    stops = []
    for epoch, loss in enumerate([1.0, 0.5, 0.7, 0.6], start=1):
        with torch.no_grad():
            model[0].weight.fill_(epoch)
        history.append(val_loss=loss)
        stops.append(stopper(epoch, history))
    assert stops == [False, False, False, True]
    assert stopper.best_epoch == 2
    stopper.restore()
    assert bool((model[0].weight == 2).all())


@pytest.fixture(scope="module")
def tiny_split():
    from nblib.data import load_digits

    d = load_digits(seed=0)
    return dataclasses.replace(d, X_train=d.X_train[:80], y_train=d.y_train[:80])


def test_benchmark_is_deterministic_and_reports_mean_and_std(tiny_split):
    configs = {"base": Config(), "all": Config(dropout=0.2, label_smoothing=0.1, drop_path=0.2, augment=True,
                                                  weight_decay=0.01, patience=2)}
    a = benchmark(configs, tiny_split, seeds=(0, 1), epochs=3, width=16)
    b = benchmark(configs, tiny_split, seeds=(0, 1), epochs=3, width=16)
    for name in configs:
        assert a[name]["test"] == b[name]["test"] and a[name]["val"] == b[name]["val"]
        assert a[name]["test_mean"] == pytest.approx(np.mean(a[name]["test"]))
        assert a[name]["test_std"] == pytest.approx(np.std(a[name]["test"], ddof=1))
        assert all(0 <= v <= 1 for v in a[name]["test"])


def test_train_config_learns_and_rejects_bad_input(tiny_split):
    out = train_config(Config(l2=1e-3), tiny_split, seed=0, epochs=8, width=32)
    assert out["val_acc"] > 0.3, "eight epochs on 80 digits beat chance (0.1) by far"
    assert len(out["history"]["val_loss"]) == out["epochs"] == 8
    with pytest.raises(TypeError, match="config"):
        train_config({"dropout": 0.1}, tiny_split, seed=0)
    with pytest.raises(ValueError, match="seeds"):
        benchmark({"base": Config()}, tiny_split, seeds=(0,))
