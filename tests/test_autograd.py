"""nblib.autograd against central differences and torch.autograd (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.autograd import Tensor, cross_entropy, log_softmax, no_grad, softmax, unbroadcast
from nblib.gradcheck import gradcheck

torch = pytest.importorskip("torch")

# Each case: (id, nblib function, torch function, input shapes, domain).
# Domains keep inputs where the op is smooth: "pos" for log, sqrt and division,
# "away0" for relu (no kink within the finite-difference step).
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (3, 4)], "any"),
    ("add-broadcast-row", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)], "any"),
    ("add-broadcast-both", lambda a, b: a + b, lambda a, b: a + b, [(2, 1, 3), (4, 1)], "any"),
    ("radd-scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, [(3,)], "any"),
    ("sub-broadcast", lambda a, b: a - b, lambda a, b: a - b, [(2, 3), (2, 1)], "any"),
    ("rsub-scalar", lambda a: 1.0 - a, lambda a: 1.0 - a, [(4,)], "any"),
    ("neg", lambda a: -a, lambda a: -a, [(2, 3)], "any"),
    ("mul-broadcast", lambda a, b: a * b, lambda a, b: a * b, [(5, 1), (1, 3)], "any"),
    ("mul-self", lambda a: a * a + a, lambda a: a * a + a, [(3,)], "any"),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [(3, 2), (3, 2)], "pos"),
    ("div-broadcast", lambda a, b: a / b, lambda a, b: a / b, [(4, 3), (3,)], "pos"),
    ("rtruediv-scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, [(3,)], "pos"),
    ("pow-int", lambda a: a**3, lambda a: a**3, [(2, 3)], "any"),
    ("pow-half", lambda a: a**0.5, lambda a: a**0.5, [(4,)], "pos"),
    ("pow-tensor-exponent", lambda a, b: a**b, lambda a, b: a**b, [(3, 2), (2,)], "pos"),
    ("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 2)], "any"),
    ("matmul-batched-broadcast", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)], "any"),
    ("matmul-matrix-vector", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)], "any"),
    ("matmul-vector-matrix", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4, 2)], "any"),
    ("matmul-vector-vector", lambda a, b: a @ b, lambda a, b: a @ b, [(5,), (5,)], "any"),
    ("sum-all", lambda a: a.sum(), lambda a: a.sum(), [(3, 4)], "any"),
    ("sum-axis0", lambda a: a.sum(axis=0), lambda a: a.sum(dim=0), [(3, 4)], "any"),
    ("sum-axes-keepdims", lambda a: a.sum(axis=(0, 2), keepdims=True),
     lambda a: a.sum(dim=(0, 2), keepdim=True), [(2, 3, 4)], "any"),
    ("sum-negative-axis", lambda a: a.sum(axis=-1), lambda a: a.sum(dim=-1), [(2, 5)], "any"),
    ("mean-all", lambda a: a.mean(), lambda a: a.mean(), [(3, 4)], "any"),
    ("mean-axis1", lambda a: a.mean(axis=1), lambda a: a.mean(dim=1), [(3, 4)], "any"),
    ("exp", lambda a: a.exp(), lambda a: a.exp(), [(3, 2)], "any"),
    ("log", lambda a: a.log(), lambda a: a.log(), [(3, 2)], "pos"),
    ("relu", lambda a: a.relu(), lambda a: a.relu(), [(4, 3)], "away0"),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: a.sigmoid(), [(4, 3)], "any"),
    ("tanh", lambda a: a.tanh(), lambda a: a.tanh(), [(4, 3)], "any"),
    ("reshape", lambda a: a.reshape(6, 2) * 2.0, lambda a: a.reshape(6, 2) * 2.0, [(3, 4)], "any"),
    ("transpose-default", lambda a: a.T @ a, lambda a: a.T @ a, [(3, 2)], "any"),
    ("transpose-axes", lambda a: a.transpose(2, 0, 1) * 3.0, lambda a: a.permute(2, 0, 1) * 3.0,
     [(2, 3, 4)], "any"),
    ("getitem-slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(4, 5)], "any"),
    ("getitem-fancy-repeats", lambda a: a[[0, 2, 0, 1]], lambda a: a[[0, 2, 0, 1]], [(3, 2)], "any"),
    ("log-softmax", lambda a: log_softmax(a, axis=1), lambda a: torch.log_softmax(a, dim=1), [(4, 5)], "any"),
    ("log-softmax-axis0", lambda a: log_softmax(a, axis=0), lambda a: torch.log_softmax(a, dim=0), [(4, 5)], "any"),
    ("softmax", lambda a: softmax(a, axis=-1), lambda a: torch.softmax(a, dim=-1), [(3, 4)], "any"),
]

TARGETS = np.array([2, 0, 4, 1])
CROSS_ENTROPY = [
    (f"cross-entropy-{r}", lambda a, r=r: cross_entropy(a, TARGETS, reduction=r),
     lambda a, r=r: torch.nn.functional.cross_entropy(a, torch.as_tensor(TARGETS), reduction=r), [(4, 5)], "any")
    for r in ("mean", "sum", "none")
]
ALL_CASES = CASES + CROSS_ENTROPY


def _inputs(shapes, domain, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        x = rng.standard_normal(shape)
        if domain == "pos":
            x = rng.uniform(0.5, 2.0, shape)
        elif domain == "away0":
            x = np.where(np.abs(x) < 0.1, 0.5, x)
        arrays.append(x)
    return arrays


@pytest.mark.parametrize("fn, _torch_fn, shapes, domain", [c[1:] for c in ALL_CASES], ids=[c[0] for c in ALL_CASES])
def test_gradient_matches_central_differences(fn, _torch_fn, shapes, domain):
    tensors = [Tensor(x, requires_grad=True) for x in _inputs(shapes, domain)]
    result = gradcheck(fn, tensors, rtol=1e-6, atol=1e-8)
    assert result.passed, result


@pytest.mark.parametrize("fn, torch_fn, shapes, domain", [c[1:] for c in ALL_CASES], ids=[c[0] for c in ALL_CASES])
def test_forward_and_gradient_match_torch(fn, torch_fn, shapes, domain):
    arrays = _inputs(shapes, domain, seed=1)
    ours = [Tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    out, ref = fn(*ours), torch_fn(*theirs)
    assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(upstream)
    ref.backward(torch.as_tensor(upstream))
    for t, r in zip(ours, theirs):
        assert_allclose(t.grad, r.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_whole_mlp_gradients_match_finite_differences_and_torch():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((6, 4)), np.array([0, 2, 1, 1, 0, 2])
    params = [rng.standard_normal(s) * 0.5 for s in [(5, 4), (5,), (3, 5), (3,)]]
    ours = [Tensor(p, requires_grad=True) for p in params]

    def loss_fn(w1, b1, w2, b2):
        return cross_entropy((Tensor(x) @ w1.T + b1).tanh() @ w2.T + b2, y)

    assert gradcheck(loss_fn, ours).passed
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    w1, b1, w2, b2 = theirs
    logits = torch.tanh(torch.tensor(x) @ w1.T + b1) @ w2.T + b2
    torch.nn.functional.cross_entropy(logits, torch.as_tensor(y)).backward()
    for t in ours:
        t.grad = None
    loss_fn(*ours).backward()
    for t, r in zip(ours, theirs):
        assert_allclose(t.grad, r.grad.numpy(), rtol=1e-6, atol=1e-14)


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, -2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    assert_allclose(x.grad, [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None


def test_shared_subexpression_counts_every_path():
    x = Tensor(2.0, requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1 = 5
    z = y * y  # dz/dx = 2y (2x + 1) = 60
    z.backward()
    assert x.grad == pytest.approx(60.0)


def test_deep_chain_has_no_recursion_limit():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0)


def test_no_grad_records_nothing():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (w * 2).sum()
    assert not y.requires_grad and y._parents == ()
    assert (w * 2).sum().requires_grad  # and grad mode is back afterwards


def test_log_softmax_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [5e4, 5e4, 0.0]])
    out = log_softmax(Tensor(logits), axis=1).data
    ref = torch.log_softmax(torch.tensor(logits), dim=1).numpy()
    assert np.isfinite(out).all()
    assert_allclose(out, ref, rtol=1e-12)


def test_softmax_rows_sum_to_one():
    probs = softmax(Tensor(np.random.default_rng(0).standard_normal((5, 7)) * 30), axis=1).data
    assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise"):
        out = Tensor([-1000.0, 0.0, 1000.0]).sigmoid().data
    assert_allclose(out, [0.0, 0.5, 1.0])


def test_cross_entropy_gradient_is_probabilities_minus_one_hot():
    logits = Tensor(np.random.default_rng(4).standard_normal((3, 4)), requires_grad=True)
    target = np.array([3, 0, 1])
    cross_entropy(logits, target, reduction="sum").backward()
    expected = softmax(Tensor(logits.data), axis=1).data - np.eye(4)[target]
    assert_allclose(logits.grad, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape, target, expected", [
    ((2, 3), (3,), (3,)),
    ((4, 2, 3), (2, 3), (2, 3)),
    ((4, 2, 3), (1, 3), (1, 3)),
    ((4, 2, 3), (2, 1), (2, 1)),
    ((5,), (), ()),
], ids=["leading", "two-leading", "stretched-row", "stretched-col", "to-scalar"])
def test_unbroadcast_restores_shape_and_sums(shape, target, expected):
    grad = np.ones(shape)
    out = unbroadcast(grad, target)
    assert out.shape == expected
    assert out.sum() == pytest.approx(grad.sum())


def test_float32_stays_float32_with_python_scalars():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (x * 2.0 + 1.0) / 3.0
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_integer_data_becomes_float64():
    assert Tensor([1, 2, 3]).dtype == np.float64


def test_repr_is_readable():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    assert "op='add'" in repr(Tensor([1.0], requires_grad=True) + 1.0)
