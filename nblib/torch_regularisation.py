"""The torch side of the regularisation toolbox (chapter 11).

Chapter 5 built the NumPy regularisers (:mod:`nblib.regularisation`). This module holds
the pieces chapter 11 trains with torch:

* :func:`smoothed_cross_entropy`, cross-entropy against label-smoothed targets;
* :class:`DropPath` (stochastic depth) and :func:`residual_mlp`, a small residual network
  whose residual branches it can drop;
* :func:`l2_in_loss`, the penalty :math:`\\tfrac{\\lambda}{2}\\sum\\theta^2` as a torch scalar,
  to compare with the decoupled weight decay of ``torch.optim.AdamW``;
* :func:`confidence_and_ece`, the mean top probability and the expected calibration error;
* :class:`TorchEarlyStopping`, an adapter that drives :class:`nblib.regularisation.EarlyStopping`
  from :func:`nblib.torch_train.fit` and keeps the best ``state_dict``;
* :func:`train_config` and :func:`benchmark`, which train one configuration over several
  seeds and report the mean and standard deviation of its accuracies.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import numpy as np

from . import _checks


# ------------------------------------------------------------------ label smoothing
def smoothed_cross_entropy(input, target, label_smoothing: float = 0.0):
    r"""Mean cross-entropy against targets smoothed towards the uniform distribution.

    With :math:`K` classes and smoothing :math:`\varepsilon`, the target of a sample of
    class :math:`y` puts :math:`1-\varepsilon+\varepsilon/K` on :math:`y` and
    :math:`\varepsilon/K` on every other class, so

    .. math::
        \ell = -(1-\varepsilon)\log p_y - \frac{\varepsilon}{K}\sum_{k=1}^{K}\log p_k,
        \qquad p = \operatorname{softmax}(z).

    This is what ``F.cross_entropy(input, target, label_smoothing=ε)`` computes.

    Args:
        input: logits ``(N, K)``.
        target: class indices ``(N,)``.
        label_smoothing: :math:`\varepsilon \in [0, 1]`.

    Example:
        >>> import torch
        >>> z = torch.zeros(1, 4); y = torch.tensor([2])
        >>> round(smoothed_cross_entropy(z, y, 0.1).item(), 4)  # uniform logits: log 4 whatever ε
        1.3863
    """
    import torch

    eps = _checks.in_range(label_smoothing, "label_smoothing", 0.0, 1.0)
    if not isinstance(input, torch.Tensor) or input.ndim != 2:
        raise ValueError(f"input must be a 2-D tensor of logits (N, K), got {getattr(input, 'shape', type(input))}")
    if not isinstance(target, torch.Tensor) or target.shape != input.shape[:1]:
        raise ValueError(f"target must be a tensor of N={input.shape[0]} class indices, "
                         f"got {getattr(target, 'shape', type(target))}")
    log_p = torch.log_softmax(input, dim=1)
    nll = -log_p.gather(1, target[:, None]).squeeze(1)
    uniform = -log_p.mean(dim=1)
    return ((1 - eps) * nll + eps * uniform).mean()


# ------------------------------------------------------------------ stochastic depth
def _torch_modules():
    import torch
    from torch import nn

    class DropPath(nn.Module):
        r"""Stochastic depth: drop a whole residual branch for each sample with probability ``p``.

        In training mode, each sample's branch output is multiplied by
        :math:`m/(1-p)` with :math:`m \sim \text{Bernoulli}(1-p)`, drawn once per sample
        (not per feature, unlike dropout), so its expectation is unchanged. In evaluation
        mode it is the identity. ``p = 1`` drops every branch (the output is zero).

        Shape: any ``(N, ...)``; the mask has shape ``(N, 1, ..., 1)``.
        """

        def __init__(self, p: float = 0.0):
            super().__init__()
            self.p = _checks.in_range(p, "p", 0.0, 1.0)

        def forward(self, x):
            if not self.training or self.p == 0.0:
                return x
            if self.p == 1.0:
                return torch.zeros_like(x)
            keep = 1.0 - self.p
            shape = (x.shape[0],) + (1,) * (x.ndim - 1)
            mask = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(keep)
            return x * mask / keep

        def extra_repr(self) -> str:
            return f"p={self.p:g}"

    class ResidualBlock(nn.Module):
        r"""``x + DropPath(Linear(ReLU(Dropout(Linear(ReLU(x))))))``: a pre-activation residual MLP block."""

        def __init__(self, width: int, dropout: float = 0.0, drop_path: float = 0.0):
            super().__init__()
            self.branch = nn.Sequential(nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(width, width))
            self.drop_path = DropPath(drop_path)

        def forward(self, x):
            return x + self.drop_path(self.branch(x))

    return DropPath, ResidualBlock


def __getattr__(name):  # DropPath and ResidualBlock are built on first use, so importing nblib stays light
    if name in ("DropPath", "ResidualBlock"):
        drop_path, block = _torch_modules()
        globals().update(DropPath=drop_path, ResidualBlock=block)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def residual_mlp(in_features: int = 64, width: int = 64, n_blocks: int = 2, out_features: int = 10, *,
                 dropout: float = 0.0, drop_path: float = 0.0, seed: int = 0):
    r"""``Linear(in, width)``, ``n_blocks`` residual blocks, ``ReLU``, ``Linear(width, out)``.

    Block :math:`l` (counted from 1) drops its branch with probability
    :math:`p_l = \text{drop\_path}\cdot l/L`, the linear rule of Huang et al. (2016): deeper
    blocks are dropped more often.

    Args:
        dropout: dropout probability inside every residual branch.
        drop_path: stochastic-depth probability of the last block.
        seed: seeds the initial weights (torch's default initialisation).
    """
    import torch
    from torch import nn

    DropPath, ResidualBlock = _torch_modules()
    globals().update(DropPath=DropPath, ResidualBlock=ResidualBlock)
    for name, v in (("in_features", in_features), ("width", width), ("out_features", out_features)):
        _checks.integer(v, name, minimum=1)
    n_blocks = _checks.integer(n_blocks, "n_blocks", minimum=0)
    _checks.in_range(dropout, "dropout", 0.0, 1.0, high_open=True)
    _checks.in_range(drop_path, "drop_path", 0.0, 1.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_checks.integer(seed, "seed", minimum=0))
        layers = [nn.Linear(in_features, width)]
        layers += [ResidualBlock(width, dropout, drop_path * (l + 1) / max(n_blocks, 1)) for l in range(n_blocks)]
        layers += [nn.ReLU(), nn.Linear(width, out_features)]
        return nn.Sequential(*layers)


# ------------------------------------------------------------------ L2 vs weight decay
def l2_in_loss(parameters, weight_decay: float):
    r"""The penalty :math:`\frac{\lambda}{2}\sum_k\lVert\theta_k\rVert^2` as a torch scalar.

    Added to the loss, its gradient :math:`\lambda\theta` joins the data gradient *before*
    an adaptive optimiser rescales it; ``AdamW(weight_decay=λ')`` instead shrinks the
    weights directly, :math:`\theta \leftarrow \theta - \eta\lambda'\theta`, outside Adam's
    rescaling. With SGD the two are the same update (for :math:`\lambda' = \lambda`).
    """
    import torch

    weight_decay = _checks.positive(weight_decay, "weight_decay", allow_zero=True)
    params = list(parameters)
    if not params:
        raise ValueError("l2_in_loss: parameters is empty")
    return 0.5 * weight_decay * sum((p * p).sum() for p in params) if weight_decay else torch.zeros(())


# ------------------------------------------------------------------ calibration
def confidence_and_ece(probs, labels, n_bins: int = 10) -> tuple[float, float]:
    r"""Mean top probability and expected calibration error (ECE) of predicted probabilities.

    Predictions are grouped into ``n_bins`` equal-width bins of confidence
    :math:`c_i = \max_k p_{ik}`; with :math:`B_b` the samples in bin :math:`b`,

    .. math:: \text{ECE} = \sum_b \frac{|B_b|}{N}\,\bigl|\text{acc}(B_b) - \text{conf}(B_b)\bigr|.

    Args:
        probs: ``(N, K)`` rows of probabilities (NumPy or torch).
        labels: ``(N,)`` true classes.
        n_bins: number of confidence bins on ``[0, 1]``.

    Returns:
        ``(mean confidence, ECE)``.

    Example:
        >>> # bin 0.9: one right answer at 0.9 (gap 0.1); bin 0.8: one wrong answer at 0.8 (gap 0.8)
        >>> confidence_and_ece(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([0, 1]))
        (0.85, 0.45)
    """
    p = _checks.as_array(probs.detach().cpu() if hasattr(probs, "detach") else probs, "probs", ndim=2, dtype=float)
    y = _checks.as_labels(np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels), "labels", n=len(p))
    n_bins = _checks.integer(n_bins, "n_bins", minimum=1)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return round(float(conf.mean()), 12), round(float(ece), 12)


# ------------------------------------------------------------------ early stopping
class TorchEarlyStopping:
    """Drive :class:`nblib.regularisation.EarlyStopping` from :func:`nblib.torch_train.fit`.

    Pass it as ``fit(..., on_epoch=stopper)``: after each epoch it reads ``history[monitor]``,
    keeps a copy of the model's ``state_dict`` when the score improves, and returns True
    (stop) after ``patience`` epochs without improvement. :meth:`restore` loads the best
    weights back.

    Args:
        model: the ``torch.nn.Module`` being trained.
        monitor, patience, min_delta, mode: as for :class:`~nblib.regularisation.EarlyStopping`.
    """

    def __init__(self, model, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto"):
        from .regularisation import EarlyStopping

        self.model = model
        self.stopper = EarlyStopping(monitor, patience=patience, min_delta=min_delta, mode=mode)
        self.best_state = None

    @property
    def best_epoch(self):
        return self.stopper.best_epoch

    def __call__(self, epoch, history) -> bool:
        score = history[self.stopper.monitor][-1]
        stop = self.stopper.step(score)
        if self.stopper.best_epoch == epoch:
            self.best_state = copy.deepcopy(self.model.state_dict())
        return stop

    def restore(self) -> None:
        if self.best_state is None:
            raise RuntimeError("TorchEarlyStopping.restore: no epoch has been recorded yet")
        self.model.load_state_dict(self.best_state)


# ------------------------------------------------------------------ benchmark
@dataclass(frozen=True)
class Config:
    """One regularisation setting of the chapter's benchmark (every field 0/False is the baseline).

    Attributes:
        dropout: dropout probability inside the residual branches.
        l2: λ of an L2 penalty added to the loss (with Adam).
        weight_decay: decoupled weight decay of AdamW.
        label_smoothing: ε of the smoothed cross-entropy.
        drop_path: stochastic-depth probability of the last block.
        augment: train on fresh random shifts and rotations of the images every epoch.
        patience: early stopping on validation loss with this patience (0: train all epochs).
    """

    dropout: float = 0.0
    l2: float = 0.0
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    drop_path: float = 0.0
    augment: bool = False
    patience: int = 0


class _AugmentedLoader:
    """An :class:`~nblib.torch_train.ArrayLoader` over a fresh augmented copy of the images every epoch."""

    def __init__(self, X, y, batch_size, seed):
        self.X, self.y, self.batch_size = X, y, batch_size
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.epoch = 0

    def __iter__(self):
        from .preprocessing import augment
        from .torch_train import ArrayLoader

        X = augment(self.X, max_shift=1, max_degrees=10.0, rng=self.rng)
        self.epoch += 1
        yield from ArrayLoader(X, self.y, batch_size=self.batch_size, shuffle=True, seed=self.seed + self.epoch)


def train_config(config: Config, split, seed: int, *, epochs: int = 40, width: int = 64, n_blocks: int = 2,
                 lr: float = 3e-3, batch_size: int = 32, return_model: bool = False):
    """Train :func:`residual_mlp` on ``split`` with Adam/AdamW under ``config``; deterministic given ``seed``.

    Returns a dict with ``val_acc`` and ``test_acc`` (of the final model, or of the best
    epoch's model with early stopping), ``epochs`` (epochs trained) and ``history``;
    with ``return_model`` also ``model``.
    """
    import torch
    import torch.nn.functional as F

    from .torch_train import ArrayLoader, accuracy, evaluate, fit

    if not isinstance(config, Config):
        raise TypeError(f"config must be a Config, got {type(config).__name__}")
    seed = _checks.integer(seed, "seed", minimum=0)
    torch.manual_seed(seed)
    model = residual_mlp(split.X_train.shape[1], width, n_blocks, int(split.y_train.max()) + 1,
                         dropout=config.dropout, drop_path=config.drop_path, seed=seed)
    if config.weight_decay:
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=config.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    eps, l2 = config.label_smoothing, config.l2

    def loss_fn(output, target):
        loss = smoothed_cross_entropy(output, target, eps)
        if l2 and model.training:
            loss = loss + l2_in_loss(model.parameters(), l2)
        return loss

    def plain_ce(output, target):
        return F.cross_entropy(output, target)

    train = (_AugmentedLoader(split.X_train, split.y_train, batch_size, seed) if config.augment
             else ArrayLoader(split.X_train, split.y_train, batch_size=batch_size, shuffle=True, seed=seed))
    val = ArrayLoader(split.X_val, split.y_val, batch_size=len(split.X_val))
    test = ArrayLoader(split.X_test, split.y_test, batch_size=len(split.X_test))
    stopper = TorchEarlyStopping(model, "val_loss", patience=config.patience) if config.patience else None

    # validation loss is measured with plain cross-entropy so early stopping and curves compare like with like
    def on_epoch(epoch, history):
        return stopper(epoch, history) if stopper is not None else None

    history = fit(model, train, epochs=epochs, optimizer=opt, loss_fn=loss_fn, val=None, device="cpu",
                  progress="none", on_epoch=lambda e, h: _record_val(model, val, plain_ce, h) or on_epoch(e, h))
    if stopper is not None:
        stopper.restore()
    out = {
        "val_acc": evaluate(model, val, plain_ce, {"acc": accuracy}, "cpu")["acc"],
        "test_acc": evaluate(model, test, plain_ce, {"acc": accuracy}, "cpu")["acc"],
        "epochs": len(history["loss"]),
        "history": history,
    }
    if return_model:
        out["model"] = model
    return out


def _record_val(model, val, loss_fn, history) -> None:
    from .torch_train import accuracy, evaluate

    scores = evaluate(model, val, loss_fn, {"acc": accuracy}, "cpu")
    history.append(val_loss=scores["loss"], val_acc=scores["acc"])


def benchmark(configs: dict, split, seeds=(0, 1, 2), **train_kwargs) -> dict:
    """Train every configuration with every seed; return name -> dict of mean/std of accuracies.

    Each entry has ``val_mean``, ``val_std``, ``test_mean``, ``test_std`` (standard
    deviations over seeds with ``ddof=1``), the per-seed ``test`` and ``val`` lists, and the
    mean number of ``epochs`` trained. Deterministic given the seeds.
    """
    seeds = [_checks.integer(s, "seeds", minimum=0) for s in seeds]
    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least two seeds to estimate a spread, got {seeds}")
    results = {}
    for name, config in configs.items():
        runs = [train_config(config, split, s, **train_kwargs) for s in seeds]
        val = np.array([r["val_acc"] for r in runs])
        test = np.array([r["test_acc"] for r in runs])
        results[name] = {"val_mean": float(val.mean()), "val_std": float(val.std(ddof=1)),
                         "test_mean": float(test.mean()), "test_std": float(test.std(ddof=1)),
                         "val": val.tolist(), "test": test.tolist(),
                         "epochs": float(np.mean([r["epochs"] for r in runs])), "config": asdict(config)}
    return results
