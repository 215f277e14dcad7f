"""nblib.optim against torch.optim, step by step in float64."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.autograd import Tensor
from nblib.optim import SGD, Adam, AdamW, RMSprop

torch = pytest.importorskip("torch")

SETTINGS = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.05, momentum=0.9),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "weight-decay": dict(lr=0.1, momentum=0.5, weight_decay=0.01),
}


@pytest.mark.parametrize("kwargs", SETTINGS.values(), ids=SETTINGS.keys())
def test_sgd_matches_torch_for_twenty_steps(kwargs):
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,)]
    start = [rng.standard_normal(s) for s in shapes]
    ours = [Tensor(x.copy(), requires_grad=True) for x in start]
    theirs = [torch.tensor(x.copy(), requires_grad=True) for x in start]
    opt, ref = SGD(ours, **kwargs), torch.optim.SGD(theirs, **kwargs)
    for _ in range(20):
        grads = [rng.standard_normal(s) for s in shapes]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = g.copy(), torch.tensor(g)
        opt.step()
        ref.step()
    for p, q in zip(ours, theirs):
        assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_parameters_without_grad_are_left_alone():
    p = Tensor([1.0], requires_grad=True)
    SGD([p], lr=0.1).step()
    assert_allclose(p.data, [1.0])


def test_zero_grad():
    p = Tensor([1.0], requires_grad=True)
    p.grad = np.array([3.0])
    opt = SGD([p], lr=0.1)
    opt.zero_grad()
    assert p.grad is None


def test_sgd_descends_a_quadratic_to_its_minimum():
    p = Tensor([3.0, -2.0], requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9)
    for _ in range(300):
        opt.zero_grad()
        ((p - 1.0) ** 2).sum().backward()
        opt.step()
    assert_allclose(p.data, [1.0, 1.0], atol=1e-6)


# ------------------------------------------------------------ adaptive optimisers
# Each setting runs 200 steps on three parameter tensors with random gradients, in
# float64, against torch.optim with the same arguments. The updates are the same
# arithmetic in a slightly different order (torch uses lerp and fused multiply-adds),
# so the two agree to round-off; 1e-10 leaves room for its growth over 200 steps.
ADAPTIVE = {
    "rmsprop-defaults": (RMSprop, torch.optim.RMSprop, dict()),
    "rmsprop-lr-alpha": (RMSprop, torch.optim.RMSprop, dict(lr=0.003, alpha=0.9, eps=1e-6)),
    "rmsprop-momentum": (RMSprop, torch.optim.RMSprop, dict(lr=0.001, momentum=0.9)),
    "rmsprop-centered": (RMSprop, torch.optim.RMSprop, dict(lr=0.001, centered=True)),
    "rmsprop-centered-momentum-decay": (RMSprop, torch.optim.RMSprop,
                                        dict(lr=0.002, centered=True, momentum=0.5, weight_decay=0.1)),
    "adam-defaults": (Adam, torch.optim.Adam, dict()),
    "adam-betas": (Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.5, 0.9), eps=1e-6)),
    "adam-l2": (Adam, torch.optim.Adam, dict(lr=0.003, weight_decay=0.1)),
    "adam-amsgrad": (Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    "adam-beta1-zero": (Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.0, 0.99))),
    "adamw-defaults": (AdamW, torch.optim.AdamW, dict()),
    "adamw-strong-decay": (AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.5)),
    "adamw-amsgrad": (AdamW, torch.optim.AdamW, dict(lr=0.003, weight_decay=0.05, amsgrad=True)),
}


def _run_both(ours_cls, torch_cls, kwargs, steps=200, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    shapes = [(5, 3), (3,), (2,)]
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [Tensor(x.copy(), requires_grad=True) for x in start]
    theirs = [torch.tensor(x.copy(), requires_grad=True) for x in start]
    opt, ref = ours_cls(ours, **kwargs), torch_cls(theirs, **kwargs)
    for step in range(steps):
        # gradients of a changing scale, with the occasional exact zero, like real ones
        grads = [(rng.standard_normal(s) * 10.0 ** rng.uniform(-3, 1)).astype(dtype) for s in shapes]
        grads[0][0, 0] = 0.0 if step % 7 == 0 else grads[0][0, 0]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = g.copy(), torch.tensor(g)
        opt.step()
        ref.step()
    return ours, theirs


@pytest.mark.parametrize(("ours_cls", "torch_cls", "kwargs"), ADAPTIVE.values(), ids=ADAPTIVE.keys())
def test_adaptive_optimiser_matches_torch_for_200_steps(ours_cls, torch_cls, kwargs):
    ours, theirs = _run_both(ours_cls, torch_cls, kwargs)
    for p, q in zip(ours, theirs):
        assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("ours_cls", "torch_cls", "kwargs"),
                         [ADAPTIVE["rmsprop-momentum"], ADAPTIVE["adam-defaults"], ADAPTIVE["adamw-defaults"]],
                         ids=["rmsprop", "adam", "adamw"])
def test_float32_parameters_stay_float32_and_track_torch(ours_cls, torch_cls, kwargs):
    ours, theirs = _run_both(ours_cls, torch_cls, kwargs, steps=50, dtype=np.float32)
    for p, q in zip(ours, theirs):
        assert p.dtype == np.float32
        assert_allclose(p.data, q.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_adamw_defaults_match_torch():
    p = Tensor([1.0], requires_grad=True)
    ref = torch.optim.AdamW([torch.zeros(1, requires_grad=True)]).defaults
    opt = AdamW([p])
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (ref["lr"], ref["betas"], ref["eps"], ref["weight_decay"])
    assert opt.weight_decay == 0.01


def test_rmsprop_and_adam_defaults_match_torch():
    p = Tensor([1.0], requires_grad=True)
    q = [torch.zeros(1, requires_grad=True)]
    rms, ref = RMSprop([p]), torch.optim.RMSprop(q).defaults
    assert (rms.lr, rms.alpha, rms.eps, rms.momentum, rms.centered) == (
        ref["lr"], ref["alpha"], ref["eps"], ref["momentum"], ref["centered"])
    adam, ref = Adam([p]), torch.optim.Adam(q).defaults
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay, adam.amsgrad) == (
        ref["lr"], ref["betas"], ref["eps"], ref["weight_decay"], ref["amsgrad"])


def test_adam_first_step_is_lr_times_sign_of_gradient():
    # Hand-worked: after one step m/(1-b1) = g and v/(1-b2) = g^2, so the step is lr * g / (|g| + eps).
    p = Tensor([0.0, 0.0, 0.0], requires_grad=True)
    p.grad = np.array([3.0, -1e-3, 250.0])
    Adam([p], lr=0.1, eps=1e-12).step()
    assert_allclose(p.data, [-0.1, 0.1, -0.1], rtol=1e-8)  # eps/|g| = 1e-9 for the smallest


def test_adamw_decays_a_weight_with_zero_gradient_geometrically():
    # With g = 0 Adam's step is 0, so only the decoupled decay acts: w_t = (1 - lr*wd)^t w_0.
    p = Tensor([2.0], requires_grad=True)
    opt = AdamW([p], lr=0.1, weight_decay=0.5)
    for _ in range(10):
        p.grad = np.zeros(1)
        opt.step()
    assert_allclose(p.data, 2.0 * (1 - 0.05) ** 10, rtol=1e-12)


def test_optimisers_descend_a_2d_point_on_a_surface():
    from nblib.surfaces import Ravine, descend

    surf = Ravine(condition=10.0)
    for make in (lambda ps: RMSprop(ps, lr=0.01), lambda ps: Adam(ps, lr=0.05), lambda ps: AdamW(ps, lr=0.05)):
        path = descend(surf, make, steps=1500)
        assert not path.diverged and path.distance_to_minimum(surf) < 0.05


@pytest.mark.parametrize(("make", "match"), [
    pytest.param(lambda ps: RMSprop(ps, alpha=1.0), "alpha", id="rmsprop-alpha-one"),
    pytest.param(lambda ps: RMSprop(ps, eps=0.0), "eps", id="rmsprop-eps-zero"),
    pytest.param(lambda ps: RMSprop(ps, momentum=-0.1), "momentum", id="rmsprop-negative-momentum"),
    pytest.param(lambda ps: Adam(ps, betas=(0.9, 1.0)), r"betas\[1\]", id="adam-beta2-one"),
    pytest.param(lambda ps: Adam(ps, lr=-1e-3), "lr", id="adam-negative-lr"),
    pytest.param(lambda ps: AdamW(ps, weight_decay=-0.1), "weight_decay", id="adamw-negative-decay"),
])
def test_bad_hyperparameters_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make([Tensor([1.0], requires_grad=True)])


def test_betas_must_be_a_pair():
    with pytest.raises(TypeError, match="betas"):
        Adam([Tensor([1.0], requires_grad=True)], betas=0.9)
