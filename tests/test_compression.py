"""nblib.compression: quantisation against torch's quantised tensors, pruning, distillation against hand-worked cases."""

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from nblib.compression import (  # noqa: E402
    choose_qparams, compressed_bytes, dequantize, distillation_loss, fake_quantize, magnitude_masks,
    median_latency, param_bytes, prune_magnitude, prune_neurons, quant_range, quantize, quantize_mlp,
    state_dict_bytes, weight_sparsity)


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's quantised tensors emit a deprecation warning
        yield


def _mlp(seed=0, sizes=(8, 16, 12, 3)):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def _data(seed, shape=(40, 23), spread=3.0):
    return (np.random.default_rng(seed).normal(size=shape) * spread).astype(np.float32)


@pytest.mark.parametrize(("bits", "signed", "expected"), [
    pytest.param(8, True, (-128, 127), id="int8"),
    pytest.param(8, False, (0, 255), id="uint8"),
    pytest.param(4, True, (-8, 7), id="int4"),
    pytest.param(2, False, (0, 3), id="uint2"),
])
def test_quant_range(bits, signed, expected):
    assert quant_range(bits, signed) == expected


CASES = [pytest.param(signed, sym, seed, id=f"{'qint8' if signed else 'quint8'}-{'sym' if sym else 'affine'}-seed{seed}")
         for signed in (True, False) for sym in (True, False) for seed in range(4)]


@pytest.mark.parametrize(("signed", "symmetric", "seed"), CASES)
def test_per_tensor_codes_equal_torch(signed, symmetric, seed):
    x = _data(seed)
    x[0, 0] = 7.5  # a far value: others round at ties and the clamp is exercised below
    scale, zero = choose_qparams(x, symmetric=symmetric, signed=signed)
    dtype = torch.qint8 if signed else torch.quint8
    ref = torch.quantize_per_tensor(torch.from_numpy(x), float(scale), int(zero), dtype)
    q = quantize(x, scale, zero, signed=signed)
    np.testing.assert_array_equal(q, ref.int_repr().numpy().astype(np.int64))
    np.testing.assert_array_equal(dequantize(q, scale, zero), ref.dequantize().numpy())


@pytest.mark.parametrize(("signed", "symmetric", "seed"), CASES)
def test_per_channel_codes_equal_torch(signed, symmetric, seed):
    x = _data(seed)
    scale, zero = choose_qparams(x, symmetric=symmetric, signed=signed, axis=1)
    dtype = torch.qint8 if signed else torch.quint8
    ref = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(scale.astype(np.float64)),
                                     torch.from_numpy(zero), 1, dtype)
    q = quantize(x, scale, zero, signed=signed, axis=1)
    np.testing.assert_array_equal(q, ref.int_repr().numpy().astype(np.int64))
    np.testing.assert_allclose(dequantize(q, scale, zero, axis=1), ref.dequantize().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [pytest.param(torch.qint8, id="qint8"), pytest.param(torch.quint8, id="quint8")])
def test_rounding_and_clamping_with_a_chosen_scale(dtype):
    # ties (0.5, 1.5, 2.5 in units of the scale) and values far outside the range
    signed = dtype == torch.qint8
    x = np.array([0.05, 0.15, 0.25, -0.05, -0.25, 100.0, -100.0, 12.7, -12.8], np.float32)
    scale, zero = 0.1, (0 if signed else 128)
    ref = torch.quantize_per_tensor(torch.from_numpy(x), scale, zero, dtype).int_repr().numpy()
    np.testing.assert_array_equal(quantize(x, scale, zero, signed=signed), ref.astype(np.int64))


def test_hand_worked_affine_parameters():
    # range [-1, 3] on uint8: s = 4 / 255, z = round(1 / s) = round(63.75) = 64
    scale, zero = choose_qparams(np.array([-1.0, 3.0]), signed=False)
    assert math.isclose(float(scale), 4 / 255, rel_tol=1e-6) and zero == 64
    # symmetric int8: s = 3 / 127, z = 0; zero stays exactly representable
    scale, zero = choose_qparams(np.array([-1.0, 3.0]), symmetric=True)
    assert math.isclose(float(scale), 3 / 127, rel_tol=1e-6) and zero == 0
    assert quantize(np.array([0.0]), scale, zero)[0] == 0


def test_per_channel_error_is_no_larger_than_per_tensor():
    x = _data(0, (16, 30)) * np.logspace(-2, 0, 16, dtype=np.float32)[:, None]  # rows on very different scales
    err_t = np.abs(fake_quantize(x, bits=8) - x).mean()
    err_c = np.abs(fake_quantize(x, bits=8, axis=0) - x).mean()
    assert err_c < err_t


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_fake_quantize_error_is_at_most_half_a_step(bits):
    x = _data(1)
    scale, _ = choose_qparams(x, bits=bits, symmetric=True)
    assert np.abs(fake_quantize(x, bits=bits) - x).max() <= scale / 2 * (1 + 1e-5)


def test_quantize_checks_arguments():
    with pytest.raises(ValueError, match="scale"):
        quantize(np.ones(3), 0.0, 0)
    with pytest.raises(ValueError, match="scale has 2 entries"):
        quantize(np.ones((3, 4)), np.ones(2), np.zeros(2, int), axis=1)
    with pytest.raises(ValueError, match="bits"):
        quant_range(1)
    with pytest.raises(TypeError, match="q must hold integer"):
        dequantize(np.ones(3), 1.0, 0)


# --------------------------------------------------------------------------- pruning
@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.8, 1.0])
def test_magnitude_masks_remove_the_smallest(scope, sparsity):
    ws = [_data(0, (10, 20)), _data(1, (5, 10)) * 0.1]
    masks = magnitude_masks(ws, sparsity, scope)
    if scope == "layer":
        for w, m in zip(ws, masks):
            assert (~m).sum() == round(sparsity * w.size)
            if m.any() and (~m).any():
                assert np.abs(w[m]).min() >= np.abs(w[~m]).max()
    else:
        allw = np.concatenate([np.abs(w).ravel() for w in ws])
        allm = np.concatenate([m.ravel() for m in masks])
        assert (~allm).sum() == round(sparsity * allw.size)
        if allm.any() and (~allm).any():
            assert allw[allm].min() >= allw[~allm].max()


def test_global_scope_prunes_the_small_layer_harder():
    ws = [_data(0, (10, 20)), _data(1, (5, 10)) * 0.1]
    g = magnitude_masks(ws, 0.5, "global")
    assert (~g[1]).mean() > 0.9 and (~g[0]).mean() < 0.5


def test_pruned_weights_stay_zero_during_fine_tuning():
    model = _mlp()
    prune_magnitude(model, 0.7)
    assert weight_sparsity(model) == pytest.approx(0.7, abs=0.01)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
    for _ in range(10):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert weight_sparsity(model) == pytest.approx(0.7, abs=0.01)


def test_structured_pruning_builds_a_smaller_model_with_the_same_function_on_kept_neurons():
    model = _mlp()
    small = prune_neurons(model, 0.5)
    assert [m.out_features for m in small if isinstance(m, torch.nn.Linear)] == [8, 6, 3]
    assert param_bytes(small) < param_bytes(model)
    # keeping every neuron is the identity
    full = prune_neurons(model, 1.0)
    x = torch.randn(5, 8)
    torch.testing.assert_close(full(x), model(x))
    # zeroing the dropped neurons (and their outgoing weights) in the original gives the small
    # model's outputs; a layer's norms are taken over the incoming weights that survive
    ref = _mlp()
    with torch.no_grad():
        for layer, nxt in ((ref[0], ref[2]), (ref[2], ref[4])):
            norms = layer.weight.norm(dim=1)
            drop = torch.argsort(norms)[: layer.out_features // 2]
            layer.weight[drop] = 0
            layer.bias[drop] = 0
            nxt.weight[:, drop] = 0
    torch.testing.assert_close(small(x), ref(x))


def test_prune_neurons_checks_arguments():
    with pytest.raises(ValueError, match="keep"):
        prune_neurons(_mlp(), 0.0)
    with pytest.raises(TypeError, match="Sequential"):
        prune_neurons(torch.nn.Linear(2, 2), 0.5)


# ---------------------------------------------------------------- quantised inference
@pytest.mark.parametrize("per_channel", [True, False], ids=["per-channel", "per-tensor"])
@pytest.mark.parametrize("activations", ["float", "int8"])
def test_quantized_mlp_tracks_the_float_model(per_channel, activations):
    model = _mlp()
    q = quantize_mlp(model, per_channel=per_channel)
    x = _data(2, (20, 8), 1.0)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    out = q(x, activations=activations)
    assert np.abs(out - ref).max() < 0.05 * np.abs(ref).max()


def test_quantized_mlp_float_path_equals_dequantised_weights():
    model = _mlp()
    q = quantize_mlp(model)
    deq = _mlp()
    with torch.no_grad():
        for layer in (deq[0], deq[2], deq[4]):
            layer.weight.copy_(torch.from_numpy(fake_quantize(layer.weight.numpy(), axis=0)))
    x = _data(3, (6, 8), 1.0)
    np.testing.assert_allclose(q(x), deq(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_sizes():
    model = _mlp()
    n_w = 8 * 16 + 16 * 12 + 12 * 3
    n_b = 16 + 12 + 3
    assert param_bytes(model) == 4 * (n_w + n_b)
    q = quantize_mlp(model)
    assert q.nbytes() == n_w + 4 * n_b + 8 * n_b  # codes, biases, and a scale and zero point per row
    assert state_dict_bytes(model) > param_bytes(model)  # the file adds names and headers
    assert compressed_bytes(100, 100, 8) == 100
    assert compressed_bytes(100, 10, 8) == (10 * 8 + 100 + 7) // 8
    with pytest.raises(ValueError, match="n_nonzero"):
        compressed_bytes(10, 11, 8)


def test_median_latency_is_a_positive_time():
    assert 0 < median_latency(lambda: sum(range(100)), repeats=5, warmup=1) < 1


# ----------------------------------------------------------------------- distillation
def test_distillation_hand_worked_case():
    # two classes, T = 2: teacher logits (2, 0) -> soft p = softmax(1, 0) = (e/(e+1), 1/(e+1));
    # student logits (0, 0) -> q = (1/2, 1/2). KL(p||q) = sum p log(2p). Label 0: CE = log 2.
    s, t, y = torch.zeros(1, 2), torch.tensor([[2.0, 0.0]]), torch.tensor([0])
    p = math.e / (math.e + 1)
    kl = p * math.log(2 * p) + (1 - p) * math.log(2 * (1 - p))
    alpha, T = 0.25, 2.0
    expected = alpha * T * T * kl + (1 - alpha) * math.log(2)
    assert distillation_loss(s, t, y, T=T, alpha=alpha).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("T", "alpha"), [(1.0, 0.5), (4.0, 0.9), (10.0, 1.0), (3.0, 0.0)],
                         ids=["T1", "T4", "soft-only", "hard-only"])
def test_distillation_matches_a_direct_formula(T, alpha):
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(7, 5, generator=g, dtype=torch.float64), torch.randn(7, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 5, (7,), generator=g)
    p = torch.softmax(t / T, 1)
    kl = (p * (torch.log(p) - torch.log_softmax(s / T, 1))).sum(1).mean()
    ce = -torch.log_softmax(s, 1)[torch.arange(7), y].mean()
    expected = alpha * T ** 2 * kl + (1 - alpha) * ce
    torch.testing.assert_close(distillation_loss(s, t, y, T=T, alpha=alpha), expected)


def test_distillation_does_not_train_the_teacher_and_checks_arguments():
    s = torch.randn(3, 4, requires_grad=True)
    t = torch.randn(3, 4, requires_grad=True)
    distillation_loss(s, t, torch.tensor([0, 1, 2])).backward()
    assert s.grad is not None and t.grad is None
    with pytest.raises(ValueError, match="T"):
        distillation_loss(s, t, torch.tensor([0, 1, 2]), T=0)
    with pytest.raises(ValueError, match="same shape"):
        distillation_loss(s, t[:, :3], torch.tensor([0, 1, 2]))
