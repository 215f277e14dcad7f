"""Chapter 9, attention and transformers: the executed notebook keeps its promises.

The chapter is executed ahead of time (``make execute``) and nbval checks that a fresh run
reproduces its outputs. These tests read what the stored notebook recorded: the numbers glued
into its prose (``nblib.report.read_glued``) against bands chosen for a reason, the explorer it
displays, and the conventions every chapter follows. They take well under a second.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from chapter_helpers import join_text  # noqa: E402


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "09_attention.ipynb"

# ------------------------------------------------------------------ agreement with torch
@pytest.mark.parametrize("name", ["sdpa_max_diff", "mha_max_diff", "mha_module_diff", "block_max_diff"])
def test_from_scratch_attention_matches_torch_in_float64(glued, name):
    # The target of the chapter: agreement to 1e-10 in float64 (outputs and attention weights).
    # Round-off alone gives about 1e-15, so anything near the bound would already be suspicious.
    assert 0 <= glued[name] <= 1e-10, f"{name} = {glued[name]:.1e}"


def test_symmetries(glued):
    assert 0 <= glued["perm_equiv_diff"] <= 1e-12  # attention without positions is permutation-equivariant
    assert 0 <= glued["pe_rotation_err"] <= 1e-10  # PE[p + k] is a fixed rotation of PE[p]


def test_scaling_by_sqrt_d(glued):
    rows = glued["scale_rows"]
    assert sorted(rows) == [4, 16, 64, 256, 1024]
    for d, row in rows.items():
        assert row["std"] == pytest.approx(math.sqrt(d), rel=0.1), f"d={d}: raw score std {row['std']:.2f}"
        assert 0.2 <= row["scaled"][0] <= 0.3  # the largest of 16 weights does not depend on d once scaled
    assert glued["maxw_unscaled_1024"] > 0.9  # unscaled: nearly one-hot
    assert glued["jac_unscaled_1024"] < 0.25 * glued["jac_scaled_1024"]  # and its gradient nearly gone


# ------------------------------------------------------------------ pre-norm against post-norm
def test_pre_norm_trains_where_post_norm_collapses(glued):
    assert len(glued["race_final"]) == 4
    assert glued["race_pre_worst"] < 1.0  # both pre-norm seeds learn (chance is ln 10 = 2.30)
    assert glued["race_post_best"] > 2.2  # both post-norm seeds stay at chance
    assert glued["race_pre_worst"] == max(v for k, v in glued["race_final"].items() if k.startswith("pre"))


# ------------------------------------------------------------------ the sorting transformer
def test_sorting_reaches_the_target(glued):
    # PLAN.md: at least 99% exact-sequence accuracy on a held-out test set.
    assert glued["sort_test_seq_acc"] >= 0.99
    assert glued["sort_test_tok_acc"] >= 0.995
    assert glued["sort_overlap"] == 0  # no test sequence was seen in training
    assert glued["sort_steps"] <= 500  # inside the chapter's time budget


def test_second_layer_looks_up_the_answer(glued):
    uniform = glued["sort_target_share_uniform"]
    assert 0.15 <= uniform <= 0.25  # share of keys holding the target digit
    assert glued["sort_l2_target_mass"] > 2 * uniform
    assert glued["sort_l1_target_mass"] < 1.5 * uniform


# ------------------------------------------------------------------ the language model
def test_language_model_beats_the_unigram_baseline(glued):
    assert glued["corpus_chars"] == 400_000 and glued["n_modules"] >= 30
    assert 60 <= glued["vocab_size"] <= 100
    assert 2.7 <= glued["unigram_nats"] <= glued["uniform_nats"]
    assert glued["lm_val_nats"] < glued["unigram_nats"] - 1.0  # context is worth more than a nat per character
    assert glued["lm_val_nats"] <= 1.7
    assert glued["lm_val_bits"] == pytest.approx(glued["lm_val_nats"] / math.log(2))
    assert glued["unigram_bits"] == pytest.approx(glued["unigram_nats"] / math.log(2))
    assert glued["lm_perplexity"] == pytest.approx(2 ** glued["lm_val_bits"])  # the prose's "choice among 2^b"
    assert glued["unigram_perplexity"] == pytest.approx(math.exp(glued["unigram_nats"]))
    assert glued["lm_steps"] <= 2000


def test_causal_mask_leaks_nothing(glued):
    assert glued["causal_leak"] <= 1e-6
    assert glued["bidir_change"] > 0.1  # the encoder, by contrast, sees the future


# ------------------------------------------------------------------------ claim check
def test_attention_memory_is_quadratic(glued):
    # Three (T, T) float64 arrays: 24 bytes per query-key pair once T is large.
    assert 3.8 <= glued["mem_ratio_1024_512"] <= 4.1
    assert 23.5 <= glued["mem_bytes_per_T2"] <= 25.0
    assert glued["flop_crossover_T"] == 2 * 64 + 256 + 1  # first T with 4 T^2 E > (8 E^2 + 4 E F) T


def test_measured_times_grow_faster_for_attention(glued):
    # Timings of the machine that executed the notebook: loose bands, the prose quotes them as measured.
    assert glued["time_ratio_attn"] >= 2.5
    assert 1.3 <= glued["time_ratio_mlp"] <= 3.0
    assert glued["time_ratio_attn"] > glued["time_ratio_mlp"]
    assert glued["time_ratio_attn_short"] < glued["time_ratio_attn"]


# -------------------------------------------------------------------------- exercises
def test_ex1_reversal_needs_positions(glued):
    assert glued["ex1_seq_acc_sinusoidal"] >= 0.95
    assert glued["ex1_seq_acc_none"] <= 0.01
    assert abs(glued["ex1_tok_acc_none"] - glued["ex1_commonest_digit_acc"]) <= 0.05


def test_ex2_warm_up_rescues_post_norm(glued):
    assert glued["ex2_post_warmup_worst"] < 1.5  # far below chance (2.30) where it sat without warm-up
    assert glued["ex2_post_warmup_best"] <= glued["ex2_post_warmup_worst"]


def test_ex3_parameter_count(glued):
    E, F = 64, 128
    assert glued["ex3_formula"] == glued["ex3_counted"] == 4 * E * E + 2 * E * F + 9 * E + F
    assert 0.3 <= glued["ex3_attention_fraction"] <= 0.5


def test_ex4_calibration(glued):
    losses = glued["ex4_losses"]
    assert 0.9 <= glued["ex4_best_temperature"] <= 1.25
    assert losses[1.0] == pytest.approx(glued["lm_val_nats"], abs=1e-3)  # the same validation windows
    assert glued["ex4_cost_at_0_8"] > 0 and losses[0.5] > losses[0.8] > losses[1.0]
    assert glued["ex4_best_loss"] == min(losses.values()) <= glued["ex4_loss_at_1"]


def test_ex5_no_length_generalisation(glued):
    assert glued["ex5_acc_10"] >= 0.99
    assert glued["ex5_acc_12"] <= 0.1 and glued["ex5_acc_6"] <= 0.1


# ------------------------------------------------------------------------ explorer
def test_explorer_is_displayed(cells):
    summaries = [join_text(o["data"]["text/plain"]) for c in cells if c["cell_type"] == "code"
                 for o in c.get("outputs", []) if "text/plain" in o.get("data", {})]
    shown = [s for s in summaries if s.startswith("Softmax attention: key dimension, scaling and temperature [explorer:")]
    assert len(shown) == 1, "the chapter displays attention_scale_explorer() once"
    assert "18 precomputed frames, 6 with a message" in shown[0]  # tau = 0 is a message in every combination


# --------------------------------------------------------------------- conventions
