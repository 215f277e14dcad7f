"""Chapter 3, activation functions and information flow: the executed notebook keeps its promises.

The chapter is executed ahead of time (``make execute``), and nbval checks that a fresh run
reproduces its outputs. These tests read what the stored notebook recorded: the numbers it glued
into its prose (``nblib.report.read_glued``) against tolerance bands chosen for a reason, the
explorer it displays, and the conventions every chapter follows. They take well under a second.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from chapter_helpers import assert_in_band, band_params, join_text  # noqa: E402


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "03_activations.ipynb"

# ------------------------------------------------------------ activations are right
# Same formulas in both libraries, float64: round-off level (the erf-based GELU differs a little
# more, through different special-function code). Central differences are good to ~1e-8.
@pytest.mark.parametrize(("name", "high"), [
    pytest.param("act_err_value", 1e-12, id="values-vs-torch"),
    pytest.param("act_err_slope", 1e-12, id="slopes-vs-torch-autograd"),
    pytest.param("act_err_fd", 1e-6, id="slopes-vs-central-differences"),
    pytest.param("modules_gc_rel", 1e-6, id="nn-modules-gradcheck"),
    pytest.param("softmax_jac_err", 1e-14, id="softmax-jacobian-vs-torch"),
    pytest.param("linear_collapse_err", 1e-12, id="deep-linear-equals-one-matrix"),
])
def test_agreement_with_references(glued, name, high):
    assert 0.0 <= glued[name] <= high, f"{name} = {glued[name]:.2e}"


def test_activation_facts(glued):
    assert glued["sigmoid_max_slope"] == pytest.approx(0.25, abs=1e-9)
    assert glued["gelu_min"] == pytest.approx(-0.170, abs=2e-3)   # x Phi(x) at its minimum
    assert glued["gelu_min_z"] == pytest.approx(-0.75, abs=0.02)
    assert glued["silu_min"] == pytest.approx(-0.278, abs=2e-3)
    assert 1e-4 <= glued["gelu_tanh_gap"] <= 1e-3                 # close, not identical
    assert glued["softmax_jac_peaked"] < 1e-3 < glued["softmax_jac_moderate"]


def test_nonlinearity_matters_on_xor(glued):
    # A linear classifier can get at most three of XOR's four clusters right.
    assert glued["xor_linear_acc"] <= 0.8
    assert glued["xor_tanh_acc"] >= 0.95


# ---------------------------------------------------------- signals through depth
# 30 layers of width 256, float64. Bands are orders of magnitude where the prose says
# "vanish" or "explode", and factors of two where it says "level".
def test_vanishing_settings_vanish(glued):
    assert glued["prop_sigmoid_xavier_grad_ratio"] < 1e-10      # gradient, first vs last layer
    assert glued["prop_sigmoid_small_grad_ratio"] < 1e-20
    assert glued["prop_tanh_small_std_ratio"] < 1e-15           # activations, last vs first layer
    assert glued["prop_relu_small_std_last"] < 1e-20
    assert glued["prop_relu_xavier_std_ratio"] < 1e-3


def test_exploding_settings_explode(glued):
    assert glued["prop_relu_normal_std_last"] > 1e25
    assert glued["prop_relu_normal_grad_first"] > 1e25
    assert glued["prop_tanh_normal_grad_ratio"] > 1e8
    assert 0.9 <= glued["prop_tanh_normal_std_last"] <= 1.0     # saturated at +-1


@pytest.mark.parametrize(("name", "low", "high"), [
    pytest.param("prop_relu_he_std_ratio", 0.5, 2.0, id="he-relu-activations"),
    pytest.param("prop_relu_he_grad_ratio", 0.5, 2.0, id="he-relu-gradients"),
    pytest.param("prop_tanh_xavier_grad_ratio", 0.5, 2.0, id="xavier-tanh-gradients"),
    # Xavier's tanh activations drift down slowly (exercise 5): a factor of a few, not decades.
    pytest.param("prop_tanh_xavier_std_ratio", 0.1, 1.0, id="xavier-tanh-activations-drift"),
])
def test_stable_settings_stay_level(glued, name, low, high):
    assert_in_band(glued, name, low, high)


def test_relu_gradient_ratio_is_the_same_for_every_scale(glued):
    # The four initialisations are scalings of the same draws and ReLU is positively homogeneous,
    # so the first-to-last gradient ratio is identical (the prose's "flat for every initialisation").
    ratios = [glued[f"prop_relu_{i}_grad_ratio"] for i in ("normal", "small", "xavier", "he")]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-2)


@pytest.mark.parametrize("name", ["relu_xavier", "relu_normal", "relu_he"])
def test_variance_argument_predicts_relu_factors(glued, name):
    # Sampling noise of 256 x 256 layers: a few percent.
    assert glued[f"factor_{name}"] == pytest.approx(glued[f"theory_{name}"], rel=0.05)


def test_sigmoid_backward_factor_is_at_most_a_quarter(glued):
    assert 0.2 <= glued["factor_sigmoid_xavier"] <= glued["theory_sigmoid_xavier"] == 0.25


def test_he_init_matches_torch_and_formula(glued):
    assert glued["init_std_ours"] == pytest.approx(glued["init_std_formula"], rel=0.01)
    assert glued["init_std_torch"] == pytest.approx(glued["init_std_formula"], rel=0.01)


# ------------------------------------------------------------------ dying ReLUs
def test_dead_units_grow_with_the_learning_rate(glued):
    dead, acc = glued["dead_relu"], glued["acc_relu"]
    lrs = sorted(dead)
    assert 0.01 <= glued["dead_at_init"] <= 0.15
    assert dead[lrs[0]] <= 0.15 and dead[lrs[-1]] >= 0.9
    upper = [lr for lr in lrs if lr >= 0.1]
    assert all(dead[a] <= dead[b] for a, b in zip(upper, upper[1:])), dead
    assert acc[lrs[0]] >= 0.9 and acc[lrs[-1]] <= 0.2            # chance level when all are dead
    assert set(glued["diverged_relu"].values()) == {0}


def test_claim_check_numbers_support_the_verdict(glued):
    # "Leaky units got stuck as often": within 0.15 of ReLU's dead fraction where deaths are common.
    assert abs(glued["dead_leaky_lr02"] - glued["dead_relu_lr02"]) <= 0.15
    assert glued["dead_leaky_lr03"] >= 0.5
    # "kept more accuracy where the damage was heavy, but diverged at the largest rate".
    assert glued["acc_leaky_lr03"] > glued["acc_relu_lr03"]
    assert glued["diverged_leaky_lr05"] >= 1 and glued["diverged_leaky"][0.5] == glued["diverged_leaky_lr05"]
    # "did not come back in practice", and the healed networks still work.
    assert glued["recovered_relu"] <= 0.1 and glued["recovered_leaky"] <= 0.1
    assert glued["healed_acc_relu"] >= 0.9 and glued["healed_acc_leaky"] >= 0.9
    assert glued["n_seeds"] >= 3


# ----------------------------------------------------------------------- exercises
EXERCISE_BANDS = [
    ("ex1_err_torch", 0.0, 1e-12, "ex1-gelu-slope-vs-torch"),
    ("ex1_err_fd", 0.0, 1e-6, "ex1-gelu-slope-vs-central-differences"),
    ("ex1_min_z", -math.sqrt(2) - 0.01, -math.sqrt(2) + 0.01, "ex1-minimum-at-minus-sqrt2"),
    ("ex1_min_slope", -0.135, -0.12, "ex1-minimum-slope-negative"),
    ("ex2_ratio_gain1", 0.0, 1e-10, "ex2-gain1-vanishes"),
    ("ex2_ratio_gain4", 1e-10, 1e-2, "ex2-gain4-helps-but-still-vanishes"),
    ("ex2_factor_gain4", 0.5, 0.8, "ex2-per-layer-factor"),
    ("ex3_dead_init_bias01", 0.0, 0.04, "ex3-bias-fixes-dead-at-init"),
    ("ex3_dead_trained_bias01", 0.2, 0.6, "ex3-bias-does-not-stop-lr-deaths"),
    ("ex4_entropy_cold", 0.0, 0.01, "ex4-cold-is-one-hot"),
    ("ex4_jac_cold", 0.0, 1e-3, "ex4-cold-jacobian-vanishes"),
    ("ex4_jac_hot", 0.0, 1e-2, "ex4-hot-jacobian-vanishes"),
    ("ex5_std_last_gain53", 0.4, 1.0, "ex5-gain-5-3-keeps-spread"),
    ("ex5_std_last_gain1", 0.05, 0.3, "ex5-gain-1-drifts-down"),
]


@pytest.mark.parametrize(("name", "low", "high"),
                         band_params(EXERCISE_BANDS))
def test_exercise_result_in_band(glued, name, low, high):
    assert_in_band(glued, name, low, high)


def test_exercise_comparisons(glued):
    assert glued["ex2_ratio_gain4"] > 1e6 * glued["ex2_ratio_gain1"]
    assert glued["ex3_dead_init_bias01"] < glued["ex3_dead_init_default"]
    assert glued["ex4_entropy_hot"] == pytest.approx(glued["ex4_log_c"], abs=1e-3)
    assert glued["ex5_grad_ratio_gain53"] > glued["ex5_grad_ratio_gain1"]


# ------------------------------------------------------------------------ explorer
def test_explorer_is_displayed_with_message_frames(cells):
    summaries = [join_text(o["data"]["text/plain"]) for c in cells if c["cell_type"] == "code"
                 for o in c.get("outputs", []) if "text/plain" in o.get("data", {})]
    shown = [s for s in summaries if s.startswith("Signals through a deep MLP at initialisation [explorer:")]
    assert len(shown) == 1, "the chapter displays signal_explorer() once"
    frames, messages = map(int, re.search(r"(\d+) precomputed frames, (\d+) with a message", shown[0]).groups())
    # Depth 50 in float32: N(0, 1) overflows and N(0, 0.01^2) underflows for some activations.
    assert frames == 48 and 1 <= messages < frames // 2


# --------------------------------------------------------------------- conventions
def test_no_errors_or_warnings_in_outputs(cells):
    for c in cells:
        for o in c.get("outputs", []):
            assert o["output_type"] != "error"
            assert not (o["output_type"] == "stream" and o["name"] == "stderr"), join_text(o["text"])[:200]


