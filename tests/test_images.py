"""Procedural shapes and the sample photograph."""

import numpy as np
import pytest

from nblib.images import SHAPES, load_photo, shapes, translate


def _centre_of_mass(images):
    """Row and column of each image's brightness centroid, in pixels."""
    _, _, h, w = images.shape
    mass = images[:, 0].sum(axis=(1, 2))
    rows = (images[:, 0].sum(axis=2) * np.arange(h)).sum(axis=1) / mass
    cols = (images[:, 0].sum(axis=1) * np.arange(w)).sum(axis=1) / mass
    return rows, cols


def test_shapes_have_torch_layout_balanced_labels_and_range():
    X, y = shapes(101, rng=0)
    assert X.shape == (101, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    counts = np.bincount(y, minlength=len(SHAPES))
    assert counts.max() - counts.min() <= 1


def test_shapes_are_deterministic_given_a_seed():
    a, ya = shapes(20, rng=3)
    b, yb = shapes(20, rng=3)
    c, _ = shapes(20, rng=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)


def test_each_class_is_its_shape():
    # Noise-free, centred-ish and large: compare the filled fraction of the bounding box with the
    # area of the ideal shape over its box (square 1, disc pi/4, triangle 1/2, cross about 0.55).
    X, y = shapes(400, noise=0.0, scale=(0.35, 0.35), rng=1)
    fill = {}
    for k, name in enumerate(SHAPES):
        mask = X[y == k, 0] > 0.3
        box = [m[np.ix_(m.any(1), m.any(0))] for m in mask]
        fill[name] = float(np.mean([b.mean() for b in box]))
    assert fill["square"] > 0.95
    assert abs(fill["disc"] - np.pi / 4) < 0.05
    assert abs(fill["triangle"] - 0.5) < 0.07
    assert 0.45 < fill["cross"] < 0.65


def test_position_ranges_move_the_shapes():
    left, _ = shapes(200, cols=(0.0, 0.2), noise=0.0, rng=2)
    right, _ = shapes(200, cols=(0.8, 1.0), noise=0.0, rng=2)
    top, _ = shapes(200, rows=(0.0, 0.0), noise=0.0, rng=2)
    _, c_left = _centre_of_mass(left)
    _, c_right = _centre_of_mass(right)
    r_top, _ = _centre_of_mass(top)
    assert c_left.max() < 14 < c_right.min()  # the image is 28 wide: its halves do not mix
    assert r_top.max() < 11  # centres at the top of the admissible range: radius at most 0.32 * 28 = 9


def test_rotation_changes_triangles():
    upright, y = shapes(40, noise=0.0, classes=("triangle",), rng=5)
    turned, _ = shapes(40, noise=0.0, classes=("triangle",), rotate=True, rng=5)
    assert set(y) == {0}
    assert not np.allclose(upright, turned)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    pytest.param(dict(n=0), ValueError, "n must be >= 1", id="n-zero"),
    pytest.param(dict(n=4, cols=(0.5, 0.2)), ValueError, "low <= high", id="cols-reversed"),
    pytest.param(dict(n=4, rows=(0.0, 1.5)), ValueError, r"rows\[1\] must lie in \[0.0, 1.0\]", id="rows-range"),
    pytest.param(dict(n=4, rows=0.5), TypeError, "rows must be a pair", id="rows-scalar"),
    pytest.param(dict(n=4, scale=(0.2, 0.6)), ValueError, "scale must lie in", id="scale-too-big"),
    pytest.param(dict(n=4, classes=("star",)), ValueError, "unknown shape 'star'", id="unknown-class"),
    pytest.param(dict(n=4, noise=-0.1), ValueError, "noise must be >= 0", id="noise-negative"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        shapes(**kwargs)


def test_photo_is_grayscale_in_unit_range():
    gray = load_photo()
    colour = load_photo(gray=False, dtype=np.float32)
    assert gray.shape == (600, 512) and colour.shape == (600, 512, 3) and colour.dtype == np.float32
    assert 0.0 <= gray.min() and gray.max() <= 1.0 and gray.std() > 0.1
    np.testing.assert_allclose(gray, colour.astype(float) @ [0.299, 0.587, 0.114], atol=1e-6)


@pytest.mark.parametrize(("dx", "dy"), [(0, 0), (3, 0), (-2, 1), (0, -5), (30, 0)],
                         ids=["none", "right", "left-down", "up", "off-image"])
def test_translate_moves_pixels_and_fills_zeros(dx, dy):
    X = np.random.default_rng(0).random((2, 1, 8, 10))
    moved = translate(X, dx=dx, dy=dy)
    for r in range(8):
        for c in range(10):
            r0, c0 = r - dy, c - dx
            expected = X[..., r0, c0] if (0 <= r0 < 8 and 0 <= c0 < 10) else 0.0
            np.testing.assert_array_equal(moved[..., r, c], expected)


def test_translate_rejects_fractional_shifts():
    with pytest.raises(TypeError, match="dx must be an integer"):
        translate(np.zeros((4, 4)), dx=0.5)
