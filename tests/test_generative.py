"""nblib.generative against references: sklearn's AUC, scipy's 1-D distances, torch's KL, the forward chain."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib import generative as gen

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------- data
def test_ring_points_sit_near_their_centres():
    X, mode = gen.ring_gaussians(4000, n_modes=8, radius=2.0, std=0.05, rng=0)
    centers = gen.ring_centers(8, 2.0)
    assert X.shape == (4000, 2) and X.dtype == np.float32
    assert_allclose(np.linalg.norm(centers, axis=1), 2.0)
    dist = np.linalg.norm(X - centers[mode], axis=1)
    # |eps| of a 2-D standard normal has mean sqrt(pi/2)
    assert_allclose(dist.mean(), 0.05 * np.sqrt(np.pi / 2), rtol=0.05)
    assert np.bincount(mode, minlength=8).min() > 400


# -------------------------------------------------------------------- AUC
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_roc_auc_matches_sklearn(ties):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = rng.normal(size=300) + y
    if ties:
        s = np.round(s, 1)
    assert_allclose(gen.roc_auc(s, y), roc_auc_score(y, s), rtol=1e-12)


def test_roc_auc_hand_worked_and_invariants():
    assert gen.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert gen.roc_auc([1, 1, 1], [0, 1, 1]) == 0.5  # all tied: a coin toss
    s, y = np.arange(10.0), np.r_[np.zeros(5, int), np.ones(5, int)]
    assert gen.roc_auc(s, y) == 1.0 and gen.roc_auc(-s, y) == 0.0
    with pytest.raises(ValueError, match="both classes"):
        gen.roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="labels"):
        gen.roc_auc([0.1, 0.2], [0, 2])


# ---------------------------------------------------------------- distances
def test_mmd_hand_worked_symmetric_and_zero_on_identical_sets():
    # one point each at distance 1, h = 1: 1 + 1 - 2 exp(-1/2)
    assert_allclose(gen.mmd_rbf([[0.0, 0.0]], [[1.0, 0.0]]), 2 - 2 * np.exp(-0.5), rtol=1e-12)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(50, 2)), rng.normal(1.0, 1.0, size=(70, 2))
    assert gen.mmd_rbf(X, X) == pytest.approx(0.0, abs=1e-12)
    assert_allclose(gen.mmd_rbf(X, Y, 0.5), gen.mmd_rbf(Y, X, 0.5), rtol=1e-12)
    # brute force with explicit loops
    k = lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * 0.5 ** 2))  # noqa: E731
    ref = (np.mean([[k(a, b) for b in X] for a in X]) + np.mean([[k(a, b) for b in Y] for a in Y])
           - 2 * np.mean([[k(a, b) for b in Y] for a in X]))
    assert_allclose(gen.mmd_rbf(X, Y, 0.5), ref, rtol=1e-10)
    with pytest.raises(ValueError, match="bandwidth"):
        gen.mmd_rbf(X, Y, 0.0)
    with pytest.raises(ValueError, match="features"):
        gen.mmd_rbf(X, np.zeros((3, 3)))


def test_energy_distance_matches_scipy_in_1d():
    from scipy.stats import energy_distance

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=80), rng.exponential(size=55)
    assert_allclose(gen.energy_distance(x, y), energy_distance(x, y), rtol=1e-9)
    assert gen.energy_distance(x, x) == pytest.approx(0.0, abs=1e-7)
    assert gen.energy_distance([0.0], [2.0]) == pytest.approx(2.0)


@pytest.mark.parametrize("m", [60, 45], ids=["equal-sizes", "unequal-sizes"])
def test_sliced_wasserstein_is_scipy_wasserstein_in_1d(m):
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=60), rng.normal(0.5, 2.0, size=m)
    assert_allclose(gen.sliced_wasserstein(x, y, n_projections=4, rng=0), wasserstein_distance(x, y), rtol=1e-9)


def test_sliced_wasserstein_of_a_shift_in_2d():
    # shifting by a: each direction theta sees a shift of |a . theta|, so SW = |a| E|theta_1|
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 2))
    sw = gen.sliced_wasserstein(X, X + np.array([1.0, 0.0]), n_projections=20000, rng=0)
    assert_allclose(sw, 2 / np.pi, rtol=0.02)  # E|cos U| for U uniform on the circle


def test_mode_coverage_counts_modes_and_quality():
    centers = gen.ring_centers(8, 2.0)
    X, _ = gen.ring_gaussians(4000, std=0.05, rng=0)
    modes, hq = gen.mode_coverage(X, centers, 0.05)
    assert modes == 8 and hq == pytest.approx(1 - np.exp(-4.5), abs=0.01)  # P(|eps| < 3) in 2-D
    collapsed = np.repeat(centers[:1], 1000, axis=0)
    assert gen.mode_coverage(collapsed, centers, 0.05) == (1, 1.0)
    assert gen.mode_coverage(np.zeros((100, 2)), centers, 0.05) == (0, 0.0)
    nan = np.full((10, 2), np.nan)
    assert gen.mode_coverage(nan, centers, 0.05) == (0, 0.0)


# --------------------------------------------------------------------- VAE
def test_gaussian_kl_matches_torch_distributions_and_monte_carlo():
    from torch.distributions import Normal, kl_divergence

    torch.manual_seed(0)
    mu, logvar = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    ours = gen.gaussian_kl(mu, logvar)
    q, p = Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert_allclose(ours.numpy(), kl_divergence(q, p).sum(-1).numpy(), rtol=1e-12)
    z = q.sample((200_000,))  # (S, 6, 3)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    assert_allclose(mc.numpy(), ours.numpy(), rtol=0.05, atol=0.02)
    assert gen.gaussian_kl(torch.zeros(2), torch.zeros(2)).item() == 0.0


def test_reparameterize_has_the_right_moments_and_gradients():
    mu = torch.tensor([1.0, -2.0], requires_grad=True)
    logvar = torch.tensor([0.0, np.log(0.25)], dtype=torch.float32, requires_grad=True)
    z = gen.reparameterize(mu.expand(100_000, 2), logvar.expand(100_000, 2), torch.Generator().manual_seed(0))
    assert_allclose(z.mean(0).detach().numpy(), [1.0, -2.0], atol=0.01)
    assert_allclose(z.std(0).detach().numpy(), [1.0, 0.5], rtol=0.01)
    z.sum().backward()
    assert_allclose(mu.grad.numpy(), [100_000, 100_000])  # dz/dmu = 1 for every sample


def test_vae_loss_terms_and_model_shapes():
    model = gen.mlp_vae(64, 32, 2, seed=0)
    x = torch.rand(10, 64)
    logits, mu, logvar = model(x, torch.Generator().manual_seed(0))
    assert logits.shape == (10, 64) and mu.shape == logvar.shape == (10, 2)
    loss, rec, kl = gen.vae_loss(x, logits, mu, logvar)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 10
    assert_allclose(rec.item(), ref.item(), rtol=1e-5)
    assert_allclose(loss.item(), rec.item() + kl.item(), rtol=1e-6)
    assert gen.vae_loss(x, logits, mu, logvar, beta=0.0)[0].item() == pytest.approx(rec.item())
    with pytest.raises(ValueError, match="beta"):
        gen.vae_loss(x, logits, mu, logvar, beta=-1.0)
    assert "latent=2" in repr(model)


# --------------------------------------------------------------------- GAN
def test_train_gan_shapes_and_runs_are_independent():
    X, _ = gen.ring_gaussians(500, rng=0)
    cfg = gen.GANConfig(n_runs=3, steps=20, n_snapshots=3, n_samples=50, pack=2)
    out = gen.train_gan(X, cfg, seed=0)
    assert out["samples"].shape == (3, 3, 50, 2) and list(out["steps"]) == [0, 10, 20]
    assert np.isfinite(out["loss_d"]).all() and out["loss_d"].shape == (20,)
    assert not np.allclose(out["samples"][-1, 0], out["samples"][-1, 1])  # different initialisations
    again = gen.train_gan(X, cfg, seed=0)
    assert_allclose(again["samples"], out["samples"])  # deterministic given the seed
    with pytest.raises(ValueError, match="multiple of pack"):
        gen.GANConfig(batch_size=10, pack=3)
    with pytest.raises(TypeError, match="config"):
        gen.train_gan(X, {"steps": 3})


def test_ensemble_layer_equals_separate_linear_layers():
    torch.manual_seed(0)
    mlp = gen._ensemble_mlp(3, [2, 5, 1], torch.nn.ReLU)
    x = torch.randn(3, 4, 2)
    out = mlp(x)
    for r in range(3):
        w0, b0, w1, b1 = mlp[0].weight[r], mlp[0].bias[r], mlp[2].weight[r], mlp[2].bias[r]
        ref = torch.relu(x[r] @ w0 + b0) @ w1 + b1
        assert_allclose(out[r].detach().numpy(), ref.detach().numpy(), rtol=1e-6)


# -------------------------------------------------------------------- DDPM
@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_closed_form_forward_process_matches_iterating_it(schedule):
    """x_t from q(x_t | x_0) in one jump has the same distribution as t noising steps in a row."""
    T = 50
    betas = gen.linear_betas(T, 1e-3, 0.1) if schedule == "linear" else gen.cosine_betas(T)
    alpha_bar = np.cumprod(1 - betas)
    rng = np.random.default_rng(0)
    x0 = np.full((200_000, 1), 1.5)
    t = 30
    x = x0.copy()
    for s in range(t + 1):  # steps 0..t, each x <- sqrt(1 - beta) x + sqrt(beta) eps
        x = np.sqrt(1 - betas[s]) * x + np.sqrt(betas[s]) * rng.standard_normal(x.shape)
    jump = gen.q_sample(x0, np.full(len(x0), t), alpha_bar, rng.standard_normal(x0.shape))
    assert_allclose([x.mean(), x.var()], [jump.mean(), jump.var()], atol=0.01)
    assert_allclose(x.mean(), np.sqrt(alpha_bar[t]) * 1.5, atol=0.01)
    assert_allclose(x.var(), 1 - alpha_bar[t], atol=0.01)
    # the same holds exactly for the mean and variance, computed by recursion
    m, v = 1.5, 0.0
    for s in range(t + 1):
        m, v = np.sqrt(1 - betas[s]) * m, (1 - betas[s]) * v + betas[s]
    assert_allclose([m, v], [np.sqrt(alpha_bar[t]) * 1.5, 1 - alpha_bar[t]], rtol=1e-12)


def test_schedules():
    b = gen.linear_betas(1000)
    assert b[0] == pytest.approx(1e-4) and b[-1] == pytest.approx(0.02)
    c = gen.cosine_betas(100)
    ab = np.cumprod(1 - c)
    assert np.all(np.diff(ab) < 0) and ab[-1] < 1e-4 and 0.99 < ab[0] < 1
    with pytest.raises(ValueError, match="beta_T"):
        gen.linear_betas(10, 1e-4, 1.0)


def test_ddpm_sampling_with_the_exact_noise_predictor_recovers_a_gaussian():
    """For data N(m, s^2) the optimal eps-predictor is known in closed form; sampling must give the data back."""
    T = 100
    betas = gen.cosine_betas(T)
    ab = torch.tensor(np.cumprod(1 - betas), dtype=torch.float32)
    m, s = 2.0, 0.5

    def exact(x, t):  # x_t ~ N(sqrt(ab) m, ab s^2 + 1 - ab): eps = E[eps | x_t]
        a = ab[t][:, None]
        var = a * s * s + 1 - a
        return (1 - a).sqrt() * (x - a.sqrt() * m) / var

    x0 = gen.ddpm_sample(exact, betas, 20_000, dim=1, generator=torch.Generator().manual_seed(0))
    assert_allclose([x0.mean(), x0.std()], [m, s], atol=0.03)


def test_ddpm_loss_and_predictor_shapes():
    T = 10
    model = gen.noise_predictor(T, hidden=16)
    ab = torch.tensor(np.cumprod(1 - gen.cosine_betas(T)), dtype=torch.float32)
    loss = gen.ddpm_loss(model, torch.randn(32, 2), ab, torch.Generator().manual_seed(0))
    assert loss.ndim == 0 and loss.item() > 0
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    x0, kept = gen.ddpm_sample(model, gen.cosine_betas(T), 5, keep=(9, 0))
    assert x0.shape == (5, 2) and set(kept) == {9, 0}
