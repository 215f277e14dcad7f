"""Explorer for gradient checkpointing: depth and number of segments against memory and recomputation."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

DEPTHS = (4, 8, 16, 32, 64)
SEGMENTS = (1, 2, 4, 8, 16)
BOOK_DEPTHS = (4, 16, 64)  # the rendered book precomputes 3 x 5 frames; Jupyter offers every depth


def checkpoint_explorer(width: int = 32, batch: int = 16, seed: int = 0) -> Explorer:
    r"""Saved-activation memory over one training step of a deep chain, with and without checkpointing.

    For every depth :math:`n` in ``DEPTHS`` and number of segments :math:`k` in
    ``SEGMENTS`` (with :math:`k \le n`), the builder runs one forward and backward pass of
    :func:`nblib.efficient.chain_mlp` through :func:`nblib.efficient.checkpointed_forward`
    under a :class:`nblib.efficient.SavedTensorTracker` and keeps the measured timeline of
    live saved bytes; rendering only draws. The left panel shows that timeline (in units
    of one ``(batch, width)`` activation) against the plain pass, with the hand count
    :math:`k + n/k` of :func:`nblib.efficient.checkpoint_memory_model`; the right panel
    compares peak memory and arithmetic with the plain pass. Arithmetic is a model, not a
    timing: a backward pass costs about two forward passes, and checkpointing adds the
    forward passes of the :math:`n - n/k` recomputed blocks.

    Args:
        width, batch: size of each activation (memory scales with both; the shape of the
            timeline does not).
        seed: initial weights.
    """
    import torch

    from .. import _checks
    from ..efficient import SavedTensorTracker, chain_mlp, checkpoint_memory_model, checkpointed_forward

    width = _checks.integer(width, "width", minimum=1)
    batch = _checks.integer(batch, "batch", minimum=1)
    unit = 4 * width * batch  # bytes of one float32 (batch, width) activation
    g = torch.Generator().manual_seed(_checks.integer(seed, "seed", minimum=0))
    x = torch.randn(batch, width, generator=g)
    timelines = {}
    for depth in DEPTHS:
        model = chain_mlp(depth, width, seed=seed)
        for k in SEGMENTS:
            if k > depth:
                continue
            tracker = SavedTensorTracker(exclude=model.parameters())
            with tracker:
                checkpointed_forward(model, x, k, tracker).sum().backward()
            model.zero_grad(set_to_none=True)
            timelines[depth, k] = np.array(tracker.timeline, dtype=float) / unit

    def render(depth, segments):
        import matplotlib.pyplot as plt

        if segments > depth:
            raise SettingError(f"{depth} blocks cannot be cut into {segments} segments: each segment needs at "
                               f"least one block. Pick at most {depth} segments.")
        plain, ckpt = timelines[depth, 1], timelines[depth, segments]
        hand = checkpoint_memory_model(depth, segments)
        extra = hand["recomputed_blocks"] / (3 * depth)  # forward = 1, backward = 2 per block
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.4, 3.2), gridspec_kw={"width_ratios": [2, 1]})
        ax0.plot(np.linspace(0, 1, len(plain)), plain, color="grey", label="no checkpointing")
        ax0.plot(np.linspace(0, 1, len(ckpt)), ckpt, color="C0", label=f"{segments} segment(s)")
        ax0.axhline(hand["peak"], color="C3", ls=":", label=f"hand count $k + n/k$ = {hand['peak']}")
        ax0.set_ylim(0, 1.1 * (depth + 1))
        ax0.set_xlabel("progress through forward, then backward (fraction of events)")
        ax0.set_ylabel("saved activations (units of B×width)")
        ax0.set_title(f"depth {depth}: peak {ckpt.max():.0f} against {plain.max():.0f}")
        ax0.legend(fontsize=8, loc="upper right")
        mem = 100 * ckpt.max() / plain.max()
        ax1.bar([0, 1], [100, 100], color="grey", width=0.35, label="no checkpointing")
        ax1.bar([0.35, 1.35], [mem, 100 * (1 + extra)], color="C0", width=0.35, label=f"{segments} segment(s)")
        ax1.set_xticks([0.175, 1.175], ["peak memory\n(measured)", "arithmetic\n(model)"])
        ax1.set_ylim(0, 160)
        ax1.set_ylabel("% of no checkpointing")
        ax1.set_title(f"{mem - 100:+.0f}% memory, {100 * extra:+.0f}% work", fontsize=10)
        ax1.legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        return fig

    controls = [
        Slider("depth", DEPTHS, label="depth $n$ (Linear+ReLU blocks)", book_values=BOOK_DEPTHS, value=16,
               fmt="{:d}"),
        Slider("segments", SEGMENTS, label="checkpoint segments $k$", value=4, fmt="{:d}"),
    ]
    return explorer(render, controls, title="Gradient checkpointing: memory saved against work repeated", dpi=64)
