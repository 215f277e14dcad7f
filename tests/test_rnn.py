"""The NumPy Elman RNN and its backpropagation through time, against torch, finite differences and hand-worked cases."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.gradcheck import numerical_grad
from nblib.rnn import (RNN, hidden_gradient_norms, input_gradient_norms, rnn_backward, rnn_forward,
                       spectral_radius)

torch = pytest.importorskip("torch")

PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _case(n, T, f, h, seed=0):
    gen = np.random.default_rng(seed)
    x = gen.normal(size=(n, T, f))
    h0 = gen.normal(size=(n, h)) * 0.5
    grad_out = gen.normal(size=(n, T, h))
    grad_hn = gen.normal(size=(n, h))
    return x, h0, grad_out, grad_hn


def _torch_reference(rnn, x, h0, grad_out, grad_hn):
    """Outputs and autograd gradients of torch.nn.RNN with rnn's weights, for the loss sum(out*G) + sum(h_n*G_n)."""
    twin = rnn.to_torch()
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, h_n = twin(xt, h0t)
    loss = (out * torch.from_numpy(grad_out)).sum() + (h_n[0] * torch.from_numpy(grad_hn)).sum()
    loss.backward()
    grads = {name: getattr(twin, f"{name}_l0").grad.numpy() for name in rnn.named_parameters()}
    grads.update(input=xt.grad.numpy(), h0=h0t.grad[0].numpy())
    return out.detach().numpy(), h_n.detach().numpy(), grads


SHAPES = [(1, 1, 1, 1), (4, 7, 3, 5), (2, 30, 2, 16), (3, 5, 6, 2)]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("shape", SHAPES, ids=["N1-T1-F1-H1", "N4-T7-F3-H5", "N2-T30-F2-H16", "N3-T5-F6-H2"])
def test_forward_and_bptt_match_torch_in_float64(shape, bias):
    n, T, f, h = shape
    rnn = RNN(f, h, bias=bias, dtype=np.float64, rng=1)
    x, h0, grad_out, grad_hn = _case(n, T, f, h)
    out, h_n = rnn(x, h0)
    grads = rnn.backward(grad_out, grad_hn)
    ref_out, ref_hn, ref = _torch_reference(rnn, x, h0, grad_out, grad_hn)
    # float64 round-off over at most 30 steps: about 1e-15; 1e-10 is the contract of the chapter
    assert_allclose(out, ref_out, rtol=0, atol=1e-10)
    assert_allclose(h_n, ref_hn, rtol=0, atol=1e-10)
    for name in ref:
        assert_allclose(getattr(grads, name), ref[name], rtol=0, atol=1e-10, err_msg=name)
    if not bias:
        assert grads.bias_ih is None and grads.bias_hh is None


def test_torch_default_h0_is_zeros():
    rnn = RNN(3, 4, dtype=np.float64, rng=0)
    x = np.random.default_rng(0).normal(size=(2, 6, 3))
    out, _ = rnn(x)
    ref, _ = rnn.to_torch()(torch.from_numpy(x))
    assert_allclose(out, ref.detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", PARAMS + ("input", "h0"))
def test_bptt_matches_central_differences(name):
    n, T, f, h = 2, 4, 2, 3
    rnn = RNN(f, h, dtype=np.float64, rng=3)
    x, h0, grad_out, grad_hn = _case(n, T, f, h, seed=4)
    args = dict(input=x, h0=h0, **rnn.named_parameters())

    def loss(value):
        kwargs = {**args, name: value}
        out = rnn_forward(**kwargs)
        return float((out * grad_out).sum() + (out[:, -1] * grad_hn).sum())

    out = rnn_forward(**args)
    grads = rnn_backward(grad_out, x, out, rnn.weight_ih, rnn.weight_hh, h0, grad_hn)
    # central differences with eps 1e-6 in float64 are good to about 1e-9 here
    assert_allclose(getattr(grads, name), numerical_grad(loss, args[name]), rtol=1e-6, atol=1e-8)


def test_a_hand_worked_scalar_rnn():
    # h1 = tanh(1 * 1 + 0.5 * 0) = tanh(1); h2 = tanh(1 * 0 + 0.5 * h1)
    out = rnn_forward(np.array([[[1.0], [0.0]]]), np.array([[1.0]]), np.array([[0.5]]))
    h1 = math.tanh(1.0)
    h2 = math.tanh(0.5 * h1)
    assert_allclose(out.ravel(), [h1, h2], rtol=1e-15)
    # L = h2: dL/dh2 = 1, dL/dh1 = (1 - h2^2) * 0.5, dL/dw_hh = (1 - h2^2) * h1 + (1 - h1^2) * 0 * ... (h0 = 0)
    g = rnn_backward(np.array([[[0.0], [1.0]]]), np.array([[[1.0], [0.0]]]), out, np.array([[1.0]]),
                     np.array([[0.5]]))
    assert_allclose(g.hidden.ravel(), [(1 - h2**2) * 0.5, 1.0], rtol=1e-15)
    assert_allclose(g.weight_hh, [[(1 - h2**2) * h1]], rtol=1e-15)
    assert_allclose(g.weight_ih, [[(1 - h2**2) * 0.5 * (1 - h1**2) * 1.0]], rtol=1e-15)


def test_gradient_invariants():
    rnn = RNN(3, 4, dtype=np.float64, rng=0)
    x, h0, grad_out, grad_hn = _case(5, 6, 3, 4)
    out, _ = rnn(x, h0)
    g = rnn.backward(grad_out, grad_hn)
    assert_allclose(g.bias_ih, g.bias_hh)  # only the sum of the two biases matters
    assert_allclose(g.hidden[:, -1], grad_out[:, -1] + grad_hn)  # the last state has no future
    # the total gradient on h_t is what flows into the next pre-activation, through W_hh
    pre = g.hidden * (1 - out**2)
    assert_allclose(g.hidden[:, :-1], grad_out[:, :-1] + pre[:, 1:] @ rnn.weight_hh)
    assert_allclose(g.h0, pre[:, 0] @ rnn.weight_hh)


def test_float32_keeps_its_dtype_and_agrees_with_torch():
    rnn = RNN(2, 8, rng=0)
    x = np.random.default_rng(0).normal(size=(3, 10, 2)).astype(np.float32)
    out, h_n = rnn(x)
    assert out.dtype == np.float32 and rnn.weight_hh.dtype == np.float32
    ref, _ = rnn.to_torch()(torch.from_numpy(x))
    assert_allclose(out, ref.detach().numpy(), rtol=0, atol=1e-5)  # float32 round-off over 10 steps


def test_parameters_and_initialisation_follow_torch():
    rnn = RNN(3, 16, rng=0)
    twin = rnn.to_torch()
    assert rnn.num_parameters() == sum(p.numel() for p in twin.parameters()) == 16 * 3 + 16 * 16 + 2 * 16
    bound = 1 / math.sqrt(16)
    for name, value in rnn.named_parameters().items():
        assert np.abs(value).max() <= bound, name
    assert repr(rnn) == "RNN(3, 16, dtype=float32)"
    assert RNN(3, 16, bias=False, rng=0).num_parameters() == 16 * 3 + 16 * 16


def test_bad_inputs_name_the_argument():
    rnn = RNN(3, 4, dtype=np.float64, rng=0)
    with pytest.raises(RuntimeError, match="forward"):
        rnn.backward(np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="input must be 3-D"):
        rnn(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"input must have shape \(N, T, 3\)"):
        rnn(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="h0 must have shape"):
        rnn(np.zeros((2, 5, 3)), h0=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="weight_hh must be square"):
        rnn_forward(np.zeros((1, 2, 3)), np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="bias_ih must have shape"):
        rnn_forward(np.zeros((1, 2, 3)), np.zeros((4, 3)), np.zeros((4, 4)), bias_ih=np.zeros(3))
    rnn(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="grad_output must have shape"):
        rnn.backward(np.zeros((2, 4, 4)))
    with pytest.raises(TypeError, match="input_size must be an integer"):
        RNN(2.5, 4)
    with pytest.raises(TypeError, match="rnn must be"):
        hidden_gradient_norms(object(), np.zeros((1, 2, 3)))


def test_torch_state_layout_is_accepted():
    rnn = RNN(2, 3, dtype=np.float64, rng=0)
    x = np.ones((4, 5, 2))
    h0 = np.random.default_rng(0).normal(size=(4, 3))
    assert_allclose(rnn(x, h0[None])[0], rnn(x, h0)[0])


# -------------------------------------------------------------- gradient against time lag
@pytest.mark.parametrize("rho", [0.5, 0.9, 1.2], ids=["rho-0.5", "rho-0.9", "rho-1.2"])
def test_linear_regime_decays_exactly_like_the_spectral_radius(rho):
    # zero inputs, biases and h0 keep every state at 0, where tanh' = 1: the Jacobian product is
    # (rho Q)^k for an orthogonal Q, whose action on a unit vector has norm exactly rho^k
    H, T = 6, 12
    rnn = RNN(1, H, dtype=np.float64, rng=0)
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(H, H)))
    rnn.weight_hh = rho * q
    rnn.bias_ih[:] = 0.0
    rnn.bias_hh[:] = 0.0
    assert spectral_radius(rnn.weight_hh) == pytest.approx(rho, rel=1e-12)
    norms = hidden_gradient_norms(rnn, np.zeros((2, T, 1)))
    assert_allclose(norms, rho ** np.arange(T - 1, -1, -1), rtol=1e-12)


def test_hidden_gradient_norms_are_the_bptt_state_gradients():
    rnn = RNN(2, 5, dtype=np.float64, rng=0)
    x = np.random.default_rng(0).normal(size=(3, 9, 2))
    u = np.random.default_rng(1).normal(size=5)
    u /= np.linalg.norm(u)
    norms = hidden_gradient_norms(rnn, x, readout=u)
    out, _ = rnn(x)
    grad = np.zeros_like(out)
    grad[:, -1] = u
    expected = np.linalg.norm(rnn.backward(grad).hidden, axis=2).mean(axis=0)
    assert_allclose(norms, expected, rtol=1e-14)
    assert norms[-1] == pytest.approx(1.0)  # dL/dh_T = u, a unit vector


def test_input_gradient_norms_agree_with_our_bptt():
    rnn = RNN(2, 5, dtype=np.float64, rng=0)
    x = np.random.default_rng(0).normal(size=(3, 9, 2))
    u = np.eye(5)[0]
    out, _ = rnn(x)
    grad = np.zeros_like(out)
    grad[:, -1] = u
    expected = np.linalg.norm(rnn.backward(grad).input, axis=2).mean(axis=0)
    assert_allclose(input_gradient_norms(rnn.to_torch(), x, readout=u), expected, rtol=1e-12)


@pytest.mark.parametrize("cell", ["RNN", "GRU", "LSTM"])
def test_input_gradient_norms_for_every_cell_leave_the_model_alone(cell):
    torch.manual_seed(0)
    model = getattr(torch.nn, cell)(2, 8, batch_first=True)
    before = [p.detach().clone() for p in model.parameters()]
    norms = input_gradient_norms(model, np.random.default_rng(0).random((4, 30, 2)))
    assert norms.shape == (30,) and norms.dtype == np.float64
    assert np.isfinite(norms).all() and (norms > 0).all()
    assert norms[0] < norms[-1]  # at the default initialisation every cell forgets the distant past
    assert all(p.dtype == torch.float32 and torch.equal(p, b) for p, b in zip(model.parameters(), before))
    assert all(p.grad is None for p in model.parameters())


def test_spectral_radius():
    assert spectral_radius(np.diag([0.5, -2.0, 1.0])) == pytest.approx(2.0)
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])  # eigenvalues +-i
    assert spectral_radius(3 * rotation) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="square"):
        spectral_radius(np.zeros((2, 3)))
