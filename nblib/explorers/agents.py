"""Explorer for chapter 16: REINFORCE's learning rate, with and without a baseline, on the cliff walk."""

from __future__ import annotations

import numpy as np

from ..widgets import Explorer, SettingError, Slider, explorer

LRS = (0.003, 0.01, 0.03, 0.1, 1.0)
TAIL = 50  # the last episodes, over which a run's final return is averaged
SMOOTH = 10  # episodes per moving-average window in the plot


def stuck_seeds(returns, max_steps: int, tail: int = TAIL) -> np.ndarray:
    """Which runs (rows of ``returns``, shape (seeds, episodes)) ended stuck.

    A run is stuck when its mean return over the last ``tail`` episodes is at most
    ``-max_steps``: on average it no longer reaches the goal within the step limit, no
    better than an agent that wanders safely until the episode is cut off.
    """
    returns = np.asarray(returns, dtype=float)
    return returns[:, -tail:].mean(axis=1) <= -max_steps


def reinforce_explorer(curves: dict, optimum: float, random_return: float, max_steps: int) -> Explorer:
    r"""Learning curves of REINFORCE on the cliff walk for a learning rate and baseline on/off (precomputed).

    Each frame shows the return per episode (a moving average over ``SMOOTH`` episodes),
    mean over seeds with a band of one standard deviation, the exact optimal expected
    return and that of the uniformly random policy (both by dynamic programming), and,
    faintly, every seed. A setting at which most seeds (at least 80%) end stuck
    (:func:`stuck_seeds`) is shown as a message: too large a step has made the policy
    deterministic before it found the goal, the policy-gradient form of divergence.

    Args:
        curves: ``{(lr, baseline): returns (seeds, episodes)}`` from
            :func:`nblib.envs.learning_curves`, for every lr of ``LRS`` and both baselines.
        optimum, random_return: exact expected returns from the start state.
        max_steps: the environment's step limit.
    """
    from .. import _checks

    if not isinstance(curves, dict):
        raise TypeError(f"curves must be a dict {{(lr, baseline): returns}}, got {type(curves).__name__}")
    missing = [(lr, b) for lr in LRS for b in (False, True) if (lr, b) not in curves]
    if missing:
        raise ValueError(f"curves lacks the settings {missing}; compute them with learning_curves(env, LRS)")
    optimum = _checks.as_real(optimum, "optimum")
    random_return = _checks.as_real(random_return, "random_return")
    max_steps = _checks.integer(max_steps, "max_steps", minimum=1)
    data = {k: _checks.as_array(curves[k], "curves", ndim=2).astype(float) for k in curves}
    kernel = np.ones(SMOOTH) / SMOOTH

    def render(lr, baseline):
        import matplotlib.pyplot as plt

        on = baseline == "on"
        R = data[(lr, on)]  # (seeds, episodes)
        stuck = stuck_seeds(R, max_steps)
        if stuck.mean() >= 0.8:
            final = R[:, -TAIL:].mean()
            raise SettingError(
                f"Step too large: with lr = {lr:g} {int(stuck.sum())} of {len(R)} seeds ended stuck, with a final "
                f"return of {final:.1f} (optimum {optimum:.1f}). The first episodes' large updates made the policy "
                "almost deterministic before it had found the goal, and a deterministic policy no longer "
                "explores, so it never recovers. This is how policy-gradient learning diverges. "
                "Choose lr of 0.03 or less.")
        smooth = np.array([np.convolve(r, kernel, mode="valid") for r in R])  # (seeds, episodes - SMOOTH + 1)
        x = np.arange(SMOOTH, R.shape[1] + 1)
        mean, std = smooth.mean(0), smooth.std(0)
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for s in smooth:
            ax.plot(x, s, color="C0", lw=0.6, alpha=0.25)
        ax.plot(x, mean, color="C0", lw=2, label=f"REINFORCE, mean of {len(R)} seeds")
        ax.fill_between(x, mean - std, mean + std, color="C0", alpha=0.2, label="± 1 std over seeds")
        ax.axhline(optimum, color="C2", ls="--", label=f"optimal policy ({optimum:.1f}, exact)")
        ax.axhline(random_return, color="C3", ls=":", label=f"random policy ({random_return:.1f}, exact)")
        ax.set_ylim(min(random_return, -max_steps) - 15, optimum + 5)
        ax.set_xlabel("episode")
        ax.set_ylabel(f"return ({SMOOTH}-episode moving average)")
        ax.set_title(f"lr = {lr:g}, baseline {baseline}: final return {R[:, -TAIL:].mean():.1f}, "
                     f"{int(stuck.sum())}/{len(R)} seeds stuck", fontsize=10)
        ax.legend(loc="lower right", fontsize=8)
        fig.subplots_adjust(left=0.12, right=0.98, bottom=0.14, top=0.9)  # fixed margins: tight_layout is slow
        return fig

    controls = [
        Slider("lr", LRS, label="learning rate η", value=0.03, fmt="{:g}"),
        Slider("baseline", ("off", "on"), label="baseline (learned state values)", value="on"),
    ]
    return explorer(render, controls, title="REINFORCE on the cliff walk: step size and baseline", dpi=64)
