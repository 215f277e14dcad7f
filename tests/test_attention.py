"""Attention from scratch against torch: the NumPy reference, the modules built from primitives, and the models.

Tolerances: in float64 the reference and torch perform the same arithmetic in slightly different
orders, so they agree to a few units of round-off (about 1e-15 relative); the tests allow 1e-12,
far below any real mistake (a wrong scale, mask or head split changes results at order 1e-1).
"""

import math
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

torch = pytest.importorskip("torch")
F = torch.nn.functional

from nblib import attention  # noqa: E402
from nblib.attention import (attention_entropy, causal_mask, mha_parameters, multi_head_attention,  # noqa: E402
                             scaled_dot_product_attention, sequence_accuracy, sequence_cross_entropy,
                             sinusoidal_encoding, softmax, token_accuracy)

ATOL = 1e-12


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------------- NumPy helpers
def test_causal_mask_boolean_and_additive():
    assert_array_equal(causal_mask(3), [[True, False, False], [True, True, False], [True, True, True]])
    additive = causal_mask(3, additive=True)
    assert additive.dtype == np.float64 and np.isneginf(additive[0, 1]) and additive[2, 0] == 0.0
    with pytest.raises(ValueError, match="size must be >= 1"):
        causal_mask(0)


def test_softmax_of_a_fully_masked_row_is_zero_not_nan():
    out = softmax(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))
    assert_allclose(out[0], [1 / (1 + math.e), math.e / (1 + math.e)])
    assert_array_equal(out[1], [0.0, 0.0])


def test_attention_by_hand():
    # One query, two keys: scores q.k / sqrt(2) = (1/sqrt2, 0), weights by softmax.
    q, k, v = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[2.0], [4.0]])
    out, w = scaled_dot_product_attention(q, k, v)
    a = math.exp(1 / math.sqrt(2))
    assert_allclose(w, [[a / (a + 1), 1 / (a + 1)]], rtol=1e-14)
    assert_allclose(out, [[(2 * a + 4) / (a + 1)]], rtol=1e-14)


def test_attention_entropy_bounds():
    assert_allclose(attention_entropy(np.full((3, 8), 1 / 8)), np.log(8) * np.ones(3))
    assert_allclose(attention_entropy(np.eye(4)), np.zeros(4), atol=0)
    with pytest.raises(ValueError, match="non-negative"):
        attention_entropy(np.array([[-0.5, 1.5]]))


# ---------------------------------------------------------------------------- SDPA against torch
_KEEP = np.random.default_rng(3).random((5, 7)) > 0.3
SDPA_CASES = {
    "no-mask": {},
    "boolean-mask": {"attn_mask": _KEEP},
    "additive-mask": {"attn_mask": np.where(_KEEP, 0.0, -np.inf)},
    "soft-additive-mask": {"attn_mask": _rand(5, 7, seed=4)},
    "key-mask-broadcast": {"attn_mask": np.array([[True] * 5 + [False] * 2])},  # (1, S): hides 2 keys
    "causal": {"is_causal": True},
    "custom-scale": {"scale": 0.3},
}


@pytest.mark.parametrize("kwargs", SDPA_CASES.values(), ids=SDPA_CASES.keys())
def test_sdpa_matches_torch(kwargs):
    q, k, v = _rand(2, 3, 5, 8, seed=0), _rand(2, 3, 7, 8, seed=1), _rand(2, 3, 7, 4, seed=2)
    out, w = scaled_dot_product_attention(q, k, v, **kwargs)
    as_torch = {key: torch.from_numpy(val) if isinstance(val, np.ndarray) else val for key, val in kwargs.items()}
    expected = F.scaled_dot_product_attention(torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v), **as_torch)
    assert_allclose(out, expected.numpy(), rtol=0, atol=ATOL)
    assert w.shape == (2, 3, 5, 7)
    assert_allclose(w.sum(axis=-1), 1.0, atol=1e-14)  # every row is a distribution


def test_sdpa_fully_masked_query_gives_zeros_like_torch():
    q, k, v = _rand(1, 2, 4, seed=0), _rand(1, 3, 4, seed=1), _rand(1, 3, 2, seed=2)
    keep = np.array([[True, True, False], [False, False, False]])
    out, w = scaled_dot_product_attention(q, k, v, attn_mask=keep)
    expected = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), attn_mask=torch.from_numpy(keep))
    assert_allclose(out, expected.numpy(), atol=ATOL)
    assert_array_equal(w[0, 1], 0.0) and not np.isnan(out).any()


def test_sdpa_causal_weights_are_lower_triangular():
    x = _rand(1, 6, 4)
    _, w = scaled_dot_product_attention(x, x, x, is_causal=True)
    assert_array_equal(np.triu(w[0], 1), 0.0)
    assert w[0, 0, 0] == 1.0  # the first position can only see itself


@pytest.mark.parametrize("call, error, message", [
    (lambda q: scaled_dot_product_attention(q, q[..., :3], q), ValueError, "same feature size"),
    (lambda q: scaled_dot_product_attention(q, q, q[:, :2]), ValueError, "same length"),
    (lambda q: scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool), is_causal=True), ValueError,
     "not both"),
    (lambda q: scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool)), ValueError, "does not broadcast"),
    (lambda q: scaled_dot_product_attention(q, q, q, attn_mask=np.full((4, 4), np.nan)), ValueError, "NaN"),
    (lambda q: scaled_dot_product_attention(q, q, q, attn_mask=np.array([["a"] * 4] * 4)), TypeError,
     "boolean or floating"),
    (lambda q: scaled_dot_product_attention(q[0, 0], q[0, 0], q[0, 0]), ValueError, "at least 2 dimensions"),
    (lambda q: scaled_dot_product_attention(q, q, q, scale=0.0), ValueError, "scale must be > 0"),
], ids=["features", "lengths", "mask-and-causal", "mask-shape", "nan-mask", "string-mask", "1-D", "zero-scale"])
def test_sdpa_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call(_rand(1, 4, 5))


# ---------------------------------------------------------------------------- MHA against torch
E, H, N, L, S = 16, 4, 3, 5, 7


@pytest.fixture(scope="module")
def torch_mha():
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # nonzero biases, so that the comparison covers them
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    return mha.eval()


def _masks(L_, S_):
    padding = torch.zeros(N, S_, dtype=torch.bool)
    padding[0, -2:] = True
    blocked = torch.ones(L_, S_, dtype=torch.bool).triu(1)  # nn.MultiheadAttention: True = blocked
    per_head = torch.from_numpy(np.random.default_rng(5).standard_normal((N * H, L_, S_)))
    return {
        "none": {},
        "causal-bool": {"attn_mask": blocked},
        "causal-additive": {"attn_mask": torch.zeros(L_, S_, dtype=torch.float64).masked_fill(blocked, float("-inf"))},
        "padding": {"key_padding_mask": padding},
        "padding-additive": {"key_padding_mask": torch.zeros(N, S_, dtype=torch.float64).masked_fill(padding, -1e9)},
        "causal-and-padding": {"attn_mask": blocked, "key_padding_mask": padding},
        "per-head-float": {"attn_mask": per_head},
    }


MASK_NAMES = list(_masks(L, L))


@pytest.mark.parametrize("average", [True, False], ids=["averaged", "per-head"])
@pytest.mark.parametrize("mask_name", MASK_NAMES)
def test_numpy_mha_matches_torch_self_attention(torch_mha, mask_name, average):
    x = torch.from_numpy(_rand(N, L, E, seed=1))
    kwargs = _masks(L, L)[mask_name]
    ref_out, ref_w = torch_mha(x, x, x, average_attn_weights=average, **kwargs)
    out, w = multi_head_attention(x.numpy(), x.numpy(), x.numpy(), average_attn_weights=average,
                                  **mha_parameters(torch_mha), **{k: v.numpy() for k, v in kwargs.items()})
    assert_allclose(out, ref_out.detach().numpy(), rtol=0, atol=ATOL)
    assert_allclose(w, ref_w.detach().numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize("mask_name", ["none", "padding", "per-head-float"])
def test_numpy_mha_matches_torch_cross_attention(torch_mha, mask_name):
    q, kv = torch.from_numpy(_rand(N, L, E, seed=2)), torch.from_numpy(_rand(N, S, E, seed=3))
    kwargs = _masks(L, S)[mask_name]
    ref_out, ref_w = torch_mha(q, kv, kv, **kwargs)
    out, w = multi_head_attention(q.numpy(), kv.numpy(), kv.numpy(), **mha_parameters(torch_mha),
                                  **{k: v.numpy() for k, v in kwargs.items()})
    assert out.shape == (N, L, E) and w.shape == (N, L, S)
    assert_allclose(out, ref_out.detach().numpy(), rtol=0, atol=ATOL)
    assert_allclose(w, ref_w.detach().numpy(), rtol=0, atol=ATOL)


def test_numpy_mha_without_biases_matches_torch():
    torch.manual_seed(1)
    mha = torch.nn.MultiheadAttention(E, H, bias=False, batch_first=True, dtype=torch.float64)
    x = torch.from_numpy(_rand(N, L, E, seed=4))
    params = mha_parameters(mha)
    assert params["in_proj_bias"] is None and params["out_proj_bias"] is None
    out, _ = multi_head_attention(x.numpy(), x.numpy(), x.numpy(), **params)
    assert_allclose(out, mha(x, x, x)[0].detach().numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize("change, message", [
    ({"num_heads": 3}, "must divide the embedding size"),
    ({"in_proj_weight": np.zeros((E, E))}, r"in_proj_weight must have shape \(3E, E\)"),
    ({"in_proj_bias": np.zeros(E)}, "in_proj_bias must have shape"),
    ({"out_proj_weight": np.zeros((E, 2 * E))}, "out_proj_weight must have shape"),
    ({"out_proj_bias": np.zeros(2)}, "out_proj_bias must have shape"),
    ({"attn_mask": np.zeros((2, 2))}, "attn_mask must have shape"),
    ({"key_padding_mask": np.zeros((N, L + 1), bool)}, "key_padding_mask must have shape"),
], ids=["heads", "in-weight", "in-bias", "out-weight", "out-bias", "attn-mask", "padding-mask"])
def test_numpy_mha_bad_input(torch_mha, change, message):
    x = _rand(N, L, E)
    kwargs = {**mha_parameters(torch_mha), **change}
    with pytest.raises(ValueError, match=message):
        multi_head_attention(x, x, x, **kwargs)


def test_mha_parameters_needs_a_packed_projection():
    with pytest.raises(TypeError, match="packed in_proj_weight"):
        mha_parameters(torch.nn.Linear(2, 2))


# ---------------------------------------------------------------------------- nblib's torch modules
def _copied_mha(torch_mha):
    mine = attention.MultiHeadAttention(E, H, dtype=torch.float64)
    mine.load_state_dict(torch_mha.state_dict())
    return mine.eval()


@pytest.mark.parametrize("mask_name", MASK_NAMES)
def test_module_matches_nn_multiheadattention(torch_mha, mask_name):
    mine = _copied_mha(torch_mha)
    x = torch.from_numpy(_rand(N, L, E, seed=6))
    kwargs = _masks(L, L)[mask_name]
    for average in (True, False):
        ref_out, ref_w = torch_mha(x, x, x, average_attn_weights=average, **kwargs)
        out, w = mine(x, x, x, average_attn_weights=average, **kwargs)
        assert_allclose(out.detach().numpy(), ref_out.detach().numpy(), rtol=0, atol=ATOL)
        assert_allclose(w.detach().numpy(), ref_w.detach().numpy(), rtol=0, atol=ATOL)


def test_module_cross_attention_and_gradients_match(torch_mha):
    mine = _copied_mha(torch_mha)
    q = torch.from_numpy(_rand(N, L, E, seed=7))
    kv = torch.from_numpy(_rand(N, S, E, seed=8))
    (torch_mha(q, kv, kv)[0] ** 2).sum().backward()
    (mine(q, kv, kv)[0] ** 2).sum().backward()
    theirs = dict(torch_mha.named_parameters())
    for name, p in mine.named_parameters():
        assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-10, atol=ATOL, err_msg=name)
    torch_mha.zero_grad()


def test_module_is_causal_equals_an_explicit_mask(torch_mha):
    mine = _copied_mha(torch_mha)
    x = torch.from_numpy(_rand(N, L, E, seed=9))
    blocked = torch.ones(L, L, dtype=torch.bool).triu(1)
    a, wa = mine(x, x, x, is_causal=True)
    b, wb = mine(x, x, x, attn_mask=blocked)
    assert torch.equal(a, b) and torch.equal(wa, wb)
    out, weights = mine(x, x, x, need_weights=False)
    assert weights is None and out.shape == (N, L, E)


def test_module_initialisation_and_checks():
    torch.manual_seed(0)
    mha = attention.MultiHeadAttention(64, 8)
    assert mha.head_dim == 8 and tuple(mha.in_proj_weight.shape) == (192, 64)
    assert torch.count_nonzero(mha.in_proj_bias) == 0 and torch.count_nonzero(mha.out_proj.bias) == 0
    bound = math.sqrt(6 / (64 + 192))  # Xavier-uniform over the packed (3E, E) matrix, like torch
    assert mha.in_proj_weight.abs().max() <= bound
    assert "num_heads=8" in repr(mha)
    with pytest.raises(ValueError, match="must divide embed_dim"):
        attention.MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="batch first"):
        mha(torch.zeros(5, 64), torch.zeros(5, 64), torch.zeros(5, 64))


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "causal-and-padding"])
def test_block_matches_nn_transformerencoderlayer(norm_first, activation, masked):
    torch.manual_seed(2)
    reference = torch.nn.TransformerEncoderLayer(E, H, dim_feedforward=24, dropout=0.0, activation=activation,
                                                 batch_first=True, norm_first=norm_first, dtype=torch.float64)
    block = attention.TransformerBlock(E, H, dim_feedforward=24, activation=activation, norm_first=norm_first,
                                       dtype=torch.float64)
    block.load_state_dict(reference.state_dict())  # the same parameter names
    x = torch.from_numpy(_rand(N, L, E, seed=10))
    kwargs = {}
    if masked:
        padding = torch.zeros(N, L, dtype=torch.bool)
        padding[1, -1] = True
        kwargs = {"src_mask": torch.ones(L, L, dtype=torch.bool).triu(1), "src_key_padding_mask": padding}
    for mode in ("train", "eval"):  # dropout 0: the same function in both modes (eval may take torch's fast path)
        getattr(reference, mode)(); getattr(block, mode)()
        assert_allclose(block(x, **kwargs).detach().numpy(), reference(x, **kwargs).detach().numpy(), rtol=0,
                        atol=ATOL, err_msg=mode)


def test_block_returns_per_head_weights_and_checks_arguments():
    block = attention.TransformerBlock(16, 2)
    out, w = block(torch.randn(2, 5, 16), is_causal=True, need_weights=True)
    assert out.shape == (2, 5, 16) and w.shape == (2, 2, 5, 5)
    assert torch.count_nonzero(torch.triu(w, 1)) == 0
    assert block.linear1.out_features == 64  # 4 * d_model by default
    with pytest.raises(ValueError, match="activation must be"):
        attention.TransformerBlock(16, 2, activation="tanh")


def test_sinusoidal_encoding_by_hand_and_rotation():
    pe = sinusoidal_encoding(50, 6)
    assert_allclose(pe[0], [0, 1, 0, 1, 0, 1])
    assert_allclose(pe[1, :2], [math.sin(1), math.cos(1)])
    assert_allclose(pe[3, 2:4], [math.sin(3 * 10000 ** (-2 / 6)), math.cos(3 * 10000 ** (-2 / 6))])
    assert sinusoidal_encoding(4, 5).shape == (4, 5)  # odd width: the last cosine is dropped
    # PE[p + k] is a rotation of PE[p] by angle omega * k in every (sin, cos) pair, whatever p
    omega, k = 10000.0 ** (-np.arange(0, 6, 2) / 6), 7
    c, s = np.cos(omega * k), np.sin(omega * k)
    assert_allclose(pe[k:, 0::2], pe[:-k, 0::2] * c + pe[:-k, 1::2] * s, atol=1e-12)
    assert_allclose(pe[k:, 1::2], pe[:-k, 1::2] * c - pe[:-k, 0::2] * s, atol=1e-12)


def test_positional_encoding_modules():
    x = torch.zeros(2, 7, 8)
    sinus = attention.SinusoidalPositionalEncoding(8, max_len=10)
    assert_allclose(sinus(x)[1].numpy(), sinusoidal_encoding(7, 8), atol=1e-7)
    assert not list(sinus.parameters())  # nothing to learn
    learned = attention.LearnedPositionalEncoding(8, max_len=10)
    assert [tuple(p.shape) for p in learned.parameters()] == [(10, 8)]
    assert torch.equal(learned(x)[0], learned.embedding.weight[:7])
    for module in (sinus, learned):
        with pytest.raises(ValueError, match="exceeds max_len=10"):
            module(torch.zeros(1, 11, 8))


# ---------------------------------------------------------------------------- models
def _tokens(n=4, T=12, vocab=20, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, vocab, (n, T)))


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-norm", "post-norm"])
@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
def test_causal_model_leaks_nothing_from_the_future(norm_first, positional):
    torch.manual_seed(0)
    model = attention.TransformerModel(20, d_model=32, nhead=4, num_layers=2, max_len=16, causal=True,
                                       norm_first=norm_first, positional=positional).eval()
    idx = _tokens()
    for t in range(1, 12):
        altered = idx.clone()
        altered[:, t:] = (altered[:, t:] + 7) % 20  # change every token from t on
        with torch.no_grad():
            assert torch.equal(model(idx)[:, :t], model(altered)[:, :t]), f"position < {t} saw the future"
            assert not torch.equal(model(idx)[:, t:], model(altered)[:, t:])


def test_bidirectional_model_sees_the_future():
    torch.manual_seed(0)
    model = attention.TransformerModel(20, d_model=32, nhead=4, max_len=16).eval()
    idx = _tokens()
    altered = idx.clone()
    altered[:, -1] = (altered[:, -1] + 1) % 20
    with torch.no_grad():
        assert not torch.allclose(model(idx)[:, 0], model(altered)[:, 0])


def test_model_shapes_and_attention_maps():
    torch.manual_seed(0)
    model = attention.TransformerModel(20, d_model=32, nhead=4, num_layers=3, max_len=16, causal=True,
                                       out_features=5)
    logits, maps = model(_tokens(), need_weights=True)
    assert logits.shape == (4, 12, 5) and len(maps) == 3
    for w in maps:
        assert w.shape == (4, 4, 12, 12)
        assert torch.allclose(w.sum(-1), torch.ones(4, 4, 12))
        assert torch.count_nonzero(torch.triu(w, 1)) == 0
    assert isinstance(model.norm, torch.nn.LayerNorm)
    post = attention.TransformerModel(20, d_model=32, nhead=4, norm_first=False)
    assert isinstance(post.norm, torch.nn.Identity)  # a post-norm stack already ends normalised


def test_without_positions_the_model_is_permutation_equivariant():
    torch.manual_seed(0)
    model = attention.TransformerModel(20, d_model=32, nhead=4, positional=None, max_len=16).eval()
    idx = _tokens()
    perm = torch.randperm(12)
    with torch.no_grad():
        assert torch.allclose(model(idx)[:, perm], model(idx[:, perm]), atol=1e-5)
        positioned = attention.TransformerModel(20, d_model=32, nhead=4, max_len=16).eval()
        assert not torch.allclose(positioned(idx)[:, perm], positioned(idx[:, perm]), atol=1e-3)


def test_generate_is_reproducible_and_needs_a_causal_model():
    torch.manual_seed(0)
    model = attention.TransformerModel(20, d_model=32, nhead=4, max_len=8, causal=True)
    prompt = torch.tensor([[1, 2, 3]])
    a = model.generate(prompt, 20, generator=torch.Generator().manual_seed(0))
    b = model.generate(prompt, 20, generator=torch.Generator().manual_seed(0))
    assert a.shape == (1, 23) and torch.equal(a, b) and torch.equal(a[:, :3], prompt)
    assert a.max() < 20 and model.training  # the mode is restored
    cold = model.generate(prompt, 5, temperature=1e-4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():  # near zero temperature: the arg-max of each step
        assert cold[0, 3] == model.eval()(prompt)[0, -1].argmax()
    with pytest.raises(ValueError, match="temperature must be > 0"):
        model.generate(prompt, 5, temperature=0.0)
    with pytest.raises(ValueError, match="causal model"):
        attention.TransformerModel(20, d_model=32, nhead=4).generate(prompt, 5)


@pytest.mark.parametrize("kwargs, message", [
    ({"positional": "rotary"}, "positional must be"),
    ({"num_layers": 0}, "num_layers must be >= 1"),
    ({"nhead": 5}, "must divide embed_dim"),
], ids=["positional", "layers", "heads"])
def test_model_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        attention.TransformerModel(20, **{"d_model": 32, "nhead": 4, **kwargs})


def test_model_rejects_too_long_or_flat_input():
    model = attention.TransformerModel(20, d_model=32, nhead=4, max_len=8)
    with pytest.raises(ValueError, match="exceeds max_len=8"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(N, T\) integer tokens"):
        model(torch.zeros(9, dtype=torch.long))


# ---------------------------------------------------------------------------- losses and metrics
def test_sequence_losses_and_metrics_by_hand():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [2.0, 0.0]]])  # (N=2, T=2, C=2)
    target = torch.tensor([[0, 1], [0, 1]])
    assert token_accuracy(logits, target) == 0.75
    assert sequence_accuracy(logits, target) == 0.5
    expected = F.cross_entropy(logits.reshape(4, 2), target.reshape(4))
    assert torch.equal(sequence_cross_entropy(logits, target), expected)


def test_importing_attention_does_not_import_torch():
    code = "import sys, nblib.attention, nblib.text, nblib.explorers.attention; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_torch_names_are_listed_and_unknown_names_fail():
    assert {"MultiHeadAttention", "TransformerModel"} <= set(dir(attention))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        attention.Nope  # noqa: B018
