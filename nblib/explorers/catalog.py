"""Every explorer of the book, built from small inputs: for tests, benchmarks and a quick look.

Each entry of :data:`BUILDERS` is ``name -> (build, needs_torch)``. ``build()`` returns
the explorer through its public function, with fewer steps, epochs and samples than
its chapter uses: the same code paths and controls, built in seconds. ``needs_torch``
says whether building it needs PyTorch (and sets the latency target ``make bench``
holds it to: 100 ms for NumPy explorers, 1 s for PyTorch ones).

    >>> from nblib.explorers.catalog import BUILDERS
    >>> exp = BUILDERS["neurons"][0]()          # doctest: +SKIP
    >>> exp                                     # in Jupyter: the live widget

Used by tests/test_widget_extremes.py (every control at its extremes) and
bench/widgets.py (callback latencies).
"""

from __future__ import annotations

import importlib
from typing import Callable

import numpy as np


def _build(module: str, name: str, **kwargs) -> Callable:
    def build():
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)(**kwargs)

    return build


def _small_torch_mlp(hidden: int, steps: int, flatten: bool = False):
    """A digits MLP trained for a few full-batch Adam steps: the explorers need a model, not a good one."""
    import torch

    from ..data import load_digits

    d = load_digits(seed=0)
    torch.manual_seed(0)
    layers = [torch.nn.Flatten()] if flatten else []
    model = torch.nn.Sequential(*layers, torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    X, y = torch.from_numpy(d.X_train), torch.from_numpy(d.y_train)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model.eval(), d


def _compression():
    from .compression import compression_explorer

    model, d = _small_torch_mlp(hidden=16, steps=20)
    return compression_explorer(model, d.X_test[:100], d.y_test[:100])


def _convolution():
    from .convolution import kernel_explorer, photo_crop

    return kernel_explorer(crops={"eyes": photo_crop()[40:80, 60:100], "flat": np.full((20, 20), 0.5)})


def _interpretability():
    from .interpretability import fgsm_explorer

    model, d = _small_torch_mlp(hidden=16, steps=20, flatten=True)  # takes (N, 1, 8, 8) images
    return fgsm_explorer(model, d.X_test[:2], d.y_test[:2])


def _agents():
    from ..envs import CliffWalk, learning_curves, plan
    from .agents import LRS, reinforce_explorer

    env = CliffWalk()
    P, R, _ = env.model()
    optimum = plan(P, R, env.max_steps)[0][env.start]
    random_return = plan(P, R, env.max_steps, policy=np.full((env.n_states, 4), 0.25))[0][env.start]
    return reinforce_explorer(learning_curves(env, LRS, seeds=3, episodes=150), optimum, random_return, env.max_steps)


def _generative():
    from ..generative import GANConfig, ring_centers, ring_gaussians, train_gan
    from .generative import gan_explorer

    data, _ = ring_gaussians(512, std=0.05, rng=0)
    config = GANConfig(n_runs=3, steps=60, n_snapshots=4, n_samples=200, hidden=16)
    runs = {"plain GAN": train_gan(data, config, seed=0),
            "PacGAN (m=2)": train_gan(data, GANConfig(**{**config.__dict__, "pack": 2}), seed=0)}
    return gan_explorer({k: v["samples"] for k, v in runs.items()}, runs["plain GAN"]["steps"],
                        ring_centers(8, 2.0), 0.05, run_ids=(0, 1, 2))


def _quantum():
    from ..quantum import gradient_sweep
    from .quantum import barren_plateau_explorer

    return barren_plateau_explorer([2, 4], [1, 2], gradient_sweep([2, 4], [1, 2], n_samples=20, rng=0))


# One line per explorer, in book order.
BUILDERS: dict[str, tuple[Callable, bool]] = {
    "neurons": (_build("neurons", "neuron_boundary_explorer"), False),
    "training": (_build("training", "mlp_training_explorer", steps=40), False),
    "activations": (_build("activations", "signal_explorer", width=32, n_samples=16), False),
    "optimisers": (_build("optimisers", "optimiser_race_explorer",
                          steps={"rosenbrock": 60, "saddle": 30, "ravine": 30}), False),
    "generalisation": (_build("generalisation", "overfitting_explorer", n_train=50, epochs=2), False),
    "pytorch": (_build("pytorch", "batch_lr_explorer", epochs=2, n_train=50), True),
    "convolution": (_convolution, False),
    "recurrent": (_build("recurrent", "gradient_flow_explorer", hidden_size=8, n_sequences=4), True),
    "attention": (_build("attention", "attention_scale_explorer", length=6), False),
    "diagnostics": (_build("diagnostics", "lr_init_explorer", steps=10, hidden=8, batch_size=16), True),
    "regularisation": (_build("regularisation", "smoothing_dropout_explorer", n_train=50, epochs=2, width=16), True),
    "efficient": (_build("efficient", "checkpoint_explorer", width=8, batch=4), True),
    "compression": (_compression, True),
    "interpretability": (_interpretability, True),
    "generative": (_generative, True),
    "agents": (_agents, False),
    "brains": (_build("brains", "lif_explorer"), False),
    "quantum": (_quantum, False),
}
