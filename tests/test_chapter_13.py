"""Chapter 13, model compression: the executed notebook keeps its promises.

These tests read what the stored notebook recorded: the numbers glued into its prose
(``nblib.report.read_glued``) against bands chosen for a reason, and the verdicts the prose draws
from them. The conventions every chapter follows are checked in tests/test_chapter_conventions.py.
"""

from __future__ import annotations

from pathlib import Path
from chapter_helpers import prose  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "13_compression.ipynb"  # read by the shared glued/cells fixtures (tests/conftest.py)


def test_float_baseline_learns_the_digits(glued):
    assert 0.94 <= glued["float_acc"] <= 1.0
    assert glued["float_bytes"] == 4 * glued["n_params"]


def test_quantisation_agrees_with_torch_code_for_code(glued):
    assert glued["torch_mismatch"] == 0
    assert glued["n_codes_checked"] > 10_000


def test_per_channel_is_more_precise(glued):
    assert glued["channel_gain"] > 1.0


def test_int8_within_one_point_and_at_least_3_5_times_smaller(glued):
    # the plan's target: int8 within 1 point of float and >= 3.5x smaller
    assert glued["int8_drop"] <= 1.0
    assert abs(glued["int8_acc"] - glued["float_acc"]) <= 0.01
    assert abs(glued["int8_act_acc"] - glued["float_acc"]) <= 0.01
    assert 3.5 <= glued["int8_ratio"] < 4.0  # float32 biases and per-row scales keep it below 4
    assert abs(glued["torch_q_acc"] - glued["float_acc"]) <= 0.01
    assert glued["torch_q_agree"] >= 0.97
    assert 3.5 <= glued["file_ratio"] < 4.0


def test_one_test_image_is_the_resolution(glued):
    assert glued["one_image"] == 100 / glued["n_test"]


def test_80_percent_sparsity_within_one_point(glued):
    assert glued["sparse80_drop"] <= 1.0
    assert glued["sparse80_raw"] <= glued["sparse80_acc"] + 1e-9, "fine-tuning should not hurt here"
    assert glued["sparse80_bytes"] < glued["float_bytes"]


def test_claim_check_numbers_support_the_verdict(glued, cells):
    # the verdict says: 90% without fine-tuning loses much; with fine-tuning most comes back, not all
    assert glued["sparse90_raw_drop"] > 10
    assert 0 < glued["sparse90_drop"] < 5
    assert glued["sparse95_acc"] < glued["sparse90_acc"]
    text = prose(cells)
    assert "true only with fine-tuning, and only roughly" in text


def test_structured_pruning_gives_a_smaller_model_that_still_works(glued):
    assert glued["struct_ratio"] > 5
    assert glued["struct_acc"] >= glued["float_acc"] - 0.03
    assert glued["struct_acc"] > glued["struct_raw"]


def test_distillation_helps_with_few_labels_and_is_within_noise_with_all(glued, cells):
    assert glued["n_seeds"] >= 3
    assert glued["kd_low_gap"] > 2 * glued["kd_low_std"], "the prose calls this a real gain"
    assert glued["kd_low_wins"] == glued["n_seeds"]
    assert abs(glued["kd_full_gap"]) <= 2 * glued["kd_full_std"] + 0.5, "the prose calls this within the noise"
    assert "within the\nnoise" in prose(cells) or "within the noise" in prose(cells)
    assert glued["student_ratio"] > 20


def test_exercise_solutions(glued):
    assert glued["ex1_global"] > glued["ex1_layer"]
    assert abs(glued["ex2_tensor"] - glued["float_acc"]) <= 0.03
    assert abs(glued["ex2_channel"] - glued["float_acc"]) <= 0.03
    assert glued["ex3_T4"] > glued["ex3_T1"]
    assert glued["ex4_diff"] < 1e-6
