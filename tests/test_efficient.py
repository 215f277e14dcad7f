"""nblib.efficient: loss scaling against torch's GradScaler, accumulation and checkpointing against plain
backprop and torch.utils.checkpoint, the saved-tensor tracker against hand counts."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch.utils.checkpoint import checkpoint_sequential  # noqa: E402

from nblib.efficient import (  # noqa: E402
    LossScaler, SavedTensorTracker, accumulate_gradients, chain_mlp, checkpoint_memory_model, checkpointed_forward,
    cpu_times, split_sizes, sqrt_segments, train_amp, underflow_report)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _grads(model):
    return [p.grad.detach().clone() for p in model.parameters()]


def _mlp64(seed=0, bn=False):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(6, 12)] + ([torch.nn.BatchNorm1d(12)] if bn else []) + [torch.nn.Tanh(), torch.nn.Linear(12, 3)]
    return torch.nn.Sequential(*layers).double()


def _data(n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 6, generator=g, dtype=torch.float64), torch.randint(0, 3, (n,), generator=g)


# ------------------------------------------------------------------ underflow_report
def test_underflow_report_hand_worked():
    # 1e-3 is a normal float16, 1e-6 lies between 2**-24 and 2**-14 (subnormal), 1e-9 < 2**-25 rounds to 0
    r = underflow_report(torch.tensor([1e-3, 1e-6, 1e-9, 0.0], dtype=torch.float64))
    assert r == pytest.approx({"zero": 1 / 3, "subnormal": 1 / 3, "inf": 0.0})
    # scaled by 2**20: 1e-9 -> ~1e-3 (normal), 1e-6 -> ~1 (normal), 1e-3 -> ~1049 (normal)
    assert underflow_report(torch.tensor([1e-3, 1e-6, 1e-9]), scale=2.0 ** 20) == {"zero": 0, "subnormal": 0, "inf": 0}
    # scaled by 2**27: 1e-3 * 2**27 = 134218 > 65504 overflows
    assert underflow_report(torch.tensor([1e-3, 1e-6, 1e-9]), scale=2.0 ** 27)["inf"] == pytest.approx(1 / 3)


def test_underflow_report_bfloat16_has_float32_range_and_lists_of_tensors():
    values = [torch.tensor([1e-9, 1e-30]), torch.tensor([[1e30]])]
    assert underflow_report(values, dtype=torch.bfloat16) == {"zero": 0, "subnormal": 0, "inf": 0}
    assert underflow_report(values)["zero"] == pytest.approx(2 / 3)
    assert underflow_report(values)["inf"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    pytest.param((torch.zeros(3),), {}, ValueError, "nonzero", id="all-zero"),
    pytest.param((torch.ones(3),), {"scale": 0.0}, ValueError, "scale", id="scale-zero"),
    pytest.param(([],), {}, TypeError, "values", id="empty"),
    pytest.param(([1.0, 2.0],), {}, TypeError, "values", id="not-tensors"),
    pytest.param((torch.ones(3),), {"dtype": "float16"}, TypeError, "dtype", id="dtype-string"),
    pytest.param((torch.ones(3),), {"dtype": torch.int8}, TypeError, "dtype", id="dtype-int"),
])
def test_underflow_report_rejects_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        underflow_report(*args, **kwargs)


# ------------------------------------------------------------------ LossScaler
def _fp16_run(scaler, steps=14, seed=0):
    """A real float16 run on the CPU: the initial scale overflows the float16 backward."""
    g = torch.Generator().manual_seed(seed)
    X, y = torch.randn(32, 20, generator=g), torch.randint(0, 5, (32,), generator=g)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5))
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    scales = []
    for _ in range(steps):
        with torch.autocast("cpu", dtype=torch.float16):
            loss = F.cross_entropy(net(X), y)
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return scales, [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize("growth_interval", [1, 2, 3, 5])
def test_loss_scaler_matches_torch_grad_scaler(growth_interval):
    ref_scales, ref_params = _fp16_run(torch.amp.GradScaler("cpu", init_scale=2.0 ** 24, growth_interval=growth_interval))
    scales, params = _fp16_run(LossScaler(init_scale=2.0 ** 24, growth_interval=growth_interval))
    assert scales == ref_scales
    assert min(scales) < 2.0 ** 24, "the run must have overflowed at least once"
    for a, b in zip(params, ref_params):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_loss_scaler_skips_the_step_on_inf_and_backs_off():
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=1.0)
    scaler = LossScaler(init_scale=8.0, growth_interval=2)
    scaler.scale((w * torch.tensor([1.0, float("inf"), 1.0])).sum()).backward()
    assert scaler.step(opt) is False
    scaler.update()
    assert scaler.get_scale() == 4.0 and torch.equal(w.detach(), torch.ones(3))
    for expected_scale in (4.0, 8.0):  # two good steps in a row, then growth
        opt.zero_grad()
        scaler.scale(w.sum()).backward()
        assert scaler.step(opt) is True
        scaler.update()
        assert scaler.get_scale() == expected_scale
    torch.testing.assert_close(w.detach(), torch.full((3,), -1.0))  # two unscaled unit gradients, lr 1


def test_loss_scaler_checks_its_arguments_and_order():
    for kwargs, match in [({"init_scale": 0}, "init_scale"), ({"growth_factor": 1.0}, "growth_factor"),
                          ({"backoff_factor": 1.0}, "backoff_factor"), ({"growth_interval": 0}, "growth_interval")]:
        with pytest.raises(ValueError, match=match):
            LossScaler(**kwargs)
    with pytest.raises(RuntimeError, match="before step"):
        LossScaler().update()


# ------------------------------------------------------------------ train_amp
def test_train_amp_without_autocast_is_the_plain_loop():
    X, y = _data(40)
    batches = [(X[i:i + 8].float(), y[i:i + 8]) for i in range(0, 40, 8)]
    torch.manual_seed(0)
    a = torch.nn.Linear(6, 3)
    b = torch.nn.Linear(6, 3)
    b.load_state_dict(a.state_dict())
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1)
    hist = train_amp(a, batches, torch.optim.SGD(a.parameters(), lr=0.1), epochs=2)
    for _ in range(2):
        for xb, yb in batches:
            opt_b.zero_grad()
            F.cross_entropy(b(xb), yb).backward()
            opt_b.step()
    torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)
    assert len(hist["loss"]) == 2 and hist["skipped"] == 0 and hist["scale"] == [1.0, 1.0]


def test_train_amp_bfloat16_learns_and_scaler_counts_skips():
    X, y = _data(64)
    batches = [(X[i:i + 16].float(), y[i:i + 16]) for i in range(0, 64, 16)]
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
    hist = train_amp(net, batches, torch.optim.Adam(net.parameters(), lr=1e-2), epochs=15, dtype=torch.bfloat16)
    assert hist["loss"][-1] < 0.7 * hist["loss"][0]
    scaler = LossScaler(init_scale=2.0 ** 30, growth_interval=100)
    hist = train_amp(net, batches, torch.optim.SGD(net.parameters(), lr=1e-3), epochs=2, dtype=torch.float16, scaler=scaler)
    assert hist["skipped"] >= 1 and hist["scale"][-1] == 2.0 ** (30 - hist["skipped"])


def test_train_amp_rejects_empty_loader():
    with pytest.raises(ValueError, match="no samples"):
        train_amp(torch.nn.Linear(2, 2), [], torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1), epochs=1)


# ------------------------------------------------------------------ accumulation
@pytest.mark.parametrize(("n", "k", "expected"), [(10, 3, [4, 3, 3]), (8, 4, [2, 2, 2, 2]), (5, 5, [1] * 5), (7, 1, [7])])
def test_split_sizes(n, k, expected):
    assert split_sizes(n, k) == expected and sum(expected) == n


def test_split_sizes_rejects_empty_micro_batches():
    with pytest.raises(ValueError, match="k must be <= n"):
        split_sizes(3, 4)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 24])
def test_accumulated_gradient_equals_large_batch(k):
    X, y = _data(24)
    model = _mlp64()
    full_loss = F.cross_entropy(model(X), y)
    full_loss.backward()
    full = _grads(model)
    model.zero_grad()
    loss = accumulate_gradients(model, F.cross_entropy, X, y, micro_batches=k)
    assert loss == pytest.approx(full_loss.item(), rel=1e-13)
    for a, b in zip(_grads(model), full):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("optimizer", ["sgd-momentum", "adam"])
def test_accumulated_training_equals_large_batch_training(optimizer):
    X, y = _data(20 * 16)
    results = []
    for k in (1, 4):
        model = _mlp64()
        opt = (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd-momentum"
               else torch.optim.Adam(model.parameters(), lr=1e-2))
        for step in range(20):
            rows = slice(16 * step, 16 * (step + 1))
            opt.zero_grad()
            accumulate_gradients(model, F.cross_entropy, X[rows], y[rows], micro_batches=k)
            opt.step()
        results.append([p.detach() for p in model.parameters()])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_batchnorm_breaks_the_equivalence():
    X, y = _data(24)
    grads = []
    for k in (1, 4):
        model = _mlp64(bn=True)
        accumulate_gradients(model, F.cross_entropy, X, y, micro_batches=k)
        grads.append(torch.cat([g.flatten() for g in _grads(model)]))
    assert ((grads[0] - grads[1]).norm() / grads[0].norm()).item() > 1e-2


def test_accumulate_gradients_checks_inputs():
    model = _mlp64()
    X, y = _data(6)
    with pytest.raises(TypeError, match="tensors"):
        accumulate_gradients(model, F.cross_entropy, X.numpy(), y, 2)
    with pytest.raises(ValueError, match="rows"):
        accumulate_gradients(model, F.cross_entropy, X, y[:5], 2)
    with pytest.raises(ValueError, match="micro_batches"):
        accumulate_gradients(model, F.cross_entropy, X, y, 0)
    with pytest.raises(ValueError, match="micro_batches"):
        accumulate_gradients(model, F.cross_entropy, X, y, 7)
    with pytest.raises(ValueError, match="inputs"):
        accumulate_gradients(model, F.cross_entropy, X[:0], y[:0], 1)


# ------------------------------------------------------------------ tracker
@pytest.mark.parametrize(("n", "B", "d"), [(1, 4, 8), (3, 5, 7), (8, 64, 128), (16, 2, 3)])
def test_tracker_counts_a_linear_relu_chain_by_hand(n, B, d):
    chain = chain_mlp(n, d)
    tracker = SavedTensorTracker(exclude=chain.parameters())
    with tracker:
        loss = chain(torch.randn(B, d)).sum()
        held = tracker.live
        loss.backward()
    assert held == tracker.peak == (n + 1) * B * d * 4  # input + n ReLU outputs, float32
    assert tracker.live == 0 and tracker.timeline[-1] == 0


def test_tracker_counts_a_shared_storage_once_and_skips_excluded():
    x = torch.randn(10, 4, requires_grad=True)
    w = torch.randn(4, 4, requires_grad=True)
    tracker = SavedTensorTracker(exclude=[w])
    with tracker:
        y = (x[:5] * x[5:]).sum() + (x @ w).sum()  # x's two views and x itself: one storage
        held = tracker.live
        y.backward()
    assert held == 10 * 4 * 4
    torch.testing.assert_close(x.grad[:5], x.detach()[5:] + w.detach().sum(1))


def test_tracker_counts_float64_and_excludes_nothing_by_default():
    lin = torch.nn.Linear(3, 2).double()
    tracker = SavedTensorTracker()
    with tracker:
        out = lin(torch.randn(5, 3, dtype=torch.float64))
        assert tracker.live == 5 * 3 * 8  # the input, for the weight's gradient
        out2 = lin(torch.randn(5, 3, dtype=torch.float64, requires_grad=True))
        # an input that needs a gradient makes the product save the weight too, and nothing excludes it
        assert tracker.live == 2 * 5 * 3 * 8 + 2 * 3 * 8
    del out, out2
    assert tracker.live == 0


# ------------------------------------------------------------------ checkpointing
CKPT_CASES = [(8, 1), (8, 2), (8, 4), (8, 8), (12, 3), (16, 4), (32, 8)]


@pytest.mark.parametrize(("n", "k"), CKPT_CASES, ids=[f"n{n}-k{k}" for n, k in CKPT_CASES])
def test_checkpointed_memory_equals_the_hand_count(n, k):
    B, d = 4, 16
    chain = chain_mlp(n, d)
    tracker = SavedTensorTracker(exclude=chain.parameters())
    with tracker:
        loss = checkpointed_forward(chain, torch.randn(B, d), k, tracker).sum()
        after_forward = tracker.live
        loss.backward()
    hand = checkpoint_memory_model(n, k)
    assert after_forward == hand["after_forward"] * B * d * 4
    assert tracker.peak == hand["peak"] * B * d * 4
    assert tracker.live == 0
    # every saved storage is added once and removed once; the recomputed blocks' outputs are new storages
    assert len(tracker.timeline) == 1 + 2 * (hand["after_forward"] + hand["recomputed_blocks"])


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 8])
def test_checkpointed_gradients_equal_plain_and_torch_checkpoint_sequential(k):
    chain = chain_mlp(8, 10, dtype=torch.float64)
    x = torch.randn(6, 10, dtype=torch.float64)
    chain(x).pow(2).sum().backward()
    plain = _grads(chain)
    chain.zero_grad()
    checkpointed_forward(chain, x, k).pow(2).sum().backward()
    ours = _grads(chain)
    chain.zero_grad()
    checkpoint_sequential(chain, k, x, use_reentrant=False).pow(2).sum().backward()
    for a, b, c in zip(ours, plain, _grads(chain)):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-15)
        torch.testing.assert_close(a, c, rtol=1e-13, atol=1e-15)


def test_checkpointed_forward_gives_input_gradients_when_asked():
    chain = chain_mlp(4, 5, dtype=torch.float64)
    x1 = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    chain(x1).sum().backward()
    checkpointed_forward(chain, x2, 2).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-13, atol=1e-15)


def test_checkpointed_forward_checks_inputs():
    with pytest.raises(TypeError, match="Sequential"):
        checkpointed_forward(torch.nn.Linear(2, 2), torch.zeros(1, 2), 1)
    with pytest.raises(ValueError, match="segments"):
        checkpointed_forward(chain_mlp(2, 3), torch.zeros(1, 3), 5)


@pytest.mark.parametrize(("n", "k", "peak", "recomputed"), [(16, 1, 17, 0), (16, 4, 8, 12), (64, 8, 16, 56), (9, 3, 6, 6)])
def test_checkpoint_memory_model_hand_cases(n, k, peak, recomputed):
    hand = checkpoint_memory_model(n, k)
    assert hand["peak"] == peak and hand["recomputed_blocks"] == recomputed and hand["plain"] == n + 1


def test_checkpoint_memory_model_minimum_is_near_sqrt_n():
    for n in (16, 36, 64, 100):
        best = min((k for k in range(1, n + 1) if n % k == 0), key=lambda k: checkpoint_memory_model(n, k)["peak"])
        assert best == math.isqrt(n)
    with pytest.raises(ValueError, match="divide"):
        checkpoint_memory_model(10, 3)


@pytest.mark.parametrize(("n", "k"), [(1, 1), (4, 2), (8, 2), (16, 4), (32, 4), (64, 8), (12, 3), (7, 1)])
def test_sqrt_segments(n, k):
    assert sqrt_segments(n) == k


def test_cpu_times_measures_every_function():
    t = cpu_times({"a": lambda: sum(range(20000)), "b": lambda: None}, repeats=3, warmup=0)
    assert set(t) == {"a", "b"} and t["a"] >= 0 and np.isfinite(list(t.values())).all()
    with pytest.raises(TypeError, match="callables"):
        cpu_times({"a": 1})
