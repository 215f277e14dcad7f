"""The digit-pair scenes and the probabilistic sum rule (nblib.hybrid) against brute force and numpy.convolve."""

import numpy as np
import pytest

from nblib.hybrid import ALL_PAIRS, SUM_MATRIX, digit_pairs, split_combinations, sum_probabilities


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images / 16.0, d.target


def test_split_keeps_every_digit_on_both_sides_and_partitions_the_pairs():
    for seed in range(5):
        seen, unseen = split_combinations(30, rng=seed)
        assert len(unseen) == 30 and len(seen) == 70
        assert set(seen) | set(unseen) == set(ALL_PAIRS) and not set(seen) & set(unseen)
        assert {a for a, _ in seen} == set(range(10)) == {b for _, b in seen}
    assert split_combinations(20, rng=0) == split_combinations(20, rng=0)


def test_scenes_put_the_right_digits_side_by_side(digits):
    images, labels = digits
    X, left, right = digit_pairs(images, labels, 200, pairs=[(3, 4), (7, 1)], rng=0)
    assert X.shape == (200, 8, 16) and X.dtype == np.float32
    assert set(zip(left.tolist(), right.tolist())) == {(3, 4), (7, 1)}
    # every half is one of the images of its digit
    for x, a, b in zip(X[:20], left[:20], right[:20]):
        assert np.any(np.all(np.isclose(images[labels == a], x[:, :8]), axis=(1, 2)))
        assert np.any(np.all(np.isclose(images[labels == b], x[:, 8:]), axis=(1, 2)))
    X2, _, _ = digit_pairs(images.reshape(-1, 64), labels, 5, rng=1)  # flattened images work too
    assert X2.shape == (5, 8, 16)


def test_sum_matrix_maps_each_pair_to_its_sum():
    assert SUM_MATRIX.shape == (100, 19) and (SUM_MATRIX.sum(1) == 1).all()
    assert SUM_MATRIX.sum(0).tolist() == [min(s, 18 - s) + 1 for s in range(19)]  # 1, 2, ..., 10, ..., 1 ways


def test_sum_probabilities_equals_the_convolution_of_the_two_distributions():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(10), 6), rng.dirichlet(np.ones(10), 6)
    out = sum_probabilities(p, q)
    for i in range(6):
        np.testing.assert_allclose(out[i], np.convolve(p[i], q[i]), atol=1e-15)
    np.testing.assert_allclose(out.sum(1), 1.0)
    certain = sum_probabilities(np.eye(10)[[3]], np.eye(10)[[4]])
    assert certain.argmax() == 7 and certain.max() == 1.0


def test_sum_probabilities_in_torch_matches_numpy_and_has_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    logits = torch.tensor(rng.normal(size=(4, 10)), requires_grad=True)
    p = torch.softmax(logits, 1)
    q = torch.softmax(torch.tensor(rng.normal(size=(4, 10))), 1)
    out = sum_probabilities(p, q)
    np.testing.assert_allclose(out.detach().numpy(), sum_probabilities(p.detach().numpy(), q.numpy()), atol=1e-12)
    torch.log(out[:, 9]).sum().backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


@pytest.mark.parametrize("call, match", [
    (lambda im, lab: split_combinations(90), "n_unseen"),
    (lambda im, lab: digit_pairs(im[:, :4], lab, 3), "images"),
    (lambda im, lab: digit_pairs(im, lab[:10], 3), "labels"),
    (lambda im, lab: digit_pairs(im, lab, 0), "n"),
    (lambda im, lab: digit_pairs(im, lab, 3, pairs=[(3, 12)]), "pairs"),
    (lambda im, lab: digit_pairs(im[lab < 5], lab[lab < 5], 3, pairs=[(3, 7)]), "digit"),
    (lambda im, lab: sum_probabilities(np.ones((2, 9)), np.ones((2, 9))), "p_left"),
])
def test_bad_inputs_name_the_argument(digits, call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(*digits)
