"""Latency of every explorer's callback: what a reader waits for after moving a slider.

Each explorer of ``nblib.explorers.catalog`` is built with small inputs, then its
callback (``Explorer.set``: render the figure, encode the PNG, update the live
widget) is timed for every setting of its controls, or for a fixed random sample of
``--settings`` of them, with the cache cleared so nothing is served from memory.
Reported per explorer: how many settings showed a message (a setting that cannot work
answers at once), the median and the 95th percentile in milliseconds, against
the targets of 100 ms median for NumPy explorers and 1 s for PyTorch ones.

Usage: python bench/widgets.py [--settings 24] [--threads 1]
"""

from __future__ import annotations

import itertools
import time

import numpy as np

TARGET_MS = {"numpy": 100.0, "torch": 1000.0}


def settings_of(exp, limit: int, rng: np.random.Generator) -> list[dict]:
    names = [c.name for c in exp.controls]
    every = list(itertools.product(*(c.values for c in exp.controls)))
    if len(every) > limit:
        every = [every[i] for i in sorted(rng.choice(len(every), size=limit, replace=False))]
    return [dict(zip(names, combo)) for combo in every]


def latencies_ms(exp, settings: list[dict]) -> tuple[list[float], int]:
    """Callback times in ms for every setting, and how many of the settings showed a message instead of a figure."""
    import matplotlib.pyplot as plt

    exp.widget  # build the live view once, as Jupyter does when the cell is shown
    exp.set(**settings[0])  # warm-up: first-call imports and font caches
    out, messages = [], 0
    for setting in settings:
        exp._cache.clear()
        start = time.perf_counter()
        frame = exp.set(**setting)
        out.append(1e3 * (time.perf_counter() - start))
        messages += not frame.ok
        plt.close("all")
    return out, messages


def run(args) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    from nblib.explorers.catalog import BUILDERS

    rng = np.random.default_rng(0)
    results = {}
    print(f"{'explorer':<18} {'kind':<6} {'settings':>8} {'messages':>8} {'median ms':>10} {'p95 ms':>8}  target")
    for key, (build, needs_torch) in BUILDERS.items():
        exp = build()
        times, messages = latencies_ms(exp, settings_of(exp, args.settings, rng))
        kind = "torch" if needs_torch else "numpy"
        median, p95 = float(np.median(times)), float(np.percentile(times, 95))
        met = median <= TARGET_MS[kind]
        results[key] = {"kind": kind, "n": len(times), "messages": messages, "median_ms": median, "p95_ms": p95,
                        "target_met": met}
        print(f"{key:<18} {kind:<6} {len(times):>8} {messages:>8} {median:>10.1f} {p95:>8.1f}  "
              f"{'met' if met else 'NOT met'} (median <= {TARGET_MS[kind]:.0f} ms)")
    return results


def main() -> None:
    from epoch import run_from_command_line

    run_from_command_line(run, __doc__, settings=24)


if __name__ == "__main__":
    main()
