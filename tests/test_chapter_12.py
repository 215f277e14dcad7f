"""Chapter 12, efficient and distributed training: the executed notebook keeps its promises.

These tests read what the stored notebook recorded (``nblib.report.read_glued``) and check each
headline number against a band chosen for a reason, and the verdicts the prose draws from them.
Exact quantities (byte counts, float formats, float64 equalities) get exact or rounding-level bands;
timings, which depend on the machine and its load, get wide bands that only protect the prose's claims.
"""

from __future__ import annotations

import math
from pathlib import Path
from chapter_helpers import prose  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "12_efficient.ipynb"  # read by the shared glued/cells fixtures (tests/conftest.py)


def test_float_formats(glued):
    assert glued["fp16_max"] == 65504.0
    assert glued["fp16_normal"] == 2.0 ** -14 and glued["fp16_subnormal"] == 2.0 ** -24
    assert glued["bf16_eps"] == 2.0 ** -7 and glued["fp16_eps"] == 2.0 ** -10


def test_bfloat16_costs_no_accuracy_and_its_speed_verdict_matches_the_measurement(glued):
    assert glued["fp32_acc"] >= 0.94
    # the prose: "the lost mantissa bits cost nothing measurable" -- within a point (under 3 test images)
    assert abs(glued["bf16_acc_gap"]) <= 1.0
    assert math.isclose(glued["bf16_acc_gap"], 100 * (glued["bf16_acc"] - glued["fp32_acc"]))
    s = glued["bf16_speedup"]
    expected = "faster" if s > 1.2 else "slower" if s < 0.8 else "about as fast"
    assert 0.05 < s < 50 and glued["bf16_verdict"] == expected


def test_loss_scaling_moves_gradients_into_float16_range(glued):
    # "a mild case": some, but few, gradients underflow unscaled; many more are subnormal
    assert 0 < glued["fp16_zero"] < 0.05
    assert glued["fp16_sub"] > glued["fp16_zero"]
    assert glued["fp16_zero_s16"] < glued["fp16_zero"] / 10 and glued["fp16_sub_s16"] < glued["fp16_sub"] / 10
    assert glued["fp16_inf_s24"] > 0, "the prose says 2^24 overflows"
    assert glued["bf16_zero"] == 0


def test_scaler_skips_overflows_and_ours_matches_torch(glued):
    assert 1 <= glued["n_first_skips"] <= glued["n_skipped"] < glued["n_fp16_steps"]
    assert glued["scaler_same_log"] is True
    assert glued["scaler_param_diff"] == 0


def test_accumulation_equals_the_large_batch_except_with_batchnorm(glued):
    assert glued["accum_param_diff"] < 1e-12 * max(1.0, glued["param_scale"])  # float64 rounding
    assert 1.2 < glued["accum_mem_ratio"] < 4.0  # less memory, not 4x: the full input batch is held
    assert 0.05 < glued["bn_grad_rel"] < 1.0  # "differs by ~20% of its norm"


def test_tracker_is_exact_on_the_known_case(glued):
    assert glued["known_measured"] == glued["known_bytes"] == 9 * 64 * 128 * 4
    assert glued["known_after"] == 0


def test_checkpointing_memory_is_the_hand_count(glued):
    assert glued["mem_match"] is True
    assert math.isclose(glued["mem_cut_8"], 1 - 6 / 9)
    assert math.isclose(glued["mem_cut_16"], 1 - 8 / 17)
    assert math.isclose(glued["mem_cut_64"], 1 - 16 / 65)
    saving = lambda n: 1 - 2 * math.sqrt(n) / (n + 1)  # noqa: E731
    assert saving(glued["claim_n60"]) >= 0.6 > saving(glued["claim_n60"] - 1)
    assert saving(glued["claim_n70"]) >= 0.7 > saving(glued["claim_n70"] - 1)
    assert glued["claim_n60"] < 64 and glued["claim_n70"] < 64  # so depth 64 lies beyond both
    # the whole step (16 bytes per parameter besides activations) falls by little at batch 64
    assert 0 < glued["total_cut_64"] < 0.1 and glued["batch_even"] > 500


def test_checkpointing_time_supports_the_verdict(glued, cells):
    # the verdict: the cost is at least the recomputed forward share, and on this CPU we paid more
    assert glued["time_over_min"] <= glued["time_over_deep"] <= glued["time_over_max"]
    assert 0.1 < glued["time_pred_deep"] < 0.34  # (1 - 1/k) of a forward pass, itself < 1/2 of a step
    assert glued["time_over_deep"] > glued["time_pred_deep"]
    assert 0.3 < glued["time_over_deep"] < 2.0  # "more than 20-30%", and not absurd
    text = prose(cells)
    assert "the memory half holds for deep networks, and only for activation memory" in text


def test_two_processes_equal_one(glued):
    assert glued["world_size"] == 2 and glued["dp_steps"] >= 5
    assert glued["ddp_diff"] < 1e-12 and glued["allreduce_diff"] < 1e-12 and glued["loss_diff"] < 1e-12
    assert glued["rank_gap"] == 0


def test_exercise_solutions(glued):
    assert glued["ex1_weighted"] < 1e-12 < 1e-3 < glued["ex1_naive"]
    assert (glued["ex2_best"], glued["ex2_plain"], glued["ex2_k32"]) == (12, 33, 33)
    assert glued["ex3_bf16"] == 1.0  # every update rounds away
    assert glued["ex3_fp16"] == 1 + 1000 * 2.0 ** -10  # one float16 step per update
    assert abs(glued["ex3_fp32"] - 2.0) < 1e-3
    assert glued["ex4_low"] <= glued["ex4_high"] and glued["ex4_span"] < glued["fp16_span"]
    assert glued["ex5_diff"] < 1e-12 and glued["ex5_sum_ratio"] == 64.0
