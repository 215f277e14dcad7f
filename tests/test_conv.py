"""nblib.conv against torch.nn.functional and torch autograd (float64), plus central differences.

Tolerance: every reference computes the same sums of products in float64, only in another
order, so forward values and gradients agree to a few units of round-off (~1e-15 relative
for these sizes); 1e-10 leaves room for longer sums without hiding a wrong index.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from nblib import nn  # noqa: E402
from nblib.autograd import Tensor, cross_entropy  # noqa: E402
from nblib.conv import (  # noqa: E402
    AvgPool2d, Conv2d, Flatten, MaxPool2d, avg_pool2d, avg_pool2d_backward, avg_pool2d_forward, col2im, conv2d,
    conv2d_backward, conv2d_forward, conv_output_size, im2col, max_pool2d, max_pool2d_backward, max_pool2d_forward)
from nblib.gradcheck import gradcheck  # noqa: E402
from nblib.optim import SGD  # noqa: E402

TOL = 1e-10

# (N, C, H, W, out_channels, kernel_size, stride, padding, dilation)
CONV_CASES = [
    pytest.param((2, 3, 7, 9, 4, 3, 1, 1, 1), id="3x3-same"),
    pytest.param((1, 1, 6, 6, 1, 1, 1, 0, 1), id="1x1-single-channel"),
    pytest.param((3, 2, 8, 8, 5, 3, 2, 1, 1), id="3x3-stride2-pad1"),
    pytest.param((2, 4, 9, 7, 3, 5, 1, 2, 1), id="5x5-pad2"),
    pytest.param((2, 3, 8, 10, 2, (2, 3), (2, 1), (1, 0), 1), id="rect-kernel-stride-pad"),
    pytest.param((1, 2, 11, 10, 3, 3, 2, 2, 2), id="dilation2-stride2"),
    pytest.param((2, 1, 5, 5, 2, 5, 1, 0, 1), id="kernel-fills-input"),
    pytest.param((1, 3, 12, 12, 6, 4, 3, 0, (1, 2)), id="even-kernel-stride3-rect-dilation"),
]


def _case(case, seed=0):
    n, c, h, w, f, k, s, p, d = case
    kh, kw = (k, k) if isinstance(k, int) else k
    gen = np.random.default_rng(seed)
    return (gen.standard_normal((n, c, h, w)), gen.standard_normal((f, c, kh, kw)), gen.standard_normal(f), s, p, d)


@pytest.mark.parametrize("case", CONV_CASES)
def test_im2col_is_torch_unfold_and_col2im_is_fold(case):
    x, w, _, s, p, d = _case(case)
    cols = im2col(x, w.shape[2:], s, p, d)
    expected = F.unfold(torch.from_numpy(x), w.shape[2:], dilation=d, padding=p, stride=s).numpy()
    np.testing.assert_array_equal(cols, expected)  # a pure copy: exactly equal
    back = col2im(cols, x.shape[2:], w.shape[2:], s, p, d)
    folded = F.fold(torch.from_numpy(cols), x.shape[2:], w.shape[2:], dilation=d, padding=p, stride=s).numpy()
    np.testing.assert_allclose(back, folded, rtol=0, atol=TOL)


@pytest.mark.parametrize("case", CONV_CASES)
def test_col2im_is_the_adjoint_of_im2col(case):
    # <im2col(x), y> == <x, col2im(y)> for all x, y: the defining property of the adjoint
    x, w, _, s, p, d = _case(case)
    y = np.random.default_rng(1).standard_normal(im2col(x, w.shape[2:], s, p, d).shape)
    lhs = np.sum(im2col(x, w.shape[2:], s, p, d) * y)
    rhs = np.sum(x * col2im(y, x.shape[2:], w.shape[2:], s, p, d))
    assert lhs == pytest.approx(rhs, rel=1e-12)


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no-bias"])
def test_conv2d_forward_and_backward_match_torch(case, with_bias):
    x, w, b, s, p, d = _case(case)
    b = b if with_bias else None
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True) if with_bias else None
    yt = F.conv2d(xt, wt, bt, stride=s, padding=p, dilation=d)
    y = conv2d_forward(x, w, b, s, p, d)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=TOL)
    g = np.random.default_rng(2).standard_normal(y.shape)
    yt.backward(torch.from_numpy(g))
    gx, gw, gb = conv2d_backward(g, x, w, s, p, d)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(gw, wt.grad.numpy(), rtol=0, atol=TOL)
    if with_bias:
        np.testing.assert_allclose(gb, bt.grad.numpy(), rtol=0, atol=TOL)


# (N, C, H, W, kernel_size, stride, padding)
POOL_CASES = [
    pytest.param((2, 3, 8, 8, 2, None, 0), id="2x2-default-stride"),
    pytest.param((2, 2, 9, 7, 3, 2, 1), id="3x3-stride2-pad1-overlapping"),
    pytest.param((1, 3, 7, 9, 3, 1, 1), id="3x3-stride1"),
    pytest.param((2, 1, 10, 9, (3, 2), (1, 2), (1, 1)), id="rect"),
    pytest.param((1, 2, 6, 6, 6, None, 0), id="global"),
]


def _pool_case(case, seed=0):
    n, c, h, w, k, s, p = case
    return np.random.default_rng(seed).standard_normal((n, c, h, w)), k, s, p


@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_matches_torch_with_indices_and_gradient(case):
    x, k, s, p = _pool_case(case)
    xt = torch.tensor(x, requires_grad=True)
    yt, idx = F.max_pool2d(xt, k, s, p, return_indices=True)
    y, mine = max_pool2d_forward(x, k, s, p, return_indices=True)
    np.testing.assert_array_equal(y, yt.detach().numpy())  # a maximum is a copy: exact
    np.testing.assert_array_equal(mine, idx.numpy())
    g = np.random.default_rng(3).standard_normal(y.shape)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(max_pool2d_backward(g, x, k, s, p), xt.grad.numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False], ids=["pad-counted", "pad-not-counted"])
def test_avg_pool_matches_torch(case, count_include_pad):
    x, k, s, p = _pool_case(case)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.avg_pool2d(xt, k, s, p, count_include_pad=count_include_pad)
    y = avg_pool2d_forward(x, k, s, p, count_include_pad)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=TOL)
    g = np.random.default_rng(4).standard_normal(y.shape)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(avg_pool2d_backward(g, x, k, s, p, count_include_pad), xt.grad.numpy(),
                               rtol=0, atol=TOL)


def test_max_pool_gradient_goes_to_the_maximum_only():
    x = np.array([[[[1.0, 5.0], [2.0, 3.0]]]])
    np.testing.assert_array_equal(max_pool2d_backward(np.array([[[[7.0]]]]), x, 2), [[[[0, 7.0], [0, 0]]]])


def test_hand_worked_convolution():
    # A 3x3 image and a 2x2 kernel: each output is the sum of a window times the kernel.
    x = np.arange(9.0).reshape(1, 1, 3, 3)  # [[0,1,2],[3,4,5],[6,7,8]]
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # top-left minus bottom-right
    np.testing.assert_array_equal(conv2d_forward(x, w, np.array([0.5])), [[[[-3.5, -3.5], [-3.5, -3.5]]]])


@pytest.mark.parametrize(("size", "k", "s", "p", "d", "expected"), [
    (28, 3, 1, 1, 1, 28), (28, 3, 2, 1, 1, 14), (8, 2, 2, 0, 1, 4), (7, 3, 2, 0, 1, 3), (10, 3, 1, 0, 2, 6),
    (224, 7, 2, 3, 1, 112), (5, 5, 1, 0, 1, 1)])
def test_conv_output_size(size, k, s, p, d, expected):
    assert conv_output_size(size, k, s, p, d) == expected


# ------------------------------------------------------------- autograd and modules
def test_autograd_ops_pass_central_differences():
    gen = np.random.default_rng(5)
    x = Tensor(gen.standard_normal((2, 2, 6, 6)), requires_grad=True)
    w = Tensor(gen.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = Tensor(gen.standard_normal(3), requires_grad=True)

    def net(x, w, b):
        h = conv2d(x, w, b, stride=1, padding=1).tanh()  # (2, 3, 6, 6)
        return avg_pool2d(max_pool2d(h, 2), 3)  # (2, 3, 1, 1)

    result = gradcheck(net, [x, w, b])
    assert result.passed, result


def test_small_nblib_cnn_matches_torch_and_learns():
    gen = np.random.default_rng(6)
    model = nn.Sequential(Conv2d(1, 4, 3, padding=1, dtype=np.float64, rng=0), nn.ReLU(), MaxPool2d(2),
                          Conv2d(4, 6, 3, dtype=np.float64, rng=1), nn.ReLU(), AvgPool2d(2), Flatten(),
                          nn.Linear(6, 3, dtype=np.float64, rng=2))
    reference = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                    torch.nn.Conv2d(4, 6, 3), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
                                    torch.nn.Flatten(), torch.nn.Linear(6, 3)).double()
    with torch.no_grad():
        for theirs, mine in zip(reference.parameters(), model.parameters()):
            theirs.copy_(torch.from_numpy(mine.data))
    X, y = gen.standard_normal((5, 1, 10, 10)), np.array([0, 1, 2, 1, 0])
    loss = cross_entropy(model(Tensor(X)), y)
    loss.backward()
    loss_t = F.cross_entropy(reference(torch.from_numpy(X)), torch.from_numpy(y))
    loss_t.backward()
    assert loss.item() == pytest.approx(loss_t.item(), abs=TOL)
    for mine, theirs in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=0, atol=TOL)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    first = loss.item()
    for _ in range(60):
        opt.zero_grad()
        loss = cross_entropy(model(Tensor(X)), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first  # five samples: the network fits them


def test_conv2d_module_initialisation_follows_torch():
    layer = Conv2d(3, 8, (3, 5), rng=0)
    bound = 1 / np.sqrt(3 * 3 * 5)
    assert layer.weight.shape == (8, 3, 3, 5) and layer.bias.shape == (8,)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.weight.data).max() > 0.9 * bound
    assert layer.weight.dtype == np.float32
    assert "kernel_size=(3, 5)" in repr(layer)


# ------------------------------------------------------------------------- errors
BAD = [
    ("x-3d", lambda: conv2d_forward(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3))), ValueError,
     r"x must have shape \(N, C, H, W\)"),
    ("channels", lambda: conv2d_forward(np.ones((1, 2, 4, 4)), np.ones((1, 3, 3, 3))), ValueError,
     "weight expects 3 input channels"),
    ("weight-2d", lambda: conv2d_forward(np.ones((1, 1, 4, 4)), np.ones((3, 3))), ValueError, "weight must have shape"),
    ("bias-shape", lambda: conv2d_forward(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), np.ones(3)), ValueError,
     r"bias must have shape \(2,\)"),
    ("kernel-too-big", lambda: conv2d_forward(np.ones((1, 1, 4, 4)), np.ones((1, 1, 5, 5))), ValueError,
     "kernel spans 5 positions"),
    ("stride-zero", lambda: im2col(np.ones((1, 1, 4, 4)), 2, stride=0), ValueError, "stride must be >= 1"),
    ("padding-negative", lambda: im2col(np.ones((1, 1, 4, 4)), 2, padding=-1), ValueError, "padding must be >= 0"),
    ("kernel-triple", lambda: im2col(np.ones((1, 1, 4, 4)), (2, 2, 2)), ValueError,
     "kernel_size must be an int or a pair"),
    ("kernel-float", lambda: im2col(np.ones((1, 1, 4, 4)), 2.5), TypeError, "kernel_size must be an integer"),
    ("grad-shape", lambda: conv2d_backward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))),
     ValueError, r"grad_output must have the output's shape \(1, 1, 2, 2\)"),
    ("pool-padding", lambda: max_pool2d_forward(np.ones((1, 1, 6, 6)), 2, padding=2), ValueError,
     "at most half the kernel size"),
    ("nan-input", lambda: conv2d_forward(np.full((1, 1, 3, 3), np.nan), np.ones((1, 1, 2, 2))), ValueError,
     "x contains NaN"),
    ("col2im-shape", lambda: col2im(np.ones((1, 5, 4)), (3, 3), 2), ValueError, "does not fit a 2x2 kernel"),
    ("conv-not-tensor", lambda: conv2d(np.ones((1, 1, 3, 3)), Tensor(np.ones((1, 1, 2, 2)))), TypeError,
     "x must be an nblib Tensor"),
    ("module-channels", lambda: Conv2d(3, 2, 3)(np.ones((1, 1, 5, 5))), ValueError,
     r"expected input of shape \(N, 3, H, W\)"),
]


@pytest.mark.parametrize(("make", "error", "message"), [pytest.param(m, e, msg, id=i) for i, m, e, msg in BAD])
def test_bad_input_is_named(make, error, message):
    with pytest.raises(error, match=message):
        make()
