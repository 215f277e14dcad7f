r"""Generative models from scratch: data on a ring, sample-quality metrics, VAE, GAN and DDPM pieces.

The chapter's generative models are small PyTorch networks; this module holds what
is worth reusing and testing:

* **data**: a mixture of Gaussians on a ring (:func:`ring_gaussians`), the usual toy
  target for mode collapse;
* **metrics**: ROC AUC (:func:`roc_auc`), the kernel maximum mean discrepancy
  (:func:`mmd_rbf`), the energy distance (:func:`energy_distance`), the sliced
  Wasserstein distance (:func:`sliced_wasserstein`), and mode coverage with the
  fraction of high-quality samples (:func:`mode_coverage`);
* **VAE**: the Gaussian KL term (:func:`gaussian_kl`), the reparameterisation
  (:func:`reparameterize`), the negative ELBO (:func:`vae_loss`) and a small MLP VAE
  (:func:`mlp_vae`);
* **GAN**: several small GANs trained at once as one batched ensemble, with an
  optional packed discriminator (PacGAN) against mode collapse (:func:`train_gan`);
* **DDPM**: noise schedules (:func:`linear_betas`, :func:`cosine_betas`), the closed
  form of the forward process (:func:`q_sample`), the noise-prediction loss
  (:func:`ddpm_loss`), a noise predictor (:func:`noise_predictor`) and ancestral
  sampling (:func:`ddpm_sample`).

NumPy functions take and return arrays; the torch pieces import torch when called,
so importing this module stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _checks
from . import rng as _rng

__all__ = [
    "ring_centers", "ring_gaussians", "roc_auc", "mmd_rbf", "energy_distance", "sliced_wasserstein",
    "mode_coverage", "gaussian_kl", "reparameterize", "vae_loss", "mlp_vae", "GANConfig", "train_gan",
    "linear_betas", "cosine_betas", "q_sample", "time_embedding", "noise_predictor", "ddpm_loss",
    "ddpm_sample",
]


# ---------------------------------------------------------------------------- data
def ring_centers(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    r"""The centres :math:`r(\cos 2\pi k/K, \sin 2\pi k/K)` of ``n_modes`` Gaussians on a ring.

    Shape:
        Output: ``(n_modes, 2)``, float64.

    Example:
        >>> ring_centers(4, 1.0).round(3).tolist()
        [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0]]
    """
    n_modes = _checks.integer(n_modes, "n_modes", minimum=1)
    radius = _checks.positive(radius, "radius")
    angle = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def ring_gaussians(n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                   rng=None) -> tuple[np.ndarray, np.ndarray]:
    r"""``n`` points from an equal mixture of isotropic Gaussians centred on a ring.

    :math:`x = c_k + \sigma \varepsilon`, with :math:`k` uniform over the modes and
    :math:`\varepsilon \sim \mathcal N(0, I_2)`.

    Args:
        n: number of points.
        n_modes: number of Gaussians :math:`K`.
        radius: radius of the ring.
        std: standard deviation :math:`\sigma` of each Gaussian.
        rng: a ``numpy.random.Generator``, a seed, or None (nblib's generator).

    Returns:
        ``(X, mode)``: float32 points ``(n, 2)`` and the int64 mode of each ``(n,)``.
    """
    n = _checks.integer(n, "n", minimum=1)
    std = _checks.positive(std, "std", allow_zero=True)
    centers = ring_centers(n_modes, radius)
    gen = _rng.resolve(rng)
    mode = gen.integers(0, len(centers), n)
    X = centers[mode] + std * gen.standard_normal((n, 2))
    if np.abs(X).max() > np.finfo(np.float32).max:
        raise ValueError(f"radius ({radius:g}) and std ({std:g}) put points beyond float32's range")
    return X.astype(np.float32), mode.astype(np.int64)


# ------------------------------------------------------------------------- metrics
def roc_auc(scores, labels) -> float:
    r"""Area under the ROC curve: the probability that a random positive outscores a random negative.

    Computed from ranks (the Mann-Whitney statistic): with :math:`R_+` the sum of the
    positives' ranks among all scores (ties get their average rank),

    .. math:: \mathrm{AUC} = \frac{R_+ - n_+(n_+ + 1)/2}{n_+ n_-},

    so a tie between a positive and a negative counts one half.

    Args:
        scores: higher means "more likely positive", shape ``(N,)``.
        labels: 1 for positive (e.g. anomaly), 0 for negative, shape ``(N,)``.

    Example:
        >>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
        0.75
    """
    s = _checks.as_array(scores, "scores", ndim=1).astype(np.float64)
    y = _checks.as_labels(labels, "labels", n=len(s), n_classes=2)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"labels must contain both classes, got {n_pos} positives and {n_neg} negatives")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # average rank of each group of tied scores (ranks start at 1)
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _two_samples(X, Y):
    X = _checks.as_array(X, "X").astype(np.float64)
    Y = _checks.as_array(Y, "Y").astype(np.float64)
    X = X[:, None] if X.ndim == 1 else X
    Y = Y[:, None] if Y.ndim == 1 else Y
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(f"X and Y must be 1-D or 2-D, got shapes {X.shape} and {Y.shape}")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must have the same number of features, got {X.shape[1]} and {Y.shape[1]}")
    if len(X) == 0 or len(Y) == 0:
        raise ValueError("X and Y must each hold at least one sample")
    return X, Y


def _sq_dists(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T  # (N, M)
    return np.maximum(d, 0.0)


def mmd_rbf(X, Y, bandwidth: float = 1.0) -> float:
    r"""Squared maximum mean discrepancy with a Gaussian (RBF) kernel, biased (V-statistic) estimate.

    With :math:`k(x, y) = \exp(-\lVert x - y\rVert^2 / (2h^2))`,

    .. math:: \mathrm{MMD}^2 = \overline{k(X, X')} + \overline{k(Y, Y')} - 2\,\overline{k(X, Y)},

    each bar the mean over all pairs (Gretton et al. 2012). It is zero for identical
    sets, symmetric, never negative, and zero in the population limit only when the two
    distributions are equal.

    Args:
        X: samples ``(N, D)`` (or ``(N,)`` for 1-D).
        Y: samples ``(M, D)``.
        bandwidth: kernel width :math:`h`, in the units of the data.

    Example:
        >>> round(mmd_rbf([[0.0]], [[1.0]]), 4)  # 1 + 1 - 2 exp(-1/2)
        0.7869
    """
    X, Y = _two_samples(X, Y)
    h = _checks.positive(bandwidth, "bandwidth")
    if 2 * h * h == 0:
        raise ValueError(f"bandwidth is too small: 2 * bandwidth**2 underflows to 0, got {h}")
    k = lambda A, B: np.exp(-_sq_dists(A, B) / (2 * h * h)).mean()  # noqa: E731
    return float(max(k(X, X) + k(Y, Y) - 2 * k(X, Y), 0.0))


def energy_distance(X, Y) -> float:
    r"""The energy distance :math:`\sqrt{2\,\overline{|X - Y|} - \overline{|X - X'|} - \overline{|Y - Y'|}}`.

    Each bar is the mean Euclidean distance over all pairs (Székely and Rizzo). In 1-D
    this is what ``scipy.stats.energy_distance`` computes; the squared value is the MMD
    of the kernel :math:`-\lVert x - y\rVert`, so it needs no bandwidth.

    Args:
        X: samples ``(N, D)`` (or ``(N,)`` for 1-D).
        Y: samples ``(M, D)``.

    Example:
        >>> round(energy_distance([0.0], [2.0]), 4)  # sqrt(2 * 2)
        2.0
    """
    X, Y = _two_samples(X, Y)
    d = lambda A, B: np.sqrt(_sq_dists(A, B)).mean()  # noqa: E731
    return float(np.sqrt(max(2 * d(X, Y) - d(X, X) - d(Y, Y), 0.0)))


def sliced_wasserstein(X, Y, n_projections: int = 64, rng=None) -> float:
    r"""The sliced 1-Wasserstein distance: :math:`W_1` of 1-D projections, averaged over random directions.

    Each direction :math:`\theta` on the unit sphere projects both sets to 1-D, where
    :math:`W_1` is the mean absolute difference of the sorted values (for equal sizes);
    for unequal sizes both empirical quantile functions are compared on a common grid.
    In 1-D every direction is :math:`\pm 1`, so the result equals
    ``scipy.stats.wasserstein_distance``.

    Args:
        X: samples ``(N, D)`` (or ``(N,)`` for 1-D).
        Y: samples ``(M, D)``.
        n_projections: number of random directions.
        rng: a ``numpy.random.Generator``, a seed, or None (nblib's generator).
    """
    X, Y = _two_samples(X, Y)
    n_projections = _checks.integer(n_projections, "n_projections", minimum=1)
    theta = _rng.resolve(rng).standard_normal((X.shape[1], n_projections))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    px, py = np.sort(X @ theta, axis=0), np.sort(Y @ theta, axis=0)  # (N, P), (M, P)
    if len(px) == len(py):
        return float(np.abs(px - py).mean())
    # W1 = integral over u of |F^-1(u) - G^-1(u)|: the quantile functions are step functions
    u = np.union1d(np.arange(1, len(px) + 1) / len(px), np.arange(1, len(py) + 1) / len(py))  # breakpoints
    du = np.diff(np.concatenate([[0.0], u]))
    mid = u - du / 2
    qx = px[np.minimum((mid * len(px)).astype(int), len(px) - 1)]
    qy = py[np.minimum((mid * len(py)).astype(int), len(py) - 1)]
    return float((np.abs(qx - qy) * du[:, None]).sum(0).mean())


def mode_coverage(samples, centers, std: float, n_sigma: float = 3.0,
                  min_share: float = 0.2) -> tuple[int, float]:
    r"""How many modes a sampler covers, and what fraction of its samples are high quality.

    A sample is *high quality* if it lies within ``n_sigma`` standard deviations of
    its nearest centre; a mode is *covered* if it receives at least ``min_share`` of
    its fair share, :math:`\text{min\_share} \cdot N / K`, of high-quality samples
    (the convention of Srivastava et al. 2017 and Lin et al. 2018, in relative form).

    Args:
        samples: generated points ``(N, 2)``.
        centers: mode centres ``(K, 2)``.
        std: the modes' standard deviation :math:`\sigma`.
        n_sigma: radius of the high-quality region in units of :math:`\sigma`.
        min_share: fraction of a fair share a mode needs to count as covered.

    Returns:
        ``(modes_covered, high_quality_fraction)``.
    """
    S = _checks.as_array(samples, "samples", ndim=2, finite=False).astype(np.float64)
    C = _checks.as_array(centers, "centers", ndim=2).astype(np.float64)
    if S.shape[1] != C.shape[1]:
        raise ValueError(f"samples and centers must have the same dimension, got {S.shape[1]} and {C.shape[1]}")
    std = _checks.positive(std, "std")
    n_sigma = _checks.positive(n_sigma, "n_sigma")
    min_share = _checks.in_range(min_share, "min_share", 0.0, 1.0)
    ok = np.isfinite(S).all(1)
    d = np.sqrt(_sq_dists(np.where(ok[:, None], S, 0.0), C))  # (N, K)
    nearest, dist = d.argmin(1), d.min(1)
    good = ok & (dist <= n_sigma * std)
    counts = np.bincount(nearest[good], minlength=len(C))
    covered = int((counts >= max(1.0, min_share * len(S) / len(C))).sum())
    return covered, float(good.mean())


# ------------------------------------------------------------------------------ VAE
def _float_tensor(x, name: str, *, ndim: int | None = None):
    """Check that ``x`` is a floating-point torch tensor (of ``ndim`` dimensions, if given)."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if ndim is not None and x.dim() != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(x.shape)}")
    return x


def _generator(generator, name: str = "generator"):
    import torch

    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {type(generator).__name__}")
    return generator

def gaussian_kl(mu, logvar):
    r"""KL divergence from :math:`\mathcal N(\mu, \operatorname{diag}\sigma^2)` to :math:`\mathcal N(0, I)`.

    .. math:: \mathrm{KL} = \tfrac12 \sum_j \left(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1\right),
       \qquad \log\sigma^2 = \texttt{logvar}.

    Args:
        mu, logvar: torch tensors of the same shape ``(*, L)``.

    Shape:
        Output: ``(*)``, summed over the last (latent) dimension.
    """
    _float_tensor(mu, "mu")
    _float_tensor(logvar, "logvar")
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(-1)


def reparameterize(mu, logvar, generator=None):
    r"""A differentiable sample :math:`z = \mu + \sigma \odot \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, I)`.

    The randomness sits in :math:`\varepsilon`, outside the network, so gradients
    flow to :math:`\mu` and :math:`\sigma = \exp(\tfrac12\texttt{logvar})` (Kingma and Welling 2014).

    Args:
        mu, logvar: torch tensors ``(*, L)``.
        generator: an optional ``torch.Generator``.
    """
    import torch

    _float_tensor(mu, "mu")
    _float_tensor(logvar, "logvar")
    _generator(generator)
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


def vae_loss(x, logits, mu, logvar, beta: float = 1.0):
    r"""Negative ELBO per example, split into its two terms, with a Bernoulli decoder.

    .. math:: -\mathrm{ELBO} = \underbrace{-\log p(x \mid z)}_{\text{reconstruction}}
       + \beta\,\underbrace{\mathrm{KL}(q(z \mid x)\,\Vert\,p(z))}_{\text{regulariser}},

    where the reconstruction term is the binary cross-entropy between pixels in
    :math:`[0, 1]` and the decoder's logits, summed over pixels.

    Args:
        x: targets ``(B, D)`` in [0, 1]; logits: decoder outputs ``(B, D)``;
        mu, logvar: encoder outputs ``(B, L)``; beta: weight of the KL term (1 is the ELBO).

    Returns:
        ``(loss, reconstruction, kl)``, each a scalar tensor averaged over the batch.
    """
    import torch.nn.functional as F

    beta = _checks.positive(beta, "beta", allow_zero=True)
    for value, name in ((x, "x"), (logits, "logits"), (mu, "mu"), (logvar, "logvar")):
        _float_tensor(value, name)
    if x.dtype != logits.dtype:
        raise TypeError(f"x and logits must share a dtype, got {x.dtype} and {logits.dtype}")
    if x.shape != logits.shape:
        raise ValueError(f"x and logits must have the same shape, got {tuple(x.shape)} and {tuple(logits.shape)}")
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return rec + beta * kl, rec, kl


def _vae_class():
    import torch
    from torch import nn

    class VAE(nn.Module):
        """An MLP encoder to ``(mu, logvar)`` and an MLP decoder to pixel logits."""

        def __init__(self, in_features: int, hidden: int, latent: int):
            super().__init__()
            self.in_features, self.hidden, self.latent = in_features, hidden, latent
            self.encoder = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU())
            self.to_stats = nn.Linear(hidden, 2 * latent)
            self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, in_features))

        def encode(self, x):
            mu, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=-1)  # (B, L), (B, L)
            return mu, logvar

        def decode(self, z):
            return self.decoder(z)  # (B, D) logits

        def forward(self, x, generator=None):
            _float_tensor(x, "x")
            weight = self.encoder[0].weight
            if x.dim() < 1 or x.shape[-1] != self.in_features:
                raise ValueError(f"x must have in_features={self.in_features} features in its last dimension, "
                                 f"got shape {tuple(x.shape)}")
            if x.dtype != weight.dtype:
                raise TypeError(f"x must have the model's dtype {weight.dtype}, got {x.dtype}")
            mu, logvar = self.encode(x)
            return self.decode(reparameterize(mu, logvar, generator)), mu, logvar

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, hidden={self.hidden}, latent={self.latent}"

    return VAE, torch


def mlp_vae(in_features: int = 64, hidden: int = 128, latent: int = 2, seed: int = 0):
    r"""A small VAE: ``in_features -> hidden -> (mu, logvar)`` and ``latent -> hidden -> in_features`` logits.

    ``forward(x)`` returns ``(logits, mu, logvar)``; ``encode`` and ``decode`` are
    exposed for the latent-space pictures.

    Example:
        >>> import torch
        >>> logits, mu, logvar = mlp_vae(64, 32, 2)(torch.rand(5, 64))
        >>> tuple(logits.shape), tuple(mu.shape)
        ((5, 64), (5, 2))
    """
    in_features = _checks.integer(in_features, "in_features", minimum=1)
    hidden = _checks.integer(hidden, "hidden", minimum=1)
    latent = _checks.integer(latent, "latent", minimum=1)
    seed = _checks.integer(seed, "seed", minimum=0)
    VAE, torch = _vae_class()
    torch.manual_seed(seed)
    return VAE(in_features, hidden, latent)


# ------------------------------------------------------------------------------ GAN
@dataclass(frozen=True)
class GANConfig:
    """Settings of :func:`train_gan`; the defaults are the chapter's."""

    n_runs: int = 8          # independent GANs (seeds) trained together as one batched ensemble
    steps: int = 1500        # alternating D and G updates: enough for the ring on a CPU in seconds
    batch_size: int = 128    # real and fake samples per run per step
    hidden: int = 64         # width of the two hidden layers of G and D
    latent: int = 2          # dimension of the noise z fed to G
    lr_g: float = 3e-3       # G learns faster than D: a setting prone to mode collapse
    lr_d: float = 1e-3
    pack: int = 1            # samples the discriminator sees together (PacGAN); 1 is a plain GAN
    n_snapshots: int = 7     # generator samples stored at evenly spaced steps, step 0 included
    n_samples: int = 2000    # samples per run per snapshot

    def __post_init__(self):
        for name in ("n_runs", "steps", "batch_size", "hidden", "latent", "pack", "n_snapshots", "n_samples"):
            _checks.integer(getattr(self, name), name, minimum=1)
        _checks.positive(self.lr_g, "lr_g")
        _checks.positive(self.lr_d, "lr_d")
        if self.batch_size % self.pack:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of pack ({self.pack})")
        if self.n_snapshots < 2:
            raise ValueError(f"n_snapshots must be >= 2 (start and end), got {self.n_snapshots}")


def _ensemble_mlp(n_runs: int, sizes, act):
    import torch
    from torch import nn

    class EnsembleLinear(nn.Module):
        """``n_runs`` independent linear layers applied at once: ``y[r] = x[r] @ W[r] + b[r]``."""

        def __init__(self, in_features, out_features):
            super().__init__()
            # LeCun-normal weights (variance 1/fan_in) and zero biases
            self.weight = nn.Parameter(torch.randn(n_runs, in_features, out_features) / math.sqrt(in_features))
            self.bias = nn.Parameter(torch.zeros(n_runs, 1, out_features))

        def forward(self, x):  # (R, B, in) -> (R, B, out)
            return torch.baddbmm(self.bias, x, self.weight)

    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(EnsembleLinear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def train_gan(data, config: GANConfig = GANConfig(), seed: int = 0) -> dict:
    r"""Train ``config.n_runs`` small GANs at once on 2-D data; return snapshots of their samples.

    Each run is an independent generator :math:`G` (MLP, ReLU) and discriminator
    :math:`D` (MLP, LeakyReLU), stored as one batched ensemble so that the runs cost
    about as much as one. The losses are Goodfellow et al.'s (2014) with the
    non-saturating generator loss:

    .. math:: L_D = -\log D(x) - \log(1 - D(G(z))), \qquad L_G = -\log D(G(z)).

    With ``pack = m > 1`` the discriminator scores ``m`` samples concatenated, all real
    or all fake (PacGAN, Lin et al. 2018): a generator that puts every sample on one
    mode then produces packs that look nothing like real packs, which penalises
    mode collapse.

    Args:
        data: real points ``(N, 2)``; each step draws a batch per run with replacement.
        config: a :class:`GANConfig`.
        seed: seeds the networks and every random draw.

    Returns:
        ``{"steps": (S,), "samples": (S, R, n_samples, 2), "loss_d": (steps,), "loss_g": (steps,)}``:
        the snapshot steps, generator samples at each (float32), and the losses averaged over runs.
    """
    import torch
    import torch.nn.functional as F

    X = _checks.as_array(data, "data", ndim=2).astype(np.float32)
    if not isinstance(config, GANConfig):
        raise TypeError(f"config must be a GANConfig, got {type(config).__name__}")
    seed = _checks.integer(seed, "seed", minimum=0)
    c = config
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    D_in = X.shape[1]
    G = _ensemble_mlp(c.n_runs, [c.latent, c.hidden, c.hidden, D_in], torch.nn.ReLU)
    D = _ensemble_mlp(c.n_runs, [D_in * c.pack, c.hidden, c.hidden, 1], lambda: torch.nn.LeakyReLU(0.2))
    opt_g = torch.optim.Adam(G.parameters(), lr=c.lr_g, betas=(0.5, 0.999), foreach=True)
    opt_d = torch.optim.Adam(D.parameters(), lr=c.lr_d, betas=(0.5, 0.999), foreach=True)
    real_all = torch.from_numpy(X)
    z_eval = torch.randn(c.n_runs, c.n_samples, c.latent, generator=gen)  # the same noise at every snapshot
    snap_steps = np.linspace(0, c.steps, c.n_snapshots).round().astype(int)
    samples, loss_d, loss_g = [], np.zeros(c.steps), np.zeros(c.steps)
    pack = lambda x: x.reshape(c.n_runs, c.batch_size // c.pack, D_in * c.pack)  # noqa: E731  (R, B/m, m*D)
    for step in range(c.steps + 1):
        if step in snap_steps:
            with torch.no_grad():
                samples.append(G(z_eval).numpy().copy())  # (R, n, D)
        if step == c.steps:
            break
        idx = torch.randint(0, len(real_all), (c.n_runs, c.batch_size), generator=gen)
        real = real_all[idx]  # (R, B, D)
        fake = G(torch.randn(c.n_runs, c.batch_size, c.latent, generator=gen))  # (R, B, D)
        d_real, d_fake = D(pack(real)), D(pack(fake.detach()))
        ld = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
              + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        opt_d.zero_grad()
        ld.backward()
        opt_d.step()
        d_fake = D(pack(fake))
        lg = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        opt_g.zero_grad()
        lg.backward()
        opt_g.step()
        loss_d[step], loss_g[step] = ld.item(), lg.item()
    return {"steps": snap_steps, "samples": np.stack(samples), "loss_d": loss_d, "loss_g": loss_g}


# ----------------------------------------------------------------------------- DDPM
def linear_betas(T: int, beta_1: float = 1e-4, beta_T: float = 0.02) -> np.ndarray:
    r"""Ho et al.'s (2020) schedule: :math:`\beta_t` rising linearly from ``beta_1`` to ``beta_T`` over ``T`` steps.

    Shape:
        Output: ``(T,)``, float64, :math:`\beta_1, \dots, \beta_T` (index ``t - 1``).
    """
    T = _checks.integer(T, "T", minimum=1)
    beta_1 = _checks.in_range(beta_1, "beta_1", 0.0, 1.0, high_open=True)
    beta_T = _checks.in_range(beta_T, "beta_T", 0.0, 1.0, high_open=True)
    return np.linspace(beta_1, beta_T, T)


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    r"""Nichol and Dhariwal's (2021) cosine schedule, defined through :math:`\bar\alpha_t`.

    .. math:: \bar\alpha_t = \frac{f(t)}{f(0)},\quad f(t) = \cos^2\!\Big(\frac{t/T + s}{1 + s}\cdot\frac{\pi}{2}\Big),
       \qquad \beta_t = \min\!\Big(1 - \frac{\bar\alpha_t}{\bar\alpha_{t-1}},\ \beta_{\max}\Big).

    Shape:
        Output: ``(T,)``, float64.
    """
    T = _checks.integer(T, "T", minimum=1)
    s = _checks.positive(s, "s", allow_zero=True)
    max_beta = _checks.in_range(max_beta, "max_beta", 0.0, 1.0, high_open=True)
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * np.pi / 2) ** 2
    return np.minimum(1 - f[1:] / f[:-1], max_beta)


def _q_sample_args(x0, t, alpha_bar, noise):
    """Check :func:`q_sample`'s arguments: all NumPy arrays or all torch tensors, of matching shapes."""
    args = {"x0": x0, "t": t, "alpha_bar": alpha_bar, "noise": noise}
    torch_args = [n for n, v in args.items() if type(v).__module__.startswith("torch")]
    if torch_args:
        import torch

        if len(torch_args) != 4:
            odd = sorted(set(args) - set(torch_args))
            raise TypeError(f"x0, t, alpha_bar and noise must all be torch tensors or all arrays; "
                            f"{', '.join(odd)} are not tensors")
        for name in ("x0", "alpha_bar", "noise"):
            _float_tensor(args[name], name)
        if t.is_floating_point() or t.is_complex() or t.dtype is torch.bool:
            raise TypeError(f"t must hold integer step indices, got dtype {t.dtype}")
        values = alpha_bar.detach().cpu().numpy()
    else:
        x0 = _checks.as_array(x0, "x0", finite=False)
        t = _checks.as_labels(t, "t")
        alpha_bar = _checks.as_array(alpha_bar, "alpha_bar", ndim=1)
        noise = _checks.as_array(noise, "noise", finite=False)
        values = alpha_bar
    if alpha_bar.ndim != 1 or len(alpha_bar) == 0:
        raise ValueError(f"alpha_bar must be a non-empty 1-D schedule, got shape {tuple(alpha_bar.shape)}")
    if not ((values >= 0) & (values <= 1)).all():
        raise ValueError("alpha_bar must lie in [0, 1]")
    if x0.ndim != 2:
        raise ValueError(f"x0 must be 2-D (B, D), got shape {tuple(x0.shape)}")
    if tuple(noise.shape) != tuple(x0.shape):
        raise ValueError(f"noise must have the shape of x0 {tuple(x0.shape)}, got {tuple(noise.shape)}")
    if t.ndim != 1 or len(t) != len(x0):
        raise ValueError(f"t must be 1-D with one step per row of x0 ({len(x0)}), got shape {tuple(t.shape)}")
    if len(t) and (int(t.min()) < 0 or int(t.max()) >= len(alpha_bar)):
        raise ValueError(f"t must lie in [0, {len(alpha_bar)}), got values in [{int(t.min())}, {int(t.max())}]")
    return x0, t, alpha_bar, noise


def q_sample(x0, t, alpha_bar, noise):
    r"""A draw from the forward process in closed form, :math:`q(x_t \mid x_0)`.

    .. math:: x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon,
       \qquad \bar\alpha_t = \prod_{s \le t} (1 - \beta_s).

    Works on NumPy arrays and on torch tensors alike.

    Args:
        x0: clean data ``(B, D)``.
        t: step index per example ``(B,)``, 0-based: ``t = 0`` is the first noising step.
        alpha_bar: cumulative products ``(T,)``.
        noise: standard normal noise ``(B, D)``.
    """
    x0, t, alpha_bar, noise = _q_sample_args(x0, t, alpha_bar, noise)
    a = alpha_bar[t]  # (B,)
    return a[:, None] ** 0.5 * x0 + (1 - a[:, None]) ** 0.5 * noise


def time_embedding(t, T: int, n_frequencies: int = 8):
    r"""Sinusoidal features of the step: :math:`\sin(k\pi t/T), \cos(k\pi t/T)` for :math:`k = 1..F`.

    Shape:
        ``t``: ``(B,)`` integer tensor; output ``(B, 2F)`` float32 tensor.
    """
    import torch

    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t must be a torch tensor of steps, got {type(t).__name__}")
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"t must hold integer (or real) steps, got dtype {t.dtype}")
    if t.dim() != 1:
        raise ValueError(f"t must be 1-D (B,), got shape {tuple(t.shape)}")
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise ValueError("t contains NaN or inf")
    T = _checks.integer(T, "T", minimum=1)
    n_frequencies = _checks.integer(n_frequencies, "n_frequencies", minimum=1)
    k = torch.arange(1, n_frequencies + 1, dtype=torch.float32)
    angle = t.float()[:, None] / T * math.pi * k  # (B, F)
    return torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)


def noise_predictor(T: int, dim: int = 2, hidden: int = 128, n_frequencies: int = 8, seed: int = 0):
    r"""An MLP :math:`\varepsilon_\theta(x_t, t)`: the point and the step's sinusoidal features in, the noise out.

    The returned module is called as ``model(x_t, t)`` with ``x_t`` of shape ``(B, dim)``
    and integer steps ``t`` of shape ``(B,)``; it returns ``(B, dim)``.
    """
    import torch
    from torch import nn

    T = _checks.integer(T, "T", minimum=1)
    dim = _checks.integer(dim, "dim", minimum=1)
    hidden = _checks.integer(hidden, "hidden", minimum=1)
    n_frequencies = _checks.integer(n_frequencies, "n_frequencies", minimum=1)
    torch.manual_seed(_checks.integer(seed, "seed", minimum=0))

    class NoisePredictor(nn.Module):
        def __init__(self):
            super().__init__()
            self.T, self.n_frequencies, self.dim = T, n_frequencies, dim
            self.net = nn.Sequential(nn.Linear(dim + 2 * n_frequencies, hidden), nn.SiLU(),
                                     nn.Linear(hidden, hidden), nn.SiLU(),
                                     nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, dim))

        def forward(self, x, t):
            _float_tensor(x, "x", ndim=2)
            if x.shape[1] != self.dim:
                raise ValueError(f"x must have shape (B, {self.dim}), got {tuple(x.shape)}")
            if x.dtype != self.net[0].weight.dtype:
                raise TypeError(f"x must have the model's dtype {self.net[0].weight.dtype}, got {x.dtype}")
            if isinstance(t, torch.Tensor) and t.dim() == 1 and len(t) != len(x):
                raise ValueError(f"t must hold one step per row of x ({len(x)}), got {len(t)}")
            return self.net(torch.cat([x, time_embedding(t, self.T, self.n_frequencies)], dim=1))

    return NoisePredictor()


def ddpm_loss(model, x0, alpha_bar, generator=None):
    r"""Ho et al.'s simplified objective: :math:`\lVert \varepsilon - \varepsilon_\theta(x_t, t)\rVert^2`, averaged.

    Draws one step :math:`t` uniformly and one noise :math:`\varepsilon` per example,
    builds :math:`x_t` with :func:`q_sample`, and returns the mean squared error of the
    predicted noise.

    Args:
        model: called as ``model(x_t, t)``.
        x0: a batch of clean data, a float32 tensor ``(B, D)``.
        alpha_bar: float32 tensor ``(T,)``.
        generator: an optional ``torch.Generator``.
    """
    import torch

    if not callable(model):
        raise TypeError(f"model must be callable, got {type(model).__name__}")
    _float_tensor(x0, "x0", ndim=2)
    _float_tensor(alpha_bar, "alpha_bar", ndim=1)
    _generator(generator)
    if len(x0) == 0 or len(alpha_bar) == 0:
        raise ValueError(f"x0 and alpha_bar must be non-empty, got shapes {tuple(x0.shape)} and "
                         f"{tuple(alpha_bar.shape)}")
    if getattr(model, "dim", x0.shape[1]) != x0.shape[1]:
        raise ValueError(f"x0 has {x0.shape[1]} features but the model takes {model.dim}")
    t = torch.randint(0, len(alpha_bar), (len(x0),), generator=generator)  # (B,)
    noise = torch.randn(x0.shape, generator=generator)  # (B, D)
    return (model(q_sample(x0, t, alpha_bar, noise), t) - noise).pow(2).mean()


def ddpm_sample(model, betas, n: int, dim: int = 2, generator=None, keep=()):
    r"""Ancestral sampling: from :math:`x_T \sim \mathcal N(0, I)` down to :math:`x_0`, one step at a time.

    .. math:: x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}
       \,\varepsilon_\theta(x_t, t)\Big) + \sigma_t z, \qquad \sigma_t^2 = \beta_t,\ z \sim \mathcal N(0, I),

    with no noise added at the last step (Ho et al. 2020, Algorithm 2).

    Args:
        model: the trained noise predictor, called as ``model(x_t, t)``.
        betas: the schedule ``(T,)`` (array or tensor).
        n: number of samples; dim: their dimension.
        generator: an optional ``torch.Generator``.
        keep: the 0-based step indices ``t`` whose state ``x_t`` (before the step) to return too.

    Returns:
        ``x0`` as a float32 NumPy array ``(n, dim)``, or ``(x0, {t: x_t})`` if ``keep`` is given.
    """
    import torch

    if not callable(model):
        raise TypeError(f"model must be callable, got {type(model).__name__}")
    n = _checks.integer(n, "n", minimum=1)
    dim = _checks.integer(dim, "dim", minimum=1)
    if getattr(model, "dim", dim) != dim:
        raise ValueError(f"dim is {dim} but the model takes points of dimension {model.dim}")
    _generator(generator)
    if isinstance(betas, torch.Tensor):
        betas = betas.detach().cpu().numpy()
    betas = _checks.as_array(betas, "betas", ndim=1)
    if len(betas) == 0:
        raise ValueError("betas is empty: the schedule needs at least one step")
    if not ((betas > 0) & (betas < 1)).all():
        raise ValueError(f"betas must lie in (0, 1), got values in [{betas.min()}, {betas.max()}]")
    if keep is None:
        keep = ()
    if isinstance(keep, (str, bytes)) or not hasattr(keep, "__iter__"):
        raise TypeError(f"keep must be a collection of step indices, got {type(keep).__name__}")
    keep_steps = {_checks.integer(k, "keep") for k in keep}
    if keep_steps and (min(keep_steps) < 0 or max(keep_steps) >= len(betas)):
        raise ValueError(f"keep must hold steps in [0, {len(betas)}), got {sorted(keep_steps)}")
    keep = keep_steps
    betas = torch.as_tensor(np.asarray(betas, dtype=np.float32))
    alphas = 1 - betas
    alpha_bar = torch.cumprod(alphas, 0)
    x = torch.randn(n, dim, generator=generator)  # x_T, (n, dim)
    kept = {}
    with torch.no_grad():
        for t in reversed(range(len(betas))):
            if t in keep:
                kept[t] = x.numpy().copy()
            eps = model(x, torch.full((n,), t))
            x = (x - betas[t] / (1 - alpha_bar[t]).sqrt() * eps) / alphas[t].sqrt()
            if t > 0:
                x = x + betas[t].sqrt() * torch.randn(n, dim, generator=generator)
    x0 = x.numpy().astype(np.float32)
    return (x0, kept) if keep else x0
