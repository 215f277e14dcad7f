"""nblib.attribution: gradients, integrated gradients, LRP, deletion curves, rank correlation and TCAV.

Each method is checked against a reference: torch autograd, a hand-worked linear or
bilinear model where the answer is known in closed form, scipy's Spearman correlation,
and the invariants the methods promise (completeness, conservation of relevance).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from nblib.attribution import (  # noqa: E402
    completeness_gap, concept_activation_vector, curve_area, deletion_curve, gradient_x_input,
    integrated_gradients, layer_gradients, lrp, rank_correlation, rankdata, saliency, tcav_score)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _linear(w, b):
    model = nn.Linear(len(w[0]), len(w)).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor(w, dtype=torch.float64))
        model.bias.copy_(torch.tensor(b, dtype=torch.float64))
    return model.eval()


def _cnn(bias=True, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=bias), nn.ReLU(),
                          nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=bias), nn.ReLU(), nn.Flatten(),
                          nn.Linear(6 * 4 * 4, 12, bias=bias), nn.ReLU(), nn.Linear(12, 5, bias=bias)).double()
    with torch.no_grad():  # larger weights than torch's default, so that the logits are of order 1
        for m in model:
            if hasattr(m, "weight"):
                m.weight.mul_(4.0)
    if bias:
        with torch.no_grad():
            for m in model:
                if hasattr(m, "bias") and m.bias is not None:
                    m.bias.uniform_(-0.1, 0.1)
    return model.eval()


def _images(n=6, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).random((n, 1, 8, 8)))


class Bilinear(nn.Module):
    """F(x) = [x0 * x1, x0 + 2 x1]: IG with a zero baseline gives (x0 x1 / 2, x0 x1 / 2) for class 0."""

    def forward(self, x):
        return torch.stack([x[:, 0] * x[:, 1], x[:, 0] + 2 * x[:, 1]], dim=1)


# ---------------------------------------------------------------- gradients
def test_saliency_is_the_weight_row_of_a_linear_model():
    w = [[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]
    model = _linear(w, [0.3, -0.2])
    x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], dtype=torch.float64)
    g = saliency(model, x, target=torch.tensor([0, 1]))
    np.testing.assert_array_equal(g.numpy(), np.array([w[0], w[1]]))
    gi = gradient_x_input(model, x, target=1)
    np.testing.assert_allclose(gi.sum(1).numpy(), (x @ torch.tensor(w[1], dtype=torch.float64)).numpy())


def test_saliency_matches_autograd_and_defaults_to_the_predicted_class():
    model, x = _cnn(), _images()
    pred = model(x).argmax(1)
    xr = x.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad(model(xr).gather(1, pred[:, None]).sum(), xr)
    np.testing.assert_allclose(saliency(model, x).numpy(), ref.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bad, err", [
    pytest.param(np.zeros((2, 3)), TypeError, id="numpy-input"),
    pytest.param(torch.zeros(3), ValueError, id="no-batch-dimension"),
    pytest.param(torch.full((2, 3), float("nan")), ValueError, id="nan"),
])
def test_bad_inputs_are_named(bad, err):
    with pytest.raises(err, match="x"):
        saliency(_linear([[1.0, 1.0, 1.0]], [0.0]), bad, target=0)


def test_bad_targets_are_named():
    model, x = _linear([[1.0, 1.0]], [0.0]), torch.ones(2, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="target"):
        saliency(model, x, target=torch.tensor([0, 0, 0]))
    with pytest.raises(TypeError, match="target"):
        saliency(model, x, target=torch.tensor([0.0, 1.0]))


# ---------------------------------------------------------------- integrated gradients
@pytest.mark.parametrize("steps", [1, 3, 50])
@pytest.mark.parametrize("rule", ["midpoint", "left", "right"])
def test_ig_is_exact_for_a_linear_model(steps, rule):
    # the gradient is constant along the path: IG = (x - x') * w for any number of steps
    w, b = [[1.0, -2.0, 0.5]], [0.7]
    model = _linear(w, b)
    x = torch.tensor([[1.0, 2.0, 3.0], [0.2, -0.4, 1.0]], dtype=torch.float64)
    baseline = torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64)
    ig = integrated_gradients(model, x, target=0, baseline=baseline, steps=steps, rule=rule)
    np.testing.assert_allclose(ig.numpy(), ((x - baseline) * torch.tensor(w[0], dtype=torch.float64)).numpy(),
                               rtol=1e-12)
    assert completeness_gap(model, x, ig, target=0, baseline=baseline).max() < 1e-12


def test_ig_matches_the_hand_worked_bilinear_case():
    # F = x0 x1 from 0: d/dx0 along the path is alpha x1, integral x1 / 2, times x0. The
    # midpoint rule integrates a linear integrand exactly, so any step count is exact.
    x = torch.tensor([[2.0, 3.0], [-1.0, 4.0]], dtype=torch.float64)
    ig = integrated_gradients(Bilinear(), x, target=0, steps=4)
    half = (x[:, 0] * x[:, 1] / 2).numpy()
    np.testing.assert_allclose(ig.numpy(), np.stack([half, half], 1), rtol=1e-12)
    # the left rule is off by exactly the first-order term: mean of k/m is (m - 1) / (2m)
    left = integrated_gradients(Bilinear(), x, target=0, steps=4, rule="left")
    np.testing.assert_allclose(left.numpy(), np.stack([half, half], 1) * (3 / 4), rtol=1e-12)


def test_ig_completeness_gap_is_within_the_step_tied_bound():
    # Along the path, g(alpha) = (x - x') . grad F(x' + alpha (x - x')) is piecewise constant for a
    # ReLU network (constant inside each linear region). The midpoint rule is exact on cells
    # without a kink and errs by at most (cell width) x (variation inside the cell) on the others,
    # so |gap| <= TV(g) / m, with TV(g) the total variation of g on [0, 1], measured on a fine grid.
    model, x = _cnn(), _images(4)
    target = model(x).argmax(1)
    fine = 4096
    alphas = (torch.arange(fine + 1, dtype=torch.float64) / fine).view(-1, 1, 1, 1, 1)
    path = (alphas * x).reshape(-1, 1, 8, 8)  # baseline 0
    g = (saliency(model, path, target.repeat(fine + 1)).reshape(fine + 1, *x.shape) * x).sum((2, 3, 4))
    tv = g.diff(dim=0).abs().sum(0).numpy()  # (B,)
    assert (tv > 0).all(), "the path should cross kinks, or the test is vacuous"
    for m in (4, 16, 64, 256):
        gap = completeness_gap(model, x, integrated_gradients(model, x, target, steps=m), target)
        assert (gap <= tv / m * 1.001 + 1e-9).all(), (m, gap, tv / m)
    assert (completeness_gap(model, x, integrated_gradients(model, x, target, steps=1024), target) < tv / 1000).all()


def test_ig_on_a_smooth_model_converges_like_one_over_m_squared():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double().eval()
    x = torch.randn(4, 5, dtype=torch.float64)
    g8 = completeness_gap(model, x, integrated_gradients(model, x, target=1, steps=8), target=1).max()
    g32 = completeness_gap(model, x, integrated_gradients(model, x, target=1, steps=32), target=1).max()
    assert g32 < g8 / 10  # 1/m^2 predicts 16x; 1/m would give only 4x


def test_ig_rejects_a_baseline_of_the_wrong_shape():
    model = _linear([[1.0, 1.0]], [0.0])
    with pytest.raises(ValueError, match="baseline"):
        integrated_gradients(model, torch.ones(2, 2, dtype=torch.float64), target=0, baseline=torch.zeros(3))
    with pytest.raises(ValueError, match="rule"):
        integrated_gradients(model, torch.ones(2, 2, dtype=torch.float64), target=0, rule="simpson")


# ---------------------------------------------------------------- LRP
@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
def test_lrp0_equals_gradient_times_input_on_a_relu_network(bias):
    # the known identity (Ancona et al. 2018): for ReLU nets LRP-0 is gradient x input,
    # with or without biases; this exercises the Linear, Conv2d (stride, padding) and Flatten paths
    model, x = _cnn(bias=bias), _images()
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    np.testing.assert_allclose(lrp(model, x, y, rule="zero").numpy(), gradient_x_input(model, x, y).numpy(),
                               rtol=1e-9, atol=1e-12)


def test_lrp0_conserves_relevance_exactly_without_biases():
    model, x = _cnn(bias=False), _images()
    R, layers = lrp(model, x, rule="zero", return_relevances=True)
    assert R is layers[0] and len(layers) == len(model) + 1
    top = model(x).max(1).values.detach().numpy()
    for r in layers:
        np.testing.assert_allclose(r.reshape(len(x), -1).sum(1).numpy(), top, rtol=1e-10)


def test_lrp_epsilon_conservation_error_vanishes_with_epsilon():
    model, x = _cnn(bias=False), _images()
    top = model(x).max(1).values.detach().numpy()
    errors = []
    for eps in (1e-1, 1e-3, 1e-5):
        R = lrp(model, x, rule="epsilon", epsilon=eps)
        errors.append(np.abs(R.reshape(len(x), -1).sum(1).numpy() - top).max())
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3 * np.abs(top).max()


def test_lrp_with_biases_loses_exactly_the_bias_share():
    # one Linear layer: sum_j R_j = sum_k R_k (z_k - b_k) / z_k, the rest is absorbed by the bias
    model = nn.Sequential(_linear([[1.0, 2.0], [-1.0, 0.5]], [0.5, -0.25]))
    x = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    R = lrp(model, x, target=0, rule="zero")
    np.testing.assert_allclose(R.numpy(), [[1.0, 2.0]])  # a_j w_j: z = 3.5 = 1 + 2 + 0.5 (bias)


def test_lrp_zplus_is_conserved_and_nonnegative_on_nonnegative_inputs():
    model, x = _cnn(bias=False), _images()
    R, layers = lrp(model, x, rule="zplus", return_relevances=True)
    top = model(x).max(1).values.detach().numpy()
    for r in layers:  # every z+ is positive here (positive inputs meet some positive weight), so nothing is lost
        np.testing.assert_allclose(r.reshape(len(x), -1).sum(1).numpy(), top, rtol=1e-9)
    positive = top > 0
    assert positive.sum() >= 2
    assert (R[torch.from_numpy(positive)] >= 0).all()  # the sign of the logit, spread over the pixels


def test_lrp_rejects_unsupported_layers_and_rules():
    with pytest.raises(TypeError, match="MaxPool2d"):
        lrp(nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 2)), _images().float())
    with pytest.raises(ValueError, match="rule"):
        lrp(_cnn(), _images(), rule="alpha-beta")
    with pytest.raises(ValueError, match="one per"):
        lrp(_cnn(), _images(), rule=["zero", "zero"])
    with pytest.raises(ValueError, match="epsilon"):
        lrp(_cnn(), _images(), rule="epsilon", epsilon=0.0)
    with pytest.raises(TypeError, match="Sequential"):
        lrp(_linear([[1.0]], [0.0]), torch.ones(1, 1, dtype=torch.float64))


# ---------------------------------------------------------------- deletion curves, ranks
def test_deletion_curve_deletes_in_attribution_order():
    # a linear "probability" model: deleting the top-weighted pixel first lowers it most
    model = _linear([[3.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]], [0.0, 0.0])
    x = torch.ones(1, 4, dtype=torch.float64)
    f, p = deletion_curve(model, x, torch.tensor([[3.0, 1.0, 0.0, 0.0]]), target=0, n_steps=4)
    np.testing.assert_allclose(f, [0, 0.25, 0.5, 0.75, 1.0])
    expected = [np.exp(z) / (np.exp(z) + 1) for z in (4.0, 1.0, 0.0, 0.0, 0.0)]
    np.testing.assert_allclose(p[0], expected)
    f_rev, p_rev = deletion_curve(model, x, torch.tensor([[0.0, 1.0, 2.0, 3.0]]), target=0, n_steps=4)
    assert curve_area(f_rev, p_rev)[0] > curve_area(f, p)[0]


def test_curve_area_is_the_trapezoid_rule():
    f = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(curve_area(f, np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])), [1.0, 0.25])
    with pytest.raises(ValueError, match="values"):
        curve_area(f, np.ones((2, 4)))


def test_rankdata_and_rank_correlation_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(6, 30)).astype(float)  # many ties
    b = a + rng.normal(size=a.shape)
    for u in a:
        np.testing.assert_allclose(rankdata(u), stats.rankdata(u))
    expected = [stats.spearmanr(u, v)[0] for u, v in zip(a, b)]
    np.testing.assert_allclose(rank_correlation(a, b), expected, rtol=1e-12)
    assert np.isnan(rank_correlation(np.ones((1, 4)), np.arange(4.0)[None]))[0]


# ---------------------------------------------------------------- TCAV
def test_cav_points_along_the_separating_direction():
    rng = np.random.default_rng(0)
    direction = np.array([3.0, -4.0, 0.0]) / 5
    other = rng.normal(size=(200, 3))
    concept = rng.normal(size=(200, 3)) + 4 * direction
    cav, probe = concept_activation_vector(concept, other)
    assert cav @ direction > 0.95
    assert probe.score(np.vstack([concept, other]), np.r_[np.ones(200), np.zeros(200)]) > 0.95


def test_tcav_score_counts_positive_directional_derivatives():
    grads = np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 1.0], [0.0, -3.0]])
    assert tcav_score(grads, np.array([1.0, 0.0])) == 0.5
    assert tcav_score(grads, np.array([0.0, -1.0])) == 0.25
    with pytest.raises(ValueError, match="cav"):
        tcav_score(grads, np.ones(3))


def test_layer_gradients_match_autograd_through_the_whole_model():
    model, x = _cnn(), _images(3)
    acts, grads = layer_gradients(model, x, 4, target=2)
    assert acts.shape == grads.shape == (3, 96)
    np.testing.assert_allclose(acts, model[:4](x).reshape(3, -1).detach().numpy())
    # the chain rule: grad wrt the input equals J^T of the split's gradient, checked via a directional derivative
    h = model[:4](x).detach().requires_grad_(True)
    (ref,) = torch.autograd.grad(model[4:](h)[:, 2].sum(), h)
    np.testing.assert_allclose(grads, ref.reshape(3, -1).numpy())
    with pytest.raises(ValueError, match="layer"):
        layer_gradients(model, x, len(model), target=0)
