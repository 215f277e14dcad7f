"""Chapter 1, the artificial neuron and the perceptron: the stored notebook keeps its promises.

The chapter is executed ahead of time (``make execute``) and nbval checks that a fresh run
reproduces its outputs. These tests read what the executed notebook stored: the values it
glued into its prose (``nblib.report.read_glued``) against tolerance bands, the explorer it
displays, and the structure every chapter shares. They run in well under a second.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chapter_helpers import assert_in_band, join_text  # noqa: E402


NOTEBOOK = Path(__file__).resolve().parents[1] / "chapters" / "01_perceptron.ipynb"


# ------------------------------------------------------------------ headline numbers
# Each band is (low, high), inclusive, with the reason it is that wide.
BANDS = {
    # The blobs are separable with a thin gap: a handful of epochs, never dozens.
    "perc_epochs": (2, 20),
    "perc_mistakes": (1, 60),
    # sklearn's Perceptron with matching settings performs the same float additions.
    "sk_perceptron_max_abs_diff": (0.0, 1e-12),
    # Gradient descent against L-BFGS at tol=1e-8: both at the same optimum.
    "logistic_rel_diff": (0.0, 1e-6),
    # At sklearn's default tol=1e-4 the gap is the optimiser's stopping point, still small.
    "logistic_rel_diff_default": (0.0, 1e-3),
    # Overlapping clusters: clearly better than chance, clearly not separable.
    "logistic_acc": (0.8, 0.97),
    # No line gets all four XOR corners right, and some line gets three.
    "xor_best_line_acc": (0.75, 0.75),
    # The perceptron's last line on noisy XOR is no better than a good line could be.
    "xor_noisy_perc_acc": (0.0, 0.75),
    "two_layer_xor_acc": (1.0, 1.0),
    # The hand-set network draws the right regions; only points the noise pushed
    # across a hidden unit's line are lost.
    "two_layer_noisy_xor_acc": (0.95, 1.0),
}


@pytest.mark.parametrize(("name", "low", "high"),
                         [pytest.param(name, low, high, id=name) for name, (low, high) in BANDS.items()])
def test_headline_number_in_band(glued, name, low, high):
    assert_in_band(glued, name, low, high)


def test_perceptron_converges_on_separable_blobs(glued):
    assert glued["perc_converged"] is True
    assert glued["blobs_n"] >= 50, "the separable blobs should not be a toy of a few points"


def test_perceptron_fails_on_xor(glued):
    assert glued["xor_perc_converged"] is False
    assert glued["xor_perc_min_mistakes"] > 0, "an epoch without mistakes would mean XOR was separated"
    assert glued["xor_noisy_perc_min_mistakes"] > 0


def test_novikoff_bound_holds_and_max_margin_is_largest(glued):
    assert glued["novikoff_bound"] >= glued["perc_mistakes"]
    # The max-margin direction has the largest margin, hence the smallest bound.
    assert glued["novikoff_gamma_star"] >= glued["novikoff_gamma_perc"] > 0
    assert glued["novikoff_bound_perc"] >= glued["novikoff_bound"]
    assert glued["novikoff_ratio"] == pytest.approx(glued["novikoff_bound"] / glued["perc_mistakes"], rel=0.01)


# ------------------------------------------------------------------------ exercises
EXERCISE_CHECKS = {
    "ex1_rescaling_is_exact": lambda g: (g["ex1_same_mistakes"] is True and g["ex1_pow2_max_dev"] == 0.0
                                         and g["ex1_other_dev_below_1e12"] is True),
    "ex2_accuracy_wanders": lambda g: g["ex2_acc_max"] - g["ex2_acc_min"] >= 0.05,
    "ex2_pocket_is_best_snapshot": lambda g: g["ex2_pocket_acc"] == g["ex2_acc_max"] >= g["ex2_last_acc"],
    "ex2_average_in_range": lambda g: g["ex2_acc_min"] <= g["ex2_avg_acc"] <= g["ex2_acc_max"],
    "ex2_logistic_beats_average": lambda g: g["ex2_logistic_acc"] >= g["ex2_avg_acc"],
    "ex3_product_feature_separates_xor": lambda g: (g["ex3_converged"] is True and g["ex3_acc"] == 1.0
                                                    and 1 <= g["ex3_epochs"] <= 50),
    "ex4_no_line_through_origin": lambda g: g["ex4_no_bias_acc"] <= g["ex4_best_origin_acc"] <= 0.8,
    "ex4_bias_separates": lambda g: g["ex4_bias_converged"] is True and g["ex4_bias_acc"] == 1.0,
    "ex4_bias_is_constant_input": lambda g: g["ex4_const_input_acc"] == 1.0 and g["ex4_const_vs_bias_diff"] == 0.0,
    "ex5_weights_grow": lambda g: 0 < g["ex5_norm_100"] < g["ex5_norm_1000"] < g["ex5_norm_10000"],
    "ex5_growth_slows": lambda g: g["ex5_norm_10000"] / g["ex5_norm_1000"] < 10 and g["ex5_loss_10000"] < 0.05,
    # Gradient descent drifts towards the max-margin direction (slowly: log-rate).
    "ex5_direction_drifts_to_max_margin": lambda g: 0 <= g["ex5_angle_10000"] < g["ex5_angle_1000"] < 30,
    "ex5_penalty_keeps_weights_finite": lambda g: g["ex5_c1_norm"] < g["ex5_norm_1000"],
}


@pytest.mark.parametrize("check", [pytest.param(c, id=name) for name, c in EXERCISE_CHECKS.items()])
def test_exercise_result(glued, check):
    assert check(glued)


# ------------------------------------------------------------------ explorer, prose
def test_explorer_is_displayed(cells):
    summaries = [
        join_text(out["data"]["text/plain"])
        for cell in cells if cell["cell_type"] == "code" and "neuron_boundary_explorer()" in join_text(cell["source"])
        for out in cell.get("outputs", []) if "text/plain" in out.get("data", {})
    ]
    assert summaries, "no stored output of neuron_boundary_explorer() in the notebook"
    summary = summaries[0]
    assert summary.startswith("One neuron: weights turn the boundary")
    # The w1 = w2 = 0 settings (one per book bias value) show a message by design.
    match = re.search(r"\[explorer: (\d+) precomputed frames, (\d+) with a message\]", summary)
    assert match and int(match[1]) > 1 and int(match[2]) >= 1, summary


