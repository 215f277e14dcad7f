"""Explorer for chapter 11: label smoothing and dropout on a small digits training set."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

N_BINS = 10  # confidence bins of the reliability diagram


def smoothing_dropout_explorer(n_train: int = 300, epochs: int = 30, width: int = 64, seed: int = 0) -> Explorer:
    r"""Label smoothing :math:`\varepsilon` and dropout :math:`p` of a small residual MLP trained on few digits.

    Each frame trains :func:`nblib.torch_regularisation.residual_mlp` (two residual blocks,
    dropout ``p`` inside the branches) with Adam on the first ``n_train`` training digits,
    minimising the label-smoothed cross-entropy, and shows

    * left: the training loss and the validation cross-entropy per epoch (plain, unsmoothed
      cross-entropy, so frames compare like with like), and the validation accuracy;
    * right: a reliability diagram of the final model on the validation set, the accuracy
      of each confidence bin against its mean confidence, with the diagonal of perfect
      calibration, and the expected calibration error (ECE) in the title.

    :math:`\varepsilon = 1` turns every target into the uniform distribution: the labels no
    longer say anything, so that setting is refused with a :class:`~nblib.widgets.SettingError`.

    Args:
        n_train: training digits (a small number makes overfitting real).
        epochs: epochs per frame.
        width: width of the residual blocks.
        seed: seeds the weights, the dropout masks and the batch order.
    """
    import dataclasses

    import matplotlib.pyplot as plt
    import torch

    from .. import _checks
    from ..data import load_digits
    from ..torch_regularisation import Config, confidence_and_ece, train_config

    epochs = _checks.integer(epochs, "epochs", minimum=2)
    width = _checks.integer(width, "width", minimum=1)
    seed = _checks.integer(seed, "seed", minimum=0)
    digits = load_digits(seed=0)
    available = len(digits.X_train)
    n_train = _checks.integer(n_train, "n_train", minimum=20)
    if n_train > available:
        raise ValueError(f"n_train must be at most {available} (the digits training set), got {n_train}")
    split = dataclasses.replace(digits, X_train=digits.X_train[:n_train], y_train=digits.y_train[:n_train])
    X_val = torch.from_numpy(split.X_val)
    edges = np.linspace(0, 1, N_BINS + 1)

    def render(label_smoothing, dropout):
        if label_smoothing >= 1.0:
            raise SettingError("label smoothing ε = 1 replaces every target by the uniform distribution over the "
                               "ten classes: the labels then carry no information and the network has nothing to "
                               "learn. Choose ε < 1 (values up to about 0.2 are the usual range).")
        out = train_config(Config(dropout=dropout, label_smoothing=label_smoothing), split, seed,
                           epochs=epochs, width=width, return_model=True)
        hist = out["history"]
        curves = {k: np.asarray(hist[k]) for k in ("loss", "val_loss", "val_acc")}
        if not all(np.isfinite(v).all() for v in curves.values()):
            raise SettingError(f"the loss became NaN or inf with ε = {label_smoothing:g}, p = {dropout:g}")
        model = out["model"].eval()
        with torch.no_grad():
            probs = torch.softmax(model(X_val), dim=1).numpy()
        conf, ece = confidence_and_ece(probs, split.y_val, N_BINS)
        top = probs.max(axis=1)
        right = probs.argmax(axis=1) == split.y_val
        bins = np.minimum((top * N_BINS).astype(int), N_BINS - 1)

        fig, (ax, ax_rel) = plt.subplots(1, 2, figsize=(8.5, 3.4))
        ep = np.arange(1, len(curves["loss"]) + 1)
        ax.plot(ep, curves["loss"], label="training loss (smoothed)")
        ax.plot(ep, curves["val_loss"], label="validation cross-entropy")
        ax.set(xlabel="epoch", ylabel="loss (nats)", title="learning curves", ylim=(0, max(2.5, curves["loss"][0])))
        ax2 = ax.twinx()
        ax2.plot(ep, curves["val_acc"], color="tab:green", ls="--", label="validation accuracy")
        ax2.set(ylabel="validation accuracy", ylim=(0, 1))
        lines = ax.get_lines() + ax2.get_lines()
        ax.legend(lines, [l.get_label() for l in lines], fontsize=8, loc="center right")
        centres = (edges[:-1] + edges[1:]) / 2
        used = [b for b in range(N_BINS) if (bins == b).any()]
        ax_rel.bar(centres[used], [right[bins == b].mean() for b in used], width=1 / N_BINS, edgecolor="k",
                   alpha=0.7, label="accuracy in bin")
        ax_rel.plot([0, 1], [0, 1], "k:", label="perfect calibration")
        ax_rel.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top probability)", ylabel="accuracy",
                   title=f"reliability: mean confidence {conf:.2f}, ECE {ece:.3f}")
        ax_rel.legend(fontsize=8, loc="upper left")
        fig.suptitle(f"ε = {label_smoothing:g}, dropout p = {dropout:g}: validation accuracy "
                     f"{curves['val_acc'][-1]:.1%}")
        fig.tight_layout()
        return fig

    controls = [
        Slider("label_smoothing", [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0], label="label smoothing ε",
               book_values=[0.0, 0.1, 0.3, 1.0], value=0.0),
        Slider("dropout", [0.0, 0.1, 0.3, 0.5, 0.7, 0.9], label="dropout p", book_values=[0.0, 0.3, 0.9], value=0.0),
    ]
    return explorer(render, controls, title="Label smoothing and dropout on few digits", dpi=64)
