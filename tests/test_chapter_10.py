"""Chapter 10, diagnosing training dynamics: the executed notebook keeps its promises.

These tests read the numbers glued into the stored notebook (``nblib.report.read_glued``) and
check them against bands chosen for a reason; the generic structure is checked in
tests/test_chapter_conventions.py.
"""

from __future__ import annotations

import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "10_diagnostics.ipynb"  # read by the shared glued/cells fixtures

LN10 = math.log(10)


def test_monitor_hooks_come_off(glued):
    assert glued["n_hooks"] == 7  # four Linear layers and three ReLUs


def test_healthy_run(glued):
    assert glued["healthy_acc"] >= 0.94                 # a small MLP on the digits reaches ~97%
    assert 1 <= glued["healthy_ratio"] <= 10            # the prose: layers' gradient norms stay close
    assert 0 <= glued["healthy_dead"] <= 0.3            # "a harmless amount"


def test_divergence_fingerprint(glued):
    assert glued["div_dead"] >= 0.9                     # the huge steps silenced a layer
    assert abs(glued["div_final_loss"] - LN10) < 0.5    # "no better than guessing"


def test_plateau_fingerprint(glued):
    assert abs(glued["flat_loss"] - LN10) < 0.05        # the loss sits at ln 10
    assert glued["flat_acc"] <= 0.2
    assert glued["flat_norm"] < 0.01 and glued["flat_ratio"] >= 50   # tiny gradients vs the healthy run


def test_overfitting_fingerprint(glued):
    assert glued["over_train_loss"] < 0.01              # memorised
    assert glued["over_final_val"] > glued["over_best_val"] + 0.1   # the validation loss rose again
    assert glued["over_best_epoch"] < 60
    assert glued["over_acc"] < glued["healthy_acc"] - 0.1


def test_clipping_rescues_the_exploding_network(glued):
    assert glued["noclip_steps"] < 20 and glued["noclip_max_norm"] > 1e6
    assert glued["clip_acc"] >= 0.7


def test_lr_range_test_and_its_comparison(glued):
    assert 0.003 <= glued["lr_suggest"] <= 0.3
    assert glued["lr_suggest"] == glued["lr_min_loss"] / 10
    assert glued["lr_test_steps"] < 120                 # stopped early on divergence
    assert glued["acc_suggest"] > glued["acc_small"] > glued["acc_large"]
    assert glued["acc_large"] < 0.2


def test_claim_check(glued):
    assert 0 <= glued["claim_gap"] <= 0.02              # "within ... of the best on the grid"
    assert glued["claim_suggest_acc"] >= 0.93
    assert glued["claim_beaten"] >= glued["claim_grid_n"] - 3
    assert glued["claim_lo"] <= glued["claim_hi"]


def test_exercise_solutions(glued):
    assert glued["ex1_match"] is True
    assert glued["ex2_adam_lr"] < glued["lr_suggest"] and glued["ex2_adam_acc"] >= 0.9
    assert glued["ex3_gap_300"] < glued["ex3_gap_60"] / 2
    assert glued["ex4_acc_01"] >= 0.7 and glued["ex4_acc_10"] < 0.3
