r"""Training with less memory and time: mixed precision, loss scaling, accumulation, checkpointing.

* :func:`underflow_report` and :class:`LossScaler` show why float16 training needs
  *loss scaling* and implement the dynamic scaler that ``torch.amp.GradScaler`` uses.
* :func:`train_amp` is a training loop with optional ``torch.autocast`` (bfloat16 or
  float16) and an optional scaler, for the CPU and for CUDA alike.
* :func:`accumulate_gradients` adds the gradient of a large batch from micro-batches.
* :class:`SavedTensorTracker` measures, exactly, the bytes that autograd keeps for the
  backward pass; :func:`checkpointed_forward` runs a ``Sequential`` with gradient
  checkpointing so that the tracker sees what is stored and what is recomputed, and
  :func:`checkpoint_memory_model` is the same count done by hand.

torch is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import statistics
import time
from contextlib import contextmanager

from . import _checks

__all__ = ["underflow_report", "LossScaler", "train_amp", "split_sizes", "accumulate_gradients", "chain_mlp",
           "SavedTensorTracker", "checkpointed_forward", "checkpoint_memory_model", "sqrt_segments", "cpu_times"]


# ---------------------------------------------------------------- mixed precision
def underflow_report(values, dtype=None, scale: float = 1.0) -> dict[str, float]:
    r"""What happens to ``values * scale`` when it is cast to a low-precision ``dtype``.

    Counts, among the nonzero entries, the fraction that

    * ``"zero"``: becomes exactly 0 (underflow: smaller than half the smallest subnormal),
    * ``"subnormal"``: lands below the smallest normal number (kept, with fewer significant bits),
    * ``"inf"``: becomes infinite (overflow),

    Args:
        values: a tensor or a sequence of tensors (e.g. the gradients of a model), any float dtype.
        dtype: the target dtype, ``torch.float16`` by default.
        scale: multiply by this before casting (the loss scale); must be > 0.

    Example:
        >>> underflow_report(torch.tensor([1e-3, 1e-6, 1e-9]))["zero"]  # 1e-9 < 2**-25
        0.3333333333333333
    """
    import torch

    dtype = torch.float16 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float16, got {dtype!r}")
    scale = _checks.positive(scale, "scale")
    if isinstance(values, torch.Tensor):
        tensors = [values]
    elif isinstance(values, (list, tuple)):
        tensors = list(values)
    else:
        raise TypeError(f"values must be a tensor or a non-empty sequence of tensors, got {type(values).__name__}")
    if not tensors or not all(isinstance(t, torch.Tensor) for t in tensors):
        raise TypeError("values must be a tensor or a non-empty sequence of tensors")
    flat = torch.cat([t.detach().flatten().double() for t in tensors])
    flat = flat[flat != 0] * scale
    if flat.numel() == 0:
        raise ValueError("values has no nonzero entries")
    cast = flat.to(dtype)
    tiny = torch.finfo(dtype).tiny
    n = flat.numel()
    return {"zero": (cast == 0).sum().item() / n,
            "subnormal": ((cast != 0) & (cast.abs() < tiny)).sum().item() / n,
            "inf": torch.isinf(cast).sum().item() / n}


class LossScaler:
    r"""Dynamic loss scaling from scratch, with the rules of ``torch.amp.GradScaler``.

    Gradients of a float16 network are often smaller than float16 can hold, so the
    loss is multiplied by a scale :math:`S` before ``backward`` (every gradient is then
    :math:`S` times larger, by the chain rule) and the gradients are divided by
    :math:`S` before the optimiser step. :math:`S` adapts: if any gradient is inf or NaN
    the step is **skipped** and :math:`S \leftarrow S \cdot \text{backoff}`; after
    ``growth_interval`` finite steps in a row, :math:`S \leftarrow S \cdot \text{growth}`.

    Args:
        init_scale: starting scale :math:`S`.
        growth_factor, backoff_factor: multipliers after a run of good steps / a bad one.
        growth_interval: number of consecutive finite steps before the scale grows.

    Example:
        >>> scaler = LossScaler(init_scale=2.0**16)
        >>> scaler.scale(loss).backward()
        >>> stepped = scaler.step(optimizer)   # False when a gradient was inf/NaN
        >>> scaler.update()
    """

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000):
        self._scale = _checks.positive(init_scale, "init_scale")
        self.growth_factor = _checks.positive(growth_factor, "growth_factor")
        if self.growth_factor <= 1:
            raise ValueError(f"growth_factor must be > 1, got {growth_factor}")
        self.backoff_factor = _checks.in_range(backoff_factor, "backoff_factor", 0.0, 1.0, high_open=True)
        if self.backoff_factor == 0:
            raise ValueError("backoff_factor must be > 0")
        self.growth_interval = _checks.integer(growth_interval, "growth_interval", minimum=1)
        self._good_steps = 0
        self._found_inf = None

    def get_scale(self) -> float:
        return self._scale

    def scale(self, loss):
        """``loss * S``: call ``backward`` on this."""
        return loss * self._scale

    def step(self, optimizer) -> bool:
        """Unscale the gradients; take the step only if all are finite. Returns whether it stepped."""
        import torch

        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        inv = 1.0 / self._scale
        found_inf = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.grad.mul_(inv)
                found_inf = found_inf or not bool(torch.isfinite(p.grad).all())
        self._found_inf = found_inf
        if not found_inf:
            optimizer.step()
        return not found_inf

    def update(self) -> None:
        """Adjust the scale after :meth:`step`: back off on inf/NaN, grow after a run of good steps."""
        if self._found_inf is None:
            raise RuntimeError("update() called before step()")
        if self._found_inf:
            self._scale *= self.backoff_factor
            self._good_steps = 0
        else:
            self._good_steps += 1
            if self._good_steps == self.growth_interval:
                self._scale *= self.growth_factor
                self._good_steps = 0
        self._found_inf = None

    def __repr__(self) -> str:
        return f"LossScaler(scale={self._scale:g}, growth_interval={self.growth_interval})"


def train_amp(model, loader, optimizer, *, epochs: int, dtype=None, scaler=None, device=None,
              loss_fn=None) -> dict[str, list]:
    """Train with optional automatic mixed precision; returns ``{"loss": [...], "scale": [...], "skipped": n}``.

    Inside ``torch.autocast(device.type, dtype)`` the matrix products run in ``dtype``
    (bfloat16 on the CPU, float16 or bfloat16 on CUDA) while the parameters, the
    optimiser state and precision-sensitive operations (softmax, losses) stay float32.
    With a ``scaler`` (``torch.amp.GradScaler`` or :class:`LossScaler`) the loss is
    scaled before ``backward`` and steps with inf/NaN gradients are skipped.

    Args:
        model: a ``torch.nn.Module`` (moved to ``device``).
        loader: iterable of ``(inputs, target)`` batches.
        optimizer: over ``model``'s parameters.
        epochs: passes over ``loader``.
        dtype: ``None`` (plain float32), ``torch.bfloat16`` or ``torch.float16``.
        scaler: ``None`` or an object with ``scale``, ``step``, ``update`` and ``get_scale``.
        device: defaults to the model's device.
        loss_fn: ``loss_fn(output, target)``; cross-entropy by default.

    Records per epoch the mean training loss and the scale at its end, and counts the
    skipped steps (the scale went down).
    """
    import torch

    epochs = _checks.integer(epochs, "epochs", minimum=1)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if dtype is not None and dtype not in (torch.bfloat16, torch.float16):
        raise TypeError(f"dtype must be None, torch.bfloat16 or torch.float16, got {dtype!r}")
    if scaler is not None and not all(hasattr(scaler, m) for m in ("scale", "step", "update", "get_scale")):
        raise TypeError(f"scaler must be None or have scale, step, update and get_scale, got {type(scaler).__name__}")
    if isinstance(loader, (str, bytes)) or not hasattr(loader, "__iter__"):
        raise TypeError(f"loader must be an iterable of (inputs, target) batches, got {type(loader).__name__}")
    loss_fn = loss_fn or torch.nn.functional.cross_entropy
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    history = {"loss": [], "scale": [], "skipped": 0}
    for _ in range(epochs):
        total, count = 0.0, 0
        for batch in loader:
            if not isinstance(batch, (list, tuple)) or len(batch) != 2:
                raise ValueError("loader must yield (inputs, target) pairs")
            inputs, target = batch[0].to(device), batch[1].to(device)
            with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                loss = loss_fn(model(inputs), target)
            optimizer.zero_grad()
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                before = scaler.get_scale()
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                history["skipped"] += int(scaler.get_scale() < before)
            total += loss.item() * len(target)
            count += len(target)
        if count == 0:
            raise ValueError("train_amp: the loader yielded no samples")
        history["loss"].append(total / count)
        history["scale"].append(scaler.get_scale() if scaler is not None else 1.0)
    return history


# ------------------------------------------------------------ gradient accumulation
def split_sizes(n: int, k: int) -> list[int]:
    """Sizes of ``k`` contiguous micro-batches covering ``n`` rows, as equal as possible.

    Example:
        >>> split_sizes(10, 3)
        [4, 3, 3]
    """
    n = _checks.integer(n, "n", minimum=1)
    k = _checks.integer(k, "k", minimum=1)
    if k > n:
        raise ValueError(f"k must be <= n={n} (no empty micro-batch), got {k}")
    return [n // k + (i < n % k) for i in range(k)]


def accumulate_gradients(model, loss_fn, inputs, target, micro_batches: int) -> float:
    r"""Add to ``.grad`` the gradient of the mean loss over the batch, computed in micro-batches.

    With a loss that averages over its rows, the batch's mean loss is the
    size-weighted mean of the micro-batch losses,

    .. math::
        L = \frac{1}{N}\sum_{i=1}^{N} \ell_i = \sum_{j=1}^{k} \frac{n_j}{N} L_j ,

    so calling ``backward`` on :math:`(n_j/N)\, L_j` for each micro-batch :math:`j` sums to
    the gradient of :math:`L` while only one micro-batch's activations are alive at a
    time. With equal sizes the weight is the familiar :math:`1/k`. Exact up to
    floating-point rounding, unless the model couples the rows of a batch (batch
    normalisation computes its statistics per micro-batch).

    Args:
        model: a ``torch.nn.Module``; its gradients are *added to*, like ``backward``
            (call ``optimizer.zero_grad()`` first).
        loss_fn: ``loss_fn(output, target)`` averaging over rows (``reduction="mean"``).
        inputs: ``(N, ...)`` tensor. target: ``(N, ...)`` tensor.
        micro_batches: number :math:`k` of micro-batches, ``1 <= k <= N``.

    Returns:
        The mean loss over the whole batch (a float).

    Shape:
        inputs ``(N, *)``, target ``(N, *)``; micro-batch :math:`j` has ``split_sizes(N, k)[j]`` rows.
    """
    import torch

    if not isinstance(inputs, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError("inputs and target must be torch tensors")
    if inputs.dim() == 0 or target.dim() == 0:
        raise ValueError("inputs and target must have a batch dimension, got a 0-d tensor")
    n = len(inputs)
    if n == 0:
        raise ValueError("inputs is empty: accumulate_gradients needs at least one row")
    if len(target) != n:
        raise ValueError(f"target has {len(target)} rows but inputs has {n}")
    micro_batches = _checks.integer(micro_batches, "micro_batches", minimum=1)
    if micro_batches > n:
        raise ValueError(f"micro_batches must be <= the {n} rows of inputs (no empty micro-batch), got {micro_batches}")
    sizes = split_sizes(n, micro_batches)
    total = 0.0
    for xb, yb in zip(torch.split(inputs, sizes), torch.split(target, sizes)):
        loss = loss_fn(model(xb), yb) * (len(xb) / n)  # this micro-batch's share of the mean
        loss.backward()  # adds into .grad; this micro-batch's graph is freed here
        total += loss.item()
    return total


# ------------------------------------------------------------ gradient checkpointing
def chain_mlp(depth: int, width: int, seed: int = 0, dtype=None):
    """``depth`` blocks of ``Linear(width, width)`` followed by ``ReLU``, as one ``Sequential``.

    The chain whose activation memory is easy to count by hand: each block keeps one
    ``(B, width)`` tensor for backward (see :func:`checkpoint_memory_model`).
    """
    import torch

    depth = _checks.integer(depth, "depth", minimum=1)
    width = _checks.integer(width, "width", minimum=1)
    torch.manual_seed(_checks.integer(seed, "seed", minimum=0))
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be None or a floating torch.dtype, got {dtype!r}")
    layers = []
    for _ in range(depth):
        layers += [torch.nn.Linear(width, width), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers).to(dtype or torch.float32)


class _Handle:
    """What autograd stores instead of a tensor while a tracker is active; its deletion frees it."""

    __slots__ = ("tracker", "key", "tensor")

    def __init__(self, tracker, key, tensor):
        self.tracker, self.key, self.tensor = tracker, key, tensor

    def __del__(self):
        self.tracker._release(self.key)


class SavedTensorTracker:
    r"""Exact bytes of the tensors autograd saves for backward, live, with their peak and timeline.

    Every operation that needs an input or output for its backward pass hands it to
    the *pack* hook of ``torch.autograd.graph.saved_tensors_hooks``. The tracker counts
    the bytes of each tensor's *storage* the first time it is saved (views and tensors
    saved twice share a storage and count once) and returns a small handle; when
    autograd frees the saved tensor, after the backward of its node, the handle is
    deleted and, once no handle holds that storage, its bytes are subtracted. The
    tensors in ``exclude`` (the parameters, which exist anyway) are not counted.

    Not counted: gradients and temporary buffers of the backward pass, and tensors kept
    alive by other means than autograd's saved tensors.

    Attributes:
        live: bytes held now. peak: the largest ``live`` seen.
        timeline: ``live`` after every change, for plotting.

    Example:
        >>> tracker = SavedTensorTracker(exclude=model.parameters())
        >>> with tracker:
        ...     loss = model(x).sum()
        ...     held = tracker.live          # activations kept for backward
        ...     loss.backward()
    """

    def __init__(self, exclude=()):
        import torch

        if isinstance(exclude, torch.Tensor) or not hasattr(exclude, "__iter__"):
            raise TypeError(f"exclude must be an iterable of tensors, got {type(exclude).__name__}")
        exclude = list(exclude)
        if not all(isinstance(t, torch.Tensor) for t in exclude):
            raise TypeError("exclude must hold only tensors (e.g. model.parameters())")
        self._exclude = {t.untyped_storage().data_ptr() for t in exclude}
        self._refs: dict[int, int] = {}
        self._bytes: dict[int, int] = {}
        self.live = 0
        self.peak = 0
        self.timeline: list[int] = [0]
        self._stack = []

    def _pack(self, tensor):
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        if key in self._exclude:
            return tensor
        if self._refs.get(key, 0) == 0:
            self._bytes[key] = storage.nbytes()
            self.live += self._bytes[key]
            self.peak = max(self.peak, self.live)
            self.timeline.append(self.live)
        self._refs[key] = self._refs.get(key, 0) + 1
        return _Handle(self, key, tensor)

    @staticmethod
    def _unpack(packed):
        return packed.tensor if isinstance(packed, _Handle) else packed

    def _release(self, key):
        self._refs[key] -= 1
        if self._refs[key] == 0:
            self.live -= self._bytes.pop(key)
            del self._refs[key]
            self.timeline.append(self.live)

    @contextmanager
    def hooks(self):
        """Route the saved tensors of the code inside to this tracker (re-entrant)."""
        import torch

        with torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack):
            yield self

    def __enter__(self):
        self._stack.append(self.hooks())
        return self._stack[-1].__enter__()

    def __exit__(self, *exc):
        return self._stack.pop().__exit__(*exc)

    def __repr__(self) -> str:
        return f"SavedTensorTracker(live={self.live} B, peak={self.peak} B)"


def checkpointed_forward(model, x, segments: int, tracker: SavedTensorTracker | None = None):
    r"""``model(x)`` for a ``Sequential`` split into ``segments`` parts, all but the last checkpointed.

    A checkpointed segment runs its forward pass without saving anything but its input;
    during backward it is run again, under autograd, to rebuild the activations it
    needs (``torch.utils.checkpoint``; Chen et al., 2016). The last segment is not
    checkpointed, since its backward comes first, as in ``torch.utils.checkpoint.checkpoint_sequential``.
    ``segments=1`` is the plain forward pass.

    This uses the *re-entrant* variant (``use_reentrant=True``): its segment inputs are
    saved with ``save_for_backward``, so a :class:`SavedTensorTracker` sees them, and the
    segment functions re-enter the tracker's hooks when they are recomputed, so it also
    sees the recomputed activations. (The re-entrant variant needs an input that requires
    a gradient: if ``x`` does not, a detached copy that does is used, sharing its storage.)
    PyTorch recommends ``use_reentrant=False`` for new code: it recomputes the same
    operations and stores the same segment inputs.

    Args:
        model: a ``torch.nn.Sequential``.
        x: its input ``(B, *)``.
        segments: number of segments, ``1 <= segments <= len(model)``; the modules are split
            into contiguous groups of nearly equal size (the first ones one longer).
        tracker: optional; counts the saved and recomputed activations.
    """
    import torch
    from torch.utils.checkpoint import checkpoint

    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch.Tensor, got {getattr(x, 'dtype', type(x).__name__)}")
    if tracker is not None and not isinstance(tracker, SavedTensorTracker):
        raise TypeError(f"tracker must be None or a SavedTensorTracker, got {type(tracker).__name__}")
    segments = _checks.integer(segments, "segments", minimum=1)
    if segments > len(model):
        raise ValueError(f"segments must be <= the number of modules ({len(model)}), got {segments}")
    modules = list(model)
    bounds = [0]
    for size in split_sizes(len(modules), segments):
        bounds.append(bounds[-1] + size)

    def run(part):
        def segment(h):
            if tracker is None:
                return torch.nn.Sequential(*part)(h)
            with tracker.hooks():  # recomputation in backward happens outside the caller's `with`
                for module in part:
                    h = module(h)
                return h
        return segment

    h = x
    if segments > 1 and not h.requires_grad:
        h = h.detach().requires_grad_(True)
    for a, b in zip(bounds[:-2], bounds[1:-1]):
        h = checkpoint(run(modules[a:b]), h, use_reentrant=True)
    for module in modules[bounds[-2]:]:
        h = module(h)
    return h


def checkpoint_memory_model(depth: int, segments: int) -> dict[str, int]:
    r"""Hand count of saved activations for :func:`chain_mlp` under :func:`checkpointed_forward`.

    In units of one ``(B, width)`` activation. Each ``Linear`` saves its input and each
    ``ReLU`` its output, and the two are the same tensor between blocks, so a chain of
    :math:`n` blocks keeps :math:`n + 1` tensors (the input and the :math:`n` ReLU
    outputs). With :math:`k` segments of :math:`s = n / k` blocks:

    * after the forward pass: the inputs of the :math:`k - 1` checkpointed segments plus
      the last segment's :math:`s + 1` tensors, :math:`k + s`;
    * while segment :math:`j` is recomputed in backward: the inputs of segments
      :math:`1..j` plus its :math:`s` recomputed outputs, :math:`j + s \le k - 1 + s`;

    so the peak is :math:`k + s`, smallest near :math:`k = \sqrt{n}` (:math:`\approx 2\sqrt{n}`),
    and :math:`(k - 1)s = n - s` blocks are computed twice.

    Returns ``{"after_forward", "peak", "plain", "recomputed_blocks"}`` (``plain``: the
    :math:`n + 1` of no checkpointing).
    """
    depth = _checks.integer(depth, "depth", minimum=1)
    segments = _checks.integer(segments, "segments", minimum=1)
    if segments > depth or depth % segments:
        raise ValueError(f"segments must divide depth={depth} (equal segments of whole blocks), got {segments}")
    if segments == 1:
        return {"after_forward": depth + 1, "peak": depth + 1, "plain": depth + 1, "recomputed_blocks": 0}
    s = depth // segments
    return {"after_forward": segments + s, "peak": segments + s, "plain": depth + 1,
            "recomputed_blocks": (segments - 1) * s}


def sqrt_segments(depth: int) -> int:
    """The divisor of ``depth`` closest to :math:`\\sqrt{depth}` (ties: the smaller)."""
    depth = _checks.integer(depth, "depth", minimum=1)
    divisors = [k for k in range(1, depth + 1) if depth % k == 0]
    return min(divisors, key=lambda k: (abs(k - math.sqrt(depth)), k))


def cpu_times(fns: dict, repeats: int = 9, warmup: int = 1) -> dict[str, float]:
    """Median CPU seconds (``time.process_time``) of each zero-argument function, measured interleaved.

    The functions take turns (a, b, a, b, ...), so a slow spell of a shared machine
    hits all of them alike, and CPU time, unlike wall time, does not count the time
    other processes hold the core. With one thread the two agree on an idle machine.

    Example:
        >>> t = cpu_times({"plain": step_plain, "checkpointed": step_ckpt})
        >>> t["checkpointed"] / t["plain"]
    """
    if not isinstance(fns, dict) or not fns or not all(callable(f) for f in fns.values()):
        raise TypeError("fns must be a non-empty dict of callables")
    repeats = _checks.integer(repeats, "repeats", minimum=1)
    warmup = _checks.integer(warmup, "warmup", minimum=0)
    for _ in range(warmup):
        for f in fns.values():
            f()
    samples: dict = {name: [] for name in fns}
    for _ in range(repeats):
        for name, f in fns.items():
            t0 = time.process_time()
            f()
            samples[name].append(time.process_time() - t0)
    return {name: statistics.median(ts) for name, ts in samples.items()}
