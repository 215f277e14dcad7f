"""One place for randomness, so that a chapter seeds everything in one call.

nblib's functions take an optional ``rng`` (a ``numpy.random.Generator``). When it
is omitted they draw from :func:`default_rng`, which :func:`seed_everything`
resets. Nothing is seeded at import time.
"""

from __future__ import annotations

import random
import sys

import numpy as np

_generator = np.random.default_rng()


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy (legacy and nblib's generator) and, if imported, torch.

    torch is seeded only when the chapter has already imported it, so that calling
    this function never triggers a heavy import.
    """
    from ._checks import integer

    global _generator
    seed = integer(seed, "seed", minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    _generator = np.random.default_rng(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return _generator


def default_rng() -> np.random.Generator:
    """The generator that nblib uses when a function is given no ``rng``."""
    return _generator


def resolve(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Accept a Generator, an integer seed, or None (nblib's default generator)."""
    if rng is None:
        return _generator
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative seed, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")
