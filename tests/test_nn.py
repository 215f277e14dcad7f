"""nblib.nn against torch.nn, and its bookkeeping."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib import nn
from nblib.autograd import Tensor, cross_entropy

torch = pytest.importorskip("torch")


def _copy_into_torch(ours: nn.Linear) -> "torch.nn.Linear":
    ref = torch.nn.Linear(ours.in_features, ours.out_features, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.as_tensor(ours.weight.data))
        ref.bias.copy_(torch.as_tensor(ours.bias.data))
    return ref


def test_linear_matches_torch_forward_and_backward():
    ours = nn.Linear(4, 3, dtype=np.float64, rng=0)
    ref = _copy_into_torch(ours)
    x = np.random.default_rng(1).standard_normal((5, 4))
    out = ours(Tensor(x))
    expected = ref(torch.as_tensor(x))
    assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    assert_allclose(ours.weight.grad, ref.weight.grad.numpy(), rtol=1e-12)
    assert_allclose(ours.bias.grad, ref.bias.grad.numpy(), rtol=1e-12)


def test_linear_initialisation_bound_follows_torch():
    layer = nn.Linear(100, 50, rng=0)
    bound = 1 / np.sqrt(100)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound  # uses the whole range
    assert layer.weight.shape == (50, 100) and layer.bias.shape == (50,)
    assert layer.weight.dtype == np.float32


def test_linear_without_bias_and_leading_dims():
    layer = nn.Linear(3, 2, bias=False, rng=0)
    assert layer.bias is None and len(layer.parameters()) == 1
    assert layer(np.ones((4, 5, 3), dtype=np.float32)).shape == (4, 5, 2)


def test_mlp_matches_torch_sequential_after_training_steps():
    from nblib.optim import SGD

    model = nn.mlp([4, 8, 3], activation=nn.Tanh, dtype=np.float64, rng=0)
    ref = torch.nn.Sequential(_copy_into_torch(model[0]), torch.nn.Tanh(), _copy_into_torch(model[2]))
    opt, ref_opt = SGD(model.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(2)
    for _ in range(5):
        x, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
        opt.zero_grad()
        cross_entropy(model(Tensor(x)), y).backward()
        opt.step()
        ref_opt.zero_grad()
        torch.nn.functional.cross_entropy(ref(torch.as_tensor(x)), torch.as_tensor(y)).backward()
        ref_opt.step()
    for ours, theirs in zip(model.parameters(), ref.parameters()):
        assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_parameters_are_found_recursively_and_named():
    class Net(nn.Module):
        def __init__(self):
            self.body = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU())
            self.head = nn.Linear(3, 1, rng=0)

        def forward(self, x):
            return self.head(self.body(x))

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["body.layers.0.weight", "body.layers.0.bias", "head.weight", "head.bias"]
    assert net.num_parameters() == 2 * 3 + 3 + 3 + 1
    net.eval()
    assert not net.training and not net.body.training and not net.body[0].training


def test_zero_grad_clears_every_parameter():
    model = nn.mlp([2, 4, 2], rng=0)
    cross_entropy(model(np.ones((3, 2), dtype=np.float32)), [0, 1, 1]).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_repr_shows_the_architecture():
    text = repr(nn.mlp([2, 4, 1], rng=0))
    assert "Linear(in_features=2, out_features=4, bias=True)" in text and "ReLU()" in text


def test_seeded_construction_is_deterministic():
    a, b = nn.Linear(3, 3, rng=7), nn.Linear(3, 3, rng=7)
    assert_allclose(a.weight.data, b.weight.data)


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.GELU,
                                        lambda: nn.LeakyReLU(0.1), lambda: nn.GELU("tanh")],
                         ids=["relu", "tanh", "sigmoid", "silu", "gelu", "leaky-relu", "gelu-tanh"])
def test_to_torch_copies_weights_and_activations(activation):
    model = nn.Sequential(nn.Linear(4, 6, dtype=np.float64, rng=0), activation(), nn.Dropout(0.3),
                          nn.Linear(6, 2, dtype=np.float64, rng=1)).eval()
    ref = nn.to_torch(model)
    assert not ref.training
    x = np.random.default_rng(2).standard_normal((5, 4))
    assert_allclose(model(Tensor(x)).data, ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-14)


def test_to_torch_refuses_unknown_layers():
    class Odd(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="no torch equivalent for Odd"):
        nn.to_torch(nn.Sequential(Odd()))
