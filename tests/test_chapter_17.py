"""Chapter 17, brains and learning rules: the executed notebook keeps its promises.

These tests read what the stored notebook recorded: the numbers glued into its prose
(``nblib.report.read_glued``) against bands chosen for a reason, and the verdicts the prose draws
from them. The conventions every chapter follows are checked in tests/test_chapter_conventions.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from chapter_helpers import prose  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "17_brains.ipynb"  # read by the shared glued/cells fixtures (tests/conftest.py)


def test_lif_simulation_matches_the_analytic_f_i_curve(glued):
    assert glued["rheobase_nA"] == 1.5  # (V_th - V_rest) / R = 15 mV / 10 MOhm
    # Euler at dt = 0.1 ms detects a crossing up to one step late: at ~200 Hz (5 ms intervals) that is
    # up to 2%; the prose promises agreement within this bound
    assert glued["fi_max_rel_err"] < 0.02
    assert glued["fi_silent_ok"] == 1
    assert abs(glued["fi_rate_3nA"] - 1000 / (2 + 10 * math.log(30 / 15))) < 1e-9  # R I = 30 mV, gap 15 mV


def test_membrane_recording_is_described_by_what_was_measured(glued):
    assert glued["mem_spikes"] > 40
    assert glued["mem_cv_early"] < 0.05, "the prose calls the first intervals strikingly regular"
    assert glued["mem_cv_all"] > 5 * glued["mem_cv_early"], "the prose says they later lengthen and scatter"


def test_hebb_explodes_and_oja_finds_the_first_component(glued):
    assert glued["hebb_growth"] > 100
    assert glued["hebb_cos"] > 0.99
    assert glued["oja_cos"] > 0.999  # the target, against numpy.linalg.eigh
    assert abs(glued["oja_norm"] - 1) < 0.01
    assert glued["oja_err_ratio"] > 10 and glued["oja_speedup"] > 10  # speed against precision
    assert glued["sanger_min_cos"] > 0.98


def test_stdp_online_equals_pairwise_and_picks_correlated_inputs(glued):
    assert glued["stdp_online_err"] < 1e-12 and glued["stdp_n_pairs"] > 1000
    assert glued["stdp_w_corr"] > 0.9 and glued["stdp_w_indep"] < 0.3
    assert glued["stdp_rate_end"] < 3 * glued["stdp_rate_start"], "the prose says the rate stays in check"


def test_predictive_coding_against_backprop(glued):
    assert glued["bp_torch_err"] < 1e-12
    assert 0 < glued["pc_energy_drop"] < 1
    # no inference: only the output layer learns, far from the gradient; converged: close; small pi_L: exact
    assert glued["cos_T0"] < 0.8
    assert 0.9 < glued["cos_conv"] < 0.99, "the prose says close to the gradient but not equal"
    assert glued["cos_small"] > 0.999
    assert glued["acc_bp"] > 0.92 and glued["acc_pc"] > 0.90
    assert 0 < glued["acc_gap"] < 5, "the prose says PC is a little behind, not far behind"
    assert glued["n_seeds"] >= 3
    assert glued["products_pc"] > 5 * glued["products_bp"]


def test_claim_check_verdict(cells):
    text = prose(cells)
    assert "Verdict: approximately, under conditions; not in general." in text


def test_exercise_solutions(glued):
    assert abs(glued["ex1_formula"] - glued["ex1_lib"]) < 1e-9
    assert abs(glued["ex1_sim"] - glued["ex1_formula"]) / glued["ex1_formula"] < 0.01
    assert glued["ex1_formula"] < glued["fi_rate_3nA"]  # a deeper reset lowers the rate
    assert glued["ex2_overflow_at"] > 0 and glued["ex2_max_norm"] > 1e10
    assert glued["ex3_indep_bal"] > glued["ex3_indep_ref"] + 0.2
    assert glued["ex3_rate_bal"] > 1.5 * glued["ex3_rate_ref"]
    assert glued["ex4_acc_pc01"] >= glued["ex4_acc_pc0"] - 0.01
