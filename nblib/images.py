"""Offline images: procedural shapes for classification, and a real photograph for filters.

:func:`shapes` draws filled squares, discs, triangles and crosses at random positions and
sizes on a dark square canvas (28x28 by default), with antialiased edges. The range of
positions is a parameter, so a training set can hold shapes in one region of the image and
a test set shapes in another: the shift that separates a network that detects features
wherever they are from one that has memorised where they were. :func:`translate` moves
images by whole pixels, for measuring how a network's feature maps follow a shift.

:func:`load_photo` returns matplotlib's sample photograph of Grace Hopper as a grayscale
array, the test image for hand-made convolution filters. It ships with matplotlib, so
nothing is downloaded.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks
from . import rng as _rng

#: The shape classes, in label order: label ``k`` is ``SHAPES[k]``.
SHAPES = ("square", "disc", "triangle", "cross")

_SUPERSAMPLE = 4  # sub-pixel samples per axis: edges get 17 grey levels
_CHUNK = 256  # images rendered at once (bounds the memory of the sub-pixel grids)


def _inside(kind: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether points ``(u, v)`` (shape units, ``v`` pointing up) lie in the shape.

    Each shape fits in the unit disc and the four cover similar areas (2.2 to 2.9 square
    units), so size alone does not give the class away.
    """
    if kind == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.85
    if kind == "disc":
        return u * u + v * v <= 0.95**2
    if kind == "triangle":  # equilateral, pointing up, circumradius 1.2 shifted down to fit the disc
        s = v + 0.2
        return (s >= -0.6) & (s <= 1.2 - math.sqrt(3) * np.abs(u))
    if kind == "cross":
        return ((np.abs(u) <= 0.33) & (np.abs(v) <= 1.0)) | ((np.abs(v) <= 0.33) & (np.abs(u) <= 1.0))
    raise ValueError(f"unknown shape {kind!r}; shapes are {SHAPES}")


def _range(value, name: str) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high), got {value!r}")
    low = _checks.in_range(value[0], f"{name}[0]", 0.0, 1.0)
    high = _checks.in_range(value[1], f"{name}[1]", 0.0, 1.0)
    if low > high:
        raise ValueError(f"{name} must have low <= high, got {value!r}")
    return low, high


def shapes(n: int, *, size: int = 28, rows=(0.0, 1.0), cols=(0.0, 1.0), scale=(0.2, 0.32),
           rotate: bool = False, noise: float = 0.05, classes=SHAPES, dtype=np.float32,
           rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Images of filled shapes at random positions and sizes, with their class labels.

    Every image holds one shape, whose radius (half-width, in units of the image side) is
    drawn uniformly from ``scale``. Its centre is drawn uniformly from the positions where
    the whole shape fits, restricted by ``rows`` and ``cols``: ``cols=(0.0, 0.3)`` keeps
    the centre in the leftmost 30% of the positions where the shape fits, ``cols=(0.7, 1.0)``
    in the rightmost 30%. Brightness varies between 0.6 and 1 on a black background, then
    Gaussian noise of standard deviation ``noise`` is added and the result clipped to [0, 1].

    Args:
        n: number of images; classes are balanced (they differ by at most one image).
        size: image side in pixels.
        rows, cols: fractions ``(low, high)`` in [0, 1] of the admissible centre positions.
        scale: ``(low, high)`` radius as a fraction of the image side, at most 0.5.
        rotate: rotate each shape by a random angle (otherwise triangles point up).
        noise: standard deviation of the additive pixel noise.
        classes: the shape names to draw; label ``k`` is ``classes[k]``.
        dtype: image dtype.
        rng: generator or seed.

    Returns:
        ``(X, y)``: images of shape ``(n, 1, size, size)`` (torch's NCHW) and int64 labels ``(n,)``.

    Example:
        >>> X, y = shapes(8, cols=(0.0, 0.5), rng=0)  # shapes in the left part of the image
        >>> X.shape, sorted(y.tolist())
        ((8, 1, 28, 28), [0, 0, 1, 1, 2, 2, 3, 3])
    """
    n = _checks.integer(n, "n", minimum=1)
    size = _checks.integer(size, "size", minimum=8)
    rows, cols = _range(rows, "rows"), _range(cols, "cols")
    scale = _range(scale, "scale")
    if scale[1] > 0.5 or scale[0] * size < 1.5:
        raise ValueError(f"scale must lie in [{1.5 / size:.3f}, 0.5] (a shape at least 3 pixels wide that fits "
                         f"in the image), got {scale}")
    noise = _checks.positive(noise, "noise", allow_zero=True)
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise TypeError(f"classes must be a sequence of shape names such as ('square', 'disc'), got {classes!r}")
    classes = tuple(classes)
    if not classes:
        raise ValueError("classes is empty")
    for kind in classes:
        if kind not in SHAPES:
            raise ValueError(f"unknown shape {kind!r}; shapes are {SHAPES}")
    gen = _rng.resolve(rng)

    labels = gen.permutation(np.arange(n) % len(classes)).astype(np.int64)
    radius = gen.uniform(*scale, n) * size  # pixels
    free = size - 2 * radius  # the span of centres at which the shape fits
    cy = radius + free * gen.uniform(*rows, n)
    cx = radius + free * gen.uniform(*cols, n)
    angle = gen.uniform(0, 2 * np.pi, n) if rotate else np.zeros(n)
    brightness = gen.uniform(0.6, 1.0, n)

    grid = (np.arange(size * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE  # sub-pixel centres, in pixels
    images = np.empty((n, size, size))
    for start in range(0, n, _CHUNK):
        idx = np.arange(start, min(start + _CHUNK, n))
        dy = grid[None, :, None] - cy[idx, None, None]  # (B, S, 1), rows grow downwards
        dx = grid[None, None, :] - cx[idx, None, None]  # (B, 1, S)
        r = radius[idx, None, None]
        cos, sin = np.cos(angle[idx])[:, None, None], np.sin(angle[idx])[:, None, None]
        u = (cos * dx - sin * dy) / r  # (B, S, S), rotated into the shape's frame
        v = (-sin * dx - cos * dy) / r  # v points up
        mask = np.zeros(u.shape, dtype=bool)
        for k, kind in enumerate(classes):
            chosen = labels[idx] == k
            if chosen.any():
                mask[chosen] = _inside(kind, u[chosen], v[chosen])
        coverage = mask.reshape(len(idx), size, _SUPERSAMPLE, size, _SUPERSAMPLE).mean(axis=(2, 4))
        images[idx] = coverage * brightness[idx, None, None]
    if noise:
        images += noise * gen.standard_normal(images.shape)
    return np.clip(images, 0.0, 1.0).astype(dtype)[:, None], labels


def load_photo(gray: bool = True, dtype=np.float64) -> np.ndarray:
    """Matplotlib's sample photograph of Grace Hopper, scaled to [0, 1].

    Args:
        gray: return luminance, ``0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601), of shape
            ``(H, W)``; otherwise the colour image, ``(H, W, 3)``.
        dtype: array dtype.
    """
    import matplotlib.image as mpimg
    from matplotlib.cbook import get_sample_data

    with get_sample_data("grace_hopper.jpg") as f:
        image = mpimg.imread(f, format="jpg")
    image = np.asarray(image, dtype=np.float64)
    if image.max() > 1.0:
        image = image / 255.0
    image = image[..., :3]
    if gray:
        image = image @ np.array([0.299, 0.587, 0.114])
    return np.clip(image, 0.0, 1.0).astype(dtype)


def translate(images, dx: int = 0, dy: int = 0) -> np.ndarray:
    """Move images ``(..., H, W)`` by whole pixels, ``dx`` to the right and ``dy`` down, filling with zeros.

    Pixels pushed past the border are lost. Works on any leading dimensions, e.g. ``(N, C, H, W)``.

    Example:
        >>> translate(np.arange(4.0).reshape(1, 4), dx=1)
        array([[0., 0., 1., 2.]])
    """
    images = _checks.as_array(images, "images")
    if images.ndim < 2:
        raise ValueError(f"images must have at least 2 dimensions (H, W), got shape {images.shape}")
    dx, dy = _checks.integer(dx, "dx"), _checks.integer(dy, "dy")
    h, w = images.shape[-2:]
    out = np.zeros_like(images)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    rows_out, rows_in = slice(max(dy, 0), h + min(dy, 0)), slice(max(-dy, 0), h - max(dy, 0))
    cols_out, cols_in = slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w - max(dx, 0))
    out[..., rows_out, cols_out] = images[..., rows_in, cols_in]
    return out
