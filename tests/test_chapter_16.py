"""Chapter 16, graphs, agents and hybrid systems: the executed notebook keeps its promises.

These tests read what the stored notebook recorded (``nblib.report.read_glued``) and check the
headline numbers against bands chosen for a reason, and that the verdicts in the prose follow from
them. The conventions every chapter follows are checked in tests/test_chapter_conventions.py.
"""

from __future__ import annotations

from pathlib import Path
from chapter_helpers import prose  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "16_graphs_agents.ipynb"  # read by the shared glued/cells fixtures (tests/conftest.py)


def test_karate_club_and_message_passing_agree_with_the_dense_gcn(glued):
    assert glued["n_nodes"] == 34 and glued["n_edges"] == 78
    assert glued["mp_err"] < 1e-12  # the brief: per-edge and dense forms agree to ~1e-12
    assert glued["mean_err"] < 1e-12


def test_gcn_beats_both_baselines_with_few_labels(glued):
    assert glued["n_splits"] >= 10
    # Kipf & Welling report ~ all members right with the two leaders labelled; random labels are harder
    assert 0.8 <= glued["gcn_acc1"] <= 1.0
    assert glued["gcn_acc4"] >= 0.9
    # one-hot features say nothing about unseen nodes: the graph-free MLP stays near chance
    assert 0.4 <= glued["mlp_acc1"] <= 0.6 and glued["mlp_acc4"] <= 0.65
    # the prose says the GCN beats label propagation with one label, and LP closes most of the gap with four
    assert glued["gcn_acc1"] - glued["lp_acc1"] > 0.1
    assert glued["gcn_wins1"] > glued["n_splits"] / 2
    assert glued["lp_acc4"] > glued["lp_acc1"] and glued["gcn_acc4"] - glued["lp_acc4"] < 0.1


def test_exact_returns_bracket_the_learned_ones(glued):
    assert -6.0 < glued["optimum"] < -4.0  # -4 without slips; slips cost about one step on average
    assert glued["random_return"] < -30
    assert glued["bandit_err"] < 0.02  # 20,000 pulls: standard error about 0.01
    assert glued["var_ratio"] > 2


def test_reinforce_with_baseline_learns_and_without_is_worse(glued):
    assert glued["n_seeds"] >= 5
    assert glued["optimum"] - 3 < glued["rl_base"] <= glued["optimum"] + 0.5  # within 3 of the exact optimum
    assert glued["rl_gap"] == glued["optimum"] - glued["rl_base"]
    assert glued["rl_base_stuck"] == 0
    assert glued["rl_nobase"] < glued["rl_base"] - 5  # the prose calls the baseline decisive
    assert glued["rl_big_stuck"] >= 4  # the explorer shows a message at lr = 1


def test_structure_generalises_and_end_to_end_does_not(glued, cells):
    assert glued["n_unseen_pairs"] == 20
    assert glued["ns_seen"] >= 0.95 and glued["ns_unseen"] >= 0.95
    assert abs(glued["ns_seen"] - glued["ns_unseen"]) < 0.02
    assert glued["dpl_seen"] >= 0.85 and glued["dpl_unseen"] >= 0.85  # no digit labels at all
    assert 0.4 <= glued["e2e_seen"] < glued["ns_seen"]
    assert glued["e2e_unseen"] < 0.05  # "essentially none"
    text = prose(cells)
    assert "true of the end-to-end network, false as a claim about neural networks" in text


def test_nas_predictor_and_searches(glued):
    assert glued["n_configs"] == 144
    assert glued["rho_scipy_diff"] < 1e-12
    assert 0.5 < glued["rho"] < 0.95  # "useful but imperfect"
    assert abs(glued["rho_params"]) < 0.4  # "almost no information"
    assert 0.9 < glued["best_acc"] <= 1.0 and glued["median_acc"] < 0.8
    assert glued["n_searches"] >= 100
    assert glued["rs_regret10"] == glued["re_regret10"]  # both are still random after 10 evaluations
    # the prose says: equal within the noise
    assert abs(glued["re_gain"]) < 2 * glued["re_gain_se"] + 0.05
    assert abs(glued["budget_share"] - glued["budget"] / glued["n_configs"]) < 1e-12


def test_exercise_solutions(glued):
    assert glued["ex1_l1"] < glued["ex1_l2"] <= glued["ex1_l3"] + 0.02  # the prose: more layers reach further
    assert glued["ex2_var_J"] < glued["ex2_var_0"] < glued["ex2_var_10"]
    assert glued["ex3_opt_0"] == -4.0 and glued["ex3_opt_90"] < glued["ex3_opt_30"] < glued["ex3_opt_0"]
    assert glued["ex4_mae"] < glued["ex4_const"] and glued["ex4_within1"] > 0.5
    assert glued["ex5_screen"] < glued["ex5_rs"] / 2  # "much better at equal cost"
