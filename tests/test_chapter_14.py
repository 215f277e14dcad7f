"""Chapter 14, interpretability and robustness: the executed notebook keeps its promises.

These tests read what the stored notebook recorded: the numbers glued into its prose
(``nblib.report.read_glued``) against bands chosen for a reason, and the verdicts the prose draws
from them. The conventions every chapter follows are checked in tests/test_chapter_conventions.py.
"""

from __future__ import annotations

from pathlib import Path
from chapter_helpers import prose  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "14_interpretability.ipynb"  # read by the shared glued/cells fixtures (tests/conftest.py)


def test_the_network_to_explain_has_learned_the_digits(glued):
    # the prose says "almost without error": a digits CNN this size reaches 95-99%
    assert 0.94 <= glued["cnn_acc"] <= 1.0
    assert glued["n_test"] == 270
    assert glued["n_params"] < 20_000


def test_the_gradient_speaks_about_the_background_and_gradient_x_input_does_not(glued):
    # "a large share of the gradient sits on background": at least a quarter, and background is a real share
    assert 0.25 <= glued["grad_bg_share"] <= 0.8
    assert 0.3 <= glued["bg_share"] <= 0.7


def test_integrated_gradients_is_complete_up_to_a_one_over_m_error(glued):
    assert glued["ig_linear_err"] < 1e-5  # exact for a linear model, up to float32 round-off
    # ReLU kinks make the midpoint error O(1/m): the fitted slope is near -1, not -2
    assert -1.4 <= glued["ig_slope"] <= -0.7
    assert glued["ig_gap_128"] < glued["ig_gap_8"] / 8
    assert glued["ig_rel_32"] < 0.01  # "complete to well under a percent" at 32 steps
    assert glued["rise_mean"] > 1


def test_lrp_identity_and_conservation(glued):
    assert glued["lrp_identity_err"] < 1e-4  # LRP-0 = gradient x input in float32
    assert glued["lrp_conservation_err"] < 1e-4  # conserved without biases, float32
    assert 0.2 < glued["lrp_pixel_share"] < 1.5  # biases take a visible share, the pixels keep most


def test_deletion_ranking_supports_the_prose(glued):
    auc = {name: glued[f"auc_{i}"] for i, name in enumerate(
        ["abs_grad", "grad", "gxi", "ig", "lrp_eps", "lrp_comp", "bright", "random"])}
    best_three = max(auc["gxi"], auc["ig"], auc["lrp_eps"])
    # "IG, gradient x input and LRP-eps are close together and by far the most faithful"
    assert best_three < min(auc["grad"], auc["lrp_comp"], auc["abs_grad"], auc["bright"])
    assert best_three < 0.5 * auc["bright"]
    # "the absolute gradient is far worse than the signed gradient" and the least faithful model-based map
    assert auc["abs_grad"] > 2 * auc["grad"]
    assert auc["abs_grad"] > max(auc[k] for k in ("grad", "gxi", "ig", "lrp_eps", "lrp_comp"))
    # "z+ is less faithful than LRP-eps here"; "brightness alone beats random"
    assert auc["lrp_comp"] > auc["lrp_eps"]
    assert auc["bright"] < auc["random"] < 0.7
    assert glued["ig_beats_bright"] > 0.8
    assert glued["ig_beats_random"] > 0.95


def test_attention_weights_are_informative_but_not_attributions(glued):
    assert glued["att_acc"] > 0.75
    assert glued["att_np_err"] < 1e-5  # nblib's NumPy attention reproduces the torch weights
    # "real information, but less than the picture suggests": clearly positive, clearly below 1
    assert 0.2 < glued["att_occ_corr"] < 0.8
    assert 0.2 < glued["att_norm_corr"] < 0.8
    assert 1 / 8 < glued["att_top_agree"] < 0.6


def test_tcav_finds_the_loop_concept_and_the_test_separates_it_from_random(glued):
    assert glued["probe_acc"] > 0.7
    assert 0.35 < glued["probe_acc_random"] < 0.65  # random-vs-random probes at chance
    for c in (0, 6, 8, 9):  # "the digits that usually have a loop"
        assert glued[f"tcav_{c}"] > 0.75
    assert glued["tcav_noloop_max"] == max(glued[f"tcav_{c}"] for c in (1, 2, 3, 5, 7)) < 0.1
    assert 0.25 < glued["tcav_4"] < 0.75 and 0.35 < glued["loop_frac_4"] < 0.65
    assert glued["n_sig_up"] == 4 and glued["n_sig_down"] == 5
    assert glued["n_significant"] == glued["n_sig_up"] + glued["n_sig_down"]


def test_a_readable_surrogate_is_not_faithful(glued):
    assert glued["leaves_3"] == 8
    assert glued["fid_3"] < 0.65  # "agrees too rarely"
    assert glued["fid_3"] < glued["fid_6"] < glued["fid_full"] < 0.95
    assert glued["leaves_full"] > 60


def test_fgsm_hurts_far_more_than_noise(glued):
    assert glued["fgsm_01"] < 0.7 and glued["fgsm_02"] < 0.2
    assert glued["fgsm_005"] > glued["fgsm_01"] > glued["fgsm_02"]
    assert glued["noise_01"] > glued["cnn_acc"] - 0.05  # "random noise of the same size leaves most"
    assert glued["noise_01"] - glued["fgsm_01"] > 0.3
    assert glued["noise_02"] > 0.8


def test_claim_check_numbers_support_the_verdict(glued, cells):
    # the gradient map changes with the weights; the x-input maps, shown as |map|, barely do
    assert glued["sc_grad"] < 0.3
    for k in ("sc_gxi", "sc_ig", "sc_lrp"):
        assert glued[k] > 0.8
    assert glued["inp_gxi"] > 0.8 and glued["inp_ig"] > 0.8 and glued["inp_grad"] < 0.4
    assert glued["sc_signed_max"] < 0.2  # signed maps do depend on the weights
    assert "Verdict: misleading as usually stated" in prose(cells)


def test_exercise_solutions(glued):
    assert glued["ex1_gap_grey"] < 0.2  # completeness holds for any baseline
    assert glued["ex1_auc_grey"] > glued["ex1_auc_black"]
    assert glued["ex2_diff"] < 1e-6
    assert abs(glued["ex2_gap_after"] - 0.2) < 1e-6
    assert glued["ex3_probe"] > 0.6
    assert 0 <= glued["ex3_n_sig"] <= 10
    assert glued["ex4_robust"] > glued["fgsm_01"] + 0.15  # adversarial training helps against the attack it saw
    assert glued["ex4_clean"] > glued["cnn_acc"] - 0.04
