"""nblib.activations and the activation modules of nblib.nn, against torch and finite differences.

Everything runs in float64. Where nblib and torch evaluate the same closed form (ReLU,
Leaky ReLU, tanh, sigmoid, SiLU, GELU's tanh form) they agree to a few units of
round-off, so the tolerance is rtol 1e-12. The exact GELU goes through two different
erf implementations (scipy's and torch's), which agree to about 1e-15 relative, so
it gets the same tolerance. Central differences in float64 are good to about 1e-9
relative, so derivative checks against them use rtol 1e-7.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib import activations as A
from nblib import nn
from nblib.autograd import Tensor
from nblib.gradcheck import gradcheck

torch = pytest.importorskip("torch")
F = torch.nn.functional

# (id, our function, our derivative, torch function)
CASES = [
    ("sigmoid", A.sigmoid, A.sigmoid_grad, torch.sigmoid),
    ("tanh", A.tanh, A.tanh_grad, torch.tanh),
    ("relu", A.relu, A.relu_grad, F.relu),
    ("leaky_relu", A.leaky_relu, A.leaky_relu_grad, F.leaky_relu),
    ("leaky_relu-slope-0.2", lambda x: A.leaky_relu(x, 0.2), lambda x: A.leaky_relu_grad(x, 0.2),
     lambda t: F.leaky_relu(t, 0.2)),
    ("gelu-exact", A.gelu, A.gelu_grad, F.gelu),
    ("gelu-tanh", lambda x: A.gelu(x, "tanh"), lambda x: A.gelu_grad(x, "tanh"),
     lambda t: F.gelu(t, approximate="tanh")),
    ("silu", A.silu, A.silu_grad, F.silu),
]
IDS = [c[0] for c in CASES]
# In GELU's negative tail, 1 + tanh(u) cancels catastrophically (in torch as in NumPy), so
# values near zero carry an absolute error of a few ulp of 1: compare those absolutely.
TAIL_ATOL = 1e-14


def _grid() -> np.ndarray:
    """Points over the interesting range and the tails, plus exact zeros (the kinks)."""
    rng = np.random.default_rng(0)
    return np.concatenate([np.linspace(-8, 8, 401), rng.standard_normal(200) * 3, [0.0, -0.0, 30.0, -30.0]])


def _torch_value_and_grad(fn, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    (grad,) = torch.autograd.grad(y.sum(), t)  # elementwise op: d(sum)/dx_i = f'(x_i)
    return y.detach().numpy(), grad.numpy()


@pytest.mark.parametrize(("name", "f", "df", "ref"), CASES, ids=IDS)
def test_values_match_torch(name, f, df, ref):
    x = _grid()
    assert_allclose(f(x), _torch_value_and_grad(ref, x)[0], rtol=1e-12, atol=TAIL_ATOL)


@pytest.mark.parametrize(("name", "f", "df", "ref"), CASES, ids=IDS)
def test_derivatives_match_torch_autograd(name, f, df, ref):
    # Includes x = 0, where torch's conventions are relu'(0) = 0 and leaky_relu'(0) = slope.
    x = _grid()
    assert_allclose(df(x), _torch_value_and_grad(ref, x)[1], rtol=1e-12, atol=TAIL_ATOL)


@pytest.mark.parametrize(("name", "f", "df", "ref"), CASES, ids=IDS)
def test_derivatives_match_central_differences(name, f, df, ref):
    x = np.linspace(-6, 6, 241)
    x = x[np.abs(x) > 1e-3]  # a central difference across a kink is meaningless
    h = 1e-6
    numeric = (f(x + h) - f(x - h)) / (2 * h)
    assert_allclose(df(x), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(("name", "f", "df", "ref"), CASES, ids=IDS)
def test_float32_stays_float32(name, f, df, ref):
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    assert f(x).dtype == np.float32 and df(x).dtype == np.float32
    assert A.relu([1, -2]).dtype == np.float64  # integers become float64


def test_sigmoid_does_not_overflow_in_the_tails():
    with np.errstate(over="raise", invalid="raise"):  # exp(-1000) may underflow to 0: that is fine
        values = A.sigmoid(np.array([-1000.0, 1000.0]))
    assert_allclose(values, [0.0, 1.0])


def test_known_values_and_maxima():
    # Hand-worked: sigma(0) = 1/2, sigma'(0) = 1/4 (its maximum), tanh'(0) = 1, GELU(0) = 0,
    # GELU'(0) = Phi(0) = 1/2, SiLU'(0) = 1/2.
    x = np.linspace(-10, 10, 20001)
    assert A.sigmoid(0.0) == 0.5 and A.sigmoid_grad(x).max() == pytest.approx(0.25, rel=1e-12)
    assert A.tanh_grad(x).max() == pytest.approx(1.0, rel=1e-12)
    assert A.gelu(0.0) == 0.0 and A.gelu_grad(0.0) == pytest.approx(0.5)
    assert A.silu_grad(0.0) == pytest.approx(0.5)


def test_gelu_tanh_approximation_is_close_to_exact():
    x = np.linspace(-6, 6, 2001)
    gap = np.abs(A.gelu(x, "tanh") - A.gelu(x)).max()
    assert 1e-5 < gap < 1e-3  # close, but a different function


# ------------------------------------------------------------------------ softmax
def test_softmax_matches_torch_and_sums_to_one():
    x = np.random.default_rng(1).standard_normal((4, 6)) * 5
    p = A.softmax(x, axis=1)
    assert_allclose(p, torch.softmax(torch.tensor(x), dim=1).numpy(), rtol=1e-12)
    assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    assert_allclose(A.softmax(x, axis=0).sum(axis=0), 1.0, rtol=1e-14)


def test_softmax_survives_huge_logits():
    p = A.softmax(np.array([1000.0, 1001.0, 1002.0]))
    assert np.isfinite(p).all()
    assert_allclose(p, A.softmax(np.array([0.0, 1.0, 2.0])), rtol=1e-12)


@pytest.mark.parametrize("scale", [pytest.param(0.1, id="flat"), pytest.param(1.0, id="moderate"),
                                   pytest.param(10.0, id="peaked")])
def test_softmax_jacobian_matches_torch_and_finite_differences(scale):
    x = np.random.default_rng(2).standard_normal(5) * scale
    jac = A.softmax_jacobian(x)
    ref = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), torch.tensor(x)).numpy()
    assert_allclose(jac, ref, rtol=1e-12, atol=1e-16)
    h = 1e-6
    numeric = np.stack([(A.softmax(x + h * e) - A.softmax(x - h * e)) / (2 * h) for e in np.eye(5)], axis=1)
    assert_allclose(jac, numeric, rtol=1e-6, atol=1e-10)
    # Invariants: symmetric, rows sum to zero (a shift of all logits changes nothing).
    assert_allclose(jac, jac.T, atol=1e-17)
    assert_allclose(jac.sum(axis=1), 0.0, atol=1e-16)


def test_softmax_jacobian_needs_a_vector():
    with pytest.raises(ValueError, match="x must be 1-D"):
        A.softmax_jacobian(np.ones((2, 3)))


# ---------------------------------------------------------------- autograd + nn
@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS), ids=sorted(A.ACTIVATIONS))
def test_apply_passes_gradcheck(name):
    x = np.random.default_rng(3).standard_normal((4, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the ReLU kinks
    t = Tensor(x, requires_grad=True)
    result = gradcheck(lambda v: A.apply(v, name), [t])
    assert result.passed, result


MODULES = [
    ("LeakyReLU", lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    ("LeakyReLU-0.3", lambda: nn.LeakyReLU(0.3), lambda: torch.nn.LeakyReLU(0.3)),
    ("GELU", lambda: nn.GELU(), lambda: torch.nn.GELU()),
    ("GELU-tanh", lambda: nn.GELU("tanh"), lambda: torch.nn.GELU(approximate="tanh")),
    ("SiLU", lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    ("ReLU", lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    ("Tanh", lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    ("Sigmoid", lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
]


@pytest.mark.parametrize(("name", "ours", "theirs"), MODULES, ids=[m[0] for m in MODULES])
def test_modules_in_a_network_match_torch(name, ours, theirs):
    # Linear -> activation -> Linear, forward and every parameter gradient, float64.
    model = nn.Sequential(nn.Linear(4, 6, dtype=np.float64, rng=0), ours(), nn.Linear(6, 3, dtype=np.float64, rng=1))
    ref = torch.nn.Sequential(torch.nn.Linear(4, 6, dtype=torch.float64), theirs(),
                              torch.nn.Linear(6, 3, dtype=torch.float64))
    with torch.no_grad():
        for p, q in zip(model.parameters(), ref.parameters()):
            q.copy_(torch.from_numpy(p.data))
    x = np.random.default_rng(4).standard_normal((7, 4))
    r = np.random.default_rng(5).standard_normal((7, 3))
    out = model(x)
    expected = ref(torch.from_numpy(x))
    assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-15)
    (out * r).sum().backward()
    (expected * torch.from_numpy(r)).sum().backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        assert_allclose(p.grad, q.grad.numpy(), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("module", [nn.LeakyReLU(), nn.LeakyReLU(0.2), nn.GELU(), nn.GELU("tanh"), nn.SiLU()],
                         ids=["LeakyReLU", "LeakyReLU-0.2", "GELU", "GELU-tanh", "SiLU"])
def test_modules_pass_gradcheck(module):
    x = np.random.default_rng(6).standard_normal((3, 4))
    x[np.abs(x) < 1e-3] = 0.5
    assert gradcheck(lambda v: module(v), [Tensor(x, requires_grad=True)]).passed


def test_modules_keep_float32():
    x = Tensor(np.linspace(-2, 2, 6, dtype=np.float32), requires_grad=True)
    for module in (nn.LeakyReLU(), nn.GELU(), nn.SiLU()):
        x.grad = None
        y = module(x)
        y.sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32, type(module).__name__


def test_module_reprs():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"


# ----------------------------------------------------------------------- bad input
BAD = [
    ("unknown-name", lambda: A.get("swish"), ValueError, "unknown activation 'swish'"),
    ("apply-unknown", lambda: A.apply(Tensor([1.0]), "elu"), ValueError, "unknown activation"),
    ("apply-ndarray", lambda: A.apply(np.ones(2), "relu"), TypeError, "expects a Tensor"),
    ("gelu-approximate", lambda: A.gelu(1.0, approximate="erf"), ValueError, "approximate must be"),
    ("gelu-grad-approximate", lambda: A.gelu_grad(1.0, approximate="fast"), ValueError, "approximate must be"),
    ("module-gelu-approximate", lambda: nn.GELU("fast"), ValueError, "approximate must be"),
    ("module-leaky-negative", lambda: nn.LeakyReLU(-0.1), ValueError, "negative_slope must be >= 0"),
]


@pytest.mark.parametrize(("name", "call", "error", "match"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_named(name, call, error, match):
    with pytest.raises(error, match=match):
        call()
