"""Chapter 11, the regularisation toolbox: the executed notebook keeps its promises.

The chapter is executed ahead of time (``make execute``) and nbval checks that a fresh run
reproduces its outputs. These tests read the numbers glued into its prose against bands chosen
for a reason, and check that the verdicts the prose draws still follow from them. Generic
structure is checked in tests/test_chapter_conventions.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from chapter_helpers import join_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "11_regularisation.ipynb"  # read by the shared glued/cells fixtures

SEEDS = 3
CONFIGS = ["baseline", "augmentation", "early stopping", "dropout", "L2 in loss (Adam)", "weight decay (AdamW)",
           "label smoothing", "stochastic depth", "dropout + smoothing"]


def _verdict(row, ref):
    se = math.sqrt((row["std"] ** 2 + ref["std"] ** 2) / SEEDS)
    diff = row["mean"] - ref["mean"]
    return "helps" if diff > 2 * se else "hurts" if diff < -2 * se else "no measurable effect"


# ------------------------------------------------------------------ the patient
def test_small_training_set_overfits(glued):
    assert glued["n_train"] <= 500, "overfitting must be real: a few hundred images"
    assert glued["base_train_acc"] >= 0.99, "the prose says the network fits its training set perfectly"
    # a real gap between training and validation, but a network that still learnt the digits
    assert 0.85 <= glued["base_val_acc"] <= 0.97


# ------------------------------------------------------------------ L2 vs weight decay
def test_l2_equals_weight_decay_for_sgd_only(glued):
    # float32 over 50 steps: round-off is about 1e-7; the prose calls the SGD gap round-off
    assert 0 <= glued["sgd_gap"] <= 1e-5
    assert 0 <= glued["ex1_gap"] <= 1e-5, "momentum keeps the equivalence"
    # Adam vs AdamW: a difference of order 0.1 per weight at least, four orders above round-off
    assert glued["adam_gap"] >= 0.05
    assert abs(glued["adam_norm_l2"] - glued["adamw_norm"]) / glued["adamw_norm"] >= 0.2


# ------------------------------------------------------------------ label smoothing
def test_smoothed_cross_entropy_matches_torch(glued):
    assert 0 <= glued["ls_diff"] <= 1e-12  # float64


def test_label_smoothing_lowers_confidence_and_the_prose_reads_the_ece_right(glued):
    assert 0.9 <= glued["conf0"] <= 1.0, "an unsmoothed network that memorised its data is very confident"
    assert glued["conf_ls"] < glued["conf0"] - 0.05
    # the prose says smoothing with ε = 0.1 made calibration worse here (underconfidence)
    assert glued["ece_ls"] > glued["ece0"]
    # exercise 2: ε = 0.3 is clearly underconfident: confidence well below accuracy
    assert glued["ex2_conf"] < glued["ex2_acc"] - 0.15
    assert glued["ex2_ece"] > glued["ece_ls"]


# ------------------------------------------------------------------ stochastic depth
def test_drop_path_statistics(glued):
    # 10 000 samples, p = 0.3: binomial standard error 0.0046; five of them
    assert abs(glued["drop_frac"] - 0.3) <= 0.023
    assert abs(glued["drop_mean"] - 1.0) <= 0.03


# ------------------------------------------------------------------ the benchmark
def test_table_has_every_configuration_with_error_bars(glued):
    table = glued["table"]
    assert list(table) == CONFIGS
    for name, row in table.items():
        assert 0.8 <= row["mean"] <= 1.0, name
        assert 0 <= row["std"] <= 0.05, f"{name}: seed-to-seed spread should be a few points at most"


def test_verdicts_follow_the_stated_rule(glued):
    table = glued["table"]
    ref = table["baseline"]
    assert ref["verdict"] == "reference"
    for name, row in table.items():
        if name != "baseline":
            assert row["verdict"] == _verdict(row, ref), name
    verdicts = [r["verdict"] for n, r in table.items() if n != "baseline"]
    assert glued["n_helps"] == verdicts.count("helps")
    assert glued["n_none"] == verdicts.count("no measurable effect")
    assert glued["n_configs"] == len(verdicts)


def test_headline_numbers_match_the_table(glued):
    table = glued["table"]
    assert glued["base_mean"] == pytest.approx(table["baseline"]["mean"])
    assert glued["base_std"] == pytest.approx(table["baseline"]["std"])
    best = glued["best_name"]
    assert best in table and glued["best_mean"] == pytest.approx(max(r["mean"] for n, r in table.items()
                                                                      if n != "baseline"))
    assert glued["aug_verdict"] == table["augmentation"]["verdict"]


def test_augmentation_story(glued):
    # the prose says augmentation hurts at 40 epochs and still trails the baseline at 80 (exercise 3)
    assert glued["aug_verdict"] == "hurts"
    assert glued["ex3_aug"] < glued["base_mean"]


def test_early_stopping_stops_early(glued):
    assert 2 <= glued["es_epochs"] < glued["epochs"]


def test_explorer_is_the_chapters(cells):
    sources = [join_text(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert any(s.strip().startswith("smoothing_dropout_explorer(") for s in sources)
