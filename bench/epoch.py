"""One training epoch of the same MLP in nblib and in PyTorch on CPU; prints the time ratio.

Same data (the digits training split), same widths, same batch size and order,
same optimiser, float32 in both, and the same number of threads for NumPy's BLAS
and for torch (one by default: these matrices are too small to gain from more,
and extra threads only add noise when the machine is busy). Each framework runs a warm-up epoch, then the
median of several timed epochs is reported. Target: nblib/torch <= 2.0.

Usage: python bench/epoch.py [--repeats 7] [--batch-size 32] [--hidden 128] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from threadpoolctl import threadpool_limits

from nblib import nn, optim
from nblib.autograd import Tensor, cross_entropy
from nblib.data import load_digits, minibatches


def nblib_epoch(model, opt, X, y, batches) -> None:
    for idx in batches:
        loss = cross_entropy(model(Tensor(X[idx])), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


def torch_epoch(model, opt, X, y, batches) -> None:
    for idx in batches:
        loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


def median_seconds(run, repeats: int) -> float:
    run()  # warm-up: allocations, lazy initialisation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_from_command_line(run, doc: str, **options) -> None:
    """Parse ``--name value`` options (their defaults given as keywords) and ``--threads``; call ``run(args)``
    with that many threads for both torch and NumPy's BLAS."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in {**options, "threads": 1}.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        run(args)


def main() -> None:
    run_from_command_line(run, __doc__, repeats=7, batch_size=32, hidden=128)


def run(args) -> dict:
    split = load_digits(seed=0)
    X, y = split.X_train, split.y_train
    batches = [b for b in minibatches(len(X), args.batch_size, rng=0)]
    sizes = [X.shape[1], args.hidden, 10]

    ours = nn.mlp(sizes, rng=0)
    ours_opt = optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    theirs = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), torch.nn.ReLU(), torch.nn.Linear(sizes[1], sizes[2]))
    theirs_opt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    torch_batches = [torch.from_numpy(b) for b in batches]

    t_ours = median_seconds(lambda: nblib_epoch(ours, ours_opt, X, y, batches), args.repeats)
    t_torch = median_seconds(lambda: torch_epoch(theirs, theirs_opt, Xt, yt, torch_batches), args.repeats)
    print(f"MLP {sizes}, {len(X)} samples, batch {args.batch_size} ({len(batches)} steps), float32, "
          f"median of {args.repeats} epochs, torch {torch.__version__} with {torch.get_num_threads()} threads")
    print(f"nblib epoch: {t_ours * 1e3:8.1f} ms")
    print(f"torch epoch: {t_torch * 1e3:8.1f} ms")
    ratio = t_ours / t_torch
    print(f"ratio nblib/torch: {ratio:.2f} (target <= 2.0: {'met' if ratio <= 2.0 else 'NOT met'})")
    return {"nblib_ms": t_ours * 1e3, "torch_ms": t_torch * 1e3, "ratio": ratio, "target": 2.0}


if __name__ == "__main__":
    main()
