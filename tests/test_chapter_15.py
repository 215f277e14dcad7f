"""Chapter 15, generative models: the executed notebook keeps its promises.

These tests read what the stored notebook recorded: the numbers glued into its prose
(``nblib.report.read_glued``) against bands chosen for a reason, and the verdicts the prose draws
from them. The conventions every chapter follows are checked in tests/test_chapter_conventions.py.
"""

from __future__ import annotations

from pathlib import Path
from chapter_helpers import prose  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "15_generative.ipynb"  # read by the shared glued/cells fixtures (tests/conftest.py)


def test_autoencoder_detects_anomalies(glued):
    assert glued["auc_sklearn_diff"] < 1e-12  # same formula up to rounding
    assert glued["auc_shuffled"] >= 0.99      # structure removed: the prose calls it easy
    assert 0.85 <= glued["auc_digits"] < 0.99  # "harder but still mostly caught"
    # the prose says the autoencoder beats PCA on unseen digits, "but not by much"
    assert 0 < glued["auc_digits"] - glued["auc_digits_pca"] < 0.05
    assert glued["worst_auc"] <= glued["auc_digits"] <= glued["best_auc"]
    assert glued["worst_digit"] >= 5 and glued["best_digit"] >= 5


def test_vae_kl_and_elbo(glued):
    assert glued["kl_torch_diff"] < 1e-10
    assert glued["kl_mc_diff"] < 0.05  # 100,000 Monte Carlo samples: error of order 0.01
    # 2-D codes carry little information: a few nats; the reconstruction term dominates
    assert 0.5 < glued["vae_kl"] < 5
    assert 10 < glued["vae_rec"] < 35


def test_vae_samples_are_measured_against_a_baseline(glued):
    # the prose: VAE samples are further from the test digits than the single-Gaussian baseline,
    # and both are far above the noise floor of real training digits
    assert glued["vae_energy"] > glued["digits_gauss"] > 1.5 * glued["digits_floor"]


def test_metric_baselines(glued):
    assert glued["floor_mmd"] < 0.005 and glued["floor_energy"] < 0.1
    assert glued["gauss_mmd"] > 20 * glued["floor_mmd"]  # the baseline is far above the noise floor
    assert abs(glued["data_hq"] - glued["hq_theory"]) < 0.01


def test_pacgan_reduces_mode_collapse(glued):
    assert glued["n_runs"] == 8
    # the prose: plain runs collapse (<= 2 modes), packed ones cover more modes and collapse less
    assert glued["plain_collapsed"] >= 2
    assert glued["plain_zero"] == glued["plain_collapsed"], "the prose says failed runs cover no mode at all"
    assert glued["pac_collapsed"] < glued["plain_collapsed"]
    assert glued["pac_modes"] >= glued["plain_modes"] + 1.5
    assert glued["pac_hq"] > glued["plain_hq"]
    assert glued["pac_full"] < glued["n_runs"], "the prose says individual packed runs still miss modes"
    assert glued["pac_mmd"] < glued["plain_mmd"]


def test_ddpm_and_claim_check(glued, cells):
    assert glued["ddpm_modes"] == 8
    assert 0.5 <= glued["ddpm_hq"] < glued["data_hq"]  # "more spread around each mode than real data"
    assert glued["floor_mmd"] < glued["ddpm_mmd"] < glued["pac_mmd"]  # above the floor, below the GANs
    assert glued["pac_runs_worse"] == glued["n_runs"]
    assert glued["n_gan_runs"] == 2 * glued["n_runs"]
    assert glued["gan_runs_worse"] >= glued["n_gan_runs"] - 1  # the verdict: "true here"
    assert glued["ddpm_vs_pac"] > 2
    assert glued["best_pac_hq"] > glued["ddpm_hq"]  # the caveat in the verdict
    assert "Verdict: true here, on the measure that matters most, with caveats." in prose(cells)


def test_exercise_solutions(glued):
    assert glued["ex1_auc"] == 0.75
    assert abs(glued["ex2_kl"] - 0.5 * (4 - 2 * 0.6931471805599453)) < 1e-9
    # exercise 3's prose: at h = 0.05 the PacGAN run is worse than the Gaussian; at h = 5 the Gaussian is best
    assert glued["ex3_narrow_pac"] > glued["ex3_narrow_gauss"]
    assert glued["ex3_wide_gauss"] < glued["ex3_wide_ddpm"]
    assert 0.5 < glued["ex4_unchanged"] < 0.7  # exp(-sum(beta)/2) with sum(beta) ~ 1
