"""nblib.adversarial: FGSM against a hand-computed logistic-regression case and torch autograd; training on attacks."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from nblib.adversarial import accuracy_under_attack, adversarial_training, fgsm  # noqa: E402
from nblib.torch_train import ArrayLoader  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _two_class_linear(w, b):
    model = nn.Linear(len(w), 2).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0] * len(w), w], dtype=torch.float64))  # logit gap = w.x + b
        model.bias.copy_(torch.tensor([0.0, b], dtype=torch.float64))
    return model.eval()


def test_fgsm_matches_the_hand_computed_logistic_case():
    # two logits (0, w.x + b): cross-entropy's gradient wrt x is (p1 - y) w, with p1 = sigmoid(w.x + b).
    # For y = 1 it is (p1 - 1) w, so the attack moves against sign(w); for y = 0 along sign(w).
    w = [2.0, -1.0, 0.5, -3.0]
    model = _two_class_linear(w, 0.1)
    x = torch.full((2, 4), 0.5, dtype=torch.float64)
    y = torch.tensor([1, 0])
    adv = fgsm(model, x, y, 0.1, clamp=None)
    sign_w = np.sign(w)
    np.testing.assert_allclose(adv.numpy(), [0.5 - 0.1 * sign_w, 0.5 + 0.1 * sign_w])
    # and the attack raises the loss of both rows
    with torch.no_grad():
        before = F.cross_entropy(model(x), y, reduction="none")
        after = F.cross_entropy(model(adv), y, reduction="none")
    assert (after > before).all()


def test_fgsm_equals_the_sign_of_torch_autograd_and_respects_the_clamp():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 10)).double().eval()
    x = torch.rand(5, 1, 8, 8, dtype=torch.float64)
    y = torch.tensor([0, 3, 5, 7, 9])
    xr = x.clone().requires_grad_(True)
    F.cross_entropy(model(xr), y).backward()
    expected = (x + 0.05 * xr.grad.sign()).clamp(0, 1)
    adv = fgsm(model, x, y, 0.05)
    np.testing.assert_array_equal(adv.numpy(), expected.numpy())
    assert adv.min() >= 0 and adv.max() <= 1
    assert (adv - x).abs().max() <= 0.05 + 1e-12
    assert torch.equal(fgsm(model, x, y, 0.0), x)


def test_accuracy_under_attack_falls_with_epsilon_on_a_linear_model():
    w = np.array([1.0, -1.0, 2.0, -0.5])
    model = _two_class_linear(list(w), 0.0)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((200, 4)))
    y = (model(x).argmax(1)).detach()  # every clean point is classified correctly
    acc = accuracy_under_attack(model, x, y, [0.0, 0.05, 0.2, 0.5], clamp=None)
    assert acc[0] == 1.0
    assert np.all(np.diff(acc) <= 0) and acc[-1] < 0.5
    # a point is flipped exactly when its margin |w.x| is below eps * ||w||_1
    margin = np.abs(x.numpy() @ w)
    np.testing.assert_allclose(acc[2], np.mean(margin > 0.2 * np.abs(w).sum()))


def test_bad_arguments_are_named():
    model = _two_class_linear([1.0, 1.0], 0.0)
    x, y = torch.zeros(2, 2, dtype=torch.float64), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="epsilon"):
        fgsm(model, x, y, -0.1)
    with pytest.raises(TypeError, match="y"):
        fgsm(model, x, y.double(), 0.1)
    with pytest.raises(ValueError, match="clamp"):
        fgsm(model, x, y, 0.1, clamp=(1.0, 0.0))


def _train(epsilon, mix, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).double()
    rng = np.random.default_rng(0)
    X = rng.random((64, 4))
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    loader = ArrayLoader(torch.from_numpy(X), y, batch_size=16, shuffle=True, seed=seed)
    losses = adversarial_training(model, loader, epochs=3, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                  epsilon=epsilon, mix=mix)
    return model, losses


def test_adversarial_training_with_zero_epsilon_is_ordinary_training():
    # with epsilon = 0 the "attacked" batch is the clean one, so the mixed loss is the clean loss
    a, la = _train(0.0, 0.5)
    b, lb = _train(0.3, 0.0)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)
    np.testing.assert_allclose(la, lb)
    c, _ = _train(0.3, 0.5)
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
