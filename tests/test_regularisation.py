"""Regularisers: Dropout (vs torch's convention), the L2 penalty (vs SGD weight decay), early stopping."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nblib import nn, optim
from nblib.autograd import Tensor
from nblib.regularisation import EarlyStopping, l2_penalty
from nblib.train import fit

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------------- Dropout
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_zeroes_a_fraction_p_and_preserves_the_mean(p):
    x = np.ones((1000, 1000), dtype=np.float64)
    out = nn.Dropout(p, rng=0)(Tensor(x)).data
    n = x.size
    # Binomial counts: the zero fraction is within 5 standard errors of p.
    assert abs((out == 0).mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    # Kept units are scaled by 1 / (1 - p), so the mean stays 1 (std of the mean: sqrt(p / ((1 - p) n))).
    assert abs(out.mean() - 1.0) < 5 * math.sqrt(p / ((1 - p) * n))
    assert_allclose(np.unique(out), [0.0, 1.0 / (1.0 - p)])


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = Tensor(np.random.default_rng(0).standard_normal((4, 6)))
    layer = nn.Dropout(0.5, rng=0).eval()
    assert layer(x) is x
    assert nn.Dropout(0.0, rng=0)(x) is x
    layer.train()
    assert not np.array_equal(layer(x).data, x.data)


def test_dropout_gradient_flows_only_through_kept_units():
    p = 0.3
    x = Tensor(np.random.default_rng(1).standard_normal((50, 20)), requires_grad=True)
    y = nn.Dropout(p, rng=2)(x)
    upstream = np.random.default_rng(3).standard_normal(y.shape)
    y.backward(upstream)
    kept = y.data != 0
    assert_allclose(x.grad[kept], upstream[kept] / (1 - p), rtol=1e-12)
    assert_array_equal(x.grad[~kept], 0.0)
    # The mask is the same in the forward output and the gradient: y = x * m / (1 - p).
    assert_allclose(y.data[kept], x.data[kept] / (1 - p), rtol=1e-12)


def test_dropout_matches_torch_convention():
    # Masks come from different generators, so compare the distribution, not the draws:
    # both use inverted dropout, keeping 1 / (1 - p) times the input and 0 otherwise.
    p = 0.25
    torch.manual_seed(0)
    ref = torch.nn.Dropout(p).train()(torch.ones(500, 400, dtype=torch.float64)).numpy()
    ours = nn.Dropout(p, rng=0)(Tensor(np.ones((500, 400)))).data
    assert_allclose(np.unique(ours), np.unique(ref))
    assert (ref == 0).mean() == pytest.approx((ours == 0).mean(), abs=0.01)
    assert ref.mean() == pytest.approx(ours.mean(), abs=0.01)
    x = torch.randn(3, 5)
    assert torch.equal(torch.nn.Dropout(p).eval()(x), x)  # torch is the identity in eval mode too


def test_dropout_rejects_p_of_one():
    with pytest.raises(ValueError, match="p must lie in"):
        nn.Dropout(1.0)


# ------------------------------------------------------------------------- L2 penalty
def test_l2_penalty_value_and_gradient_by_hand():
    w = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    b = Tensor(np.array([[1.0], [-2.0]]), requires_grad=True)
    penalty = l2_penalty([w, b], weight_decay=0.1)
    assert penalty.item() == pytest.approx(0.05 * (9 + 16 + 1 + 4), rel=1e-15)
    penalty.backward()
    assert_allclose(w.grad, 0.1 * w.data, rtol=1e-15)
    assert_allclose(b.grad, 0.1 * b.data, rtol=1e-15)


def test_l2_penalty_gradient_matches_torch():
    model = nn.mlp([4, 6, 3], dtype=np.float64, rng=0)
    l2_penalty(model.parameters(), 0.03).backward()
    for p in model.parameters():
        ref = torch.tensor(p.data, requires_grad=True)
        (0.5 * 0.03 * (ref ** 2).sum()).backward()
        assert_allclose(p.grad, ref.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("sgd", [pytest.param(dict(lr=0.1), id="plain"),
                                 pytest.param(dict(lr=0.05, momentum=0.9), id="momentum"),
                                 pytest.param(dict(lr=0.05, momentum=0.9, nesterov=True), id="nesterov")])
def test_fit_l2_equals_sgd_weight_decay(sgd):
    X = np.random.default_rng(0).standard_normal((40, 5))
    y = np.random.default_rng(1).integers(0, 3, 40)
    penalised, decayed = nn.mlp([5, 7, 3], dtype=np.float64, rng=0), nn.mlp([5, 7, 3], dtype=np.float64, rng=0)
    h1 = fit(penalised, optim.SGD(penalised.parameters(), **sgd), X, y, epochs=3, batch_size=8, rng=0, l2=0.02)
    h2 = fit(decayed, optim.SGD(decayed.parameters(), weight_decay=0.02, **sgd), X, y, epochs=3, batch_size=8, rng=0)
    for p, q in zip(penalised.parameters(), decayed.parameters()):
        assert_allclose(p.data, q.data, rtol=1e-12, atol=1e-14)
    assert_allclose(h1["loss"], h2["loss"], rtol=1e-12)  # the recorded loss excludes the penalty


@pytest.mark.parametrize("args, error", [
    pytest.param(([], 0.1), ValueError, id="no-parameters"),
    pytest.param(([Tensor(1.0, requires_grad=True)], -0.1), ValueError, id="negative-lambda"),
    pytest.param(([np.ones(3)], 0.1), TypeError, id="not-a-tensor"),
])
def test_l2_penalty_rejects_bad_input(args, error):
    with pytest.raises(error):
        l2_penalty(*args)


# ------------------------------------------------------------------------- EarlyStopping rule
# (scores, monitor, mode, patience, min_delta, stop flags after each step, best epoch, best score)
SEQUENCES = [
    # The chapter's worked example: 0.853 and 0.872 rise by less than min_delta = 0.005.
    pytest.param([0.80, 0.85, 0.853, 0.87, 0.86, 0.872], "val_acc", "auto", 2, 0.005,
                 [False, False, False, False, False, True], 4, 0.87, id="accuracy-min-delta"),
    pytest.param([1.0, 0.8, 0.9, 0.7, 0.75, 0.71, 0.72], "val_loss", "auto", 3, 0.0,
                 [False] * 6 + [True], 4, 0.7, id="loss-patience-3"),
    # An equal score is not an improvement.
    pytest.param([0.5, 0.5, 0.5], "val_loss", "min", 2, 0.0, [False, False, True], 1, 0.5, id="plateau"),
    # NaN never improves, and does not reset the count.
    pytest.param([0.9, float("nan"), 0.95], "score", "max", 2, 0.0, [False, False, False], 3, 0.95, id="nan"),
    pytest.param([3.0, 2.0, 1.0], "val_loss", "min", 1, 0.0, [False, False, False], 3, 1.0, id="always-improving"),
    # mode="max" given explicitly for a name that does not end in "acc".
    pytest.param([0.1, 0.3, 0.2], "f1", "max", 1, 0.0, [False, False, True], 2, 0.3, id="explicit-max"),
]


@pytest.mark.parametrize("scores, monitor, mode, patience, min_delta, flags, best_epoch, best_score", SEQUENCES)
def test_early_stopping_hand_worked_sequences(scores, monitor, mode, patience, min_delta, flags, best_epoch,
                                              best_score):
    rule = EarlyStopping(monitor, patience=patience, min_delta=min_delta, mode=mode)
    assert [rule.step(s) for s in scores] == flags
    assert rule.best_epoch == best_epoch and rule.best_score == best_score
    expected_stop = flags.index(True) + 1 if True in flags else None
    assert rule.stopped_epoch == expected_stop


def test_early_stopping_mode_inference_and_reset():
    assert EarlyStopping("val_acc").mode == "max" and EarlyStopping("train_acc").mode == "max"
    assert EarlyStopping("val_loss").mode == "min" and EarlyStopping("loss").mode == "min"
    rule = EarlyStopping("val_loss", patience=1)
    rule.step(1.0), rule.step(2.0)
    rule.reset()
    assert rule.best_score is None and rule.wait == 0 and rule.stopped_epoch is None
    assert rule.step(5.0) is False and rule.best_epoch == 1


def test_early_stopping_snapshots_and_restores_the_best_parameters():
    model = nn.mlp([3, 4, 2], dtype=np.float64, rng=0)
    rule = EarlyStopping("val_loss", patience=5)
    snapshots = []
    for score in [1.0, 0.5, 0.7]:
        for p in model.parameters():
            p.data += 1.0  # training changes the weights every epoch
        snapshots.append([p.data.copy() for p in model.parameters()])
        rule.step(score, model)
    rule.restore(model)
    for p, saved in zip(model.parameters(), snapshots[1]):
        assert_array_equal(p.data, saved)


@pytest.mark.parametrize("kwargs, error", [
    pytest.param(dict(monitor=""), TypeError, id="empty-monitor"),
    pytest.param(dict(patience=0), ValueError, id="patience-0"),
    pytest.param(dict(min_delta=-1.0), ValueError, id="negative-min-delta"),
    pytest.param(dict(mode="up"), ValueError, id="bad-mode"),
])
def test_early_stopping_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        EarlyStopping(**kwargs)


def test_restore_needs_a_snapshot_and_a_matching_model():
    rule = EarlyStopping()
    rule.step(1.0)
    with pytest.raises(RuntimeError, match="no parameters were saved"):
        rule.restore(nn.mlp([2, 2], rng=0))
    rule.step(0.5, nn.mlp([2, 3, 2], rng=0))
    with pytest.raises(ValueError, match="do not match"):
        rule.restore(nn.mlp([2, 2], rng=0))


# ------------------------------------------------------------------------- fit integration
def _data():
    gen = np.random.default_rng(0)
    X, y = gen.standard_normal((60, 4)), gen.integers(0, 3, 60)
    X_val, y_val = gen.standard_normal((30, 4)), gen.integers(0, 3, 30)  # random labels: val loss rises soon
    return X, y, X_val, y_val


def _train(epochs, **kwargs):
    X, y, X_val, y_val = _data()
    model = nn.mlp([4, 32, 3], dtype=np.float64, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    return model, fit(model, opt, X, y, epochs=epochs, batch_size=10, X_val=X_val, y_val=y_val, rng=0, **kwargs)


def test_fit_stops_early_and_restores_the_best_epoch():
    rule = EarlyStopping("val_loss", patience=3)
    model, history = _train(200, early_stopping=rule)
    assert rule.stopped_epoch is not None and rule.stopped_epoch < 200
    assert len(history) == rule.stopped_epoch == rule.best_epoch + 3
    assert history["val_loss"][rule.best_epoch - 1] == rule.best_score == min(history["val_loss"])
    # The restored weights are exactly those after best_epoch epochs of the same run.
    reference, _ = _train(rule.best_epoch)
    for p, q in zip(model.parameters(), reference.parameters()):
        assert_array_equal(p.data, q.data)


def test_fit_without_restore_keeps_the_last_weights():
    rule = EarlyStopping("val_loss", patience=3, restore_best=False)
    model, history = _train(200, early_stopping=rule)
    reference, _ = _train(rule.stopped_epoch)
    for p, q in zip(model.parameters(), reference.parameters()):
        assert_array_equal(p.data, q.data)


def test_on_epoch_returning_true_stops_and_can_record_metrics():
    seen = []

    def callback(epoch, history):
        history.append(double_loss=2 * history["loss"][-1])
        seen.append(epoch)
        return epoch == 4  # stop after the fifth epoch

    _, history = _train(50, on_epoch=callback)
    assert seen == [0, 1, 2, 3, 4] and len(history) == 5
    # early stopping may watch a metric that on_epoch records
    rule = EarlyStopping("double_loss", patience=2)
    _, history = _train(6, on_epoch=lambda e, h: h.append(double_loss=2 * h["loss"][-1]), early_stopping=rule)
    assert rule.best_score == min(history["double_loss"])


def test_only_true_from_on_epoch_stops():
    # A schedule that returns its new learning rate must not end training by accident.
    _, history = _train(4, on_epoch=lambda epoch, h: 0.05)
    assert len(history) == 4
    _, history = _train(4, on_epoch=lambda epoch, h: np.bool_(epoch == 1))
    assert len(history) == 2


def test_fit_checks_what_early_stopping_monitors():
    X, y, _, _ = _data()
    model = nn.mlp([4, 3], rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="no validation data"):
        fit(model, opt, X, y, epochs=2, early_stopping=EarlyStopping("val_loss"))
    with pytest.raises(ValueError, match="does not record"):
        fit(model, opt, X, y, epochs=2, early_stopping=EarlyStopping("bleu"))
    with pytest.raises(TypeError, match="EarlyStopping"):
        fit(model, opt, X, y, epochs=2, early_stopping=3)
    with pytest.raises(ValueError, match="l2"):
        fit(model, opt, X, y, epochs=2, l2=-1.0)


def test_fit_defaults_are_unchanged():
    # No early stopping and no L2: the number of epochs and the metrics are as before.
    _, history = _train(4)
    assert len(history) == 4 and history.keys() == ["loss", "train_acc", "val_loss", "val_acc"]
