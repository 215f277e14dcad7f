"""Explorers for training multilayer perceptrons."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

def mlp_training_explorer(steps: int = 300) -> Explorer:
    """Hidden width and learning rate of a one-hidden-layer MLP trained on three spirals."""
    import matplotlib.pyplot as plt

    from .. import nn, optim
    from ..autograd import Tensor, cross_entropy
    from ..data import spirals
    from ..plot import decision_boundary

    X, y = spirals(n_per_class=80, n_classes=3, noise=0.15, rng=0)

    def render(hidden, lr):
        model = nn.mlp([2, hidden, 3], activation=nn.Tanh, dtype=np.float64, rng=0)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        losses = []
        for step in range(steps):
            loss = cross_entropy(model(Tensor(X)), y)
            if not np.isfinite(loss.item()) or (losses and loss.item() > 10 * losses[0]):
                raise SettingError(f"training diverged: by step {step + 1} the loss grew from "
                                   f"{losses[0]:.2f} to {loss.item():.3g} nats. The learning rate is too "
                                   "large for this network; try a smaller one.")
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        acc = float((model(Tensor(X)).data.argmax(1) == y).mean())
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.6), layout="constrained")
        decision_boundary(lambda P: model(Tensor(P)).data.argmax(1), X, y, ax=left, resolution=120,
                          title=f"{hidden} hidden units: training accuracy {acc:.0%}")
        right.plot(np.arange(1, steps + 1), losses)
        right.set(yscale="log", xlabel="full-batch step", ylabel="cross-entropy (nats)",
                  title=f"Loss with learning rate {lr:g}")
        right.grid(alpha=0.3)
        return fig

    return explorer(render, [
        Slider("hidden", [2, 4, 8, 16, 32, 64], label="hidden units", book_values=[2, 8, 32], value=32),
        Slider("lr", [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0], label="learning rate",
               book_values=[0.01, 0.1, 1.0, 10.0], value=0.1),
    ], title="An MLP learning three spirals", dpi=64)
