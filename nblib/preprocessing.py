"""Preparing inputs: standardisation, and augmentation of 8x8 digit images.

:class:`Standardizer` rescales every feature to zero mean and unit variance using
statistics of the training data only, like scikit-learn's ``StandardScaler``.

The augmentation functions make new, plausible training images from old ones:
additive Gaussian noise, integer shifts with zero padding, and small rotations with
bilinear interpolation. Each accepts a batch of images either flat, ``(N, 64)``, or
square, ``(N, 8, 8)``, and returns the same shape and dtype it was given. The random
versions take an ``rng`` (a seed or a ``numpy.random.Generator``), so that an
augmented batch can be reproduced.

Example:
    >>> from nblib.data import load_digits
    >>> digits = load_digits()
    >>> X_aug = augment(digits.X_train, max_shift=1, max_degrees=10, noise_std=0.05, rng=0)
    >>> X_aug.shape == digits.X_train.shape
    True
"""

from __future__ import annotations

import numpy as np

from . import _checks
from . import rng as _rng

IMAGE_SIDE = 8  # scikit-learn's digits are 8x8 pixels


# ------------------------------------------------------------------ standardisation
class Standardizer:
    r"""Standardise features with the training mean and standard deviation.

    .. math::
        z_{ij} = \frac{x_{ij} - \mu_j}{s_j},\qquad
        \mu_j = \frac{1}{N}\sum_i x_{ij},\qquad
        s_j = \sqrt{\frac{1}{N}\sum_i (x_{ij} - \mu_j)^2}

    (the population standard deviation, ``ddof=0``, as scikit-learn's ``StandardScaler``).
    A feature that is constant in the training data (``max == min``, such as the
    always-blank corner pixels of the digits) gets :math:`s_j = 1`: it maps to zero
    instead of dividing by zero, again as ``StandardScaler`` does.

    Attributes (after :meth:`fit`):
        mean_: per-feature mean :math:`\mu`, shape ``(D,)``.
        scale_: per-feature divisor :math:`s` (1 for constant features), shape ``(D,)``.
        var_: per-feature variance, shape ``(D,)``.
        constant_: boolean mask of the features that were constant, shape ``(D,)``.

    Shape:
        ``X`` is ``(N, D)``; every method returns ``(N, D)`` in ``X``'s float dtype.

    Example:
        >>> s = Standardizer().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
        >>> s.transform(np.array([[1.0, 5.0], [3.0, 5.0]]))
        array([[0., 0.],
               [2., 0.]])
    """

    def __init__(self):
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.var_: np.ndarray | None = None
        self.constant_: np.ndarray | None = None

    @property
    def n_features_in_(self) -> int:
        self._check_fitted()
        return len(self.mean_)

    def fit(self, X) -> Standardizer:
        """Compute the per-feature mean and standard deviation of ``X`` ``(N, D)``; returns ``self``."""
        X = _checks.as_array(X, "X", ndim=2)
        if len(X) == 0:
            raise ValueError("Standardizer.fit: X has no rows")
        X64 = X.astype(np.float64)
        self.mean_ = X64.mean(axis=0)
        self.var_ = X64.var(axis=0)
        self.constant_ = X64.max(axis=0) == X64.min(axis=0)
        self.scale_ = np.where(self.constant_, 1.0, np.sqrt(self.var_))
        return self

    def transform(self, X) -> np.ndarray:
        """``(X - mean_) / scale_``, with the statistics learnt by :meth:`fit`."""
        X = self._checked_input(X, "transform")
        return ((X - self.mean_) / self.scale_).astype(_float_dtype(X), copy=False)

    def fit_transform(self, X) -> np.ndarray:
        """:meth:`fit` on ``X``, then :meth:`transform` it."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        """Undo :meth:`transform`: ``Z * scale_ + mean_``."""
        Z = self._checked_input(Z, "inverse_transform")
        return (Z * self.scale_ + self.mean_).astype(_float_dtype(Z), copy=False)

    def _check_fitted(self) -> None:
        if self.mean_ is None:
            raise RuntimeError("this Standardizer is not fitted yet: call fit(X_train) first")

    def _checked_input(self, X, method: str) -> np.ndarray:
        self._check_fitted()
        X = _checks.as_array(X, "X", ndim=2)
        if X.shape[1] != len(self.mean_):
            raise ValueError(f"Standardizer.{method}: X has {X.shape[1]} features, but the Standardizer was "
                             f"fitted on {len(self.mean_)}")
        return X

    def __repr__(self) -> str:
        if self.mean_ is None:
            return "Standardizer(not fitted)"
        return f"Standardizer({len(self.mean_)} features, {int(self.constant_.sum())} constant)"


def _float_dtype(X: np.ndarray) -> np.dtype:
    return X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)


# ------------------------------------------------------------------ image batches
def _as_images(X, name: str = "X") -> tuple[np.ndarray, tuple[int, ...]]:
    """A float batch of 8x8 images ``(N, 8, 8)`` and the shape to give results back in."""
    X = _checks.as_array(X, name)
    side = IMAGE_SIDE
    if X.ndim == 2 and X.shape[1] == side * side:
        images = X.reshape(len(X), side, side)
    elif X.ndim == 3 and X.shape[1:] == (side, side):
        images = X
    else:
        raise ValueError(f"{name} must be a batch of {side}x{side} images, shaped (N, {side * side}) or "
                         f"(N, {side}, {side}); got shape {X.shape}")
    return images.astype(_float_dtype(X), copy=False), X.shape


def _per_image(value, name: str, n: int) -> np.ndarray:
    """A scalar or one value per image, as an array of shape ``(n,)``."""
    arr = _checks.as_array(value, name, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or hold one value per image ({n}), got shape {arr.shape}")
    return arr


# ------------------------------------------------------------------ augmentation
def gaussian_noise(X, std: float, rng=None, clip: tuple[float, float] | None = None) -> np.ndarray:
    r"""Add independent Gaussian noise :math:`\varepsilon \sim \mathcal{N}(0, \sigma^2)` to every pixel.

    Args:
        X: images ``(N, 64)`` or ``(N, 8, 8)``.
        std: the noise standard deviation :math:`\sigma \ge 0`, in pixel units
            (nblib's digits have pixels in ``[0, 1]``).
        rng: generator or seed; nblib's default generator when omitted.
        clip: optional ``(low, high)`` range to clip the result to, e.g. ``(0, 1)``
            (clipping changes the noise's distribution near the limits).

    Returns:
        the noisy images, in ``X``'s shape and float dtype.
    """
    images, shape = _as_images(X)
    std = _checks.positive(std, "std", allow_zero=True)
    gen = _rng.resolve(rng)
    noisy = images + std * gen.standard_normal(images.shape)
    if clip is not None:
        low, high = (_checks.as_real(v, "clip") for v in clip)
        if low > high:
            raise ValueError(f"clip must be (low, high) with low <= high, got {clip}")
        noisy = np.clip(noisy, low, high)
    return noisy.astype(images.dtype, copy=False).reshape(shape)


def shift(X, dx, dy) -> np.ndarray:
    """Move images by whole pixels, filling the uncovered border with zeros.

    Pixels pushed past the edge are lost, so the total intensity ("pixel mass") is
    kept exactly when nothing falls off.

    Args:
        X: images ``(N, 64)`` or ``(N, 8, 8)``.
        dx: columns to move right (negative: left); an integer or one per image.
        dy: rows to move down (negative: up); an integer or one per image.

    Example:
        >>> img = np.zeros((1, 8, 8)); img[0, 2, 3] = 1.0
        >>> np.argwhere(shift(img, dx=1, dy=-2)[0])
        array([[0, 4]])
    """
    images, shape = _as_images(X)
    n, side = len(images), IMAGE_SIDE
    dx, dy = _per_image(dx, "dx", n), _per_image(dy, "dy", n)
    if np.any(dx != np.round(dx)) or np.any(dy != np.round(dy)):
        raise ValueError("dx and dy must be whole numbers of pixels; use rotate() for sub-pixel motion")
    dx, dy = dx.astype(np.int64), dy.astype(np.int64)
    # out[n, r, c] = in[n, r - dy, c - dx], zero where that source pixel lies outside the image
    rows = np.arange(side)[None, :, None] - dy[:, None, None]  # (N, 8, 1)
    cols = np.arange(side)[None, None, :] - dx[:, None, None]  # (N, 1, 8)
    inside = (rows >= 0) & (rows < side) & (cols >= 0) & (cols < side)  # (N, 8, 8)
    source = images[np.arange(n)[:, None, None], np.clip(rows, 0, side - 1), np.clip(cols, 0, side - 1)]
    return np.where(inside, source, 0).astype(images.dtype, copy=False).reshape(shape)


def random_shift(X, max_shift: int = 1, rng=None) -> np.ndarray:
    """Shift each image by integers drawn uniformly from ``[-max_shift, max_shift]`` in x and in y."""
    images, shape = _as_images(X)
    max_shift = _checks.integer(max_shift, "max_shift", minimum=0)
    gen = _rng.resolve(rng)
    dx = gen.integers(-max_shift, max_shift + 1, len(images))
    dy = gen.integers(-max_shift, max_shift + 1, len(images))
    return shift(images, dx, dy).reshape(shape)


def rotate(X, degrees) -> np.ndarray:
    r"""Rotate images counter-clockwise (as displayed, row 0 at the top) about their centre.

    Each output pixel at row :math:`r`, column :math:`c` takes the value of the input at
    the point that the rotation carries onto it. With coordinates measured from the
    centre, :math:`x = c - 3.5` and :math:`y = r - 3.5`, that point is

    .. math::
        c_\text{in} = 3.5 + x\cos\theta - y\sin\theta,\qquad
        r_\text{in} = 3.5 + x\sin\theta + y\cos\theta,

    and its value is interpolated bilinearly from the four surrounding pixels, with
    zeros outside the image. A multiple of 90 degrees maps pixel centres onto pixel
    centres, so it reproduces ``np.rot90`` exactly.

    Args:
        X: images ``(N, 64)`` or ``(N, 8, 8)``.
        degrees: the angle :math:`\theta` in degrees; a scalar or one per image.

    Returns:
        the rotated images, in ``X``'s shape and float dtype.
    """
    images, shape = _as_images(X)
    n, side = len(images), IMAGE_SIDE
    theta = np.deg2rad(_per_image(degrees, "degrees", n))[:, None, None]  # (N, 1, 1)
    centre = (side - 1) / 2
    y, x = np.meshgrid(np.arange(side) - centre, np.arange(side) - centre, indexing="ij")  # (8, 8) each
    cos, sin = np.cos(theta), np.sin(theta)
    col_in = centre + x * cos - y * sin  # (N, 8, 8)
    row_in = centre + x * sin + y * cos
    # Round coordinates that are integers up to round-off (cos 90 degrees is 6e-17, not 0),
    # so that exact grid rotations stay exact.
    col_in = np.where(np.abs(col_in - np.round(col_in)) < 1e-9, np.round(col_in), col_in)
    row_in = np.where(np.abs(row_in - np.round(row_in)) < 1e-9, np.round(row_in), row_in)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))  # (N, 10, 10): a zero border for outside samples
    r0, c0 = np.floor(row_in), np.floor(col_in)
    fr, fc = row_in - r0, col_in - c0  # fractional parts: the bilinear weights
    batch = np.arange(n)[:, None, None]

    def at(r, c):  # padded-array value at integer input coordinates; anything outside is border (zero)
        return padded[batch, np.clip(r, -1, side).astype(np.int64) + 1, np.clip(c, -1, side).astype(np.int64) + 1]

    out = ((1 - fr) * (1 - fc) * at(r0, c0) + (1 - fr) * fc * at(r0, c0 + 1)
           + fr * (1 - fc) * at(r0 + 1, c0) + fr * fc * at(r0 + 1, c0 + 1))
    return out.astype(images.dtype, copy=False).reshape(shape)


def random_rotation(X, max_degrees: float = 10.0, rng=None) -> np.ndarray:
    """Rotate each image by an angle drawn uniformly from ``[-max_degrees, max_degrees]``."""
    images, shape = _as_images(X)
    max_degrees = _checks.in_range(max_degrees, "max_degrees", 0.0, 180.0)
    gen = _rng.resolve(rng)
    return rotate(images, gen.uniform(-max_degrees, max_degrees, len(images))).reshape(shape)


def augment(X, *, max_shift: int = 1, max_degrees: float = 10.0, noise_std: float = 0.0, rng=None,
            clip: tuple[float, float] | None = (0.0, 1.0)) -> np.ndarray:
    """A fresh random variant of every image: rotation, then shift, then noise.

    Args:
        X: images ``(N, 64)`` or ``(N, 8, 8)``.
        max_shift: largest shift in pixels along each axis (0 turns shifts off).
        max_degrees: largest rotation angle (0 turns rotations off).
        noise_std: standard deviation of the added pixel noise (0 turns it off).
        rng: generator or seed; nblib's default generator when omitted.
        clip: range to clip the result to (pixels of nblib's digits lie in ``[0, 1]``);
            None leaves it unclipped.
    """
    images, shape = _as_images(X)
    gen = _rng.resolve(rng)
    out = images.copy()
    if max_degrees:
        out = random_rotation(out, max_degrees, rng=gen)
    if max_shift:
        out = random_shift(out, max_shift, rng=gen)
    if noise_std:
        out = gaussian_noise(out, noise_std, rng=gen)
    if clip is not None:
        out = np.clip(out, *clip)
    return out.astype(images.dtype, copy=False).reshape(shape)
