"""nblib.schedules against torch.optim.lr_scheduler, step by step, and its refusal of unplanned steps."""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.autograd import Tensor
from nblib.optim import SGD
from nblib.schedules import Constant, OneCycle, Scheduler, StepDecay, WarmupCosine

torch = pytest.importorskip("torch")
sched = torch.optim.lr_scheduler


def torch_lrs(make_scheduler, total_steps, base_lr):
    """The learning rate torch's optimiser holds during each of ``total_steps`` updates."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation notices, not our business here
        s = make_scheduler(opt)
        lrs = []
        for _ in range(total_steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            s.step()
    return np.array(lrs)


STEP = {
    "every-30-gamma-0.1": dict(step_size=30, gamma=0.1),
    "every-7-gamma-0.5": dict(step_size=7, gamma=0.5),
    "every-step": dict(step_size=1, gamma=0.97),
}


@pytest.mark.parametrize("kwargs", STEP.values(), ids=STEP.keys())
def test_step_decay_matches_steplr(kwargs):
    ref = torch_lrs(lambda o: sched.StepLR(o, **kwargs), 100, 0.3)
    assert_allclose(StepDecay(0.3, 100, **kwargs).lrs(), ref, rtol=1e-14, atol=0)


ONE_CYCLE = {
    "defaults": (100, dict()),
    "three-phase": (100, dict(three_phase=True)),
    "three-phase-odd": (97, dict(three_phase=True, pct_start=0.37)),
    "linear-divs": (250, dict(anneal_strategy="linear", pct_start=0.25, div_factor=10.0, final_div_factor=100.0)),
    "short": (7, dict(pct_start=0.45)),
    "long-cos": (1000, dict(pct_start=0.1, div_factor=5.0, final_div_factor=1e3)),
}


@pytest.mark.parametrize(("total", "kwargs"), ONE_CYCLE.values(), ids=ONE_CYCLE.keys())
def test_one_cycle_matches_onecyclelr(total, kwargs):
    # cycle_momentum=False: nblib's OneCycle schedules the learning rate only.
    ref = torch_lrs(lambda o: sched.OneCycleLR(o, max_lr=0.8, total_steps=total, cycle_momentum=False, **kwargs),
                    total, 0.8)
    ours = OneCycle(0.8, total, **kwargs)
    assert_allclose(ours.lrs(), ref, rtol=1e-13, atol=0)


def test_one_cycle_endpoints():
    s = OneCycle(1.0, 100, div_factor=25.0, final_div_factor=1e4)
    lrs = s.lrs()
    assert lrs[0] == pytest.approx(1.0 / 25)       # starts at initial_lr
    assert lrs.max() == pytest.approx(1.0)          # peaks at max_lr ...
    assert int(lrs.argmax()) == 29                  # ... at step pct_start * T - 1
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)  # the last update uses min_lr exactly


WARMUP_COSINE = {
    "warmup-10": (100, dict(warmup_steps=10, start_factor=0.1)),
    "no-warmup": (100, dict(warmup_steps=0)),
    "floor": (100, dict(warmup_steps=25, start_factor=0.5, min_lr=0.01)),
    "warmup-1": (60, dict(warmup_steps=1, start_factor=0.2)),
    "long": (1500, dict(warmup_steps=100, start_factor=0.01)),
}


@pytest.mark.parametrize(("total", "kwargs"), WARMUP_COSINE.values(), ids=WARMUP_COSINE.keys())
def test_warmup_cosine_matches_linear_then_cosine_in_sequentiallr(total, kwargs):
    w, f, floor = kwargs["warmup_steps"], kwargs.get("start_factor", 0.1), kwargs.get("min_lr", 0.0)

    def make(o):
        cosine = sched.CosineAnnealingLR(o, T_max=total - w, eta_min=floor)
        if w == 0:
            return cosine
        return sched.SequentialLR(o, [sched.LinearLR(o, start_factor=f, total_iters=w), cosine], milestones=[w])

    ref = torch_lrs(make, total, 0.5)
    # torch computes both pieces recursively (each rate from the previous one), so it
    # accumulates round-off that nblib's closed form does not; 1e-12 relative covers it.
    assert_allclose(WarmupCosine(0.5, total, **kwargs).lrs(), ref, rtol=1e-12, atol=1e-15)


def test_warmup_cosine_shape():
    s = WarmupCosine(2.0, 101, warmup_steps=10, start_factor=0.1)
    lrs = s.lrs()
    assert lrs[0] == pytest.approx(0.2)
    assert lrs[10] == pytest.approx(2.0) and lrs.max() == pytest.approx(2.0)
    assert np.all(np.diff(lrs[:11]) > 0) and np.all(np.diff(lrs[10:]) < 0)
    # the cosine's midpoint is halfway through the decay, at half the peak
    assert lrs[10 + 91 // 2] == pytest.approx(1.0, rel=0.02)
    assert 0 < lrs[-1] < 1e-3 * 2.0  # reaches min_lr one step after the last update


SCHEDULES = {
    "constant": Constant(0.1, 50),
    "step": StepDecay(0.1, 50, step_size=10),
    "warmup-cosine": WarmupCosine(0.1, 50, warmup_steps=5),
    "one-cycle": OneCycle(0.1, 50),
}


@pytest.mark.parametrize("schedule", SCHEDULES.values(), ids=SCHEDULES.keys())
@pytest.mark.parametrize("step", [-1, 50, 51, 10_000], ids=["negative", "total", "total+1", "far"])
def test_steps_outside_the_schedule_raise(schedule, step):
    with pytest.raises(ValueError, match="total_steps=50"):
        schedule.lr_at(step)


@pytest.mark.parametrize("schedule", SCHEDULES.values(), ids=SCHEDULES.keys())
def test_lr_at_agrees_with_lrs_and_is_positive(schedule):
    lrs = schedule.lrs()
    assert lrs.shape == (50,)
    assert_allclose([schedule(k) for k in range(50)], lrs, rtol=0, atol=0)
    assert np.all(lrs > 0)


def test_scheduler_drives_an_optimiser_like_torch():
    total = 40
    p = Tensor([1.0], requires_grad=True)
    opt = SGD([p], lr=123.0, momentum=0.9)  # the scheduler overrides this lr at once
    s = Scheduler(opt, OneCycle(0.5, total))
    seen = []
    for _ in range(total):
        seen.append(opt.lr)
        p.grad = np.array([0.1])
        opt.step()
        s.step()
    ref = torch_lrs(lambda o: sched.OneCycleLR(o, max_lr=0.5, total_steps=total, cycle_momentum=False), total, 0.5)
    assert_allclose(seen, ref, rtol=1e-13)
    assert s.finished
    with pytest.raises(ValueError, match="total_steps=40"):
        s.step()


def test_step_decay_rate_applies_after_each_block():
    s = StepDecay(1.0, 30, step_size=10, gamma=0.5)
    assert [s(9), s(10), s(19), s(20), s(29)] == [1.0, 0.5, 0.5, 0.25, 0.25]


@pytest.mark.parametrize(("make", "exc", "match"), [
    pytest.param(lambda: Constant(0.1, 0), ValueError, "total_steps", id="zero-steps"),
    pytest.param(lambda: Constant(0.1, 10.5), TypeError, "total_steps", id="float-steps"),
    pytest.param(lambda: StepDecay(0.1, 10, step_size=0), ValueError, "step_size", id="zero-step-size"),
    pytest.param(lambda: StepDecay(0.1, 10, step_size=2, gamma=0.0), ValueError, "gamma", id="zero-gamma"),
    pytest.param(lambda: WarmupCosine(0.1, 10, warmup_steps=10), ValueError, "warmup_steps", id="all-warmup"),
    pytest.param(lambda: WarmupCosine(0.1, 10, start_factor=0.0), ValueError, "start_factor", id="zero-start"),
    pytest.param(lambda: WarmupCosine(0.1, 10, min_lr=0.2), ValueError, "min_lr", id="floor-above-peak"),
    pytest.param(lambda: OneCycle(0.1, 3), ValueError, "too small", id="cycle-too-short"),
    pytest.param(lambda: OneCycle(0.1, 10, anneal_strategy="exp"), ValueError, "anneal_strategy", id="strategy"),
    pytest.param(lambda: OneCycle(0.1, 10, pct_start=1.0), ValueError, "pct_start", id="pct-one"),
    pytest.param(lambda: OneCycle(-0.1, 10), ValueError, "max_lr", id="negative-lr"),
])
def test_bad_arguments_are_named(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_scheduler_rejects_non_schedules():
    p = Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="schedule"):
        Scheduler(SGD([p], lr=0.1), lambda step: 0.1)


def test_repr_names_the_total():
    assert "total_steps=100" in repr(WarmupCosine(0.1, 100, warmup_steps=10))
    assert math.isclose(OneCycle(1.0, 100).min_lr, 1.0 / 25 / 1e4)
