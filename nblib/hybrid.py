r"""A toy scene for neuro-symbolic reasoning: two handwritten digits side by side, labelled with their sum.

:func:`digit_pairs` builds the scenes from 8x8 digit images; :func:`split_combinations`
holds some ordered digit pairs out of training, so that a model can be tested on
combinations it has never seen. :func:`sum_probabilities` is the symbolic part done
with probabilities: if two independent readers give :math:`p(a)` and :math:`q(b)`, then

.. math::
    P(a + b = s) = \sum_{a=0}^{9} p(a)\, q(s - a), \qquad s = 0, \dots, 18,

a discrete convolution. It works on NumPy arrays and on torch tensors, so a digit reader
can be trained through the sum alone (the idea behind DeepProbLog, Manhaeve et al., 2018).
"""

from __future__ import annotations

import numpy as np

from . import _checks
from . import rng as _rng

__all__ = ["ALL_PAIRS", "SUM_MATRIX", "split_combinations", "digit_pairs", "sum_probabilities"]

ALL_PAIRS = tuple((a, b) for a in range(10) for b in range(10))

# SUM_MATRIX[10 * a + b, s] = 1 when a + b = s: it maps the 100 joint outcomes to the 19 sums
SUM_MATRIX = np.zeros((100, 19))
for _a, _b in ALL_PAIRS:
    SUM_MATRIX[10 * _a + _b, _a + _b] = 1.0


def split_combinations(n_unseen: int = 20, rng=None):
    """Hold ``n_unseen`` of the 100 ordered digit pairs out of training.

    The held-out pairs are drawn at random, redrawn until every digit still appears on both
    sides (left and right) in the seen pairs, so that each digit can be learned in each place.

    Returns:
        ``(seen, unseen)``: two sorted lists of ``(left, right)`` tuples.
    """
    n_unseen = _checks.integer(n_unseen, "n_unseen", minimum=0)
    if n_unseen > 80:
        raise ValueError(f"n_unseen must be at most 80 (so that every digit can stay on both sides), got {n_unseen}")
    gen = _rng.resolve(rng)
    for _ in range(1000):
        pick = set(gen.choice(100, n_unseen, replace=False).tolist())
        seen = [p for i, p in enumerate(ALL_PAIRS) if i not in pick]
        if {a for a, _ in seen} == set(range(10)) and {b for _, b in seen} == set(range(10)):
            return seen, [p for i, p in enumerate(ALL_PAIRS) if i in pick]
    raise RuntimeError("could not find a split that keeps every digit on both sides")


def digit_pairs(images, labels, n: int, pairs=None, rng=None):
    r"""``n`` scenes of two digits side by side, each with a digit pair drawn uniformly from ``pairs``.

    For each scene a pair :math:`(a, b)` is drawn, then a random image of digit :math:`a`
    (left) and one of :math:`b` (right) from ``images``.

    Args:
        images: digit images (M, 8, 8) or flattened (M, 64).
        labels: their digits (M,), every digit of ``pairs`` present.
        n: number of scenes.
        pairs: allowed ``(left, right)`` digit pairs (default all 100).
        rng: Generator or seed.

    Returns:
        ``(X, left, right)``: scenes (n, 8, 16) float32 and the two digits (n,) int64; the
        sum is ``left + right``.

    Example:
        >>> X, a, b = digit_pairs(images, labels, 5, pairs=[(3, 4)])  # five scenes showing "3 4"
    """
    images = _checks.as_array(images, "images")
    if images.ndim == 2 and images.shape[1] == 64:
        images = images.reshape(-1, 8, 8)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"images must have shape (M, 8, 8) or (M, 64), got {images.shape}")
    labels = _checks.as_labels(labels, "labels", n=len(images), n_classes=10)
    n = _checks.integer(n, "n", minimum=1)
    pairs = list(ALL_PAIRS if pairs is None else pairs)
    if not pairs or any(len(p) != 2 or not all(0 <= int(d) <= 9 for d in p) for p in pairs):
        raise ValueError("pairs must be a non-empty list of (left, right) digits in 0..9")
    pool = {d: np.flatnonzero(labels == d) for d in range(10)}
    missing = sorted({int(d) for p in pairs for d in p if len(pool[int(d)]) == 0})
    if missing:
        raise ValueError(f"labels has no image of digit(s) {missing} needed by pairs")
    gen = _rng.resolve(rng)
    chosen = np.asarray(pairs, dtype=np.int64)[gen.integers(len(pairs), size=n)]  # (n, 2)
    left, right = chosen[:, 0], chosen[:, 1]
    li = np.array([gen.choice(pool[d]) for d in left.tolist()])
    ri = np.array([gen.choice(pool[d]) for d in right.tolist()])
    X = np.concatenate([images[li], images[ri]], axis=2).astype(np.float32)  # (n, 8, 16)
    return X, left, right


def sum_probabilities(p_left, p_right):
    r"""The distribution of :math:`a + b` for independent digits with probabilities ``p_left`` and ``p_right``.

    Shape: (B, 10), (B, 10) -> (B, 19). Accepts NumPy arrays or torch tensors (and returns
    the same kind, differentiable in torch).
    """
    if type(p_left).__module__.startswith("torch"):
        import torch

        for value, name in ((p_left, "p_left"), (p_right, "p_right")):
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"p_left and p_right must both be torch tensors, {name} is {type(value).__name__}")
            if not value.is_floating_point():
                raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
            if value.dim() != 2:
                raise ValueError(f"{name} must be 2-D, got shape {tuple(value.shape)}")
        if p_left.shape[1] != 10 or p_right.shape != p_left.shape:
            raise ValueError(f"p_left and p_right must both have shape (B, 10), got {tuple(p_left.shape)} and "
                             f"{tuple(p_right.shape)}")
        if p_left.dtype != p_right.dtype:
            raise TypeError(f"p_left and p_right must share a dtype, got {p_left.dtype} and {p_right.dtype}")
        joint = p_left[:, :, None] * p_right[:, None, :]  # (B, 10, 10)
        M = torch.as_tensor(SUM_MATRIX, dtype=joint.dtype, device=joint.device)
        return joint.reshape(len(joint), 100) @ M  # (B, 19)
    p_left = _checks.as_array(p_left, "p_left", ndim=2)
    p_right = _checks.as_array(p_right, "p_right", ndim=2)
    if p_left.shape[1] != 10 or p_right.shape != p_left.shape:
        raise ValueError(f"p_left and p_right must both have shape (B, 10), got {p_left.shape} and {p_right.shape}")
    joint = p_left[:, :, None] * p_right[:, None, :]  # (B, 10, 10)
    return joint.reshape(len(joint), 100) @ SUM_MATRIX  # (B, 19)
