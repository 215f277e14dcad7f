"""Learning-rate schedules as pure functions of the step, and a scheduler that applies one.

A schedule answers one question: which learning rate does update number ``step`` use?
Steps count from 0, so a run of ``total_steps`` updates asks for steps ``0, 1, ...,
total_steps - 1``. Every schedule here is built with its ``total_steps`` and refuses a
step outside that range with a ``ValueError``, rather than clamping or silently
extrapolating: a cosine asked about a step it was not planned for would otherwise go
back up, and a one-cycle schedule would leave its range. A schedule that does not
know where training ends cannot anneal at the right time, and this makes that
mistake loud.

:class:`Scheduler` connects a schedule to an optimiser with torch's calling
convention: building it sets the learning rate for step 0, and each ``.step()``,
called after ``optimizer.step()``, sets the rate for the next update::

    sched = Scheduler(opt, WarmupCosine(peak_lr=0.1, total_steps=1000, warmup_steps=50))
    for batch in batches:           # 1000 batches
        ...; opt.step(); sched.step()

The schedules agree with ``torch.optim.lr_scheduler`` where it has an equivalent
(``StepLR``, ``OneCycleLR``, and ``LinearLR`` followed by ``CosineAnnealingLR`` in a
``SequentialLR``); ``tests/test_schedules.py`` checks that, step by step.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks


class Schedule:
    """Base class: ``lr_at(step)`` for ``0 <= step < total_steps``; subclasses define ``_lr``."""

    def __init__(self, total_steps: int):
        self.total_steps = _checks.integer(total_steps, "total_steps", minimum=1)

    def lr_at(self, step: int) -> float:
        """The learning rate of update number ``step`` (counting from 0).

        Raises:
            ValueError: if ``step`` is negative or not below ``total_steps``.
        """
        step = _checks.integer(step, "step")
        if not 0 <= step < self.total_steps:
            raise ValueError(
                f"step {step} is outside this schedule, which was built for total_steps={self.total_steps} "
                f"(steps 0 to {self.total_steps - 1}); build the schedule with the number of updates "
                "the run will actually take")
        return float(self._lr(step))

    __call__ = lr_at

    def lrs(self) -> np.ndarray:
        """The learning rate of every step, shape ``(total_steps,)``: handy for plots."""
        return np.array([self._lr(k) for k in range(self.total_steps)], dtype=np.float64)

    def _lr(self, step: int) -> float:
        raise NotImplementedError

    def _args(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._args()}total_steps={self.total_steps})"


class Constant(Schedule):
    """The same learning rate at every step: the baseline that schedules are compared with."""

    def __init__(self, lr: float, total_steps: int):
        super().__init__(total_steps)
        self.lr = _checks.positive(lr, "lr")

    def _lr(self, step: int) -> float:
        return self.lr

    def _args(self) -> str:
        return f"lr={self.lr:g}, "


class StepDecay(Schedule):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` steps (torch's ``StepLR``).

    .. math:: \eta_k = \eta\,\gamma^{\lfloor k / \text{step\_size} \rfloor}

    Args:
        lr: the initial learning rate :math:`\eta > 0`.
        total_steps: the number of updates the run will take.
        step_size: steps between decays (at least 1).
        gamma: the factor :math:`\gamma \in (0, 1]` applied at each decay.
    """

    def __init__(self, lr: float, total_steps: int, step_size: int, gamma: float = 0.1):
        super().__init__(total_steps)
        self.lr = _checks.positive(lr, "lr")
        self.step_size = _checks.integer(step_size, "step_size", minimum=1)
        self.gamma = _checks.in_range(gamma, "gamma", 0.0, 1.0)
        if self.gamma == 0:
            raise ValueError("gamma must be > 0: a zero factor stops training at the first decay")

    def _lr(self, step: int) -> float:
        return self.lr * self.gamma ** (step // self.step_size)

    def _args(self) -> str:
        return f"lr={self.lr:g}, step_size={self.step_size}, gamma={self.gamma:g}, "


class WarmupCosine(Schedule):
    r"""Linear warm-up to ``peak_lr``, then a half cosine down towards ``min_lr``.

    With :math:`W` = ``warmup_steps``, :math:`T` = ``total_steps`` and :math:`f` =
    ``start_factor``:

    .. math::
        \eta_k = \begin{cases}
        \eta_{\max}\,\bigl(f + (1 - f)\,k/W\bigr) & k < W \\
        \eta_{\min} + \tfrac12(\eta_{\max} - \eta_{\min})
            \bigl(1 + \cos(\pi\,(k - W)/(T - W))\bigr) & k \ge W
        \end{cases}

    This is exactly torch's ``SequentialLR([LinearLR(start_factor=f, total_iters=W),
    CosineAnnealingLR(T_max=T - W, eta_min=min_lr)], milestones=[W])``. As in torch, the
    cosine would reach ``min_lr`` at step :math:`T`, one step after the last update, so
    the last update still uses a small positive rate even when ``min_lr`` is 0.

    Args:
        peak_lr: the learning rate at the end of the warm-up, :math:`\eta_{\max} > 0`.
        total_steps: the number of updates the run will take, :math:`T`.
        warmup_steps: :math:`0 \le W < T`; 0 gives a plain cosine decay.
        start_factor: the first step's rate as a fraction of ``peak_lr``, in ``(0, 1]``.
        min_lr: the floor of the cosine, :math:`0 \le \eta_{\min} \le \eta_{\max}`.
    """

    def __init__(self, peak_lr: float, total_steps: int, warmup_steps: int = 0, start_factor: float = 0.1,
                 min_lr: float = 0.0):
        super().__init__(total_steps)
        self.peak_lr = _checks.positive(peak_lr, "peak_lr")
        self.warmup_steps = _checks.integer(warmup_steps, "warmup_steps", minimum=0)
        if self.warmup_steps >= self.total_steps:
            raise ValueError(f"warmup_steps ({self.warmup_steps}) must be smaller than total_steps "
                             f"({self.total_steps}), or the cosine has no steps left")
        self.start_factor = _checks.in_range(start_factor, "start_factor", 0.0, 1.0)
        if self.start_factor == 0:
            raise ValueError("start_factor must be > 0: a first step with learning rate 0 is a wasted step")
        self.min_lr = _checks.in_range(min_lr, "min_lr", 0.0, self.peak_lr)

    def _lr(self, step: int) -> float:
        w, f = self.warmup_steps, self.start_factor
        if step < w:
            return self.peak_lr * (f + (1 - f) * step / w)
        progress = (step - w) / (self.total_steps - w)
        return self.min_lr + 0.5 * (self.peak_lr - self.min_lr) * (1 + math.cos(math.pi * progress))

    def _args(self) -> str:
        return (f"peak_lr={self.peak_lr:g}, warmup_steps={self.warmup_steps}, start_factor={self.start_factor:g}, "
                f"min_lr={self.min_lr:g}, ")


class OneCycle(Schedule):
    r"""The one-cycle policy: up from ``max_lr / div_factor`` to ``max_lr``, then down much lower.

    Matches torch's ``OneCycleLR`` (learning rate only: momentum is not cycled here). With
    :math:`T` = ``total_steps`` and :math:`p` = ``pct_start``, the phases end at steps

    * two phases (default): :math:`pT - 1` (rising from ``initial_lr = max_lr / div_factor`` to
      ``max_lr``) and :math:`T - 1` (falling to ``min_lr = initial_lr / final_div_factor``);
    * three phases: :math:`pT - 1` (rising), :math:`2pT - 2` (falling back to ``initial_lr``) and
      :math:`T - 1` (falling to ``min_lr``).

    Within a phase from step :math:`s` to :math:`e`, the rate moves from its start value
    :math:`a` to its end value :math:`b` along a half cosine,
    :math:`b + \tfrac12 (a - b)(1 + \cos(\pi\,(k - s)/(e - s)))`, or along a straight line.
    Unlike :class:`WarmupCosine`, the last update (step :math:`T-1`) uses exactly ``min_lr``.

    Args:
        max_lr: the peak learning rate.
        total_steps: the number of updates the run will take.
        pct_start: the fraction :math:`p` of the steps spent rising, in ``(0, 1)``.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        div_factor: ``initial_lr = max_lr / div_factor`` (at least 1).
        final_div_factor: ``min_lr = initial_lr / final_div_factor`` (at least 1).
        three_phase: add a phase back to ``initial_lr`` before the final descent (the original
            paper's form); the default two-phase form is fastai's and torch's default.
    """

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False):
        super().__init__(total_steps)
        self.max_lr = _checks.positive(max_lr, "max_lr")
        self.pct_start = _checks.in_range(pct_start, "pct_start", 0.0, 1.0, high_open=True)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.div_factor = _checks.in_range(div_factor, "div_factor", 1.0, math.inf)
        self.final_div_factor = _checks.in_range(final_div_factor, "final_div_factor", 1.0, math.inf)
        self.three_phase = bool(three_phase)
        self.initial_lr = self.max_lr / self.div_factor
        self.min_lr = self.initial_lr / self.final_div_factor
        T, p = self.total_steps, self.pct_start
        if self.three_phase:
            self._phases = [(p * T - 1, self.initial_lr, self.max_lr), (2 * p * T - 2, self.max_lr, self.initial_lr),
                            (T - 1, self.initial_lr, self.min_lr)]
        else:
            self._phases = [(p * T - 1, self.initial_lr, self.max_lr), (T - 1, self.max_lr, self.min_lr)]
        start = 0.0
        for i, (end, _, _) in enumerate(self._phases):
            if end <= start:
                raise ValueError(f"total_steps={T} is too small for pct_start={p:g}: phase {i + 1} of the cycle "
                                 f"would end at step {end:g}, not after its start at step {start:g}")
            start = end

    def _anneal(self, a: float, b: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return b + 0.5 * (a - b) * (math.cos(math.pi * fraction) + 1)
        return a + (b - a) * fraction

    def _lr(self, step: int) -> float:
        start = 0.0
        for i, (end, a, b) in enumerate(self._phases):
            if step <= end or i == len(self._phases) - 1:
                return self._anneal(a, b, (step - start) / (end - start))
            start = end
        raise AssertionError("unreachable: the last phase catches every step")

    def _args(self) -> str:
        return (f"max_lr={self.max_lr:g}, pct_start={self.pct_start:g}, anneal_strategy={self.anneal_strategy!r}, "
                f"div_factor={self.div_factor:g}, final_div_factor={self.final_div_factor:g}, "
                f"three_phase={self.three_phase}, ")


class Scheduler:
    """Set an optimiser's learning rate from a :class:`Schedule`, one update at a time.

    Building it sets ``optimizer.lr`` to the rate of step 0. Call :meth:`step` after each
    ``optimizer.step()``: the ``k``-th call sets the rate of update ``k``. After
    ``total_steps`` calls the schedule is finished (the last call changes nothing);
    one more raises ``ValueError``, because the run has outlived the schedule it planned.

    Args:
        optimizer: an :class:`nblib.optim.Optimizer` (anything with a writable ``lr``).
        schedule: the :class:`Schedule` to follow.

    Example:
        >>> sched = Scheduler(opt, StepDecay(0.1, total_steps=300, step_size=100))
        >>> for _ in range(300):
        ...     loss = ...; opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    """

    def __init__(self, optimizer, schedule: Schedule):
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a Schedule, got {type(schedule).__name__}")
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"optimizer must have an lr attribute, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.schedule = schedule
        self.steps_taken = 0
        optimizer.lr = schedule.lr_at(0)

    @property
    def finished(self) -> bool:
        return self.steps_taken >= self.schedule.total_steps

    def step(self) -> None:
        total = self.schedule.total_steps
        if self.steps_taken >= total:
            raise ValueError(f"Scheduler.step() called {self.steps_taken + 1} times, but the schedule was built "
                             f"for total_steps={total} updates; rebuild it with the run's real length")
        self.steps_taken += 1
        if self.steps_taken < total:
            self.optimizer.lr = self.schedule.lr_at(self.steps_taken)

    def __repr__(self) -> str:
        return f"Scheduler({self.schedule!r}, steps taken {self.steps_taken})"
