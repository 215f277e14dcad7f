"""Explorers for diagnosing training dynamics with :class:`nblib.monitor.Monitor`."""

from __future__ import annotations

import math

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

UNIFORM_LOSS = math.log(10)   # cross-entropy (nats) of a uniform guess over ten digit classes
BLOWUP_FACTOR = 5             # a batch loss above BLOWUP_FACTOR * max(first loss, UNIFORM_LOSS) counts as divergence
GRAD_FLOOR = 1e-8             # a zero gradient norm is drawn at this floor of the log axis


def lr_init_explorer(steps: int = 80, hidden: int = 32, depth: int = 3, batch_size: int = 64,
                     seed: int = 0) -> Explorer:
    r"""Learning rate and initial weight scale of a deep ReLU MLP on the digits, seen through the monitor.

    Each frame builds ``depth`` hidden layers ``Linear -> ReLU`` of ``hidden`` units and a
    ``Linear(hidden, 10)`` output, initialised with ``torch.manual_seed(seed)``, and then
    multiplies every weight matrix by ``init_scale`` relative to He initialisation
    (:math:`\mathcal N(0, 2/\text{fan\_in})`; scale 1 is He). It trains for ``steps`` steps of
    plain SGD on shuffled batches of the digits training set while a
    :class:`~nblib.monitor.Monitor` records the loss and the per-layer gradient norms, and
    shows the loss curve and the gradient norms per layer (log scale). The title gives the
    final loss and the fraction of dead hidden ReLUs.

    A setting whose loss becomes NaN/inf, or a batch loss above ``BLOWUP_FACTOR`` times the
    larger of the first batch's loss and the :math:`\ln 10` nats of a uniform guess, is reported as a
    :class:`~nblib.widgets.SettingError` naming the step where it diverged.

    Args:
        steps: SGD steps per frame.
        hidden: units per hidden layer.
        depth: number of hidden layers.
        batch_size: images per step.
        seed: seeds the weights and the batch order.
    """
    import matplotlib.pyplot as plt
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from .. import _checks
    from ..data import load_digits
    from ..monitor import Monitor
    from ..torch_train import ArrayLoader

    steps = _checks.integer(steps, "steps", minimum=2)
    hidden = _checks.integer(hidden, "hidden", minimum=1)
    depth = _checks.integer(depth, "depth", minimum=1)
    batch_size = _checks.integer(batch_size, "batch_size", minimum=1)
    seed = _checks.integer(seed, "seed", minimum=0)
    digits = load_digits(seed=0)

    def build(init_scale):
        torch.manual_seed(seed)
        sizes = [64] + [hidden] * depth
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(hidden, 10))
        net = nn.Sequential(*layers)
        with torch.no_grad():
            for m in net:
                if isinstance(m, nn.Linear):
                    m.weight.normal_(0.0, init_scale * math.sqrt(2.0 / m.in_features))
                    m.bias.zero_()
        return net

    def render(lr, init_scale):
        net = build(init_scale)
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        loader = ArrayLoader(digits.X_train, digits.y_train, batch_size=batch_size, shuffle=True, seed=seed)
        advice = (f"a learning rate of {lr:g} with weights {init_scale:g}x the He scale takes steps too large "
                  "for this network; lower the learning rate or the initial scale (or clip the gradients)")
        with Monitor(net, window=10) as mon:
            t, limit = 0, None
            while t < steps:
                for X, y in loader:
                    loss = F.cross_entropy(net(X), y)
                    value = loss.item()
                    if limit is None and math.isfinite(value):
                        limit = BLOWUP_FACTOR * max(value, UNIFORM_LOSS)
                    if not math.isfinite(value) or value > limit:
                        shown = "NaN or inf" if not math.isfinite(value) else f"{value:.3g} nats"
                        raise SettingError(f"training diverged at step {t + 1}: the batch loss became {shown} "
                                           f"(more than {BLOWUP_FACTOR} times the larger of the first loss and the "
                                           f"{UNIFORM_LOSS:.2f} nats of a uniform guess): {advice}.")
                    opt.zero_grad()
                    loss.backward()
                    mon.step(loss)
                    opt.step()
                    t += 1
                    if t == steps:
                        break
        norms = {name: np.asarray(v) for name, v in mon.grad_norm.items()}
        if not all(np.isfinite(v).all() for v in norms.values()):
            raise SettingError(f"the gradients became NaN or inf: {advice}.")
        dead = mon.dead_fraction()
        dead_frac = float(np.mean(list(dead.values()))) if dead else 0.0
        final = float(np.mean(mon.loss[-10:]))
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.4, 3.3))
        ax0.plot(np.arange(1, steps + 1), mon.loss, color="k", lw=1)
        ax0.axhline(UNIFORM_LOSS, color="0.6", ls=":", label=r"uniform guess, $\ln 10$")
        ax0.set(title="training loss", xlabel="step", ylabel="cross-entropy (nats)", ylim=(0, max(3.0, max(mon.loss) * 1.05)))
        ax0.legend(fontsize=8)
        for i, (name, v) in enumerate(norms.items()):
            ax1.plot(np.arange(1, steps + 1), np.maximum(v, GRAD_FLOOR), lw=1,
                     color=plt.cm.viridis(i / max(len(norms) - 1, 1)), label=f"Linear {i + 1}")
        ax1.set_yscale("log")
        ax1.set(title=r"weight-gradient norm per layer", xlabel="step", ylabel=r"$\|\nabla_W L\|$ (log scale)")
        ax1.legend(fontsize=7, ncol=2)
        verdict = ""
        if all(v[-1] == 0 for v in norms.values()):
            verdict = "; the gradients vanished (drawn at the floor)"
        elif dead_frac > 0.5:
            verdict = f"; {dead_frac:.0%} of hidden ReLUs dead"
        elif final > 0.9 * UNIFORM_LOSS:
            verdict = "; plateau: the loss has barely moved"
        fig.suptitle(f"lr {lr:g}, init {init_scale:g}x He: final loss {final:.2f} nats, "
                     f"dead ReLUs {dead_frac:.0%}{verdict}", fontsize=10)
        fig.tight_layout()
        return fig

    lrs = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
    scales = [0.1, 0.3, 1.0, 3.0, 10.0]
    return explorer(render, [
        Slider("lr", lrs, label="learning rate", book_values=[0.003, 0.03, 0.3, 3.0], value=0.03),
        Slider("init_scale", scales, label="init scale (x He)", book_values=[0.1, 0.3, 1.0, 3.0], value=1.0),
    ], title=f"Learning rate and init scale of a {depth}-hidden-layer ReLU MLP on the digits", dpi=64)
