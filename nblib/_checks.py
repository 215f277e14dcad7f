"""Argument checks shared by nblib's public functions.

Each check names the offending argument and what it received, so a reader who
passes the wrong thing learns what to fix without reading a traceback.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def as_array(x, name: str, *, ndim: int | None = None, dtype=None, finite: bool = True,
             allow_complex: bool = False) -> np.ndarray:
    """Convert ``x`` to a numeric ndarray (real unless ``allow_complex``), checking its dimensions and values."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be numeric array-like, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numeric array-like: {err}") from None
    if arr.dtype.kind not in ("biufc" if allow_complex else "biuf"):
        raise TypeError(f"{name} must hold {'' if allow_complex else 'real '}numbers, got dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if finite and arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def as_labels(y, name: str, *, n: int | None = None, n_classes: int | None = None) -> np.ndarray:
    """Check integer class labels of shape ``(n,)``, each in ``[0, n_classes)``."""
    arr = np.asarray(y)
    if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} labels but the inputs have {n} rows")
    if n_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name} must lie in [0, {n_classes}), got values in [{arr.min()}, {arr.max()}]")
    return arr


def as_real(value, name: str) -> float:
    """A finite real scalar."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def positive(value, name: str, *, allow_zero: bool = False) -> float:
    value = as_real(value, name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def in_range(value, name: str, low: float, high: float, *, high_open: bool = False) -> float:
    value = as_real(value, name)
    if value < low or value > high or (high_open and value == high):
        closing = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in [{low}, {high}{closing}, got {value}")
    return value


def axis(value, ndim: int, name: str = "axis") -> int:
    """An axis of an array with ``ndim`` dimensions, negative values counting from the end."""
    value = integer(value, name)
    if not -ndim <= value < ndim:
        raise ValueError(f"{name} {value} is out of range for an array with {ndim} dimension(s)")
    return value


def integer(value, name: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value
