"""nblib.init against torch.nn.init: gains, fans, exact bounds, empirical spreads, bad input."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib import init
from nblib.nn import Linear, Parameter
from nblib.rng import seed_everything

torch = pytest.importorskip("torch")

# ------------------------------------------------------------------------ gains
GAIN_CASES = [(name, None) for name in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                        "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                                        "leaky_relu", "selu")]
GAIN_CASES += [("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 1), ("leaky_relu", 3.5),
               ("relu", 0.2), ("tanh", 7)]  # param is ignored except by leaky_relu, as in torch


@pytest.mark.parametrize(("nonlinearity", "param"), GAIN_CASES,
                         ids=[f"{n}-{p}" if p is not None else n for n, p in GAIN_CASES])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_hand_values():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", 1.0) == 1.0  # slope 1 is the identity


@pytest.mark.parametrize(("nonlinearity", "param"), [("gelu", None), ("silu", None), ("Relu", None),
                                                     ("leaky_relu", True), ("leaky_relu", "0.1")],
                         ids=["gelu", "silu", "wrong-case", "bool-slope", "string-slope"])
def test_calculate_gain_rejects_what_torch_rejects(nonlinearity, param):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError, match="unsupported nonlinearity|param"):
        init.calculate_gain(nonlinearity, param)


# ------------------------------------------------------------------------- fans
@pytest.mark.parametrize("shape", [(128, 64), (3, 1), (16, 8, 3), (32, 16, 3, 3), (4, 2, 3, 3, 3)],
                         ids=["linear", "linear-1-in", "conv1d", "conv2d", "conv3d"])
def test_fans_match_torch(shape):
    ours = init.calculate_fan_in_and_fan_out(np.zeros(shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_fans_of_a_linear_weight_are_in_then_out():
    layer = Linear(30, 20, rng=0)  # weight (out=20, in=30)
    assert init.calculate_fan_in_and_fan_out(layer.weight) == (30, 20)


# ------------------------------------------------------------ bounds and spreads
def _std(name, fan_in, fan_out, gain=1.0, mode="fan_in"):
    if name.startswith("xavier"):
        return gain * math.sqrt(2.0 / (fan_in + fan_out))
    return gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)


UNIFORM = [
    ("xavier-gain1", lambda w, r: init.xavier_uniform_(w, rng=r), lambda t: torch.nn.init.xavier_uniform_(t),
     _std("xavier", 300, 200)),
    ("xavier-tanh-gain", lambda w, r: init.xavier_uniform_(w, gain=5 / 3, rng=r),
     lambda t: torch.nn.init.xavier_uniform_(t, gain=5 / 3), _std("xavier", 300, 200, 5 / 3)),
    ("kaiming-default", lambda w, r: init.kaiming_uniform_(w, rng=r), lambda t: torch.nn.init.kaiming_uniform_(t),
     _std("kaiming", 300, 200, math.sqrt(2))),
    ("kaiming-relu-fan-out", lambda w, r: init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", rng=r),
     lambda t: torch.nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
     _std("kaiming", 300, 200, math.sqrt(2), "fan_out")),
    ("kaiming-leaky-0.2", lambda w, r: init.kaiming_uniform_(w, a=0.2, rng=r),
     lambda t: torch.nn.init.kaiming_uniform_(t, a=0.2), _std("kaiming", 300, 200, math.sqrt(2 / 1.04))),
]
NORMAL = [
    ("xavier-gain1", lambda w, r: init.xavier_normal_(w, rng=r), lambda t: torch.nn.init.xavier_normal_(t),
     _std("xavier", 300, 200)),
    ("xavier-gain2", lambda w, r: init.xavier_normal_(w, gain=2.0, rng=r),
     lambda t: torch.nn.init.xavier_normal_(t, gain=2.0), _std("xavier", 300, 200, 2.0)),
    ("kaiming-relu", lambda w, r: init.kaiming_normal_(w, nonlinearity="relu", rng=r),
     lambda t: torch.nn.init.kaiming_normal_(t, nonlinearity="relu"), _std("kaiming", 300, 200, math.sqrt(2))),
    ("kaiming-tanh-fan-out", lambda w, r: init.kaiming_normal_(w, mode="fan_out", nonlinearity="tanh", rng=r),
     lambda t: torch.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"),
     _std("kaiming", 300, 200, 5 / 3, "fan_out")),
]
SHAPE = (200, 300)  # (out, in): fan_in 300, fan_out 200; 60,000 draws


@pytest.mark.parametrize(("name", "ours", "theirs", "std"), UNIFORM, ids=[u[0] for u in UNIFORM])
def test_uniform_initialisers_have_torchs_exact_bound(name, ours, theirs, std):
    bound = math.sqrt(3) * std  # U(-b, b) has standard deviation b / sqrt(3)
    w = ours(np.empty(SHAPE), 0)
    torch.manual_seed(0)
    t = theirs(torch.empty(SHAPE, dtype=torch.float64))
    for values in (w, t.numpy()):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.999 * bound  # 60,000 draws fill the range
    # Empirical spreads: the standard error of a sample std over 60,000 draws is ~0.3%.
    assert w.std() == pytest.approx(std, rel=0.02)
    assert w.std() == pytest.approx(float(t.std()), rel=0.02)


@pytest.mark.parametrize(("name", "ours", "theirs", "std"), NORMAL, ids=[n[0] for n in NORMAL])
def test_normal_initialisers_match_torchs_spread(name, ours, theirs, std):
    w = ours(np.empty(SHAPE), 0)
    torch.manual_seed(0)
    t = theirs(torch.empty(SHAPE, dtype=torch.float64)).numpy()
    assert abs(w.mean()) < 5 * std / math.sqrt(w.size)  # zero mean, within 5 standard errors
    assert w.std() == pytest.approx(std, rel=0.02)
    assert w.std() == pytest.approx(t.std(), rel=0.02)
    # Normal, not uniform: about 4.6% of draws lie beyond two standard deviations.
    assert np.mean(np.abs(w) > 2 * std) == pytest.approx(0.0455, abs=0.005)


def test_simple_fills():
    w = np.empty((50, 40))
    assert init.uniform_(w, -2.0, 3.0, rng=0) is w and w.min() >= -2.0 and w.max() <= 3.0
    init.normal_(w, mean=1.0, std=0.5, rng=0)
    assert w.mean() == pytest.approx(1.0, abs=0.05) and w.std() == pytest.approx(0.5, rel=0.05)
    assert init.constant_(w, 0.1) is w and np.all(w == 0.1)
    assert np.all(init.zeros_(w) == 0.0)


# ------------------------------------------------------------------ API contract
def test_fills_a_parameter_in_place_and_returns_it():
    layer = Linear(64, 32, rng=0)
    before = layer.weight.data
    out = init.kaiming_normal_(layer.weight, nonlinearity="relu", rng=0)
    assert out is layer.weight and layer.weight.data is before  # same array, new values
    assert layer.weight.dtype == np.float32  # the parameter keeps its dtype
    assert layer.weight.data.std() == pytest.approx(math.sqrt(2 / 64), rel=0.1)
    init.zeros_(layer.bias)
    assert np.all(layer.bias.data == 0)


def test_same_seed_same_values_and_default_generator():
    a = init.xavier_uniform_(np.empty((5, 4)), rng=7)
    b = init.xavier_uniform_(np.empty((5, 4)), rng=np.random.default_rng(7))
    assert_allclose(a, b)
    seed_everything(3)
    c = init.kaiming_uniform_(np.empty((5, 4)))
    seed_everything(3)
    assert_allclose(c, init.kaiming_uniform_(np.empty((5, 4))))


def test_zero_element_tensor_is_a_no_op():
    w = np.empty((0, 5))
    assert init.xavier_normal_(w, rng=0) is w


BAD = [
    ("bias-has-no-fans", lambda: init.xavier_uniform_(np.zeros(5)), ValueError, "at least 2 dimensions"),
    ("scalar", lambda: init.kaiming_normal_(Parameter(1.0)), ValueError, "at least 2 dimensions"),
    ("integer-array", lambda: init.xavier_normal_(np.zeros((3, 3), dtype=int)), TypeError, "floating-point"),
    ("list", lambda: init.normal_([[0.0, 1.0]]), TypeError, "Tensor/Parameter or a NumPy array"),
    ("read-only", lambda: init.zeros_(np.broadcast_to(np.zeros(3), (2, 3))), ValueError, "read-only"),
    ("mode", lambda: init.kaiming_uniform_(np.zeros((3, 3)), mode="in"), ValueError, "mode must be"),
    ("nonlinearity", lambda: init.kaiming_normal_(np.zeros((3, 3)), nonlinearity="gelu"), ValueError,
     "unsupported nonlinearity 'gelu'"),
    ("gain-negative", lambda: init.xavier_uniform_(np.zeros((3, 3)), gain=-1.0), ValueError, "gain must be > 0"),
    ("gain-nan", lambda: init.xavier_normal_(np.zeros((3, 3)), gain=float("nan")), ValueError, "gain must be finite"),
    ("std-negative", lambda: init.normal_(np.zeros(3), std=-1.0), ValueError, "std must be >= 0"),
    ("uniform-order", lambda: init.uniform_(np.zeros(3), 1.0, 0.0), ValueError, "a <= b"),
    ("rng", lambda: init.xavier_normal_(np.zeros((2, 2)), rng="seed"), TypeError, "rng must be"),
]


@pytest.mark.parametrize(("name", "call", "error", "match"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_named(name, call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------- signal propagation
def test_he_keeps_relu_signals_stable_and_xavier_halves_their_variance():
    he = init.signal_propagation("relu", "he", depth=20, width=128, n_samples=128, dtype=np.float64, rng=0)
    xavier = init.signal_propagation("relu", "xavier", depth=20, width=128, n_samples=128, dtype=np.float64, rng=0)
    assert 0.3 < he.activation_std[-1] / he.activation_std[0] < 3
    # Variance halves per layer, so the std shrinks by 1/sqrt(2) per layer (up to sampling noise).
    factor = (xavier.activation_std[-1] / xavier.activation_std[0]) ** (1 / 19)
    assert factor == pytest.approx(1 / math.sqrt(2), rel=0.05)
    assert he.finite() and he.depth == 20 and "relu" in repr(he)


def test_float32_overflow_is_reported_as_non_finite():
    p = init.signal_propagation("relu", "normal", depth=60, width=64, n_samples=32, dtype=np.float32, rng=0)
    assert not p.finite()
    q = init.signal_propagation("relu", "normal", depth=60, width=64, n_samples=32, dtype=np.float64, rng=0)
    assert q.finite()


def test_custom_init_function():
    def tiny(weight, gen):
        init.normal_(weight, 0.0, 1e-3, rng=gen)

    p = init.signal_propagation("tanh", tiny, depth=5, width=32, n_samples=16, dtype=np.float64, rng=0)
    assert p.init == "tiny" and p.activation_std[-1] < 1e-6


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(activation="elu"), ValueError, "unknown activation"),
    (dict(init="lecun"), ValueError, "unknown init 'lecun'"),
    (dict(depth=0), ValueError, "depth must be >= 1"),
    (dict(dtype=np.int32), TypeError, "floating"),
], ids=["activation", "init", "depth", "dtype"])
def test_signal_propagation_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        init.signal_propagation(**{"depth": 2, "width": 4, "n_samples": 4, **kwargs})


def test_importing_init_and_its_explorer_is_cheap():
    code = ("import sys, nblib.init, nblib.activations, nblib.explorers.activations\n"
            "print(','.join(m for m in ('torch', 'matplotlib', 'scipy', 'sklearn', 'ipywidgets') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"importing loaded {loaded}"
