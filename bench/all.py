"""``make bench``: every benchmark in one run, printed as ratios and latencies.

Runs, on one thread each and in this order: the MLP epoch of nblib's autograd
against torch (bench/epoch.py, target ratio <= 2.0), nblib's im2col convolution
against ``torch.nn.functional.conv2d`` (bench/conv.py), and the callback latency of
every explorer (bench/widgets.py). A summary table closes the run, and everything
is written to ``.artifacts/bench.json``.

Usage: python bench/all.py [--repeats 7] [--settings 24]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

import conv
import epoch
import widgets

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--settings", type=int, default=24)
    args = parser.parse_args()
    args.batch_size, args.hidden, args.threads = 32, 128, 1
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        print("== MLP epoch: nblib autograd vs torch")
        mlp = epoch.run(args)
        print("\n== convolution: nblib im2col vs torch.nn.functional.conv2d")
        args.repeats = max(args.repeats, 21)
        convolution = conv.run(args)
        print("\n== explorer callbacks")
        latency = widgets.run(args)
    print("\n== summary (one thread)")
    print(f"MLP epoch nblib/torch: {mlp['ratio']:.2f} (target <= 2.0)")
    for name, r in convolution.items():
        print(f"conv2d {name}: forward {r['forward_ratio']:.1f}x, forward+backward {r['forward_backward_ratio']:.1f}x "
              "slower than torch")
    met = sum(r["target_met"] for r in latency.values())
    print(f"explorers meeting their latency target: {met} of {len(latency)}; slowest median "
          f"{max(r['median_ms'] for r in latency.values()):.0f} ms")
    out = ROOT / ".artifacts" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"mlp_epoch": mlp, "conv2d": convolution, "explorers": latency,
                               "machine": {"cpu": platform.processor(), "python": platform.python_version(),
                                           "torch": torch.__version__},
                               "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2) + "\n")
    print(f"(written to {out.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
