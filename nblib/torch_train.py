"""The PyTorch training loop that Parts II to IV share.

:func:`fit` trains any ``torch.nn.Module`` for a number of epochs and returns an
:class:`nblib.train.History` of losses and metrics. It moves the model and each
batch to a device (the GPU when one is present, see :func:`default_device`),
steps an optional per-batch learning-rate scheduler, can clip gradients, stops
with a named error when the loss becomes NaN or inf, and reports progress:

* live in Jupyter, as a tqdm progress bar (a widget);
* as plain text lines, one per logged epoch, when ``progress="text"`` or when the
  environment variable ``NBLIB_PROGRESS=text`` is set. ``make execute`` and the
  tests set it, so the stored outputs (and so the rendered book) hold readable
  text rather than a frozen widget.

torch is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Callable, Mapping

import numpy as np

from . import _checks
from .train import History, TrainingDiverged


def default_device(prefer: str | None = None):
    """``torch.device``: ``prefer``, else ``$NBLIB_DEVICE``, else CUDA when available, else the CPU."""
    import torch

    name = prefer or os.environ.get("NBLIB_DEVICE")
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class ArrayLoader:
    """Minibatches of in-memory arrays as torch tensors, reshuffled each epoch from a fixed seed.

    A lighter stand-in for ``DataLoader(TensorDataset(...))`` for data that fits in
    memory: no worker processes, so nothing to start up, and the order of batches is
    reproducible from ``seed`` alone.

    Args:
        *arrays: arrays (NumPy or torch) with the same first dimension. Floating
            NumPy arrays become float32 tensors and integer ones int64.
        batch_size: rows per batch (the last batch may be smaller).
        shuffle: visit rows in a new random order every epoch.
        seed: seeds the shuffling generator.

    Example:
        >>> loader = ArrayLoader(np.zeros((10, 3)), np.arange(10), batch_size=4)
        >>> [xb.shape[0] for xb, yb in loader]
        [4, 4, 2]
    """

    def __init__(self, *arrays, batch_size: int, shuffle: bool = False, seed: int = 0):
        import torch

        if not arrays:
            raise ValueError("ArrayLoader needs at least one array")
        self.tensors = tuple(_as_tensor(a, f"arrays[{i}]") for i, a in enumerate(arrays))
        n = len(self.tensors[0])
        for i, t in enumerate(self.tensors):
            if len(t) != n:
                raise ValueError(f"arrays[{i}] has {len(t)} rows but arrays[0] has {n}")
        self.batch_size = _checks.integer(batch_size, "batch_size", minimum=1)
        self.shuffle = shuffle
        self._generator = torch.Generator().manual_seed(_checks.integer(seed, "seed", minimum=0))

    def __len__(self) -> int:
        return math.ceil(len(self.tensors[0]) / self.batch_size)

    @property
    def n_samples(self) -> int:
        return len(self.tensors[0])

    def __iter__(self):
        import torch

        n = self.n_samples
        order = torch.randperm(n, generator=self._generator) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield tuple(t[idx] for t in self.tensors)

    def __repr__(self) -> str:
        return f"ArrayLoader({self.n_samples} rows, batch_size={self.batch_size}, shuffle={self.shuffle})"


def _as_tensor(array, name: str):
    import torch

    if isinstance(array, torch.Tensor):
        return array
    try:
        arr = np.asarray(array)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array: {err}") from None
    if arr.dtype.kind == "f":
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    if arr.dtype.kind in "iub":
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.int64))
    raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")


def _pair(batch, name: str):
    """A batch as ``(inputs, target)`` (tensors, or anything with ``.to(device)``), or an error naming the loader."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2 and all(hasattr(t, "to") for t in batch)):
        raise TypeError(f"{name} must yield (inputs, target) pairs of tensors, got {type(batch).__name__}"
                        + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))
    return batch


def check_scores_and_classes(output, target) -> None:
    """Raise TypeError unless ``output`` is a floating torch.Tensor of scores and ``target`` an integer one."""
    import torch

    if not isinstance(output, torch.Tensor) or not output.is_floating_point() or output.ndim < 1:
        raise TypeError(f"output must be a floating torch.Tensor of scores, got {type(output).__name__}"
                        + (f" of dtype {output.dtype}" if isinstance(output, torch.Tensor) else ""))
    if not isinstance(target, torch.Tensor) or target.is_floating_point() or target.is_complex() \
            or target.dtype == torch.bool:
        raise TypeError(f"target must be an integer torch.Tensor of classes, got {type(target).__name__}"
                        + (f" of dtype {target.dtype}" if isinstance(target, torch.Tensor) else ""))


def accuracy(output, target) -> float:
    """Fraction of rows whose arg-max over the last dimension equals ``target``."""
    check_scores_and_classes(output, target)
    if tuple(target.shape) != tuple(output.shape[:-1]) or target.numel() == 0:
        raise ValueError(f"target must have shape output.shape[:-1] and hold at least one label; got output "
                         f"{tuple(output.shape)} and target {tuple(target.shape)}")
    return (output.argmax(dim=-1) == target).float().mean().item()


def evaluate(model, loader, loss_fn: Callable, metrics: Mapping[str, Callable] | None = None,
             device=None) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``loader`` in evaluation mode, without gradients.

    Each batch is weighted by its size, so the result is the mean over samples.
    """
    import torch

    device = device or next(model.parameters()).device
    metrics = dict(metrics or {})
    was_training = model.training
    model.eval()
    totals = {"loss": 0.0, **{name: 0.0 for name in metrics}}
    count = 0
    with torch.no_grad():
        for inputs, target in loader:
            inputs, target = inputs.to(device), target.to(device)
            output = model(inputs)
            n = len(target)
            totals["loss"] += loss_fn(output, target).item() * n
            for name, fn in metrics.items():
                totals[name] += fn(output, target) * n
            count += n
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no samples")
    return {name: value / count for name, value in totals.items()}


def _progress_mode(progress) -> str:
    if progress in (False, None, "none"):
        return "none"
    if progress in ("text", "widget"):
        return progress
    if progress not in (True, "auto"):
        raise ValueError(f"progress must be 'auto', 'widget', 'text' or 'none', got {progress!r}")
    if os.environ.get("NBLIB_PROGRESS") in ("text", "none"):
        return os.environ["NBLIB_PROGRESS"]
    in_kernel = "ipykernel" in sys.modules and getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return "widget" if in_kernel else "text"


def fit(model, train, *, epochs: int, optimizer, loss_fn: Callable | None = None, val=None,
        metrics: Mapping[str, Callable] | None = None, scheduler=None, device=None, grad_clip: float | None = None,
        progress="auto", log_every: int = 1, on_epoch: Callable[[int, History], bool | None] | None = None) -> History:
    """Train ``model`` on batches from ``train``; returns a :class:`~nblib.train.History`.

    Args:
        model: a ``torch.nn.Module``; moved to ``device``.
        train, val: iterables of ``(inputs, target)`` batches (e.g. :class:`ArrayLoader`).
        epochs: passes over ``train``.
        optimizer: a ``torch.optim`` optimiser over ``model``'s parameters.
        loss_fn: ``loss_fn(output, target)``; cross-entropy by default.
        metrics: name -> ``fn(output, target) -> float``; accuracy by default with
            cross-entropy, none otherwise. Validation metrics are recorded as ``val_<name>``.
        scheduler: stepped after every batch (a ``torch.optim.lr_scheduler``).
        device: defaults to :func:`default_device`.
        grad_clip: if given, clip the global gradient norm to this value.
        progress: ``"auto"``, ``"widget"``, ``"text"`` or ``"none"`` (see the module docstring).
        log_every: in text mode, print every ``log_every``-th epoch (and the last).
        on_epoch: called as ``on_epoch(epoch, history)`` after each epoch; returning
            ``True`` stops training.

    Records per epoch: ``loss`` (mean training loss over batches), ``lr``, ``seconds``,
    and with ``val``: ``val_loss`` and ``val_<metric>``.

    Raises:
        TrainingDiverged: when a batch loss is NaN or inf.
    """
    import torch

    epochs = _checks.integer(epochs, "epochs", minimum=1)
    log_every = _checks.integer(log_every, "log_every", minimum=1)
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    for name, loader in (("train", train), ("val", val)):
        if (loader is not None or name == "train") and (isinstance(loader, (str, bytes))
                                                        or not hasattr(loader, "__iter__")):
            raise TypeError(f"{name} must be an iterable of (inputs, target) batches, got {type(loader).__name__}")
    if grad_clip is not None:
        grad_clip = _checks.positive(grad_clip, "grad_clip")
    if loss_fn is None:
        loss_fn = torch.nn.functional.cross_entropy
        metrics = {"acc": accuracy} if metrics is None else metrics
    metrics = dict(metrics or {})
    device = device or default_device()
    model.to(device)
    mode = _progress_mode(progress)
    history = History()
    bar = None
    if mode == "widget":
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc="epochs", unit="epoch")
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for batch in train:
            inputs, target = _pair(batch, "train")
            inputs, target = inputs.to(device), target.to(device)
            loss = loss_fn(model(inputs), target)
            if not torch.isfinite(loss):
                if bar is not None:
                    bar.close()
                raise TrainingDiverged(f"training diverged in epoch {epoch}: the loss became {loss.item()}; "
                                       "try a smaller learning rate or gradient clipping")
            optimizer.zero_grad()
            loss.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(target)
            count += len(target)
        if count == 0:
            raise ValueError("fit: train (the training loader) yielded no samples")
        record = {"loss": total / count, "lr": optimizer.param_groups[0]["lr"]}
        if val is not None:
            scores = evaluate(model, val, loss_fn, metrics, device)
            record.update({f"val_{name}": value for name, value in scores.items()})
        record["seconds"] = time.perf_counter() - start
        history.append(**record)
        if bar is not None:
            bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k not in ("lr", "seconds")})
            bar.update(1)
        elif mode == "text" and (epoch % log_every == 0 or epoch == epochs):
            shown = "  ".join(f"{k} {v:.4f}" for k, v in record.items() if k not in ("lr", "seconds"))
            print(f"epoch {epoch:>{len(str(epochs))}}/{epochs}  {shown}  ({record['seconds']:.1f}s)")
        if on_epoch is not None and on_epoch(epoch, history) is True:
            break
    if bar is not None:
        bar.close()
    return history
