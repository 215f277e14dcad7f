r"""Data-parallel training with ``torch.distributed``: one worker script, launched by ``torchrun``.

Data parallelism keeps a full copy of the model in each of :math:`W` processes
(*ranks*). At every step each rank takes its own shard of the global batch,
computes the gradient of the mean loss over that shard, and the ranks average
their gradients with an *all-reduce*, so that every rank holds

.. math::
    g = \frac{1}{W} \sum_{r=0}^{W-1} \nabla_\theta \frac{1}{n} \sum_{i \in \text{shard}_r} \ell_i
      = \nabla_\theta \frac{1}{W n} \sum_{i \in \text{batch}} \ell_i ,

the gradient of the mean loss over the whole batch of :math:`W n` examples (shards of
equal size :math:`n`). Every replica then takes the same optimiser step from the
same parameters, so the replicas never drift apart and training is that of one
process on the combined batch.

This module is both a library and the worker script. Run by a launcher,

.. code-block:: bash

    python -m torch.distributed.run --nproc_per_node=2 -m nblib.distributed --steps 10 --out result.pt

each worker reads its rank and the world size from the environment variables that
``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), joins the
process group with the ``gloo`` backend (CPU) and trains two replicas of the same
model side by side: one wrapped in ``DistributedDataParallel``, one whose gradients
are averaged by hand with ``dist.all_reduce``. Rank 0 saves both results.
:func:`train_single` trains the same model in one process on the combined batch,
the reference both must equal. :func:`launch` starts the workers from Python (a
notebook or a test) on 127.0.0.1 with a free port, with a timeout that kills the
whole process group, so nothing is left hanging.

torch is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import _checks

__all__ = ["Config", "make_data", "make_model", "shard", "train_single", "train_replica", "worker",
           "free_port", "torchrun_command", "launch", "main"]


@dataclass(frozen=True)
class Config:
    """What every rank (and the single-process reference) must agree on."""

    steps: int = 10          # optimiser steps; few, because each one is checked exactly
    batch: int = 32          # global batch size; each of W ranks takes batch / W rows per step
    features: int = 8        # inputs of the small regression MLP
    hidden: int = 16         # its hidden width
    lr: float = 0.05         # SGD learning rate (with momentum 0.9, to make the state matter)
    seed: int = 0            # seeds data and initial weights identically on every rank

    def __post_init__(self):
        for name in ("steps", "batch", "features", "hidden"):
            _checks.integer(getattr(self, name), name, minimum=1)
        _checks.positive(self.lr, "lr")
        _checks.integer(self.seed, "seed", minimum=0)


def _config(cfg) -> Config:
    if not isinstance(cfg, Config):
        raise TypeError(f"cfg must be a Config, got {type(cfg).__name__}")
    return cfg


def make_data(cfg: Config):
    """A fixed regression data set, ``steps * batch`` rows, identical on every rank (float64).

    Returns ``(X, y)`` of shapes ``(steps * batch, features)`` and ``(steps * batch, 1)``.
    """
    import torch

    cfg = _config(cfg)
    g = torch.Generator().manual_seed(cfg.seed)
    X = torch.randn(cfg.steps * cfg.batch, cfg.features, generator=g, dtype=torch.float64)
    w = torch.randn(cfg.features, 1, generator=g, dtype=torch.float64)
    y = torch.tanh(X @ w) + 0.1 * torch.randn(len(X), 1, generator=g, dtype=torch.float64)
    return X, y


def make_model(cfg: Config):
    """``features -> hidden -> 1`` MLP in float64, with weights drawn from ``cfg.seed``."""
    import torch

    cfg = _config(cfg)
    torch.manual_seed(cfg.seed)
    return torch.nn.Sequential(torch.nn.Linear(cfg.features, cfg.hidden), torch.nn.Tanh(),
                               torch.nn.Linear(cfg.hidden, 1)).double()


def shard(n: int, rank: int, world_size: int) -> slice:
    """The rows ``[rank * n / W, (rank + 1) * n / W)`` of a batch of ``n`` that ``rank`` trains on.

    Shards must be equal for the averaged gradient to be the full batch's, so ``n``
    must be a multiple of ``world_size``.

    Example:
        >>> shard(8, 1, 2)
        slice(4, 8, None)
    """
    n = _checks.integer(n, "n", minimum=1)
    world_size = _checks.integer(world_size, "world_size", minimum=1)
    rank = _checks.integer(rank, "rank", minimum=0)
    if rank >= world_size:
        raise ValueError(f"rank must be < world_size={world_size}, got {rank}")
    if n % world_size:
        raise ValueError(f"n={n} must be a multiple of world_size={world_size} for equal shards")
    size = n // world_size
    return slice(rank * size, (rank + 1) * size)


def _batches(cfg: Config, rank: int = 0, world_size: int = 1):
    X, y = make_data(cfg)
    for step in range(cfg.steps):
        rows = slice(step * cfg.batch, (step + 1) * cfg.batch)
        part = shard(cfg.batch, rank, world_size)
        yield X[rows][part], y[rows][part]  # (batch / W, features), (batch / W, 1)


def _optimizer(model, cfg: Config):
    import torch

    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)


def train_single(cfg: Config = Config()) -> dict:
    """The reference: one process, the whole batch of ``cfg.batch`` rows at every step.

    Returns ``{"params": [tensors], "losses": [float per step]}``.
    """
    import torch.nn.functional as F

    model = make_model(cfg)
    opt = _optimizer(model, cfg)
    losses = []
    for xb, yb in _batches(cfg):
        loss = F.mse_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"params": [p.detach().clone() for p in model.parameters()], "losses": losses}


def train_replica(cfg: Config, rank: int, world_size: int, mode: str = "ddp") -> dict:
    """Train this rank's replica in an initialised process group; the same result on every rank.

    Args:
        cfg: the shared configuration.
        rank, world_size: this process's place in the group.
        mode: ``"ddp"`` wraps the model in ``DistributedDataParallel``, which averages
            gradients with all-reduces during ``backward``; ``"allreduce"`` sums each
            gradient over the ranks with ``dist.all_reduce`` after ``backward`` and
            divides by ``world_size``, the same idea written out.

    Returns ``{"params": [...], "losses": [...]}``; ``losses`` are the global batch's
    mean loss (this shard's loss, averaged over the ranks).
    """
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F

    if mode not in ("ddp", "allreduce"):
        raise ValueError(f"mode must be 'ddp' or 'allreduce', got {mode!r}")
    model = make_model(cfg)
    net = torch.nn.parallel.DistributedDataParallel(model) if mode == "ddp" else model
    opt = _optimizer(model, cfg)
    losses = []
    for xb, yb in _batches(cfg, rank, world_size):
        loss = F.mse_loss(net(xb), yb)
        opt.zero_grad()
        loss.backward()  # under DDP, gradients are already averaged over ranks here
        if mode == "allreduce":
            for p in model.parameters():
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                p.grad /= world_size
        opt.step()
        mean_loss = loss.detach().clone()
        dist.all_reduce(mean_loss, op=dist.ReduceOp.SUM)
        losses.append(mean_loss.item() / world_size)
    return {"params": [p.detach().clone() for p in model.parameters()], "losses": losses}


def worker(cfg: Config, out: str | None = None, modes=("ddp", "allreduce")) -> None:
    """The body of each launched process: join the group, train a replica per mode, rank 0 saves.

    ``modes`` picks ``"ddp"``, ``"allreduce"`` or both (see :func:`train_replica`).
    Wrapping a model in ``DistributedDataParallel`` the first time imports a large part
    of torch (about a second of CPU per process), so a quick demonstration may use
    ``"allreduce"`` alone.
    """
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")
    try:
        rank, world_size = dist.get_rank(), dist.get_world_size()
        results = {mode: train_replica(cfg, rank, world_size, mode) for mode in modes}
        # every rank must hold the same parameters; check it here, across processes
        for mode, res in results.items():
            flat = torch.cat([p.flatten() for p in res["params"]])
            copies = [torch.empty_like(flat) for _ in range(world_size)]
            dist.all_gather(copies, flat)
            res["max_rank_gap"] = max((c - flat).abs().max().item() for c in copies)
        if rank == 0:
            print(f"world size {world_size} ({dist.get_backend()} backend): each rank trained on "
                  f"{cfg.batch // world_size} of {cfg.batch} rows per step for {cfg.steps} steps ({', '.join(modes)})")
            if out:
                torch.save({"world_size": world_size, "config": cfg.__dict__, **results}, out)
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it: bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_command(nproc: int, port: int, script_args=(), module: str = "nblib.distributed") -> list[str]:
    """The ``torchrun`` command line that starts ``nproc`` workers of ``module`` on this machine.

    ``sys.executable -m torch.distributed.run`` is ``torchrun`` for the current
    interpreter (so a notebook's virtual environment is used). One node, static
    rendezvous at 127.0.0.1:``port``.
    """
    nproc = _checks.integer(nproc, "nproc", minimum=1)
    port = _checks.integer(port, "port", minimum=1)
    if isinstance(script_args, (str, bytes)) or not isinstance(script_args, (list, tuple)):
        raise TypeError(f"script_args must be a list or tuple of arguments, got {type(script_args).__name__}")
    if not isinstance(module, str) or not module:
        raise TypeError(f"module must be a module name, got {module!r}")
    return [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc_per_node={nproc}",
            "--master_addr=127.0.0.1", f"--master_port={port}", "-m", module, *map(str, script_args)]


def launch(nproc: int, script_args=(), timeout: float = 60.0, port: int | None = None) -> subprocess.CompletedProcess:
    """Run ``torchrun`` with ``nproc`` workers of this module and wait; kill everything on timeout.

    Workers get ``OMP_NUM_THREADS=1`` (one BLAS thread each). The launcher runs in its
    own session, so on timeout the whole process group (launcher and workers) is
    killed and :class:`TimeoutError` raised; a failed run raises :class:`RuntimeError`
    with the workers' error output.

    Returns the completed process (``stdout`` holds rank 0's printout).
    """
    timeout = _checks.positive(timeout, "timeout")
    cmd = torchrun_command(nproc, port or free_port(), script_args)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
        [root] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise TimeoutError(f"torchrun did not finish within {timeout:g} s; its processes were killed") from None
    if proc.returncode != 0:
        raise RuntimeError(f"torchrun failed with exit code {proc.returncode}:\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def main(argv=None) -> None:
    """Entry point of ``python -m nblib.distributed`` (under a launcher that sets RANK, WORLD_SIZE, ...)."""
    p = argparse.ArgumentParser(description="Data-parallel training of a small MLP, DDP and hand-written all-reduce.")
    p.add_argument("--steps", type=int, default=Config.steps, help="optimiser steps")
    p.add_argument("--batch", type=int, default=Config.batch, help="global batch size (divisible by world size)")
    p.add_argument("--lr", type=float, default=Config.lr, help="SGD learning rate")
    p.add_argument("--seed", type=int, default=Config.seed, help="seed of data and initial weights")
    p.add_argument("--modes", nargs="+", choices=["ddp", "allreduce"], default=["ddp", "allreduce"],
                   help="gradient averaging: DistributedDataParallel, hand-written all_reduce, or both")
    p.add_argument("--out", default=None, help="where rank 0 saves the results (torch.save)")
    a = p.parse_args(argv)
    worker(Config(steps=a.steps, batch=a.batch, lr=a.lr, seed=a.seed), a.out, tuple(a.modes))


if __name__ == "__main__":
    main()
