"""The gradient checker itself: right on known gradients, loud on wrong ones."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.autograd import Tensor
from nblib.gradcheck import gradcheck, numerical_grad


def test_numerical_grad_of_a_quadratic_is_exact_to_roundoff():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert_allclose(numerical_grad(lambda v: float((v**2).sum()), x), 2 * x, rtol=1e-8)


def test_gradcheck_passes_a_correct_gradient():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    result = gradcheck(lambda t: (t * t).tanh(), [x])
    assert result.passed and result.max_rel_error < 1e-7


def test_gradcheck_catches_a_wrong_gradient():
    def wrong_square(t):
        # forward is t**2, but the backward claims 3t instead of 2t
        return Tensor._result(t.data**2, (t,), lambda g: (g * 3 * t.data,), "wrong")

    x = Tensor(np.array([1.0, 2.0, -1.5]), requires_grad=True)
    result = gradcheck(wrong_square, [x])
    assert not result.passed
    assert result.max_rel_error == pytest.approx(0.5, rel=1e-6)  # 3t vs 2t
    assert "FAILED" in repr(result)


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t.sum(), [Tensor(np.ones(2, dtype=np.float32), requires_grad=True)])
