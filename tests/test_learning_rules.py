"""Hebb, Oja and Sanger against numpy.linalg.eigh; the predictive-coding network against torch autograd."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.learning_rules import PCNetwork, cosine, hebb, oja, sanger


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    C = np.array([[3.0, 1.2, 0.4], [1.2, 2.0, 0.3], [0.4, 0.3, 0.5]])
    X = rng.multivariate_normal(np.zeros(3), C, size=2000)
    evals, evecs = np.linalg.eigh(X.T @ X / len(X))  # ascending
    return X, evals[::-1], evecs[:, ::-1]


def test_plain_hebb_grows_without_bound(data):
    X, _, evecs = data
    norms = np.linalg.norm(hebb(X, lr=0.002, epochs=1, rng=0), axis=1)
    assert norms[-1] > 1e3 * norms[0]
    assert np.all(np.diff(norms[::200]) > 0)


def test_oja_finds_the_first_principal_component(data):
    X, _, evecs = data
    w = oja(X, lr=0.0005, epochs=10, rng=1)[-1]  # a constant rate leaves a jitter of order lr: keep it small
    assert abs(cosine(w, evecs[:, 0])) > 0.999
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=0.01)


def test_oja_first_step_by_hand():
    X = np.array([[1.0, 2.0]])
    w0 = np.array([0.5, -0.25])
    y = 0.5 - 0.5
    w1 = oja(X, lr=0.1, epochs=1, w0=w0, rng=0)[-1]
    assert_allclose(w1, w0 + 0.1 * y * (X[0] - y * w0))
    X = np.array([[2.0, 0.0]])
    w1 = oja(X, lr=0.1, epochs=1, w0=w0, rng=0)[-1]  # y = 1
    assert_allclose(w1, w0 + 0.1 * (X[0] - w0))


def test_sanger_finds_the_leading_components_in_order(data):
    X, _, evecs = data
    W = sanger(X, n_components=2, lr=0.002, epochs=10, rng=2)
    for k in range(2):
        assert abs(cosine(W[k], evecs[:, k])) > 0.99
    assert_allclose(W @ W.T, np.eye(2), atol=0.05)


def test_rules_validate_arguments(data):
    X = data[0]
    with pytest.raises(ValueError, match="lr"):
        oja(X, lr=-1.0)
    with pytest.raises(ValueError, match="w0"):
        oja(X, w0=np.ones(5))
    with pytest.raises(ValueError, match="n_components"):
        sanger(X, n_components=4)
    with pytest.raises(ValueError, match="X"):
        hebb(np.ones(3))


# ---------------------------------------------------------------- predictive coding
@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(16, 6))
    Y = np.eye(3)[rng.integers(0, 3, 16)]
    return X, Y


def test_backprop_grads_match_torch_autograd(batch):
    torch = pytest.importorskip("torch")
    X, Y = batch
    net = PCNetwork([6, 7, 5, 3], rng=0)
    params = [torch.tensor(p, requires_grad=True) for p in net.parameters()]
    h = torch.tensor(X)
    for i in range(net.n_layers):
        if i > 0:
            h = torch.tanh(h)
        h = h @ params[2 * i].T + params[2 * i + 1]
    loss = 0.5 * ((h - torch.tensor(Y)) ** 2).sum() / len(X)
    loss.backward()
    assert loss.item() == pytest.approx(net.loss(X, Y))
    for ours, p in zip(net.backprop_grads(X, Y), params):
        assert_allclose(ours, p.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_inference_lowers_the_energy_and_starts_with_output_errors_only(batch):
    X, Y = batch
    net = PCNetwork([6, 7, 5, 3], rng=0)
    xs, energies = net.infer(X, Y, n_steps=50, step=0.1, return_energy=True)
    assert np.all(np.diff(energies) <= 1e-12)
    eps0 = net.errors(net.infer(X, Y, n_steps=0))
    assert all(np.all(e == 0) for e in eps0[1:-1]) and np.any(eps0[-1] != 0)
    # with zero inference steps only the last layer learns
    u = net.pc_updates(X, Y, n_steps=0)
    assert all(np.all(v == 0) for v in u[:-2])


def test_energy_gradient_matches_finite_differences(batch):
    X, Y = batch
    net = PCNetwork([6, 7, 3], rng=1, output_precision=0.5)
    xs = net.infer(X, Y, n_steps=3)
    eps = net.errors(xs)
    analytic = eps[1] - net._dphi(1, xs[1]) * (0.5 * eps[2] @ net.weights[1])  # dF/dx_1
    h = 1e-6
    for (n, j) in [(0, 0), (3, 4), (15, 6)]:
        up = [x.copy() for x in xs]
        dn = [x.copy() for x in xs]
        up[1][n, j] += h
        dn[1][n, j] -= h
        assert (net.energy(up) - net.energy(dn)) / (2 * h) == pytest.approx(analytic[n, j], rel=1e-6, abs=1e-9)


def test_pc_updates_approach_backprop_with_small_output_precision(batch):
    X, Y = batch
    cos = []
    for pi in (1.0, 0.1, 0.001):
        net = PCNetwork([6, 7, 5, 3], rng=0, output_precision=pi)
        bp = [-g for g in net.backprop_grads(X, Y)]
        cos.append(cosine(net.pc_updates(X, Y, n_steps=200, step=0.1), bp))
    assert cos[0] > 0.8 and cos[0] < cos[1] < cos[2]
    assert cos[2] > 0.9999


def test_training_steps_descend_the_loss(batch):
    X, Y = batch
    for rule in ("pc", "bp"):
        net = PCNetwork([6, 7, 3], rng=0)
        before = net.loss(X, Y)
        for _ in range(50):
            net.train_step(X, Y, lr=0.05, rule=rule)
        assert net.loss(X, Y) < 0.8 * before
    with pytest.raises(ValueError, match="rule"):
        net.train_step(X, Y, lr=0.1, rule="hebb")


def test_cosine_and_validation():
    assert cosine([1.0, 0.0], [2.0, 0.0]) == pytest.approx(1.0)
    assert cosine([np.ones(2), np.ones(1)], [np.ones(2), -np.ones(1)]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="sizes"):
        PCNetwork([3])
    with pytest.raises(ValueError, match="columns"):
        PCNetwork([3, 2]).forward(np.ones((2, 4)))
