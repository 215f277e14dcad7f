"""Explorers for generalisation: capacity and regularisation against overfitting."""

from __future__ import annotations

import math

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

CHANCE_ACCURACY = 0.1  # ten balanced digit classes


def regularised_mlp(hidden: int, dropout: float = 0.0, rng=None, n_in: int = 64, n_out: int = 10):
    """``Linear(n_in, hidden) -> ReLU -> Dropout(dropout) -> Linear(hidden, n_out)``, float32."""
    from .. import nn
    from ..rng import resolve

    gen = resolve(rng)
    return nn.Sequential(nn.Linear(n_in, hidden, rng=gen), nn.ReLU(), nn.Dropout(dropout, rng=gen),
                         nn.Linear(hidden, n_out, rng=gen))


def overfitting_explorer(n_train: int = 300, epochs: int = 30, lr: float = 0.1, momentum: float = 0.9,
                         seed: int = 0) -> Explorer:
    """Hidden width, dropout and weight decay of an MLP trained on a small subset of the digits.

    Each frame trains ``regularised_mlp(hidden, dropout)`` from the same initial seed
    with SGD (``lr``, ``momentum``, ``weight_decay``) for ``epochs`` epochs on the first
    ``n_train`` training images of ``nblib.data.load_digits()``, and plots accuracy and
    cross-entropy per epoch on those images and on the whole validation set. Both
    training-set curves are measured in evaluation mode (dropout off), so that they
    compare with the validation curves like for like.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    from .. import _checks, optim
    from ..data import load_digits
    from ..train import TrainingDiverged, fit, mean_loss

    n_train = _checks.integer(n_train, "n_train", minimum=10)
    epochs = _checks.integer(epochs, "epochs", minimum=2)
    digits = load_digits(seed=0)
    if n_train > len(digits.X_train):
        raise ValueError(f"n_train must be at most {len(digits.X_train)}, got {n_train}")
    X, y = digits.X_train[:n_train], digits.y_train[:n_train]
    X_val, y_val = digits.X_val, digits.y_val
    ticks = np.arange(1, epochs + 1)

    def render(hidden, dropout, weight_decay):
        model = regularised_mlp(hidden, dropout, rng=seed)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
        initial_size = float(np.abs(model[0].weight.data).mean())

        completed = [0]  # epochs finished, for the message if training diverges

        def train_loss(epoch, history):  # the training loss in evaluation mode, like val_loss
            completed[0] = epoch + 1
            history.append(train_loss=mean_loss(model, X, y))

        try:
            hist = fit(model, opt, X, y, epochs=epochs, batch_size=32, X_val=X_val, y_val=y_val, rng=seed,
                       on_epoch=train_loss)
        except TrainingDiverged:
            step = lr * weight_decay
            limit = 2 * (1 + momentum)  # momentum SGD on a quadratic is stable for lr * curvature < 2(1 + momentum)
            cause = (f"the decay term alone asks each step to move the weights by $\\eta\\lambda$ = {step:g} times "
                     f"their value, and momentum SGD is stable only for $\\eta\\lambda$ < 2(1 + {momentum:g}) = "
                     f"{limit:g}: the weights overshoot zero and grow. Use a smaller weight decay"
                     if step >= limit else "try a smaller weight decay or a smaller network")
            raise SettingError(f"training diverged in epoch {completed[0] + 1}: with learning rate $\\eta$ = {lr:g}, "
                               f"{cause}.") from None
        curves = {name: np.asarray(hist[name]) for name in ("train_acc", "val_acc", "train_loss", "val_loss")}
        if not all(np.isfinite(v).all() for v in curves.values()):
            raise SettingError("the losses became NaN or inf during training: this setting diverged. "
                               "Try a smaller weight decay.")
        best = int(np.argmin(curves["val_loss"]))
        gap = curves["train_acc"][-1] - curves["val_acc"][-1]
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.6, 3.6))
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.14, top=0.76, wspace=0.25)  # fixed: no layout engine
        left.plot(ticks, curves["train_acc"], color="#1f77b4", label="training (eval mode)")
        left.plot(ticks, curves["val_acc"], color="#d62728", label="validation")
        left.axhline(CHANCE_ACCURACY, color="grey", linestyle=":", linewidth=1, label="chance")
        left.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
        left.set_title(f"Accuracy: gap {100 * gap:+.1f} points at the end", y=1.0)  # a fixed y skips a slow layout step
        left.legend(loc="best", fontsize=8)
        right.plot(ticks, np.maximum(curves["train_loss"], 1e-3), color="#1f77b4", label="training (eval mode)")
        right.plot(ticks, curves["val_loss"], color="#d62728", label="validation")
        right.axvline(best + 1, color="#d62728", linestyle=":", linewidth=1,
                      label=f"lowest validation loss (epoch {best + 1})")
        right.axhline(math.log(10), color="grey", linestyle=":", linewidth=1)
        right.set(xlabel="epoch", ylabel="cross-entropy (nats)", yscale="log", ylim=(1e-3, 5))
        right.set_yticks([1e-3, 1e-2, 1e-1, 1], labels=["0.001", "0.01", "0.1", "1"])  # plain labels: no mathtext
        right.yaxis.set_minor_locator(NullLocator())
        right.set_title("Loss (grey: ln 10, a uniform guess)", y=1.0)
        right.legend(loc="best", fontsize=8)
        for ax in (left, right):
            ax.grid(alpha=0.3)
        verdict = f"training {curves['train_acc'][-1]:.0%}, validation {curves['val_acc'][-1]:.0%}"
        if curves["val_acc"][-1] < 2 * CHANCE_ACCURACY:  # say why the network has learnt nothing
            shrunk = float(np.abs(model[0].weight.data).mean()) < 0.5 * initial_size
            if weight_decay > 0 and shrunk:
                verdict = "near chance: weight decay has shrunk the weights faster than the data can grow them"
            elif dropout > 0:
                verdict = "near chance: too few hidden units survive dropout to carry the input"
            else:
                verdict = "near chance: the network has learnt almost nothing"
        fig.suptitle(f"{hidden} hidden units, dropout {dropout:g}, weight decay {weight_decay:g}\n{verdict}",
                     fontsize=10)
        return fig

    return explorer(render, [
        Slider("hidden", [2, 4, 8, 16, 32, 64, 128, 256, 512], label="hidden units", book_values=[4, 32, 256],
               value=256),
        Slider("dropout", [0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9], label="dropout probability $p$",
               book_values=[0.0, 0.5, 0.9], value=0.0),
        Slider("weight_decay", [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0],
               label="weight decay $\\lambda$", book_values=[0.0, 1e-2, 0.1, 1.0, 100.0], value=0.0),
    ], title=f"Capacity and regularisation: an MLP trained on {n_train} digits", dpi=64)
