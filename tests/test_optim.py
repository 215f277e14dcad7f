"""nblib.optim against torch.optim, step by step in float64."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.autograd import Tensor
from nblib.optim import SGD

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
