"""Explorer for GAN training on a ring of Gaussians: training step x fix x run, from stored snapshots."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer


def gan_explorer(runs: dict, steps, centers, std: float, run_ids=(0, 1, 2), book_steps=None) -> Explorer:
    r"""Generator samples during training, for a plain GAN and a fixed one, several runs each.

    Nothing is trained here: ``runs`` holds the samples that :func:`nblib.generative.train_gan`
    stored at each snapshot step, so every frame is a scatter plot of stored numbers. Each
    frame shows the real modes (circles of radius :math:`3\sigma`, the high-quality region)
    and 500 generator samples, and its title gives the modes covered and the fraction of
    high-quality samples of all stored samples (:func:`nblib.generative.mode_coverage`).

    A snapshot whose samples are not all finite (a diverged run) is shown as a message.

    Args:
        runs: ``{fix name: samples (S, R, n, 2)}`` for each training variant.
        steps: the ``S`` snapshot steps.
        centers: mode centres ``(K, 2)``; std: their standard deviation.
        run_ids: which of the ``R`` runs the run slider offers.
        book_steps: the steps precomputed for the book (every other snapshot by default, the
            last one included); the live slider offers every snapshot.
    """
    from .. import _checks
    from ..generative import mode_coverage

    if not isinstance(runs, dict) or not runs:
        raise TypeError("runs must be a non-empty dict {fix name: samples (S, R, n, 2)}")
    steps = [int(s) for s in _checks.as_array(steps, "steps", ndim=1)]
    centers = _checks.as_array(centers, "centers", ndim=2)
    std = _checks.positive(std, "std")
    arrays = {}
    for name, samples in runs.items():
        samples = _checks.as_array(samples, f"runs[{name!r}]", ndim=4, finite=False)
        if samples.shape[0] != len(steps) or samples.shape[-1] != 2:
            raise ValueError(f"runs[{name!r}] must have shape ({len(steps)}, R, n, 2), got {samples.shape}")
        arrays[name] = samples
    n_runs = min(a.shape[1] for a in arrays.values())
    run_ids = tuple(int(r) for r in run_ids)
    if not run_ids or min(run_ids) < 0 or max(run_ids) >= n_runs:
        raise ValueError(f"run_ids must lie in [0, {n_runs}), got {run_ids}")
    if book_steps is None:
        book_steps = steps[::-2][::-1]
    book_steps = [int(s) for s in book_steps]
    if not set(book_steps) <= set(steps):
        raise ValueError(f"book_steps {book_steps} must be among the snapshot steps {steps}")
    lim = 1.35 * float(np.abs(centers).max())
    theta = np.linspace(0, 2 * np.pi, 60)

    def render(step, fix, run):
        import matplotlib.pyplot as plt

        xy = arrays[fix][steps.index(step), run]
        if not np.isfinite(xy).all():
            raise SettingError(f"run {run} of '{fix}' diverged by step {step}: its samples are not finite.")
        modes, hq = mode_coverage(xy, centers, std)
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        for c in centers:
            ax.plot(c[0] + 3 * std * np.cos(theta), c[1] + 3 * std * np.sin(theta), color="0.4", lw=0.8)
        shown = xy[:500]
        ax.scatter(np.clip(shown[:, 0], -lim, lim), np.clip(shown[:, 1], -lim, lim), s=3, color="C3",
                   alpha=0.5, label="generator samples")
        ax.plot([], [], color="0.4", lw=0.8, label=r"real modes ($3\sigma$)")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.legend(loc="center", fontsize=7, frameon=False)
        ax.set_title(f"{fix}, run {run}, step {step}\n{modes} of {len(centers)} modes, "
                     f"{hq:.0%} high quality", fontsize=9)
        fig.tight_layout()
        return fig

    controls = [
        Slider("step", steps, label="training step", book_values=book_steps, value=book_steps[-1], fmt="{:d}"),
        Slider("fix", list(arrays), label="discriminator", value=list(arrays)[0]),
        Slider("run", run_ids, label="run (seed)", value=run_ids[0], fmt="{:d}"),
    ]
    return explorer(render, controls, title="GAN training on a ring of 8 Gaussians: plain or packed discriminator",
                    dpi=64)
