"""nblib.preprocessing: Standardizer against scikit-learn, augmentations against hand-worked cases and SciPy."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nblib.preprocessing import (Standardizer, augment, gaussian_noise, random_rotation, random_shift, rotate,
                                 shift)

sklearn_preprocessing = pytest.importorskip("sklearn.preprocessing")


def _digits(n=50):
    from nblib.data import load_digits

    return load_digits(seed=0).X_train[:n]


def _scaled_features():
    # Features on wildly different scales and offsets, as in the wine data.
    gen = np.random.default_rng(0)
    return gen.standard_normal((40, 5)) * np.array([1e-3, 1.0, 10.0, 300.0, 1e4]) + np.array([0, 5, -20, 750, 1e5])


def _wine():
    from sklearn.datasets import load_wine

    return load_wine().data


def _with_constant_column():
    X = np.random.default_rng(1).standard_normal((30, 4))
    X[:, 2] = 7.5  # a feature that never varies, like a blank corner pixel
    return X


# ------------------------------------------------------------------------- Standardizer
@pytest.mark.parametrize("make, rtol", [
    pytest.param(_scaled_features, 1e-12, id="mixed-scales-float64"),
    pytest.param(_wine, 1e-12, id="wine"),
    pytest.param(_with_constant_column, 1e-12, id="constant-column"),
    pytest.param(lambda: _digits(200).astype(np.float64), 1e-12, id="digits-constant-pixels"),
])
def test_standardizer_matches_sklearn_standard_scaler(make, rtol):
    X = make()
    ours = Standardizer().fit(X)
    ref = sklearn_preprocessing.StandardScaler().fit(X)
    assert_allclose(ours.mean_, ref.mean_, rtol=rtol)
    assert_allclose(ours.var_, ref.var_, rtol=rtol, atol=1e-300)
    assert_allclose(ours.scale_, ref.scale_, rtol=rtol)
    X_new = X[::-1] * 1.1 + 0.3  # other data, transformed with the training statistics
    assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=rtol, atol=1e-12)
    assert_allclose(ours.inverse_transform(ours.transform(X_new)), X_new, rtol=1e-12, atol=1e-9)


def test_standardised_training_data_has_zero_mean_unit_variance():
    Z = Standardizer().fit_transform(_scaled_features())
    assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12)


def test_hand_worked_standardisation_uses_training_statistics():
    # Training column 0: mean 1, population std 1; column 1 is constant (5): divisor 1.
    s = Standardizer().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    assert_array_equal(s.mean_, [1.0, 5.0])
    assert_array_equal(s.scale_, [1.0, 1.0])
    assert_array_equal(s.constant_, [False, True])
    assert_array_equal(s.transform(np.array([[1.0, 5.0], [3.0, 6.0]])), [[0.0, 0.0], [2.0, 1.0]])


def test_constant_feature_maps_to_zero_without_nan():
    X = _with_constant_column()
    Z = Standardizer().fit_transform(X)
    assert np.isfinite(Z).all()
    assert_array_equal(Z[:, 2], 0.0)


def test_digits_have_constant_pixels_and_stay_finite():
    X = _digits(300)
    s = Standardizer().fit(X)
    assert s.constant_.sum() >= 1, "the digits have blank pixels; this test needs one"
    Z = s.transform(X)
    assert np.isfinite(Z).all() and (Z[:, s.constant_] == 0).all()


def test_standardizer_keeps_float32():
    X = _digits(20)
    assert X.dtype == np.float32
    s = Standardizer().fit(X)
    assert s.transform(X).dtype == np.float32 and s.inverse_transform(s.transform(X)).dtype == np.float32
    assert_allclose(s.transform(X), sklearn_preprocessing.StandardScaler().fit(X).transform(X), rtol=1e-5, atol=1e-5)


def test_standardizer_integer_input_gives_floats():
    Z = Standardizer().fit_transform(np.array([[1, 2], [3, 4]]))
    assert Z.dtype == np.float64
    assert_array_equal(Z, [[-1.0, -1.0], [1.0, 1.0]])


@pytest.mark.parametrize("call, error, match", [
    pytest.param(lambda: Standardizer().transform(np.ones((2, 2))), RuntimeError, "not fitted", id="not-fitted"),
    pytest.param(lambda: Standardizer().fit(np.ones((3, 2))).transform(np.ones((3, 4))), ValueError,
                 "4 features", id="wrong-width"),
    pytest.param(lambda: Standardizer().fit(np.ones(3)), ValueError, "2-D", id="one-dimensional"),
    pytest.param(lambda: Standardizer().fit(np.empty((0, 3))), ValueError, "no rows", id="empty"),
    pytest.param(lambda: Standardizer().fit(np.array([[1.0, np.nan]])), ValueError, "NaN", id="nan"),
    pytest.param(lambda: Standardizer().fit("abc"), TypeError, "X", id="string"),
])
def test_standardizer_rejects_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_standardizer_repr():
    assert repr(Standardizer()) == "Standardizer(not fitted)"
    assert repr(Standardizer().fit(_with_constant_column())) == "Standardizer(4 features, 1 constant)"


# ------------------------------------------------------------------------- image shapes
AUGMENTATIONS = [
    pytest.param(lambda X: gaussian_noise(X, 0.1, rng=0), id="noise"),
    pytest.param(lambda X: shift(X, 1, -1), id="shift"),
    pytest.param(lambda X: random_shift(X, 1, rng=0), id="random-shift"),
    pytest.param(lambda X: rotate(X, 12.0), id="rotate"),
    pytest.param(lambda X: random_rotation(X, 15.0, rng=0), id="random-rotation"),
    pytest.param(lambda X: augment(X, noise_std=0.05, rng=0), id="augment"),
]


@pytest.mark.parametrize("apply", AUGMENTATIONS)
@pytest.mark.parametrize("shape", [pytest.param((6, 64), id="flat"), pytest.param((6, 8, 8), id="square")])
def test_augmentations_keep_shape_and_dtype(apply, shape):
    X = _digits(6).reshape(shape)
    out = apply(X)
    assert out.shape == shape and out.dtype == np.float32
    assert np.isfinite(out).all()


@pytest.mark.parametrize("apply", AUGMENTATIONS)
@pytest.mark.parametrize("bad_shape", [pytest.param((6, 63), id="63-pixels"), pytest.param((8, 8), id="one-image"),
                                       pytest.param((2, 8, 8, 1), id="four-d"), pytest.param((2, 7, 9), id="7x9")])
def test_augmentations_reject_other_shapes(apply, bad_shape):
    with pytest.raises(ValueError, match=r"8x8 images, shaped \(N, 64\) or \(N, 8, 8\)"):
        apply(np.zeros(bad_shape))


def test_flat_and_square_inputs_agree():
    X = _digits(5)
    assert_array_equal(rotate(X, 20).reshape(-1, 8, 8), rotate(X.reshape(-1, 8, 8), 20))
    assert_array_equal(shift(X, -1, 2).reshape(-1, 8, 8), shift(X.reshape(-1, 8, 8), -1, 2))


# ------------------------------------------------------------------------- noise
@pytest.mark.parametrize("std", [0.01, 0.1, 0.5])
def test_noise_has_the_requested_std_and_zero_mean(std):
    X = np.zeros((2000, 64))
    noise = gaussian_noise(X, std, rng=0)
    # 128,000 draws: the sample std is within about 0.2% of sigma; allow 1%.
    assert noise.std() == pytest.approx(std, rel=0.01)
    assert abs(noise.mean()) < 5 * std / np.sqrt(noise.size)


def test_noise_is_reproducible_zero_std_is_identity_and_clip_clips():
    X = _digits(10)
    assert_array_equal(gaussian_noise(X, 0.2, rng=3), gaussian_noise(X, 0.2, rng=3))
    assert_array_equal(gaussian_noise(X, 0.0, rng=3), X)
    clipped = gaussian_noise(X, 0.5, rng=3, clip=(0, 1))
    assert clipped.min() >= 0 and clipped.max() <= 1


@pytest.mark.parametrize("kwargs, error", [
    pytest.param(dict(std=-0.1), ValueError, id="negative-std"),
    pytest.param(dict(std=0.1, clip=(1, 0)), ValueError, id="inverted-clip"),
    pytest.param(dict(std=0.1, rng="seed"), TypeError, id="bad-rng"),
])
def test_noise_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        gaussian_noise(np.zeros((2, 64)), **kwargs)


# ------------------------------------------------------------------------- shifts
def test_shift_moves_a_single_pixel_by_hand():
    img = np.zeros((1, 8, 8))
    img[0, 2, 3] = 1.0
    assert_array_equal(np.argwhere(shift(img, dx=1, dy=-2)[0]), [[0, 4]])  # right 1, up 2
    assert_array_equal(np.argwhere(shift(img, dx=-3, dy=5)[0]), [[7, 0]])


def test_shift_preserves_mass_when_nothing_falls_off():
    gen = np.random.default_rng(0)
    images = np.zeros((50, 8, 8))
    images[:, 1:7, 1:7] = gen.random((50, 6, 6))  # a blank one-pixel border
    dx, dy = gen.integers(-1, 2, 50), gen.integers(-1, 2, 50)
    moved = shift(images, dx, dy)
    assert_allclose(moved.sum(axis=(1, 2)), images.sum(axis=(1, 2)), rtol=1e-12)
    assert_array_equal(shift(moved, -dx, -dy), images)  # and it can be undone exactly


def test_shift_matches_np_roll_on_a_padded_image_and_loses_what_falls_off():
    img = np.arange(64, dtype=float).reshape(1, 8, 8)
    rolled = np.roll(img, (1, 2), axis=(1, 2))
    rolled[:, :1, :] = 0  # np.roll wraps around; shift fills the uncovered border with zeros
    rolled[:, :, :2] = 0
    assert_array_equal(shift(img, dx=2, dy=1), rolled)
    assert shift(img, 2, 1).sum() < img.sum()
    assert_array_equal(shift(img, 8, 0), 0.0)


def test_shift_rejects_fractional_pixels_and_wrong_lengths():
    with pytest.raises(ValueError, match="whole numbers"):
        shift(np.zeros((2, 64)), 0.5, 0)
    with pytest.raises(ValueError, match="one value per image"):
        shift(np.zeros((2, 64)), [1, 0, 1], 0)


def test_random_shift_stays_within_range():
    img = np.zeros((200, 8, 8))
    img[:, 3, 3] = 1.0
    moved = random_shift(img, max_shift=2, rng=0)
    rows, cols = np.nonzero(moved)[1:]
    assert len(rows) == 200  # a pixel at (3, 3) moved by at most 2 never leaves the image
    assert set(rows - 3) == set(cols - 3) == {-2, -1, 0, 1, 2}
    assert_array_equal(random_shift(img, max_shift=0, rng=0), img)


# ------------------------------------------------------------------------- rotations
@pytest.mark.parametrize("degrees, k", [pytest.param(90, 1, id="90"), pytest.param(180, 2, id="180"),
                                        pytest.param(270, 3, id="270"), pytest.param(-90, -1, id="minus-90"),
                                        pytest.param(0, 0, id="0"), pytest.param(360, 0, id="360")])
def test_quarter_turns_equal_np_rot90_exactly(degrees, k):
    X = _digits(10).reshape(-1, 8, 8)
    assert_array_equal(rotate(X, degrees), np.rot90(X, k, axes=(1, 2)))


@pytest.mark.parametrize("degrees", [-40.0, -7.5, 3.0, 15.0, 33.3, 135.0])
def test_rotation_matches_scipy_bilinear(degrees):
    ndimage = pytest.importorskip("scipy.ndimage")
    X = _digits(4).reshape(-1, 8, 8).astype(np.float64)
    expected = np.stack([ndimage.rotate(x, degrees, reshape=False, order=1, mode="grid-constant", cval=0.0)
                         for x in X])
    assert_allclose(rotate(X, degrees), expected, atol=1e-12)


def test_rotation_hand_worked_corner_pixel():
    # The corner pixel (0, 0) sits at (-3.5, -3.5) from the centre; turning the image 45 degrees
    # counter-clockwise carries it to the left edge's midline, at distance 3.5 * sqrt(2) = 4.95: outside.
    img = np.zeros((1, 8, 8))
    img[0, 0, 0] = 1.0
    assert rotate(img, 45).sum() == pytest.approx(0.0, abs=1e-12)
    # A centred 2x2 block is unchanged by any quarter turn and keeps its mass under small turns.
    block = np.zeros((1, 8, 8))
    block[0, 3:5, 3:5] = 1.0
    assert_array_equal(rotate(block, 90), block)
    assert rotate(block, 10).sum() == pytest.approx(4.0, rel=0.05)


def test_rotation_per_image_angles():
    X = _digits(3).reshape(-1, 8, 8)
    out = rotate(X, [0.0, 90.0, -90.0])
    assert_array_equal(out[0], X[0])
    assert_array_equal(out[1], np.rot90(X[1]))
    assert_array_equal(out[2], np.rot90(X[2], -1))


def test_random_rotation_bounds_and_reproducibility():
    X = _digits(8)
    assert_array_equal(random_rotation(X, 0.0, rng=1), X)
    assert_array_equal(random_rotation(X, 10.0, rng=1), random_rotation(X, 10.0, rng=1))
    with pytest.raises(ValueError, match="max_degrees"):
        random_rotation(X, 200.0)


# ------------------------------------------------------------------------- augment
def test_augment_is_reproducible_clipped_and_copies():
    X = _digits(30)
    a = augment(X, max_shift=1, max_degrees=10, noise_std=0.1, rng=5)
    assert_array_equal(a, augment(X, max_shift=1, max_degrees=10, noise_std=0.1, rng=5))
    assert a.min() >= 0 and a.max() <= 1
    assert not np.array_equal(a, X)
    off = augment(X, max_shift=0, max_degrees=0, noise_std=0.0, rng=5)
    assert_array_equal(off, X)
    assert not np.shares_memory(off, X)
