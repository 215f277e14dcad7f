"""Chapter 18, quantum neural networks: the executed notebook keeps its promises.

These tests read what the stored notebook recorded: the numbers glued into its prose
(``nblib.report.read_glued``) against bands chosen for a reason, and the verdicts the prose draws
from them. The conventions every chapter follows are checked in tests/test_chapter_conventions.py.
"""

from __future__ import annotations

from pathlib import Path
from chapter_helpers import prose  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "18_quantum.ipynb"  # read by the shared glued/cells fixtures (tests/conftest.py)


def test_simulators_agree_to_round_off(glued):
    # complex128 state vectors of at most 8 amplitudes: anything above 1e-12 would be a real bug
    assert glued["diff_state"] < 1e-12
    assert glued["diff_circuit"] < 1e-12


def test_shot_noise_matches_the_formula(glued):
    # 200 repetitions estimate a standard deviation to about 5% (1/sqrt(2*200)); 20% is four of those
    assert abs(glued["shots_1000"] / glued["shots_theory_1000"] - 1) < 0.2
    assert abs(glued["ex1_spread"] - 0.01) < 0.002  # exercise 1 sized the shots for a spread of 0.01


def test_parameter_shift_is_exact_and_finite_differences_are_not(glued):
    assert glued["grad_diff_shift"] < 1e-12
    # central differences with eps = 1e-6 in float64: error ~ eps^2 + 1e-16/eps, about 1e-10
    assert 1e-13 < glued["grad_diff_fd"] < 1e-7
    assert glued["ex2_shift_err"] < 1e-12
    assert 0.01 < glued["ex2_fd_err"] < 0.05  # forward step 0.1 at theta=1: error ~ h/2 |cos 1| = 0.027


def test_variational_classifier_reaches_the_plan_target(glued):
    # the plan's target: at least 95% test accuracy on moons
    assert glued["vqc_test_acc"] >= 0.95
    assert glued["vqc_train_acc"] >= 0.95
    assert glued["n_vqc_params"] == 25
    # the prose says encoding once stalls well below re-uploading
    assert glued["once_test_acc"] < glued["vqc_test_acc"] - 0.05


def test_hybrid_torchlayer_model_learns_moons(glued):
    assert glued["hybrid_test_acc"] >= 0.9
    assert glued["n_hybrid_params"] == 9 + 18 + 4  # Linear(2, 3) + 2 layers x 3 wires x 3 angles + Linear(3, 1)


def test_barren_plateau_measurements_support_the_prose(glued):
    # global cost, deep: close to the 2-design value 2^-n, i.e. a factor ~2 per qubit
    assert 1.6 < glued["bp_global_factor"] < 2.6
    assert glued["bp_global_drop"] > 10, "the prose says the global variance falls at every depth"
    assert glued["bp_global_10"] < 5e-3
    # local cost: flat when shallow (prose: 'does not fall at all'), exponential when deep
    assert 0.8 < glued["bp_local_shallow_factor"] < 1.2
    assert glued["bp_local_deep_factor"] > 1.5
    assert glued["bp_local_shallow_10"] > 0.1
    # explorer prose: 100 shots drown the global cost from drown_qubits on; 10,000 shots resolve every setting
    assert glued["drown_qubits"] in (6, 8, 10)
    assert glued["bp_min_var"] > 1 / (2 * 10_000)


def test_claim_check_numbers_support_the_verdict(glued, cells):
    assert glued["n_mlp_params"] == glued["n_vqc_params"]
    # 'as accurate as the classical one, no more': on 2000 fresh points the gap is within the seed spread
    assert abs(glued["fresh_gap"]) < glued["fresh_spread"]
    assert abs(glued["fresh_gap"]) < 1.0
    assert glued["c_mean_acc"] >= 0.95 and glued["q_mean_acc"] >= 0.95
    # 'a couple of test points' on the 200-point split
    assert abs(glued["acc_gap"]) <= 2.0
    # the quantum model costs much more to train on a simulator (measured; 5x leaves room for a busy machine)
    assert glued["time_ratio"] > 5
    assert glued["circuits_total"] == 150 * 2 * 24 * 200
    text = prose(cells)
    assert "Verdict: false on this task" in text


def test_exercise_solutions(glued):
    assert glued["ex1_shots"] == 7500
    assert glued["ex3_one"] < glued["ex3_two"] < glued["vqc_test_acc"] + 1e-9
    assert glued["ex3_one"] < 0.8  # one layer: a degree-one boundary cannot separate the moons
    assert glued["ex4_local_12"] > 0.1  # shallow local cost: no plateau at 12 qubits
    assert glued["ex4_global_12"] < 1e-3
