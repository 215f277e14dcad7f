"""Explorers for training networks with PyTorch and :mod:`nblib.torch_train`."""

from __future__ import annotations

import math

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

CHANCE_ACCURACY = 0.1            # ten balanced digit classes
UNIFORM_LOSS = math.log(10)      # cross-entropy (nats) of a uniform guess over ten classes
BLOWUP_FACTOR = 10               # a training batch loss above BLOWUP_FACTOR * UNIFORM_LOSS counts as divergence


def batch_size_values(n_train: int) -> list[int]:
    """The batch sizes the explorer offers: powers of two from 8 up to 256, then the whole training set."""
    return [b for b in (8, 16, 32, 64, 128, 256) if b < n_train] + [n_train]


def batch_lr_explorer(epochs: int = 10, hidden: int = 64, momentum: float = 0.9, n_train: int | None = None,
                      seed: int = 0) -> Explorer:
    r"""Batch size and learning rate of a torch MLP trained on the digits with :func:`nblib.torch_train.fit`.

    Each frame builds ``Linear(64, hidden) -> ReLU -> Linear(hidden, 10)`` from the same
    initial weights (nblib's ``mlp(rng=seed)`` copied by :func:`nblib.nn.to_torch`), trains
    it for ``epochs`` epochs with ``torch.optim.SGD(lr, momentum)`` on the first
    ``n_train`` training images of :func:`nblib.data.load_digits` in shuffled batches of
    ``batch_size``, and plots the training loss (mean over each epoch's batches), the
    validation loss and the validation accuracy per epoch. The title gives the final
    validation accuracy and the number of update steps, :math:`\text{epochs} \times
    \lceil n / B \rceil`, which is what the batch size really changes.

    The model is small, so it trains on the CPU whatever the machine has: a GPU would
    spend longer launching kernels than computing.

    A setting that diverges is shown as a message (a :class:`~nblib.widgets.SettingError`):
    a non-finite loss, or a training batch whose loss exceeds ``BLOWUP_FACTOR`` times
    the loss of a uniform guess, :math:`\ln 10` nats.

    Args:
        epochs: passes over the training images per frame.
        hidden: hidden ReLU units.
        momentum: SGD momentum, the same for every frame.
        n_train: how many training images to use (all of them by default).
        seed: seeds the initial weights and the batch order.
    """
    import matplotlib.pyplot as plt
    import torch
    from matplotlib.ticker import NullLocator
    import torch.nn.functional as F

    from .. import _checks
    from ..data import load_digits
    from ..nn import mlp, to_torch
    from ..torch_train import ArrayLoader, accuracy, fit
    from ..train import TrainingDiverged

    epochs = _checks.integer(epochs, "epochs", minimum=2)
    hidden = _checks.integer(hidden, "hidden", minimum=1)
    momentum = _checks.in_range(momentum, "momentum", 0.0, 1.0, high_open=True)
    seed = _checks.integer(seed, "seed", minimum=0)
    digits = load_digits(seed=0)
    available = len(digits.X_train)
    n_train = available if n_train is None else _checks.integer(n_train, "n_train", minimum=16)
    if n_train > available:
        raise ValueError(f"n_train must be at most {available} (the digits training set), got {n_train}")
    X, y = digits.X_train[:n_train], digits.y_train[:n_train]
    X_all = torch.from_numpy(X)
    val = ArrayLoader(digits.X_val, digits.y_val, batch_size=len(digits.X_val))
    limit = BLOWUP_FACTOR * UNIFORM_LOSS
    ticks = np.arange(1, epochs + 1)

    def render(batch_size, lr):
        model = to_torch(mlp([64, hidden, 10], rng=seed))
        train = ArrayLoader(X, y, batch_size=batch_size, shuffle=True, seed=seed)
        steps = epochs * len(train)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        epoch = [1]  # the epoch being trained, for the messages

        def advice():
            noisy = (": the smaller the batch, the noisier its gradient and the smaller the rate it tolerates"
                     if batch_size < n_train else "")
            return (f"with batches of {batch_size}, a learning rate of {lr:g} (momentum {momentum:g}) takes steps "
                    f"too large for this network. Try a smaller learning rate{noisy}.")

        def loss_fn(output, target):
            loss = F.cross_entropy(output, target)
            value = loss.item()
            if output.requires_grad and math.isfinite(value) and value > limit:  # a training batch
                raise SettingError(f"training diverged in epoch {epoch[0]}: a batch's loss jumped to {value:.3g} "
                                   f"nats, more than {BLOWUP_FACTOR} times the {UNIFORM_LOSS:.2f} nats of a "
                                   f"uniform guess: {advice()}")
            return loss

        def next_epoch(done, history):
            epoch[0] = done + 1

        try:
            hist = fit(model, train, epochs=epochs, optimizer=opt, loss_fn=loss_fn, val=val,
                       metrics={"acc": accuracy}, device="cpu", progress="none", on_epoch=next_epoch)
        except TrainingDiverged:
            raise SettingError(f"training diverged in epoch {epoch[0]}: the loss became NaN or inf: "
                               f"{advice()}") from None
        curves = {name: np.asarray(hist[name]) for name in ("loss", "val_loss", "val_acc")}
        if not all(np.isfinite(v).all() for v in curves.values()):
            raise SettingError(f"the validation loss became NaN or inf: this setting diverged; {advice()}")
        final = curves["val_acc"][-1]
        verdict = ""
        if final < 2 * CHANCE_ACCURACY:
            with torch.no_grad():
                alive = int((model[0](X_all) > 0).any(dim=0).sum())  # ReLUs that fire for some training image
            if alive < hidden / 2:
                verdict = ("\nnear chance: no hidden ReLU fires on any training image; the large steps killed them all"
                           if alive == 0 else f"\nnear chance: {alive} of {hidden} hidden ReLUs still fire on any "
                           "training image; the large steps killed the rest")
            elif curves["loss"][-1] > 0.9 * UNIFORM_LOSS:
                verdict = f"\nnear chance: the loss has barely moved; {steps} steps this small are too few"
            else:
                verdict = "\nnear chance: the network has learnt almost nothing"

        fig, (left, right) = plt.subplots(1, 2, figsize=(8.6, 3.6))
        fig.subplots_adjust(left=0.08, right=0.985, bottom=0.14, top=0.76, wspace=0.27)  # fixed: no layout engine
        left.plot(ticks, curves["loss"], color="#1f77b4", marker="o", markersize=3, label="training (mean over batches)")
        left.plot(ticks, curves["val_loss"], color="#d62728", marker="o", markersize=3, label="validation")
        left.axhline(UNIFORM_LOSS, color="grey", linestyle=":", linewidth=1, label="uniform guess (ln 10)")
        low = min(0.01, float(min(curves["loss"].min(), curves["val_loss"].min())) / 1.5)
        high = max(30.0, float(max(curves["loss"].max(), curves["val_loss"].max())) * 1.5)
        left.set(xlabel="epoch", ylabel="cross-entropy (nats)", yscale="log", ylim=(low, high), title="Loss")
        left.set_yticks([0.01, 0.1, 1, 10], labels=["0.01", "0.1", "1", "10"])  # plain labels: no mathtext
        left.yaxis.set_minor_locator(NullLocator())
        left.legend(loc="best", fontsize=8)
        right.plot(ticks, curves["val_acc"], color="#d62728", marker="o", markersize=3, label="validation")
        right.axhline(CHANCE_ACCURACY, color="grey", linestyle=":", linewidth=1, label="chance")
        right.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title="Validation accuracy")
        right.legend(loc="lower right", fontsize=8)
        for ax in (left, right):
            ax.grid(alpha=0.3)
        fig.suptitle(f"batch size {batch_size}, learning rate {lr:g}: validation accuracy {final:.1%} "
                     f"after {epochs} epochs ({steps} steps){verdict}", fontsize=10)
        return fig

    return explorer(render, [
        Slider("batch_size", batch_size_values(n_train), label="batch size",
               book_values=[8, 64, n_train] if n_train > 64 else [8, n_train], value=8 if n_train <= 64 else 64),
        Slider("lr", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0], label="learning rate",
               book_values=[0.01, 0.1, 1.0, 10.0], value=0.1),
    ], title=f"Batch size and learning rate: a torch MLP with {hidden} hidden units on {n_train} digits", dpi=64)
