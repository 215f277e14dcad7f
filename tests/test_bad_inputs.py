"""The bad-input guarantee: nblib's public functions fail with a clear, named error.

Hypothesis drives each public callable with arguments that mix valid values with bad
ones: wrong shapes and dimensions, empty arrays, integer, boolean, complex, object and
string dtypes, NaN and inf entries, negative, zero and huge hyperparameters, and the
wrong types altogether. For every call the property is

* it succeeds, and then its outputs are finite where the function promises finite
  outputs; or
* it raises ``ValueError`` or ``TypeError`` whose message names one of its arguments.

Anything else fails the test: an ``IndexError`` or ``ZeroDivisionError`` escaping from
the inside, numpy's ``LinAlgError``, or a ``RuntimeWarning`` (an overflow, a division
by zero), which is turned into an error here.

The table ``CASES`` has one line per callable. To cover a new function, add a line::

    case("module.function", module.function, arg=strategy, other=strategy),

where each strategy draws that keyword argument (see the helpers below: ``counts``,
``reals``, ``probs``, ``seeds``, ``arrays``, ``labels`` ...). Write a small ``lambda``
when the callable needs set-up (a layer to call, an optimiser to step); its
parameter names are the argument names that error messages may mention.

How many inputs were tried, and how they ended, is written to
``.artifacts/bad_inputs.json`` when the module finishes.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nblib import (activations, adversarial, attention, attribution, autograd, compression, conv, data, distributed,
                   efficient, envs, generative, gradcheck, graphs, hybrid, images, init, learning_rules, lr_finder,
                   monitor, nas, neuron, nn, optim, plot, preprocessing, quantum, receptive_field, regularisation,
                   report, rnn, rng, schedules, sequences, spiking, surfaces, text, torch_regularisation, torch_train,
                   train, widgets)
from nblib.autograd import Tensor

ARTIFACT = Path(__file__).resolve().parents[1] / ".artifacts" / "bad_inputs.json"

# One profile for the whole table: the same examples on every run and machine, no
# example database on disk, and no per-example deadline (CI machines are uneven).
settings.register_profile("nblib-bad-inputs", derandomize=True, database=None, deadline=None,
                          max_examples=50, print_blob=False)
PROFILE = settings.get_profile("nblib-bad-inputs")

NAN, INF = float("nan"), float("inf")

# ---------------------------------------------------------------- strategies
# Wrong types that no numeric argument should accept quietly.
WRONG_TYPES = [None, "3", ["a", "b"], 1 + 2j, object()]
BAD_INTS = [0, -1, -(2**31), 2.5, True, "2", None, NAN, 1 + 2j, ["a"]]
BAD_REALS = [-1.0, -1e-12, 0.0, 1e-300, 1e30, 1e300, NAN, INF, -INF, True, "0.1", None, 1 + 1j, [0.1]]
BAD_PROBS = [-0.1, 1.0, 1.5, NAN, INF, -INF, "0.5", None, True, 1 + 0j]


def counts(*good: int, bad=()) -> st.SearchStrategy:
    """A count or size: the ``good`` values, or zero, negative, fractional, boolean and non-numeric ones."""
    return st.one_of(st.sampled_from(good), st.sampled_from(BAD_INTS + list(bad)))


def reals(*good: float, bad=()) -> st.SearchStrategy:
    """A real hyperparameter: ``good`` values, or negative, zero, tiny, huge, NaN, inf and non-numeric ones."""
    return st.one_of(st.sampled_from(good), st.sampled_from(BAD_REALS + list(bad)))


def probs(*good: float) -> st.SearchStrategy:
    """A probability-like value (dropout p, momentum, a fraction)."""
    return st.one_of(st.sampled_from(good), st.sampled_from(BAD_PROBS))


def choices(*good, bad=("", "nonsense", None, 3)) -> st.SearchStrategy:
    """A string option."""
    return st.one_of(st.sampled_from(good), st.sampled_from(list(bad)))


def flags() -> st.SearchStrategy:
    return st.sampled_from([True, False, None, "yes", 2])


def seeds() -> st.SearchStrategy:
    """An ``rng`` or ``seed``: valid ints and Generators, or negative, fractional and non-numeric ones."""
    good = st.one_of(st.sampled_from([0, 1, 2**32 - 1]), st.builds(np.random.default_rng, st.just(0)))
    return st.one_of(good, st.sampled_from([-1, 1.5, "seed", True, [1, 2], NAN]))


GENERIC_SHAPES = [(), (0,), (3,), (0, 4), (2, 3), (2, 3, 4), (1, 1, 1, 1, 1)]
GOOD_DTYPES = [np.float64, np.float32]
BAD_DTYPES = [np.int64, np.bool_, np.complex128, object, "<U1"]
POISONS = [None, None, NAN, INF, -INF]


@st.composite
def arrays(draw, *shapes, low: float = -2.0, high: float = 2.0, bad: bool = True, integer: bool = False,
           wrong_types: bool = True):
    """An array of one of the ``shapes`` (or a wrong one), perhaps of a bad dtype, perhaps holding NaN or inf.

    ``integer`` draws integer arrays in ``[low, high)`` (token ids, labels).
    """
    if bad and wrong_types and draw(st.integers(0, 11)) == 0:
        return draw(st.sampled_from(WRONG_TYPES + [[[1.0, 2.0], [3.0]]]))
    shape_pool = list(shapes) + (GENERIC_SHAPES if bad else [])
    shape = draw(st.sampled_from(shape_pool))
    seed = draw(st.integers(0, 2**16))
    gen = np.random.default_rng(seed)
    if integer:
        arr = gen.integers(int(low), int(high), size=shape)
    else:
        arr = gen.uniform(low, high, size=shape)
    if bad:
        dtype = draw(st.sampled_from(GOOD_DTYPES + ([np.int64] if integer else []) + BAD_DTYPES))
        poison = draw(st.sampled_from(POISONS)) if not integer else None
    else:
        dtype, poison = (np.int64 if integer else np.float64), None
    if poison is not None and arr.size and np.dtype(dtype).kind in "fcOU":  # integers cannot hold NaN or inf
        arr = arr.astype(np.float64)
        arr.flat[draw(st.integers(0, arr.size - 1))] = poison
    if dtype == "<U1":
        return arr.astype(str)
    if dtype == np.complex128:
        return arr.astype(np.complex128) + 1j
    return arr.astype(dtype)


def labels(*lengths: int, n_classes: int, bad: bool = True) -> st.SearchStrategy:
    """Class labels: valid ones of the given lengths, or out of range, fractional, 2-D or textual ones."""
    good = st.sampled_from(lengths).flatmap(
        lambda n: st.integers(0, 2**16).map(lambda s: np.random.default_rng(s).integers(0, n_classes, n)))
    if not bad:
        return good
    wrong = st.sampled_from([np.array([-1] * lengths[0]), np.full(lengths[0], n_classes), np.full(lengths[0], 0.5),
                             np.zeros((lengths[0], 1), dtype=int), np.array(["a"] * lengths[0]), np.zeros(0, int),
                             np.zeros(lengths[0] + 1, int), None, "0"])
    return st.one_of(good, wrong)


def small_params(n: int = 2) -> list[Tensor]:
    return [nn.Parameter(np.linspace(-1.0, 1.0, 3 * (i + 1))) for i in range(n)]


def stepped(optimizer) -> float:
    """Give every parameter a gradient and take two steps; returns the first parameter's first entry."""
    for _ in range(2):
        for p in optimizer.params:
            p.grad = np.ones_like(p.data)
        optimizer.step()
    return optimizer.params[0].data


def _torch_model_and_optimizer(lr):
    """A small torch MLP (2 -> 4 -> 3) and an SGD optimiser over it."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))
    return model, torch.optim.SGD(model.parameters(), lr=lr)


def _torch_rnn():
    import torch

    torch.manual_seed(0)
    return torch.nn.RNN(3, 4, batch_first=True)


def _torch_fit(model, train, optimizer, lr=0.1, epochs=1, **kwargs):
    """torch_train.fit where ``model="mlp"`` and ``optimizer="sgd"`` stand for the small MLP and its SGD."""
    mlp, sgd = _torch_model_and_optimizer(lr)
    history = torch_train.fit(mlp if model == "mlp" else model, train, epochs=epochs, progress="none",
                              optimizer=sgd if optimizer == "sgd" else optimizer, device="cpu", **kwargs)
    return history["loss"]


class _TinyLoader:
    """One batch of (inputs, target) tensors, or of inputs alone when ``pairs`` is false; torch is imported lazily."""

    def __init__(self, pairs: bool = True):
        self.pairs = pairs

    def __iter__(self):
        import torch

        inputs, target = torch.ones(4, 2), torch.tensor([0, 1, 2, 0])
        return iter([(inputs, target) if self.pairs else inputs])

    def __repr__(self) -> str:
        return f"_TinyLoader(pairs={self.pairs})"


def _closed(ax):
    import matplotlib.pyplot as plt

    plt.close("all")
    return ax


def _torch(x):
    """A numeric array as a torch tensor; anything else unchanged, for the callee to reject."""
    import torch

    return torch.as_tensor(x) if isinstance(x, np.ndarray) and x.dtype.kind in "biuf" else x


def _nonzero(a):
    """A divisor without zeros, so that a finite quotient is expected (x / 0 is inf by IEEE 754)."""
    if isinstance(a, np.ndarray) and a.dtype.kind in "biuf":
        return np.where(a == 0, 1, a).astype(a.dtype)
    return a


# ------------------------------------------------- helpers for the later chapters' modules
def _torch32(x):
    """A float array as a float32 tensor (the dtype of the small torch models here); others as ``_torch``."""
    import torch

    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return torch.as_tensor(x, dtype=torch.float32)
    return _torch(x)


def _torch_dtype(name):
    """``"float16"`` and the like as the torch dtype; anything else unchanged, for the callee to reject."""
    import torch

    return getattr(torch, name) if name in ("float16", "bfloat16", "float32", "int32") else name


def _batch_of(strategy, width: int):
    """Arrays from ``strategy`` whose rows have ``width`` features: a model of that width can take them.

    Wrong widths reach the torch model, whose own shape error is not the callee's to name.
    """
    return strategy.filter(lambda a: not isinstance(a, np.ndarray) or a.ndim < 2 or a.shape[1:] == (width,))


def _targets_of(batch: int, n_classes: int = 3) -> st.SearchStrategy:
    """An attribution target: None, a class index, a (batch,) label array, or wrong ones."""
    return st.one_of(st.none(), st.sampled_from([0, 2, n_classes, -1, 1.5, "0", True]),
                     labels(batch, n_classes=n_classes))


def _classifier():
    """A small torch classifier, 4 features -> 3 logits."""
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))


def _cross_entropy(output, target):
    import torch

    return torch.nn.functional.cross_entropy(output, target)


def _torch_optimizer(name):
    """``"sgd"``/``"adam"``: an optimiser over the small MLP, its gradients set to ones; anything else unchanged."""
    import torch

    if name not in ("sgd", "adam"):
        return name
    model, sgd = _torch_model_and_optimizer(0.1)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    return sgd if name == "sgd" else torch.optim.Adam(model.parameters(), lr=0.1)


def _train_amp(loader, optimizer, epochs, dtype, scaler):
    model, sgd = _torch_model_and_optimizer(0.1)
    loaders = {"tiny": _TinyLoader()}
    optimizer = sgd if optimizer == "sgd" else optimizer
    scaler = efficient.LossScaler(4.0) if scaler == "loss_scaler" else scaler
    return efficient.train_amp(model, loaders.get(loader, loader) if isinstance(loader, str) else loader,
                               optimizer, epochs=epochs, dtype=_torch_dtype(dtype), scaler=scaler)["loss"]


def _adversarial_training(loader, epochs, epsilon, mix):
    model, sgd = _torch_model_and_optimizer(0.1)
    return adversarial.adversarial_training(model, _TinyLoader() if loader == "tiny" else loader, epochs=epochs,
                                            optimizer=sgd, epsilon=epsilon, mix=mix)


def _ring(n: int) -> np.ndarray:
    """The adjacency matrix of a cycle of ``n`` nodes."""
    A = np.zeros((n, n))
    idx = np.arange(n)
    A[idx, (idx + 1) % n] = A[(idx + 1) % n, idx] = 1.0
    return A


def _masks(n: int) -> st.SearchStrategy:
    """A boolean mask of labelled nodes, or an empty, wrongly sized or non-boolean one."""
    return st.sampled_from([np.array([True, False] * (n // 2)), np.ones(n, bool), np.zeros(n, bool),
                            np.ones(n + 1, bool), np.arange(n), None, "mask", np.array([[True] * n, [False] * n])])


def _cliff_step(action):
    env = envs.CliffWalk()
    env.reset(seed=0)
    return env.step(action)


def _space(name):
    return nas.SearchSpace({"d": (1, 2, 3), "a": ("relu", "tanh")}) if name == "space" else name


def _score(config) -> float:
    return float(config[0]) + (config[1] == "tanh")


def _space_walk(choices, rng):
    space = nas.SearchSpace(choices)
    config = space.sample(rng)
    return space.size, space.mutate(config, rng)


def _pc_step(X, Y, lr, rule, n_steps, step):
    net = learning_rules.PCNetwork([3, 4, 2], rng=0)
    net.train_step(X, Y, lr, rule, n_steps, step)
    return net.parameters()


def _states() -> st.SearchStrategy:
    """Two-qubit states, batched or not, unnormalised, or of the wrong size or dtype."""
    return st.one_of(st.sampled_from([quantum.zero_state(2), quantum.zero_state(2, batch=3),
                                      np.full(4, 0.5 + 0.5j), np.zeros(4, complex)]),
                     arrays((4,), (3, 4), (2,), (3,), (2, 2, 4)))


def _quantum_f(name):
    if name == "cos":
        return lambda batch: np.cos(batch).sum(axis=tuple(range(1, batch.ndim)))
    if name == "wrong":
        return lambda batch: np.zeros(3)
    return name


def _torch_params():
    import torch

    torch.manual_seed(0)
    return [torch.randn(2, requires_grad=True)]


def _linear_forward(X):
    return X.sum(dim=1) * 0.5


def _tensors(*shapes, **kw) -> st.SearchStrategy:
    """Arrays as in ``arrays``, mostly turned into torch tensors (``_torch32``), sometimes left as NumPy."""
    return st.one_of(arrays(*shapes, **kw).map(_torch32), arrays(*shapes, **kw).map(_torch32), arrays(*shapes, **kw))


def _generator(name):
    """``"gen"`` as a seeded ``torch.Generator``; anything else unchanged, for the callee to reject."""
    import torch

    return torch.Generator().manual_seed(0) if name == "gen" else name


def _eps_model(name="eps"):
    """``"eps"``: a small untrained DDPM noise predictor (T=10, dim=2); anything else unchanged."""
    return generative.noise_predictor(10, dim=2, hidden=8, n_frequencies=2) if name == "eps" else name


def _disconnected(n: int) -> np.ndarray:
    """A cycle of ``n - 1`` nodes and one isolated node (the last)."""
    A = np.zeros((n, n))
    A[:-1, :-1] = _ring(n - 1)
    return A


def _graphs(n: int) -> st.SearchStrategy:
    """Adjacency matrices for label propagation: a ring, random weights, or a disconnected, empty or signed one."""
    return st.one_of(st.sampled_from([_ring(n), _disconnected(n), np.zeros((n, n)), -_ring(n)]),
                     arrays((n, n), (n - 1, n), low=0, high=1))


def _fit_full_batch(forward, params, X, targets, epochs, lr):
    """quantum.fit_full_batch of a linear score ``X @ w`` (``forward="linear"``, ``params="w"``)."""
    import torch

    w = torch.zeros(2, requires_grad=True)
    f = (lambda A: A.float() @ w) if forward == "linear" else forward
    return quantum.fit_full_batch(f, [w] if params == "w" else params, _torch(X), _torch(targets),
                                  epochs=epochs, lr=lr)


# --------------------------------------------------------------- the table
@dataclass
class Case:
    name: str
    fn: Callable[..., Any]
    strategies: dict[str, st.SearchStrategy]
    finite: bool = True
    examples: int | None = None
    names: tuple[str, ...] = ()
    slow: bool = False
    propagates: bool = False
    also: tuple[type, ...] = ()


def case(label: str, fn: Callable[..., Any], /, *, finite: bool = True, examples: int | None = None,
         names: tuple[str, ...] = (), slow: bool = False, propagates: bool = False, also: tuple[type, ...] = (),
         **strategies) -> Case:
    """One row of the table.

    Args:
        finite: a successful call must return only finite numbers.
        examples: how many inputs to try (the profile's ``max_examples`` by default).
        names: more words that stand for an argument in messages (``"data"`` for a Tensor's array).
        slow: suppress hypothesis's too-slow health check (torch set-up, training loops).
        propagates: elementwise arithmetic, which passes NaN and inf through as IEEE 754 says; only
            when every input array is finite must the result be finite and free of numpy warnings.
        also: further exception types that are this callable's documented contract (``IndexError``
            from indexing, which Python's sequence protocol relies on).
    """
    return Case(label, fn, strategies, finite, examples, names, slow, propagates, also)


def _tensor_fn(f, **fixed):
    return lambda x, **kw: f(Tensor(x), **fixed, **kw)


X2 = ((8, 2), (5, 2))  # shapes of a small 2-feature design matrix
IMG = ((3, 64), (2, 8, 8), (2, 1, 8, 8))  # batches of 8x8 images in the layouts preprocessing accepts

CASES = [
    # rng
    case("rng.seed_everything", rng.seed_everything, seed=seeds()),
    case("rng.resolve", rng.resolve, rng=seeds(), finite=False),
    # data
    case("data.blobs", data.blobs, n=counts(1, 7, 200), std=reals(0.0, 0.5), rng=seeds(),
         centers=arrays((2, 2), (3, 2), (1, 5))),
    case("data.moons", data.moons, n=counts(2, 9, 200), noise=reals(0.0, 0.1), rng=seeds()),
    case("data.xor", data.xor, n=counts(4, 9, 200), noise=reals(0.0, 0.15), rng=seeds()),
    case("data.spirals", data.spirals, n_per_class=counts(1, 20), n_classes=counts(2, 3, 5), noise=reals(0.0, 0.2),
         turns=reals(0.5, 1.0, 3.0), rng=seeds()),
    case("data.minibatches", lambda n, batch_size, shuffle, rng: list(data.minibatches(n, batch_size, shuffle, rng)),
         n=counts(0, 1, 10), batch_size=counts(1, 3, 10, 10**9), shuffle=flags(), rng=seeds()),
    case("data.one_hot", data.one_hot, y=labels(1, 4, n_classes=3), n_classes=counts(3, 10)),
    case("data.load_digits", data.load_digits, val_size=probs(0.0, 0.15, 0.5), test_size=probs(0.0, 0.15, 0.4),
         seed=seeds(), examples=12),
    # preprocessing
    case("preprocessing.Standardizer", lambda X, Z: preprocessing.Standardizer().fit(X).transform(Z),
         X=arrays(*X2), Z=arrays(*X2, (4, 3))),
    case("preprocessing.Standardizer.inverse", lambda X, Z: preprocessing.Standardizer().fit(X).inverse_transform(Z),
         X=arrays(*X2), Z=arrays(*X2, (4, 3))),
    case("preprocessing.gaussian_noise", preprocessing.gaussian_noise, X=arrays(*X2, *IMG), std=reals(0.0, 0.1),
         rng=seeds(), clip=st.sampled_from([None, (0.0, 1.0), (1.0, 0.0), (NAN, 1.0), "clip", (0.0,)])),
    case("preprocessing.shift", preprocessing.shift, X=arrays(*IMG, low=0, high=1),
         dx=st.sampled_from([0, 1, -2, 8, 100, 0.5, NAN, "1", None, np.array([1, 0, 2])]),
         dy=st.sampled_from([0, 1, -3, 1.0, INF, None])),
    case("preprocessing.rotate", preprocessing.rotate, X=arrays(*IMG, low=0, high=1),
         degrees=st.sampled_from([0, 10, -45.0, 360, 1e300, NAN, INF, "10", None, np.array([1.0, 2.0, 3.0])])),
    case("preprocessing.random_shift", preprocessing.random_shift, X=arrays(*IMG, low=0, high=1),
         max_shift=counts(0, 1, 3, 1000), rng=seeds()),
    case("preprocessing.random_rotation", preprocessing.random_rotation, X=arrays(*IMG, low=0, high=1),
         max_degrees=reals(0.0, 10.0, 180.0), rng=seeds()),
    case("preprocessing.augment", lambda X, max_shift, max_degrees, noise_std, rng: preprocessing.augment(
        X, max_shift=max_shift, max_degrees=max_degrees, noise_std=noise_std, rng=rng),
        X=arrays(*IMG, low=0, high=1), max_shift=counts(0, 1, 2), max_degrees=reals(0.0, 10.0),
        noise_std=reals(0.0, 0.1), rng=seeds()),
    # autograd
    case("autograd.Tensor", Tensor, data=arrays((3,), (2, 3)), requires_grad=flags(), propagates=True),
    case("autograd.Tensor.add", lambda x, y: Tensor(x) + Tensor(y), x=arrays((2, 3)), y=arrays((2, 3), (3,), (4,)),
         names=("data", "add"), propagates=True),
    case("autograd.Tensor.matmul", lambda x, y: Tensor(x) @ Tensor(y), x=arrays((2, 3), (3,)),
         y=arrays((3, 4), (3,), (4, 2)), names=("data", "matmul"), propagates=True),
    case("autograd.Tensor.div", lambda x, y: Tensor(x) / Tensor(y), x=arrays((2, 3)),
         y=arrays((2, 3), (3,), low=0.5, high=2.0).map(_nonzero),
         names=("data", "div", "truediv"), propagates=True),
    case("autograd.Tensor.reshape", lambda x, shape: Tensor(x).reshape(*shape), x=arrays((2, 3), (6,)),
         shape=st.sampled_from([(3, 2), (6,), (-1,), (4, 2), (-1, -1), (0,), ("a",), (2.5, 2)]),
         names=("data", "reshape", "shape"), propagates=True),
    case("autograd.Tensor.sum", lambda x, axis: Tensor(x).sum(axis=axis), x=arrays((2, 3)),
         axis=st.sampled_from([None, 0, 1, -1, 2, -3, 1.5, "0", (0, 1), (0, 0)]), names=("data", "sum"),
         propagates=True),
    case("autograd.Tensor.mean", lambda x, axis: Tensor(x).mean(axis=axis), x=arrays((2, 3), (0, 3)),
         axis=st.sampled_from([None, 0, 1, 2, "0"]), names=("data", "mean"), propagates=True),
    case("autograd.Tensor.getitem", lambda x, index: Tensor(x)[index], x=arrays((2, 3)),
         index=st.sampled_from([0, 1, -1, 5, (0, 1), (0, 5), slice(0, 2), "a", 1.5, None, np.array([0, 1])]),
         names=("data", "index", "getitem"), propagates=True, also=(IndexError,)),
    case("autograd.Tensor.transpose", lambda x, axes: Tensor(x).transpose(*axes), x=arrays((2, 3), (2, 3, 4)),
         axes=st.sampled_from([(), (1, 0), (0, 0), (2, 0, 1), (0, 1, 5), ("a", "b")]), names=("data", "transpose"),
         propagates=True),
    case("autograd.Tensor.pow", lambda x, exponent: Tensor(x) ** exponent, x=arrays((2, 3)),
         exponent=st.sampled_from([2, 0.5, -1, 3.0, NAN, "2", None]), propagates=True, names=("data", "pow")),
    case("autograd.Tensor.backward", lambda x, grad: (Tensor(x, requires_grad=True) * 2.0).sum().backward(),
         x=arrays((2, 3)), grad=st.none(), names=("data",), propagates=True),
    case("autograd.softmax", _tensor_fn(autograd.softmax), x=arrays((2, 3), (3,)),
         axis=st.sampled_from([-1, 0, 1, 2, "a", None]), names=("data",), propagates=True),
    case("autograd.log_softmax", _tensor_fn(autograd.log_softmax), x=arrays((2, 3), (3,)),
         axis=st.sampled_from([-1, 0, 3, 1.5]), names=("data",), propagates=True),
    case("autograd.cross_entropy", lambda logits, target, reduction: autograd.cross_entropy(
        Tensor(logits), target, reduction), logits=arrays((4, 3), (1, 3)), target=labels(4, 1, n_classes=3),
        reduction=choices("mean", "sum", "none"), names=("data",)),
    case("autograd.Tensor.activations", lambda x, op: getattr(Tensor(x), op)(),
         x=arrays((2, 3), low=-50, high=50), op=st.sampled_from(["relu", "tanh", "sigmoid", "exp"]),
         names=("data",), propagates=True),
    case("autograd.Tensor.log", lambda x: Tensor(x).log(), x=arrays((2, 3), low=0.1, high=50).map(_nonzero),
         names=("data",), propagates=True),
    # activations
    *[case(f"activations.{n}", getattr(activations, n), x=arrays((5,), (2, 3), low=-30, high=30), propagates=True)
      for n in ("relu", "relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "silu", "silu_grad")],
    case("activations.gelu", activations.gelu, x=arrays((5,), low=-30, high=30),
         approximate=choices("none", "tanh"), propagates=True),
    case("activations.gelu_grad", activations.gelu_grad, x=arrays((5,), low=-30, high=30),
         approximate=choices("none", "tanh"), propagates=True),
    case("activations.leaky_relu", activations.leaky_relu, x=arrays((5,)), negative_slope=reals(0.01, 0.2),
         propagates=True),
    case("activations.leaky_relu_grad", activations.leaky_relu_grad, x=arrays((5,)), negative_slope=reals(0.01),
         propagates=True),
    case("activations.softmax", activations.softmax, x=arrays((2, 3), (4,), low=-800, high=800),
         axis=st.sampled_from([-1, 0, 1, 2, "a"]), propagates=True),
    case("activations.softmax_jacobian", activations.softmax_jacobian, x=arrays((3,), (2, 3))),
    case("activations.apply", activations.apply, x=st.one_of(arrays((4,)), arrays((4,), (2, 2), bad=False).map(Tensor)),
         name=choices("relu", "tanh", "sigmoid", "gelu", "silu", "leaky_relu"), propagates=True),
    case("activations.get", activations.get, name=choices("relu", "tanh"), finite=False),
    # nn
    case("nn.Linear", lambda in_features, out_features, input: nn.Linear(in_features, out_features, rng=0)(input),
         in_features=counts(2, 3), out_features=counts(1, 4), input=arrays((5, 2), (5, 3), (2,)),
         names=("x", "data"), propagates=True),
    case("nn.Linear.dtype", lambda dtype: nn.Linear(2, 3, dtype=dtype, rng=0),
         dtype=st.sampled_from([np.float32, np.float64, np.int32, "float32", "banana", None, complex]), finite=False),
    case("nn.mlp", lambda sizes, input: nn.mlp(sizes, rng=0)(input),
         sizes=st.sampled_from([[2, 3], [2, 4, 3], [2], [], [2, 0, 3], [2, -1], [2, 2.5], "23", None, [2, 10**12]]),
         input=arrays((4, 2)), names=("x", "data", "in_features", "out_features")),
    case("nn.Dropout", lambda p, input: nn.Dropout(p, rng=0)(input), p=probs(0.0, 0.5, 0.9),
         input=arrays((4, 3)), names=("x", "data"), propagates=True),
    case("nn.LeakyReLU", lambda negative_slope, input: nn.LeakyReLU(negative_slope)(input),
         negative_slope=reals(0.01, 0.3), input=arrays((4, 3)), names=("x", "data"), propagates=True),
    case("nn.GELU", lambda approximate, input: nn.GELU(approximate)(input), approximate=choices("none", "tanh"),
         input=arrays((4, 3), low=-30, high=30), names=("x", "data"), propagates=True),
    *[case(f"nn.{n}", lambda input, n=n: getattr(nn, n)()(input), input=arrays((4, 3), low=-60, high=60),
           names=("x", "data"), propagates=True) for n in ("ReLU", "Sigmoid", "Tanh", "SiLU")],
    case("nn.Sequential", lambda layers: nn.Sequential(*layers),
         layers=st.sampled_from([[nn.ReLU()], [], [nn.ReLU(), "relu"], [None], [nn.ReLU, nn.Tanh()]]),
         finite=False, names=("layer",)),
    # init
    *[case(f"init.{n}", lambda tensor, rng, n=n: getattr(init, n)(tensor, rng=rng),
           tensor=arrays((3, 4), (2, 3, 3, 3), (5,), wrong_types=True), rng=seeds())
      for n in ("kaiming_normal_", "kaiming_uniform_", "xavier_normal_", "xavier_uniform_")],
    case("init.kaiming_normal_.args", lambda tensor, a, mode, nonlinearity: init.kaiming_normal_(
        tensor, a=a, mode=mode, nonlinearity=nonlinearity, rng=0), tensor=arrays((3, 4)), a=reals(0, 0.01),
        mode=choices("fan_in", "fan_out"), nonlinearity=choices("relu", "leaky_relu", "tanh", "linear")),
    case("init.xavier_uniform_.gain", lambda tensor, gain: init.xavier_uniform_(tensor, gain=gain, rng=0),
         tensor=arrays((3, 4)), gain=reals(1.0, 2.0)),
    case("init.normal_", lambda tensor, mean, std: init.normal_(tensor, mean, std, rng=0), tensor=arrays((3, 4)),
         mean=reals(0.0, 1.0), std=reals(0.01, 1.0)),
    case("init.uniform_", lambda tensor, a, b: init.uniform_(tensor, a, b, rng=0), tensor=arrays((3, 4)),
         a=reals(-1.0, 0.0), b=reals(1.0, 2.0)),
    case("init.constant_", init.constant_, tensor=arrays((3, 4)), val=reals(0.0, 1.0)),
    case("init.zeros_", init.zeros_, tensor=arrays((3, 4))),
    case("init.calculate_gain", init.calculate_gain, nonlinearity=choices("relu", "tanh", "leaky_relu", "selu"),
         param=st.one_of(st.none(), reals(0.01, 0.2))),
    case("init.calculate_fan_in_and_fan_out", init.calculate_fan_in_and_fan_out, tensor=arrays((3, 4), (2, 3, 3))),
    case("init.signal_propagation", init.signal_propagation,
         activation=choices("relu", "tanh", "sigmoid"), init=choices("he", "xavier"), depth=counts(1, 4),
         width=counts(4, 8), n_samples=counts(4, 8), rng=seeds(), finite=False),
    # optim
    case("optim.SGD", lambda lr, momentum, nesterov, weight_decay: stepped(optim.SGD(
        small_params(), lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)),
        lr=reals(0.01, 0.1), momentum=probs(0.0, 0.9), nesterov=flags(), weight_decay=reals(0.0, 1e-4),
        finite=False),
    case("optim.Adam", lambda lr, betas, eps, weight_decay, amsgrad: stepped(optim.Adam(
        small_params(), lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)),
        lr=reals(1e-3), betas=st.one_of(st.tuples(probs(0.9, 0.0), probs(0.999, 0.5)),
                                        st.sampled_from([(0.9,), 0.9, None, "betas", (0.9, 0.99, 0.9)])),
        eps=reals(1e-8), weight_decay=reals(0.0, 0.01), amsgrad=flags(), finite=False),
    case("optim.AdamW", lambda lr, betas, weight_decay: stepped(optim.AdamW(
        small_params(), lr=lr, betas=betas, weight_decay=weight_decay)), lr=reals(1e-3),
        betas=st.tuples(probs(0.9), probs(0.999)), weight_decay=reals(0.0, 0.01), finite=False),
    case("optim.RMSprop", lambda lr, alpha, eps, momentum, centered: stepped(optim.RMSprop(
        small_params(), lr=lr, alpha=alpha, eps=eps, momentum=momentum, centered=centered)),
        lr=reals(0.01), alpha=probs(0.99, 0.5), eps=reals(1e-8), momentum=probs(0.0, 0.9), centered=flags(),
        finite=False),
    case("optim.params", lambda params: optim.SGD(params, lr=0.1),
         params=st.sampled_from([[], [Tensor(1.0)], None, "w", [1.0], small_params(), iter(())]), finite=False),
    # schedules
    case("schedules.Constant", lambda lr, total_steps, step: schedules.Constant(lr, total_steps).lr_at(step),
         lr=reals(0.1), total_steps=counts(1, 10), step=counts(0, 5, 9, 10, bad=[100])),
    case("schedules.StepDecay", lambda lr, total_steps, step_size, gamma: schedules.StepDecay(
        lr, total_steps, step_size, gamma).lr_at(3), lr=reals(0.1), total_steps=counts(10), step_size=counts(1, 3),
        gamma=reals(0.1, 0.5)),
    case("schedules.WarmupCosine", lambda peak_lr, total_steps, warmup_steps, start_factor, min_lr:
         schedules.WarmupCosine(peak_lr, total_steps, warmup_steps, start_factor, min_lr).lr_at(4),
         peak_lr=reals(0.1), total_steps=counts(10, 100), warmup_steps=counts(0, 2, 5, bad=[10, 11]),
         start_factor=reals(0.1, 1.0), min_lr=reals(0.0, 0.01)),
    case("schedules.OneCycle", lambda max_lr, total_steps, pct_start, anneal_strategy, div_factor, final_div_factor:
         schedules.OneCycle(max_lr, total_steps, pct_start, anneal_strategy, div_factor, final_div_factor).lr_at(3),
         max_lr=reals(0.1), total_steps=counts(10, 100), pct_start=probs(0.3, 0.5),
         anneal_strategy=choices("cos", "linear"), div_factor=reals(25.0), final_div_factor=reals(1e4)),
    case("schedules.Scheduler", lambda optimizer, schedule: schedules.Scheduler(optimizer, schedule).step(),
         optimizer=st.sampled_from([optim.SGD(small_params(), lr=0.1), None, "sgd"]),
         schedule=st.sampled_from([schedules.Constant(0.1, 10), None, 0.1]), finite=False),
    # surfaces
    case("surfaces.get_surface", surfaces.get_surface, name=choices("rosenbrock", "saddle", "ravine", "himmelblau"),
         finite=False),
    case("surfaces.Surface.call", lambda name, point: surfaces.get_surface(name)(point),
         name=st.sampled_from(["rosenbrock", "saddle", "ravine", "himmelblau"]),
         point=arrays((2,), (5, 2), (2, 2, 2)), propagates=True),
    case("surfaces.Rosenbrock", lambda a, b: surfaces.Rosenbrock(a, b).minima, a=reals(1.0), b=reals(100.0)),
    case("surfaces.Ravine", lambda condition, angle: surfaces.Ravine(condition, angle)(np.zeros(2)),
         condition=reals(1.0, 25.0), angle=reals(0.0, 30.0, -45.0)),
    case("surfaces.descend", lambda steps, start, lr, escape: surfaces.descend(
        surfaces.get_surface("saddle"), lambda p: optim.SGD(p, lr=lr), steps, start, escape=escape).points,
        steps=counts(1, 5), start=st.one_of(st.none(), arrays((2,), bad=True)), lr=st.sampled_from([0.01, 0.1]),
        escape=st.sampled_from([None, 10.0, -1.0, NAN, "x"]), finite=False),
    # neuron
    case("neuron.Perceptron", lambda lr, max_epochs, X, y: neuron.Perceptron(lr, max_epochs).fit(X, y).predict(X),
         lr=reals(1.0), max_epochs=counts(1, 5), X=arrays(*X2), y=labels(8, 5, n_classes=2)),
    case("neuron.LogisticNeuron", lambda lr, epochs, X, y: neuron.LogisticNeuron(lr, epochs).fit(X, y)
         .predict_proba(X), lr=reals(0.5), epochs=counts(1, 5), X=arrays(*X2), y=labels(8, 5, n_classes=2)),
    case("neuron.sigmoid", neuron.sigmoid, z=arrays((4,), low=-800, high=800), propagates=True),
    # regularisation
    case("regularisation.EarlyStopping", lambda monitor, patience, min_delta, mode, score: regularisation.EarlyStopping(
        monitor, patience, min_delta, mode).step(score), monitor=choices("val_loss", "val_acc", "loss"),
        patience=counts(0, 1, 5), min_delta=reals(0.0, 0.01), mode=choices("auto", "min", "max"),
        score=reals(0.5, 1.0), finite=False),
    case("regularisation.l2_penalty", regularisation.l2_penalty,
         parameters=st.sampled_from([small_params(), [], None, "w", [1.0]]), weight_decay=reals(0.0, 1e-3)),
    # train
    case("train.fit", lambda X, y, epochs, batch_size, lr, l2: train.fit(
        nn.mlp([2, 3], rng=0), optim.SGD(nn.mlp([2, 3], rng=0).parameters(), lr=lr), X, y, epochs=epochs,
        batch_size=batch_size, rng=0, l2=l2)["loss"],
        X=arrays(*X2), y=labels(8, 5, n_classes=3), epochs=counts(1, 2), batch_size=counts(4, 10**6),
        lr=st.just(0.1), l2=reals(0.0, 1e-3), examples=20, names=("in_features",)),
    case("train.fit.val", lambda X_val, y_val: train.fit(
        nn.mlp([2, 3], rng=0), optim.SGD(nn.mlp([2, 3], rng=0).parameters(), lr=0.1), np.ones((4, 2)),
        np.array([0, 1, 2, 0]), epochs=1, X_val=X_val, y_val=y_val, rng=0)["loss"],
        X_val=st.one_of(st.none(), arrays((3, 2))), y_val=st.one_of(st.none(), labels(3, n_classes=3)), examples=20,
        names=("in_features",)),
    case("train.accuracy", lambda X, y, batch_size: train.accuracy(nn.mlp([2, 3], rng=0), X, y, batch_size),
         X=arrays(*X2), y=labels(8, 5, n_classes=3), batch_size=counts(1, 4, 1024), names=("in_features",)),
    case("train.mean_loss", lambda X, y, batch_size: train.mean_loss(nn.mlp([2, 3], rng=0), X, y, batch_size),
         X=arrays(*X2), y=labels(8, 5, n_classes=3), batch_size=counts(1, 4, 1024), names=("in_features",)),
    # conv
    case("conv.conv_output_size", conv.conv_output_size, size=counts(8, 28), kernel_size=counts(3, 5, bad=[9, 40]),
         stride=counts(1, 2), padding=counts(0, 1, bad=[-1]), dilation=counts(1, 2)),
    case("conv.conv2d_forward", conv.conv2d_forward, x=arrays((2, 1, 6, 6), (1, 2, 5, 5)),
         weight=arrays((3, 1, 3, 3), (2, 2, 2, 2), (3, 1, 9, 9)),
         stride=counts(1, 2, bad=[(1, 2), (0, 1), "1"]), padding=counts(0, 1, bad=[(1, 1), -2]),
         dilation=counts(1, 2)),
    case("conv.conv2d", lambda x, weight, bias, stride, padding: conv.conv2d(
        Tensor(x), Tensor(weight), None if bias is None else Tensor(bias), stride, padding),
        x=arrays((2, 1, 6, 6)), weight=arrays((3, 1, 3, 3)), bias=st.one_of(st.none(), arrays((3,), (2,))),
        stride=counts(1, 2), padding=counts(0, 1), names=("data",)),
    case("conv.conv2d_backward", conv.conv2d_backward, grad_output=arrays((2, 3, 4, 4), (2, 3, 5, 5)),
         x=arrays((2, 1, 6, 6)), weight=arrays((3, 1, 3, 3)), stride=counts(1), padding=counts(0)),
    case("conv.im2col", conv.im2col, x=arrays((2, 1, 6, 6), (1, 3, 4, 4)), kernel_size=counts(2, 3, bad=[(2, 3)]),
         stride=counts(1, 2), padding=counts(0, 1), dilation=counts(1, 2), pad_value=reals(0.0, -INF),
         finite=False),  # pad_value=-inf is how max pooling pads
    case("conv.col2im", conv.col2im, cols=arrays((2, 9, 16), (1, 9, 4)),
         output_size=st.sampled_from([(1, 6, 6), (6, 6), (1, 4, 4), None, (0, 6, 6), "6"]),
         kernel_size=counts(3), stride=counts(1, 2), padding=counts(0, 1), dilation=counts(1)),
    *[case(f"conv.{n}", getattr(conv, n), x=arrays((2, 1, 6, 6), (1, 2, 5, 5)), kernel_size=counts(2, 3, bad=[7]),
           stride=st.one_of(st.none(), counts(1, 2)), padding=counts(0, 1, bad=[2, 3]))
      for n in ("max_pool2d_forward", "avg_pool2d_forward")],
    case("conv.max_pool2d_backward", conv.max_pool2d_backward, grad_output=arrays((2, 1, 3, 3), (2, 1, 2, 2)),
         x=arrays((2, 1, 6, 6)), kernel_size=counts(2), stride=st.none(), padding=counts(0)),
    case("conv.avg_pool2d_backward", conv.avg_pool2d_backward, grad_output=arrays((2, 1, 3, 3), (2, 1, 2, 2)),
         x=arrays((2, 1, 6, 6)), kernel_size=counts(2), stride=st.none(), padding=counts(0)),
    case("conv.max_pool2d", lambda x, kernel_size: conv.max_pool2d(Tensor(x), kernel_size),
         x=arrays((2, 1, 6, 6), (6, 6)), kernel_size=counts(2, 3), names=("data",)),
    case("conv.Conv2d", lambda in_channels, out_channels, kernel_size, stride, padding, dilation, x: conv.Conv2d(
        in_channels, out_channels, kernel_size, stride, padding, dilation, rng=0)(x),
        in_channels=counts(1, 2), out_channels=counts(1, 3), kernel_size=counts(3, bad=[(3, 3), (3,)]),
        stride=counts(1, 2), padding=counts(0, 1), dilation=counts(1), x=arrays((2, 1, 6, 6), (1, 2, 5, 5)),
        names=("data", "input")),
    case("conv.MaxPool2d", lambda kernel_size, stride, padding, x: conv.MaxPool2d(kernel_size, stride, padding)(x),
         kernel_size=counts(2, 3), stride=st.one_of(st.none(), counts(1, 2)), padding=counts(0, 1),
         x=arrays((2, 1, 6, 6)), names=("data", "input")),
    case("conv.AvgPool2d", lambda kernel_size, x: conv.AvgPool2d(kernel_size)(x), kernel_size=counts(2, 3),
         x=arrays((2, 1, 6, 6)), names=("data", "input")),
    case("conv.Flatten", lambda x: conv.Flatten()(x), x=arrays((2, 1, 3, 3), (2,)), names=("data", "input"),
         propagates=True),
    # receptive field
    case("receptive_field.conv", receptive_field.conv, kernel_size=counts(3), stride=counts(1, 2),
         padding=counts(0, 1), dilation=counts(1, 2), finite=False),
    case("receptive_field.maxpool", receptive_field.maxpool, kernel_size=counts(2),
         stride=st.one_of(st.none(), counts(2)), padding=counts(0), finite=False),
    case("receptive_field.receptive_fields", receptive_field.receptive_fields,
         layers=st.sampled_from([[receptive_field.conv(3), receptive_field.maxpool(2)], [], None, ["conv"], [3]]),
         input_size=st.one_of(st.none(), counts(8, 32)), finite=False),
    case("receptive_field.gradient_map", receptive_field.gradient_map,
         layers=st.sampled_from([[receptive_field.conv(3)], [receptive_field.conv(3), receptive_field.maxpool(2)],
                                 [], None]),
         input_size=counts(8, 12), index=st.sampled_from([(0, 0), (1, 2), (100, 0), (-1, 0), (0,), "00", None])),
    # images
    case("images.shapes", lambda n, size, noise, rotate, rng: images.shapes(n, size=size, noise=noise,
                                                                            rotate=rotate, rng=rng),
         n=counts(1, 4), size=counts(8, 16, bad=[1, 2, 3]), noise=reals(0.0, 0.05), rotate=flags(), rng=seeds()),
    case("images.shapes.ranges", lambda rows, cols, scale, classes: images.shapes(
        3, size=12, rows=rows, cols=cols, scale=scale, classes=classes, rng=0),
        rows=st.sampled_from([(0.0, 1.0), (0.5, 0.5), (1.0, 0.0), (-1.0, 2.0), (NAN, 1.0), None, "r", (0.2,)]),
        cols=st.sampled_from([(0.0, 1.0), (0.2, 0.4)]),
        scale=st.sampled_from([(0.2, 0.32), (0.0, 0.1), (0.5, 5.0), (-0.1, 0.2), (INF, INF)]),
        classes=st.sampled_from([("square", "disc"), ("square",), (), ("blob",), "square", None])),
    case("images.translate", images.translate, images=arrays((2, 8, 8), (8, 8), (2, 1, 8, 8)),
         dx=counts(0, 1, -2, bad=[100]), dy=counts(0, 3)),
    # sequences
    case("sequences.adding_problem", sequences.adding_problem, n=counts(1, 5), T=counts(2, 10), rng=seeds()),
    *[case(f"sequences.{n}", getattr(sequences, n), n=counts(1, 5), length=counts(1, 4, 10),
           vocab=counts(2, 10), rng=seeds()) for n in ("copy_task", "reversal_task", "sorting_task")],
    case("sequences.sine_waves", sequences.sine_waves, n=counts(1, 5), T=counts(2, 20), noise=reals(0.0, 0.05),
         rng=seeds()),
    case("sequences.windows", sequences.windows, series=arrays((20,), (5,), (20, 2)), length=counts(1, 4, bad=[30]),
         horizon=counts(1, 2, bad=[30])),
    # rnn
    case("rnn.rnn_forward", rnn.rnn_forward, input=arrays((2, 5, 3), (5, 3)), weight_ih=arrays((4, 3), (4, 2)),
         weight_hh=arrays((4, 4), (3, 3)), bias_ih=st.one_of(st.none(), arrays((4,))),
         bias_hh=st.one_of(st.none(), arrays((4,))), h0=st.one_of(st.none(), arrays((2, 4), (1, 2, 4)))),
    case("rnn.rnn_backward", lambda grad_output, input, weight_ih, weight_hh: rnn.rnn_backward(
        grad_output, input, rnn.rnn_forward(np.ones((2, 5, 3)), np.ones((4, 3)) * 0.1, np.eye(4) * 0.5),
        weight_ih, weight_hh), grad_output=arrays((2, 5, 4), (2, 4, 4)), input=arrays((2, 5, 3)),
        weight_ih=arrays((4, 3)), weight_hh=arrays((4, 4)), names=("output",)),
    case("rnn.RNN", lambda input_size, hidden_size, input: rnn.RNN(input_size, hidden_size, rng=0).forward(input),
         input_size=counts(3, 2), hidden_size=counts(4), input=arrays((2, 5, 3), (5, 3), (2, 5, 2))),
    case("rnn.spectral_radius", rnn.spectral_radius, matrix=arrays((3, 3), (4, 4), (3, 4))),
    case("rnn.hidden_gradient_norms", lambda input, h0: rnn.hidden_gradient_norms(
        rnn.RNN(3, 4, rng=0), input, h0), input=arrays((2, 5, 3), (2, 5, 2)), h0=st.one_of(st.none(), arrays((2, 4)))),
    # attention
    case("attention.softmax", attention.softmax, x=arrays((2, 3), (4,), low=-800, high=800),
         axis=st.sampled_from([-1, 0, 5, "0"]), propagates=True),
    case("attention.causal_mask", attention.causal_mask, size=counts(1, 5), additive=st.just(False)),
    case("attention.sinusoidal_encoding", attention.sinusoidal_encoding, length=counts(1, 8), d_model=counts(2, 8),
         base=reals(10000.0, 2.0)),
    case("attention.scaled_dot_product_attention", attention.scaled_dot_product_attention,
         query=arrays((2, 4, 3), (4, 3)), key=arrays((2, 5, 3), (5, 3)), value=arrays((2, 5, 2), (5, 2)),
         attn_mask=st.one_of(st.none(), arrays((4, 5)), st.just(np.zeros((4, 5), bool)),
                             st.just(np.ones((4, 5), bool))),
         is_causal=flags(), scale=st.one_of(st.none(), reals(0.5))),
    case("attention.multi_head_attention", attention.multi_head_attention, query=arrays((2, 4, 6)),
         key=arrays((2, 5, 6)), value=arrays((2, 5, 6)), num_heads=counts(1, 2, 3, bad=[4]),
         in_proj_weight=arrays((18, 6), (18, 5)), in_proj_bias=st.one_of(st.none(), arrays((18,))),
         out_proj_weight=arrays((6, 6)), out_proj_bias=st.one_of(st.none(), arrays((6,))),
         key_padding_mask=st.sampled_from([None, np.zeros((2, 5), bool), np.ones((2, 5), bool), np.zeros((2, 4))]),
         attn_mask=st.sampled_from([None, ~attention.causal_mask(5)[:4], np.zeros((3, 5))])),
    case("attention.attention_entropy", attention.attention_entropy, weights=arrays((3, 4), low=0, high=1)),
    *[case(f"attention.{n}", lambda output, target, n=n: getattr(attention, n)(_torch(output), _torch(target)),
           output=st.one_of(arrays((3, 4, 5)), st.none()), target=arrays((3, 4), (3, 5), integer=True, low=0, high=5))
      for n in ("sequence_accuracy", "token_accuracy")],
    # text
    case("text.CharVocab", lambda text_, s: text.CharVocab(text_).decode(text.CharVocab(text_).encode(s)),
         text_=st.sampled_from(["abc", "", "a", None, 3, ["a"]]), s=st.sampled_from(["ab", "", "z", None, 5]),
         names=("text",), finite=False),
    case("text.CharVocab.decode", lambda ids: text.CharVocab("abc").decode(ids),
         ids=arrays((3,), integer=True, low=-1, high=4), finite=False),
    case("text.train_val_split", text.train_val_split, data=arrays((100,), (10,), integer=True, low=0, high=5),
         val_fraction=probs(0.1, 0.5), block=counts(4, 16, 4096)),
    case("text.random_windows", text.random_windows, data=arrays((50,), (3,), integer=True, low=0, high=5),
         n=counts(1, 4), context=counts(1, 8, bad=[49, 50, 60]), rng=seeds()),
    case("text.unigram_cross_entropy", text.unigram_cross_entropy,
         train=arrays((50,), integer=True, low=0, high=5), val=arrays((20,), integer=True, low=0, high=5),
         vocab_size=counts(5, 10, bad=[3]), smoothing=reals(1.0, 0.0, 0.5)),
    case("text.WindowBatches", lambda data_, context, batch_size, batches, seed: list(
        text.WindowBatches(data_, context, batch_size, batches, seed)), data_=arrays((60,), integer=True, low=0,
                                                                                    high=5),
        context=counts(4, bad=[60, 100]), batch_size=counts(2), batches=counts(1, 3), seed=seeds(), names=("data",)),
    # compression
    case("compression.quant_range", compression.quant_range, bits=counts(2, 4, 8, bad=[1, 64, 100]),
         signed=flags()),
    case("compression.choose_qparams", compression.choose_qparams, x=arrays((3, 4)), bits=counts(4, 8),
         symmetric=flags(), signed=flags(), axis=st.sampled_from([None, 0, 1, 2, -1, "0"])),
    case("compression.fake_quantize", compression.fake_quantize, x=arrays((3, 4), low=-1e3, high=1e3),
         bits=counts(2, 8), symmetric=flags(), axis=st.sampled_from([None, 0, 1, 2])),
    case("compression.quantize", compression.quantize, x=arrays((3, 4)), scale=reals(0.01, 0.1),
         zero_point=counts(0, 3, bad=[1000]), bits=counts(8)),
    case("compression.dequantize", compression.dequantize, q=arrays((3, 4), integer=True, low=-5, high=5),
         scale=reals(0.1), zero_point=counts(0, 2)),
    case("compression.magnitude_masks", compression.magnitude_masks,
         weights=st.one_of(arrays((3, 4)).map(lambda w: [w]), arrays((3, 4))), sparsity=probs(0.0, 0.5, 0.9),
         scope=choices("global", "layer")),
    case("compression.compressed_bytes", compression.compressed_bytes, n_weights=counts(10, 100),
         n_nonzero=counts(0, 5, 10, bad=[200]), bits=counts(4, 8)),
    case("compression.distillation_loss", lambda student_logits, teacher_logits, target, T, alpha:
         compression.distillation_loss(_torch(student_logits), _torch(teacher_logits), _torch(target), T, alpha),
         student_logits=arrays((4, 3)), teacher_logits=arrays((4, 3), (4, 2)), target=labels(4, n_classes=3),
         T=reals(4.0, 1.0), alpha=probs(0.9, 0.0), names=("input",)),
    # attention: torch modules
    case("attention.MultiHeadAttention", lambda embed_dim, num_heads, dropout, query: attention.MultiHeadAttention(
        embed_dim, num_heads, dropout)(_torch(query), _torch(query), _torch(query))[0],
        embed_dim=counts(4, 6), num_heads=counts(1, 2, bad=[4, 5]), dropout=probs(0.0, 0.1),
        query=arrays((2, 3, 4), (2, 3, 6), (3, 4)), slow=True, names=("E", "features", "key", "value")),
    case("attention.SinusoidalPositionalEncoding", lambda d_model, max_len, dropout, base, x:
         attention.SinusoidalPositionalEncoding(d_model, max_len, dropout, base)(_torch(x)),
         d_model=counts(4), max_len=counts(8, 2), dropout=probs(0.0), base=reals(10000.0), x=arrays((2, 3, 4)),
         slow=True, names=("sequence",)),
    case("attention.TransformerModel", lambda vocab_size, d_model, nhead, num_layers, positional, idx:
         attention.TransformerModel(vocab_size, d_model, nhead, num_layers, max_len=8, positional=positional)(
             _torch(idx)), vocab_size=counts(5), d_model=counts(8), nhead=counts(2, bad=[3]),
         num_layers=counts(1), positional=choices("sinusoidal", "learned", None),
         idx=st.one_of(arrays((2, 4), integer=True, low=0, high=5), arrays((2, 9), (4,), integer=True, low=0,
                                                                           high=5, bad=False)),
         slow=True, examples=25, names=("sequence", "num_heads", "embed_dim")),  # torch's names for nhead, d_model
    # rnn on torch modules
    case("rnn.input_gradient_norms", lambda input: rnn.input_gradient_norms(_torch_rnn(), input),
         input=arrays((2, 5, 3), (2, 5, 2), (5, 3)), slow=True, names=("input_size",)),
    case("torch_train.ArrayLoader", lambda X, y, batch_size, shuffle, seed: [
        b[0].shape for b in torch_train.ArrayLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)],
        X=arrays((6, 2), (5, 2)), y=labels(6, 5, n_classes=3), batch_size=counts(1, 4, 10**9),
        shuffle=st.booleans(), seed=seeds(), names=("arrays",), slow=True),
    case("torch_train.fit", lambda X, y, epochs, lr, grad_clip, log_every: _torch_fit(
        "mlp", torch_train.ArrayLoader(X, y, batch_size=4), "sgd", lr=lr, epochs=epochs, grad_clip=grad_clip,
        log_every=log_every),
        X=arrays((6, 2)), y=labels(6, n_classes=3), epochs=counts(1, 2), lr=st.sampled_from([0.1, 1e-3]),
        grad_clip=st.one_of(st.none(), reals(1.0)), log_every=counts(1), examples=25, slow=True,
        names=("arrays", "model", "optimizer", "train", "in_features"),
        also=(RuntimeError,)),  # integer inputs reach the model, whose own dtype error fit passes on unchanged
    case("torch_train.fit.args", _torch_fit, model=st.sampled_from(["mlp", None, "net"]),
         optimizer=st.sampled_from(["sgd", None, 0.1]),
         train=st.sampled_from([_TinyLoader(), None, [], 3, "batches", [(1, 2, 3)], _TinyLoader(pairs=False)]),
         slow=True, finite=False),
    case("torch_train.accuracy", lambda output, target: torch_train.accuracy(_torch(output), _torch(target)),
         output=arrays((4, 3)), target=arrays((4,), (3,), integer=True, low=0, high=3), slow=True),
    case("lr_finder.lr_range_test", lambda lr_min, lr_max, steps, beta, diverge_factor, momentum:
         lr_finder.lr_range_test(_torch_model_and_optimizer(0.1)[0], torch_train.ArrayLoader(
             np.ones((8, 2), np.float32), np.arange(8) % 3, batch_size=4), lr_min=lr_min, lr_max=lr_max,
             steps=steps, beta=beta, diverge_factor=diverge_factor, momentum=momentum, device="cpu").lrs,
         lr_min=reals(1e-5), lr_max=reals(10.0, 1e-6), steps=counts(3, 5), beta=probs(0.9, 0.0),
         diverge_factor=reals(4.0, 1.5), momentum=probs(0.9, 0.0), examples=25, slow=True),
    case("torch_regularisation.smoothed_cross_entropy", lambda input, target, label_smoothing:
         torch_regularisation.smoothed_cross_entropy(_torch(input), _torch(target), label_smoothing),
         input=arrays((4, 3)), target=labels(4, 3, n_classes=3), label_smoothing=probs(0.0, 0.1, 0.5), slow=True),
    case("torch_regularisation.confidence_and_ece", torch_regularisation.confidence_and_ece,
         probs=arrays((4, 3), low=0, high=1), labels=labels(4, 3, n_classes=3), n_bins=counts(1, 10, 1000)),
    case("torch_regularisation.residual_mlp", lambda in_features, width, n_blocks, dropout, drop_path, seed:
         torch_regularisation.residual_mlp(in_features, width, n_blocks, 3, dropout=dropout, drop_path=drop_path,
                                           seed=seed)(_torch(np.ones((2, 4), np.float32))),
         in_features=counts(4, bad=[5]), width=counts(8), n_blocks=counts(0, 1), dropout=probs(0.0, 0.5),
         drop_path=probs(0.0, 0.5), seed=seeds(), slow=True),
    # gradcheck
    case("gradcheck.numerical_grad", lambda x, eps: gradcheck.numerical_grad(lambda v: float(np.sum(v ** 2)), x, eps),
         x=arrays((3,), (2, 2)), eps=reals(1e-6, 1e-3)),
    # compression on models
    case("compression.prune_magnitude", lambda sparsity, scope: compression.prune_magnitude(
        _torch_model_and_optimizer(0.1)[0], sparsity, scope), sparsity=probs(0.0, 0.5, 0.9),
        scope=choices("global", "layer"), slow=True, finite=False),
    case("compression.prune_neurons", lambda keep: compression.prune_neurons(_torch_model_and_optimizer(0.1)[0], keep),
         keep=probs(0.5, 1.0, 0.25), slow=True, finite=False),
    case("compression.quantize_mlp", lambda bits, X: compression.quantize_mlp(
        _torch_model_and_optimizer(0.1)[0], bits=bits).forward(X), bits=counts(4, 8, bad=[1, 33]),
        X=arrays((3, 2), (3, 5)), slow=True, names=("in_features",)),
    # plots
    case("plot.decision_boundary", lambda X, y, resolution, padding: _closed(plot.decision_boundary(
        lambda P: (P[:, 0] > 0).astype(int), X, y, resolution=resolution, padding=padding)),
        X=arrays((6, 2), (6, 3)), y=labels(6, n_classes=2), resolution=counts(20, bad=[10**9]),
        padding=reals(0.5, 0.0), examples=20, slow=True, finite=False),
    case("plot.training_curves", lambda history, metrics: _closed(plot.training_curves(history, metrics)),
         history=st.sampled_from([{"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, {"loss": []}, None, "h",
                                  {"loss": [NAN, 1.0]}, {"loss": [1.0, INF]}]),
         metrics=st.sampled_from([("loss", "val_loss"), ("loss",), ("acc",), "loss", None]),
         examples=20, slow=True, finite=False),
    # reports, gradient checks, monitors
    case("report.glue", report.glue,
         name=st.sampled_from(["acc", "", "1x", None, "a b"]), value=st.sampled_from([0.5, NAN, "x", None]),
         finite=False),
    case("gradcheck.gradcheck", lambda inputs, eps: gradcheck.gradcheck(lambda t: (t * t).sum(), inputs, eps=eps),
         inputs=st.sampled_from([[Tensor(np.ones(3), requires_grad=True)], [Tensor(np.ones(3, np.float32),
                                 requires_grad=True)], [np.ones(3)], [], None]), eps=reals(1e-6), finite=False),
    case("monitor.Monitor", lambda layers, window: monitor.Monitor(
        _torch_model_and_optimizer(0.1)[0], layers, window), layers=st.sampled_from([None, ["0"], ["nope"], "0", 3]),
        window=counts(1, 20), slow=True, finite=False),
    # widgets
    case("widgets.Slider", widgets.Slider, name=st.sampled_from(["lr", "2x", "", "class", None]),
         values=st.sampled_from([[0.1, 1.0], [], "abc", None, [1, 1]]),
         value=st.sampled_from([None, 0.1, 5.0]), finite=False),
    case("widgets.explorer", lambda render, controls, max_frames: widgets.explorer(render, controls,
                                                                                   max_frames=max_frames),
         render=st.sampled_from([lambda **kw: None, None, "render"]),
         controls=st.sampled_from([[widgets.Slider("a", [1, 2])], [], None, ["a"],
                                   [widgets.Slider("a", [1]), widgets.Slider("a", [2])],
                                   [widgets.Slider("a", list(range(100)))]]),
         max_frames=counts(64, 4), finite=False),
    # ---- efficient
    case("efficient.underflow_report", lambda values, dtype, scale: efficient.underflow_report(
        _torch(values) if values is not None else None, _torch_dtype(dtype), scale),
        values=arrays((5,), (2, 3)), dtype=st.sampled_from([None, "float16", "bfloat16", "int32", "banana", 3]),
        scale=reals(1.0, 1024.0), slow=True),
    case("efficient.LossScaler", lambda init_scale, growth_factor, backoff_factor, growth_interval:
         efficient.LossScaler(init_scale, growth_factor, backoff_factor, growth_interval).get_scale(),
         init_scale=reals(2.0 ** 16, 1.0), growth_factor=reals(2.0, bad=[1.0, 0.5]),
         backoff_factor=probs(0.5, 0.25), growth_interval=counts(1, 2000)),
    case("efficient.LossScaler.step", lambda optimizer: efficient.LossScaler(4.0).step(_torch_optimizer(optimizer)),
         optimizer=st.sampled_from(["sgd", None, "adam", 0.1, []]), slow=True, finite=False),
    case("efficient.train_amp", lambda loader, optimizer, epochs, dtype, scaler: _train_amp(
        loader, optimizer, epochs, dtype, scaler), loader=st.sampled_from(["tiny", None, [], 3, "batches"]),
        optimizer=st.sampled_from(["sgd", None, "adam"]), epochs=counts(1, 2),
        dtype=st.sampled_from([None, "bfloat16", "int32", "banana", 3]),
        scaler=st.sampled_from([None, "loss_scaler", "scaler", 3]), examples=25, slow=True, finite=False),
    case("efficient.split_sizes", efficient.split_sizes, n=counts(1, 10), k=counts(1, 3, bad=[11])),
    case("efficient.accumulate_gradients", lambda inputs, target, micro_batches: efficient.accumulate_gradients(
        _torch_model_and_optimizer(0.1)[0], _cross_entropy, _torch32(inputs), _torch(target), micro_batches),
        inputs=_batch_of(arrays((6, 2)), 2), target=labels(6, n_classes=3), micro_batches=counts(1, 2, 6, bad=[7]),
        slow=True, also=(RuntimeError,)),  # integer or mismatched targets reach torch's cross-entropy
    case("efficient.chain_mlp", lambda depth, width, seed, dtype: efficient.chain_mlp(
        depth, width, seed, _torch_dtype(dtype))(_torch32(np.ones((2, 3)))) if width == 3 else
        efficient.chain_mlp(depth, width, seed, _torch_dtype(dtype)),
        depth=counts(1, 3), width=counts(3, 5), seed=seeds(), dtype=st.sampled_from([None, "float32", "int32", "x"]),
        slow=True, finite=False),
    case("efficient.SavedTensorTracker", lambda exclude: efficient.SavedTensorTracker(
        _torch_model_and_optimizer(0.1)[0].parameters() if exclude == "params" else exclude).peak,
        exclude=st.sampled_from([(), "params", None, 3, ["a"], [np.ones(2)]]), slow=True),
    case("efficient.checkpointed_forward", lambda model, x, segments, tracker: efficient.checkpointed_forward(
        efficient.chain_mlp(4, 3) if model == "chain" else model, _torch32(x), segments,
        efficient.SavedTensorTracker() if tracker == "tracker" else tracker),
        model=st.sampled_from(["chain", None, "net"]), x=_batch_of(arrays((2, 3)), 3),
        segments=counts(1, 2, 8, bad=[9]), tracker=st.sampled_from([None, "tracker", "t", 3]), slow=True,
        propagates=True),  # a forward pass: NaN in, NaN out
    case("efficient.checkpoint_memory_model", efficient.checkpoint_memory_model, depth=counts(1, 12),
         segments=counts(1, 3, 4, bad=[5, 13])),
    case("efficient.sqrt_segments", efficient.sqrt_segments, depth=counts(1, 12, 36)),
    case("efficient.cpu_times", lambda fns, repeats, warmup: efficient.cpu_times(fns, repeats, warmup),
         fns=st.sampled_from([{"a": lambda: None}, {}, None, {"a": 3}, [lambda: None], "fns"]),
         repeats=counts(1, 3), warmup=counts(0, 1)),
    # ---- distributed (nothing that starts processes)
    case("distributed.Config", lambda steps, batch, features, hidden, lr, seed: [
        t.shape for t in distributed.make_data(distributed.Config(steps, batch, features, hidden, lr, seed))],
        steps=counts(1, 2), batch=counts(4, 8), features=counts(2, 3), hidden=counts(3), lr=reals(0.05),
        seed=seeds(), slow=True, finite=False),
    case("distributed.make_model", lambda cfg: distributed.make_model(cfg), cfg=st.sampled_from(
        [distributed.Config(steps=1, batch=4, features=2, hidden=3), None, "cfg", {"steps": 1}]), slow=True,
        finite=False),
    case("distributed.train_single", lambda cfg: distributed.train_single(cfg)["losses"], cfg=st.sampled_from(
        [distributed.Config(steps=2, batch=4, features=2, hidden=3), None, "cfg", 3]), slow=True, examples=10),
    case("distributed.shard", distributed.shard, n=counts(8, 6), rank=counts(0, 1, bad=[2, 8]),
         world_size=counts(1, 2, bad=[5])),
    case("distributed.torchrun_command", distributed.torchrun_command, nproc=counts(1, 2), port=counts(29500),
         script_args=st.sampled_from([(), ("--steps", 2), None, 3, "--steps"]),
         module=choices("nblib.distributed"), finite=False),
    # ---- attribution
    case("attribution.saliency", lambda x, target: attribution.saliency(_classifier(), _torch32(x), target),
         x=_batch_of(arrays((3, 4)), 4), target=_targets_of(3), slow=True),
    case("attribution.gradient_x_input", lambda model, x, target: attribution.gradient_x_input(
        _classifier() if model == "mlp" else model, _torch32(x), target), model=st.sampled_from(["mlp", None, "m"]),
        x=_batch_of(arrays((3, 4)), 4), target=_targets_of(3), slow=True),
    case("attribution.integrated_gradients", lambda x, target, baseline, steps, rule:
         attribution.integrated_gradients(_classifier(), _torch32(x), target, baseline, steps, rule),
         x=_batch_of(arrays((3, 4)), 4), target=_targets_of(3),
         baseline=st.one_of(st.none(), st.sampled_from([0.5, NAN, "b"]), arrays((4,), (3, 4), (5,))),
         steps=counts(1, 8), rule=choices("midpoint", "left", "right"), slow=True),
    case("attribution.completeness_gap", lambda x, attributions, target: attribution.completeness_gap(
        _classifier(), _torch32(x), _torch32(attributions), target),
        x=_batch_of(arrays((3, 4)), 4), attributions=arrays((3, 4)), target=_targets_of(3), slow=True),
    case("attribution.lrp", lambda x, target, rule, epsilon, model: attribution.lrp(
        _classifier() if model == "mlp" else model, _torch32(x), target, rule, epsilon),
        x=_batch_of(arrays((3, 4), low=0, high=1), 4), target=_targets_of(3),
        rule=st.sampled_from(["epsilon", "zero", "zplus", ("zplus", "epsilon"), ("zero",), "z", None, 3]),
        epsilon=reals(1e-6, 0.0), model=st.sampled_from(["mlp", None, "lstm"]), slow=True),
    case("attribution.deletion_curve", lambda x, attribution_, target, n_steps, fill:
         attribution.deletion_curve(_classifier(), _torch32(x), attribution_, target, n_steps=n_steps, fill=fill),
         x=_batch_of(arrays((3, 4)), 4), attribution_=arrays((3, 4), (3, 5)), target=_targets_of(3),
         n_steps=counts(1, 4, bad=[5]), fill=reals(0.0), names=("attribution",), slow=True),
    case("attribution.curve_area", attribution.curve_area, fractions=arrays((5,)), values=arrays((2, 5), (5,), (2, 4))),
    case("attribution.rankdata", attribution.rankdata, a=arrays((5,), (1,))),
    case("attribution.rank_correlation", attribution.rank_correlation, a=arrays((2, 5), (5,)),
         b=arrays((2, 5), (5,)), finite=False),  # a constant row has no ranking: nan, as documented
    case("attribution.layer_gradients", lambda x, layer, target: attribution.layer_gradients(
        _classifier(), _torch32(x), layer, target), x=_batch_of(arrays((3, 4)), 4), layer=counts(1, 2, bad=[3]),
        target=_targets_of(3), slow=True),
    case("attribution.concept_activation_vector", lambda concept, other, C, seed:
         attribution.concept_activation_vector(concept, other, C, seed)[0],
         concept=arrays((6, 3), low=1, high=3), other=arrays((6, 3), (5, 2), low=-3, high=-1), C=reals(1.0),
         seed=seeds(), examples=25, slow=True),
    case("attribution.tcav_score", attribution.tcav_score, gradients=arrays((4, 3), (0, 3)), cav=arrays((3,), (4,))),
    # ---- adversarial
    case("adversarial.fgsm", lambda x, y, epsilon, clamp: adversarial.fgsm(
        _torch_model_and_optimizer(0.1)[0], _torch32(x), _torch(y), epsilon, clamp=clamp),
        x=_batch_of(arrays((4, 2), low=0, high=1), 2), y=labels(4, n_classes=3), epsilon=reals(0.1, 0.0),
        clamp=st.sampled_from([(0.0, 1.0), None, (1.0, 0.0), (NAN, 1.0), (0.0,), "01", 3]), slow=True),
    case("adversarial.accuracy_under_attack", lambda x, y, epsilons: adversarial.accuracy_under_attack(
        _torch_model_and_optimizer(0.1)[0], _torch32(x), _torch(y), epsilons),
        x=_batch_of(arrays((4, 2), low=0, high=1), 2), y=labels(4, n_classes=3),
        epsilons=st.one_of(arrays((3,), low=0, high=0.3), st.sampled_from([[0.0, 0.1], 0.1, [-0.1], []])),
        slow=True),
    case("adversarial.adversarial_training", lambda loader, epochs, epsilon, mix: _adversarial_training(
        loader, epochs, epsilon, mix), loader=st.sampled_from(["tiny", None, [], 3]), epochs=counts(1, 2),
        epsilon=reals(0.1, 0.0), mix=probs(0.5, 0.0, 1.0), examples=25, slow=True),
    # ---- generative
    case("generative.ring_centers", generative.ring_centers, n_modes=counts(1, 8), radius=reals(2.0)),
    case("generative.ring_gaussians", generative.ring_gaussians, n=counts(1, 50), n_modes=counts(8),
         radius=reals(2.0), std=reals(0.05, 0.0), rng=seeds()),
    case("generative.roc_auc", generative.roc_auc, scores=arrays((4,), (3,)),
         labels=st.one_of(st.just(np.array([0, 1, 0, 1])), labels(4, n_classes=2))),
    *[case(f"generative.{n}", getattr(generative, n), X=arrays((5, 2), (5,)), Y=arrays((4, 2), (5,), (4, 3)))
      for n in ("mmd_rbf", "energy_distance")],
    case("generative.mmd_rbf.bandwidth", lambda bandwidth: generative.mmd_rbf(np.zeros((3, 2)), np.ones((2, 2)),
                                                                              bandwidth), bandwidth=reals(1.0)),
    case("generative.sliced_wasserstein", generative.sliced_wasserstein, X=arrays((5, 2), (5,)),
         Y=arrays((4, 2), (5, 2)), n_projections=counts(1, 16), rng=seeds()),
    case("generative.mode_coverage", generative.mode_coverage, samples=arrays((10, 2)), centers=arrays((3, 2), (3, 3)),
         std=reals(0.5), n_sigma=reals(3.0), min_share=probs(0.2, 0.0)),
    case("generative.GANConfig", lambda n_runs, steps, batch_size, pack, n_snapshots, lr_g: generative.GANConfig(
        n_runs=n_runs, steps=steps, batch_size=batch_size, pack=pack, n_snapshots=n_snapshots, lr_g=lr_g).steps,
        n_runs=counts(1, 8), steps=counts(1, 100), batch_size=counts(8, 128), pack=counts(1, 2, bad=[3]),
        n_snapshots=counts(2, 7, bad=[1]), lr_g=reals(3e-3)),
    case("generative.train_gan", lambda data, config, seed: generative.train_gan(data, config, seed)["loss_d"],
         data=arrays((20, 2)), config=st.sampled_from([generative.GANConfig(
             n_runs=2, steps=2, batch_size=8, hidden=4, n_snapshots=2, n_samples=5), None, "config"]),
         seed=seeds(), examples=15, slow=True),
    case("generative.linear_betas", generative.linear_betas, T=counts(1, 10), beta_1=probs(1e-4, 0.0),
         beta_T=probs(0.02, 0.5)),
    case("generative.cosine_betas", generative.cosine_betas, T=counts(1, 10), s=reals(0.008, 0.0),
         max_beta=probs(0.999, 0.5)),
    case("generative.gaussian_kl", generative.gaussian_kl, mu=_tensors((3, 2), (2,)), logvar=_tensors((3, 2), (3, 3)),
         propagates=True),
    case("generative.reparameterize", lambda mu, logvar, generator: generative.reparameterize(
        mu, logvar, _generator(generator)), mu=_tensors((3, 2)), logvar=_tensors((3, 2), (3, 1)),
        generator=st.sampled_from(["gen", None, 3, "g"]), propagates=True),
    # beta's huge values are left out: 1e300 times a finite KL overflows float32, as IEEE 754 says it must.
    case("generative.vae_loss", generative.vae_loss, x=_tensors((3, 4), low=0, high=1), logits=_tensors((3, 4), (3, 5)),
         mu=_tensors((3, 2)), logvar=_tensors((3, 2), (3, 1)),
         beta=st.sampled_from([1.0, 0.0, 4.0, -1.0, NAN, INF, True, "1", None]), propagates=True),
    case("generative.mlp_vae", lambda in_features, hidden, latent, seed: generative.mlp_vae(
        in_features, hidden, latent, seed)(_torch32(np.ones((2, 4)))), in_features=counts(4, bad=[8]),
        hidden=counts(3), latent=counts(2), seed=seeds(), slow=True),
    case("generative.mlp_vae.forward", lambda x, generator: generative.mlp_vae(4, 3, 2)(x, _generator(generator)),
         x=_tensors((3, 4), (4,), (3, 5)), generator=st.sampled_from(["gen", None, 3]), propagates=True, slow=True),
    case("generative.q_sample", generative.q_sample, x0=arrays((4, 2)), t=labels(4, n_classes=5),
         alpha_bar=arrays((5,), low=0, high=1), noise=arrays((4, 2), (4, 3)), propagates=True),
    case("generative.q_sample.torch", lambda x0, t, alpha_bar, noise: generative.q_sample(
        _torch32(x0), _torch(t), _torch32(alpha_bar), _torch32(noise)), x0=arrays((4, 2)), t=labels(4, n_classes=5),
        alpha_bar=arrays((5,), low=0, high=1), noise=arrays((4, 2), (4, 3)), propagates=True),
    case("generative.time_embedding", generative.time_embedding, t=st.one_of(
        labels(4, n_classes=10).map(_torch), arrays((4,), low=0, high=10).map(_torch32), arrays((4,))),
        T=counts(10), n_frequencies=counts(2, 8)),
    case("generative.noise_predictor.forward", lambda x, t: _eps_model()(_torch32(x), _torch(t)),
         x=arrays((4, 2), (3, 2), (4, 3)), t=labels(4, n_classes=10), propagates=True, slow=True),
    case("generative.ddpm_loss", lambda model, x0, alpha_bar, generator: generative.ddpm_loss(
        _eps_model(model), _torch32(x0), _torch32(alpha_bar), _generator(generator)),
        model=st.sampled_from(["eps", None, 3]), x0=arrays((6, 2), (6, 3)), alpha_bar=arrays((10,), low=0, high=1),
        generator=st.sampled_from(["gen", None, "g"]), propagates=True, slow=True),
    case("generative.ddpm_sample", lambda model, betas, n, dim, keep: generative.ddpm_sample(
        _eps_model(model), betas, n, dim, _generator("gen"), keep), model=st.sampled_from(["eps", None, 3]),
        betas=arrays((10,), low=0.01, high=0.2), n=counts(3), dim=counts(2, bad=[3]),
        keep=st.sampled_from([(), (0, 5), None, [9], [10], [-1], 3, "5", [1.5]]), examples=30, slow=True),
    case("graphs.edges_from_adjacency", graphs.edges_from_adjacency, A=arrays((4, 4), (3, 4), low=0, high=1),
         finite=False),
    case("graphs.normalized_adjacency", graphs.normalized_adjacency, A=arrays((4, 4), (3, 4), low=0, high=1),
         self_loops=flags()),
    case("graphs.propagate", graphs.propagate, H=arrays((4, 2)), src=labels(3, n_classes=4),
         dst=labels(3, n_classes=4), edge_weight=st.one_of(st.none(), arrays((3,), (2,))),
         reduce=choices("sum", "mean")),
    case("graphs.add_self_loops", graphs.add_self_loops, src=labels(3, n_classes=4), dst=labels(3, n_classes=4),
         n_nodes=counts(4, bad=[2])),
    case("graphs.gcn_edge_weights", graphs.gcn_edge_weights, src=labels(3, n_classes=4),
         dst=labels(3, n_classes=4), n_nodes=counts(4, bad=[2])),
    case("graphs.gcn_edge_weights.self_loops", lambda src, dst, n_nodes: graphs.gcn_edge_weights(
        *graphs.add_self_loops(src, dst, n_nodes), n_nodes), src=labels(3, n_classes=4),
        dst=labels(3, n_classes=4), n_nodes=counts(4, bad=[2])),
    case("graphs.label_propagation", graphs.label_propagation, A=_graphs(4), labels=labels(4, n_classes=2),
         labelled=_masks(4), n_iter=counts(10, 1000), tol=reals(1e-10, 0.0)),
    case("graphs.harmonic_solution", graphs.harmonic_solution, A=_graphs(4), labels=labels(4, n_classes=2),
         labelled=_masks(4)),
    case("graphs.gcn_layer", graphs.gcn_layer, H=arrays((4, 2)), W=arrays((2, 3), (3, 3)),
         src=labels(3, n_classes=4), dst=labels(3, n_classes=4), n_nodes=st.one_of(st.none(), counts(4, bad=[2])),
         activation=st.sampled_from([None, np.tanh, "relu", 3])),
    case("graphs.train_gcn", lambda X, y, labelled, hidden, layers, epochs, lr, weight_decay, dropout, seed:
         graphs.train_gcn(graphs.normalized_adjacency(_ring(4)), X, y, labelled, hidden, layers, epochs, lr,
                          weight_decay, dropout, seed), X=arrays((4, 2)), y=labels(4, n_classes=2),
         labelled=_masks(4), hidden=counts(3), layers=counts(1, 2), epochs=counts(1, 3), lr=reals(0.01),
         weight_decay=reals(5e-4, 0.0), dropout=probs(0.5, 0.0), seed=seeds(), examples=25, slow=True),
    case("graphs.train_gcn.A_hat", lambda A_hat: graphs.train_gcn(A_hat, np.ones((4, 2)), np.array([0, 1, 0, 1]),
                                                                  np.array([1, 1, 0, 0], bool), epochs=1),
         A_hat=arrays((4, 4), (3, 3)), slow=True),
    # ---- envs
    case("envs.CliffWalk", lambda rows, cols, slip, step_reward, max_steps, seed, action: envs.CliffWalk(
        rows, cols, slip, step_reward, max_steps=max_steps).reset(seed) and None,
        rows=counts(2, 4), cols=counts(3, 4, bad=[2]), slip=probs(0.1, 0.0), step_reward=reals(-1.0),
        max_steps=counts(1, 30), seed=st.one_of(st.none(), seeds()), action=st.just(0), finite=False),
    case("envs.CliffWalk.step", lambda action: _cliff_step(action),
         action=st.sampled_from([0, 1, 2, 3, 4, -1, 1.0, True, "0", None, np.int64(2)]), finite=False),
    case("envs.plan", envs.plan, P=st.sampled_from([None]).map(lambda _: envs.CliffWalk().model()[0]) | arrays(
        (16, 4, 16)), R=st.sampled_from([None]).map(lambda _: envs.CliffWalk().model()[1]) | arrays((16, 4)),
        horizon=counts(0, 5), policy=st.one_of(st.none(), st.just(np.full((16, 4), 0.25)), arrays((16, 4))),
        gamma=probs(1.0, 0.9)),
    case("envs.softmax_policy", envs.softmax_policy, theta=arrays((4,), (16, 4), low=-800, high=800)),
    case("envs.returns_to_go", envs.returns_to_go, rewards=arrays((5,), (0,)), gamma=probs(1.0, 0.9)),
    case("envs.policy_gradient_estimate", envs.policy_gradient_estimate, theta=arrays((3, 2)),
         states=labels(4, n_classes=3), actions=labels(4, n_classes=2), returns=arrays((4,), (3,)),
         baseline=st.one_of(st.none(), st.sampled_from([0.5, NAN]), arrays((3,), (2,)))),
    case("envs.bandit_exact_gradient", envs.bandit_exact_gradient, theta=arrays((3,), low=-800, high=800),
         mean_rewards=arrays((3,), (4,))),
    case("envs.run_episode", lambda env, theta, rng: envs.run_episode(
        envs.CliffWalk() if env == "cliff" else env, theta, rng)[2] if env == "cliff" else envs.run_episode(
        env, theta, rng), env=st.sampled_from(["cliff", None, "env"]), theta=arrays((16, 4), (4, 4)), rng=seeds(),
        finite=False),
    case("envs.reinforce", lambda episodes, lr, baseline, value_lr, gamma, rng: envs.reinforce(
        envs.CliffWalk(), episodes, lr, baseline, value_lr, gamma, rng).returns,
        episodes=counts(1, 5), lr=reals(0.1, 0.0), baseline=flags(), value_lr=probs(0.1), gamma=probs(1.0, 0.9),
        rng=seeds(), examples=30),
    case("envs.learning_curves", lambda lrs, baselines, seeds_, episodes: envs.learning_curves(
        envs.CliffWalk(), lrs, baselines, seeds_, episodes), lrs=st.sampled_from([[0.1], [0.1, 0.5], [], [-1.0],
                                                                                  [NAN], None, "0.1", 0.1]),
        baselines=st.sampled_from([(False, True), (True,), (), None, "yes"]), seeds_=counts(1, 2),
        episodes=counts(1, 3), names=("seeds",), examples=30, finite=False),
    # ---- hybrid
    case("hybrid.split_combinations", hybrid.split_combinations, n_unseen=counts(0, 20, 80, bad=[81]), rng=seeds(),
         finite=False),
    case("hybrid.digit_pairs", hybrid.digit_pairs, images=arrays((20, 8, 8), (20, 64), (20, 4, 4)),
         labels=st.sampled_from([np.arange(20) % 10]) | labels(20, n_classes=10), n=counts(1, 5),
         pairs=st.sampled_from([None, [(3, 4)], [], [(3, 10)], [(1,)], "34", [(1.5, 2)], [("a", "b")]]), rng=seeds()),
    case("hybrid.sum_probabilities", hybrid.sum_probabilities, p_left=arrays((3, 10), low=0, high=1),
         p_right=arrays((3, 10), (3, 9), low=0, high=1)),
    case("hybrid.sum_probabilities.torch", lambda p_left, p_right: hybrid.sum_probabilities(
        _torch32(p_left), _torch32(p_right)), p_left=arrays((3, 10), low=0, high=1),
        p_right=arrays((3, 10), (3, 9), low=0, high=1), propagates=True),
    case("nas.SearchSpace", lambda choices, rng: _space_walk(choices, rng),
         choices=st.sampled_from([{"d": (1, 2), "a": ("relu", "tanh")}, {"d": (1,)}, {}, {"d": ()}, None,
                                  {"d": 3}, [("d", (1, 2))]]), rng=seeds(), finite=False),
    case("nas.SearchSpace.mutate", lambda config: nas.SearchSpace({"d": (1, 2), "a": ("x", "y")}).mutate(config, 0),
         config=st.sampled_from([(1, "x"), (1,), None, 3, "1x", (3, "z")]), finite=False),
    case("nas.random_search", lambda space, budget, rng: nas.random_search(_space(space), _score, budget, rng),
         space=st.sampled_from(["space", None, "s"]), budget=counts(1, 5), rng=seeds()),
    case("nas.regularized_evolution", lambda budget, population, sample, rng: nas.regularized_evolution(
        _space("space"), _score, budget, population, sample, rng), budget=counts(4, 10, bad=[2]),
        population=counts(1, 3), sample=counts(1, 2, bad=[5]), rng=seeds()),
    case("nas.rankdata", nas.rankdata, x=arrays((5,), (0,))),
    case("nas.spearman", nas.spearman, x=arrays((5,)), y=arrays((5,), (4,))),
    case("nas.train_mlp_lrs", lambda X, y, depth, width, activation, lrs, steps: nas.train_mlp_lrs(
        X, y, X, y, depth, width, activation, lrs, steps),
        X=arrays((6, 2)), y=labels(6, n_classes=2), depth=counts(0, 1), width=counts(3),
        activation=choices("relu", "tanh"), lrs=arrays((2,), low=0.01, high=0.5), steps=counts(60, 100, bad=[5]),
        examples=25, slow=True, finite=False),
    # ---- spiking
    case("spiking.LIFParams", lambda tau_m, v_rest, v_th, v_reset, t_ref: spiking.rheobase(spiking.LIFParams(
        tau_m=tau_m, v_rest=v_rest, v_th=v_th, v_reset=v_reset, t_ref=t_ref)),
        tau_m=reals(10.0), v_rest=st.sampled_from([-65.0, -40.0, NAN, "x"]), v_th=st.sampled_from([-50.0, INF]),
        v_reset=st.sampled_from([-65.0, -45.0, None]), t_ref=reals(2.0, 0.0)),
    case("spiking.rheobase", spiking.rheobase, params=st.sampled_from([None, spiking.LIFParams(), "p", 3])),
    case("spiking.simulate_lif", spiking.simulate_lif, current=arrays((50,), (50, 2), low=0, high=40),
         dt=reals(0.1, 1.0, bad=[10.0, 20.0]), params=st.sampled_from([None, spiking.LIFParams(), "p"]),
         v0=st.sampled_from([None, -65.0, -70.0, NAN, "v", -40.0])),
    case("spiking.lif_rate", spiking.lif_rate, current=arrays((5,), (2, 3), low=0, high=40),
         params=st.sampled_from([None, spiking.LIFParams(), "p"])),
    case("spiking.spike_rate", spiking.spike_rate, spikes=arrays((20,), (20, 2), integer=True, low=0, high=2),
         dt=reals(0.1), skip_first=flags()),
    case("spiking.stdp_window", spiking.stdp_window, delta_t=arrays((5,), low=-50, high=50),
         a_plus=reals(0.01, 0.0), a_minus=reals(0.0105), tau_plus=reals(20.0), tau_minus=reals(20.0)),
    case("spiking.stdp_pairwise", lambda pre_times, post_times, tau_plus: spiking.stdp_pairwise(
        pre_times, post_times, tau_plus=tau_plus), pre_times=arrays((3,), (0,), low=0, high=100),
        post_times=arrays((4,), low=0, high=100), tau_plus=reals(20.0)),
    case("spiking.stdp_pairwise.window", lambda window: spiking.stdp_pairwise([1.0], [2.0], **window),
         window=st.sampled_from([{}, {"a_plus": 0.02}, {"banana": 1}, {"a_plus": -1}, {"delta_t": 3}]),
         names=("a_plus", "banana", "delta_t")),  # the keywords inside **window are the arguments named
    case("spiking.stdp_online", spiking.stdp_online, pre_spikes=arrays((20,), (20, 2), integer=True, low=0, high=2),
         post_spikes=arrays((20,), (19,), integer=True, low=0, high=2), dt=reals(0.5), a_plus=reals(0.01),
         a_minus=reals(0.0105), tau_plus=reals(20.0), tau_minus=reals(20.0)),
    case("spiking.poisson_spikes", spiking.poisson_spikes, rate_hz=st.one_of(reals(20.0, 0.0), arrays(
        (3,), low=0, high=50)), n_steps=counts(1, 10), dt=reals(0.5), rng=seeds()),
    case("spiking.simulate_stdp_neuron", lambda pre_spikes, dt, w0, w_max, g_scale, tau_syn, n_snapshots:
         spiking.simulate_stdp_neuron(pre_spikes, dt, w0, w_max, g_scale, tau_syn, n_snapshots=n_snapshots).weights,
         pre_spikes=arrays((40, 3), integer=True, low=0, high=2), dt=reals(0.5, bad=[20.0]),
         w0=st.one_of(st.none(), arrays((3,), (2,), low=0, high=1)), w_max=reals(1.0), g_scale=reals(0.25, 0.0),
         tau_syn=reals(5.0), n_snapshots=counts(1, 5, bad=[1000]), examples=40),
    # ---- learning rules
    *[case(f"learning_rules.{n}", getattr(learning_rules, n), X=arrays((10, 3)), lr=reals(0.01, 0.1),
           epochs=counts(1, 2), w0=st.one_of(st.none(), arrays((3,), (2,))), rng=seeds()) for n in ("hebb", "oja")],
    case("learning_rules.sanger", learning_rules.sanger, X=arrays((10, 3)), n_components=counts(1, 2, bad=[4]),
         lr=reals(0.01), epochs=counts(1, 2), w0=st.one_of(st.none(), arrays((2, 3), (3,))), rng=seeds()),
    case("learning_rules.cosine", learning_rules.cosine, a=arrays((3,), (2, 2)), b=arrays((3,), (4,)),
         finite=False),
    case("learning_rules.PCNetwork", lambda sizes: learning_rules.PCNetwork(sizes, rng=0).n_layers,
         sizes=st.sampled_from([[3, 4, 2], [3, 2], [3, 10**12], [10**8, 2], [10**4, 10**5], [3], [], None, "34",
                                [3, 0], [3, 2.5], 3]), finite=False),
    case("learning_rules.PCNetwork.infer", lambda X, Y, n_steps, step: learning_rules.PCNetwork(
        [3, 4, 2], rng=0).infer(X, Y, n_steps, step), X=arrays((5, 3)), Y=arrays((5, 2), (4, 2)),
        n_steps=counts(0, 5), step=reals(0.1)),
    case("learning_rules.PCNetwork.train_step", lambda X, Y, lr, rule, n_steps, step: _pc_step(
        X, Y, lr, rule, n_steps, step), X=arrays((5, 3)), Y=arrays((5, 2)), lr=reals(0.1, 0.0),
        rule=choices("pc", "bp"), n_steps=counts(5), step=reals(0.1)),
    case("learning_rules.PCNetwork.apply", lambda updates, lr: learning_rules.PCNetwork([3, 2], rng=0).apply(
        updates, lr), updates=st.sampled_from([[np.zeros((2, 3)), np.zeros(2)], [], None, [np.zeros((3, 3)),
                                                                                         np.zeros(2)], "u",
                                               [np.full((2, 3), NAN), np.zeros(2)]]), lr=reals(0.1), finite=False),
    # ---- quantum (NumPy simulator)
    case("quantum.zero_state", quantum.zero_state, n_wires=counts(1, 3, bad=[21]),
         batch=st.one_of(st.none(), counts(1, 4))),
    case("quantum.n_wires_of", quantum.n_wires_of, state=arrays((4,), (2, 8), (3,)), finite=False),
    *[case(f"quantum.{n}", getattr(quantum, n), theta=st.one_of(reals(0.3, -1.0), arrays((3,), (2, 2))))
      for n in ("rx", "ry", "rz")],
    case("quantum.rot", quantum.rot, phi=reals(0.1), theta=st.one_of(reals(0.2), arrays((3,))),
         omega=st.one_of(reals(0.3), arrays((3,), (2,)))),
    case("quantum.apply_gate", quantum.apply_gate, state=_states(), gate=st.sampled_from(
        [quantum.ry(0.3), quantum.rx(np.ones(2))]) | arrays((2, 2), (3, 2, 2)), wire=counts(0, 1, bad=[2])),
    case("quantum.apply_cnot", quantum.apply_cnot, state=_states(), control=counts(0, 1, bad=[2]),
         target=counts(1, 0)),
    case("quantum.probabilities", quantum.probabilities, state=_states()),
    case("quantum.expval_z", quantum.expval_z, state=_states(),
         wires=st.sampled_from([0, 1, (0, 1), [1], (), (0, 0), 2, -1, "0", None, 1.5])),
    case("quantum.sample_expval_z", quantum.sample_expval_z, state=_states(),
         wires=st.sampled_from([0, (0, 1), 2]), shots=counts(1, 100), rng=seeds()),
    case("quantum.shot_noise_variance", quantum.shot_noise_variance, expval=st.one_of(
        reals(0.5, -1.0), arrays((3,), low=-1, high=1)), shots=counts(1, 100)),
    case("quantum.bloch_vector", quantum.bloch_vector, state=_states()),
    case("quantum.weight_shapes", quantum.weight_shapes, n_layers=counts(1, 2), n_wires=counts(1, 3),
         finite=False),
    case("quantum.simulate_circuit", lambda inputs, weights, reupload, measure: quantum.simulate_circuit(
        inputs, weights, reupload=reupload, measure=measure), inputs=arrays((2,), (3, 2), (3,)),
        weights=arrays((1, 2, 3), (2, 2, 3), (2, 3)), reupload=flags(), measure=choices("first", "all", "parity")),
    case("quantum.make_qnode", lambda n_wires, measure, diff_method, shots, seed: quantum.make_qnode(
        n_wires, measure=measure, diff_method=diff_method, shots=shots, seed=seed, interface="numpy"),
        n_wires=counts(1, 2, bad=[21]), measure=choices("first", "all"),
        diff_method=choices("backprop", "parameter-shift"), shots=st.one_of(st.none(), counts(10)),
        seed=st.one_of(st.none(), seeds()), examples=25, slow=True, finite=False),
    case("quantum.parameter_shift", lambda f, params, shift: quantum.parameter_shift(
        _quantum_f(f), params, shift), f=st.sampled_from(["cos", None, "wrong", 3]), params=arrays((2,), (0,)),
        shift=reals(math.pi / 2, 0.3, bad=[math.pi, 0.0])),
    case("quantum.gradient_samples", lambda n_wires, n_layers, n_samples, rng: quantum.gradient_samples(
        n_wires, n_layers, n_samples=n_samples, rng=rng), n_wires=counts(2, 3, bad=[17]), n_layers=counts(1, 2),
        n_samples=counts(2, 5), rng=seeds(), examples=30),
    case("quantum.gradient_sweep", lambda qubits, layers, n_samples: quantum.gradient_sweep(
        qubits, layers, n_samples=n_samples, rng=0), qubits=st.sampled_from([[2, 3], [], None, [1], [2.5], "2", 2]),
        layers=st.sampled_from([[1, 2], [], [0], None]), n_samples=counts(2, 4), examples=30),
    case("quantum.fit_full_batch", _fit_full_batch, forward=st.sampled_from(["linear", None, 3]),
         params=st.sampled_from(["w", "w", [], None, 3, [np.zeros(2)]]), X=_batch_of(arrays((6, 2)), 2),
         targets=arrays((6,), (5,), low=-1, high=1), epochs=counts(1, 3),
         lr=st.sampled_from([0.05, 0.0, -1.0, NAN, INF, "0.1", None, True]), slow=True),
    case("quantum.decay_rate", quantum.decay_rate, n_wires=arrays((3,), (2,)), variances=arrays((3,), low=0.01,
                                                                                                high=1)),
]


# ---------------------------------------------------------------- the property
TRIED: Counter = Counter()
OUTCOMES: Counter = Counter()
EXPECTED = (ValueError, TypeError)


def _finite(result) -> bool:
    """True when every number in ``result`` (arrays, tensors, tuples, dicts) is finite."""
    if isinstance(result, Tensor):
        result = result.data
    if type(result).__module__.startswith("torch"):
        result = result.detach().cpu().numpy() if hasattr(result, "detach") else None
    if isinstance(result, (list, tuple)):
        return all(_finite(r) for r in result)
    if isinstance(result, dict):
        return all(_finite(r) for r in result.values())
    if isinstance(result, (float, np.floating, np.ndarray)):
        arr = np.asarray(result)
        return arr.dtype.kind not in "fc" or bool(np.isfinite(arr).all())
    return True


def _names_an_argument(message: str, names) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


def _check_call(c: Case, kwargs: dict, tried: Counter = TRIED, outcomes: Counter = OUTCOMES) -> None:
    tried[c.name] += 1
    lenient = c.propagates and not _finite(list(kwargs.values()))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore" if lenient else "error", RuntimeWarning)
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            result = c.fn(**kwargs)
    except c.also as err:
        outcomes[type(err).__name__] += 1
        return
    except EXPECTED as err:
        outcomes["ValueError" if isinstance(err, ValueError) else "TypeError"] += 1
        names = set(kwargs) | set(c.names)
        assert _names_an_argument(str(err), names), (
            f"{c.name}: {type(err).__name__} does not name an argument ({sorted(names)}): {err}")
        return
    outcomes["ok"] += 1
    if c.finite and not lenient:
        assert _finite(result), f"{c.name} returned NaN or inf for {kwargs!r}"


def _make_test(c: Case):
    config = settings(PROFILE, max_examples=c.examples or PROFILE.max_examples,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
                      if c.slow else [HealthCheck.data_too_large])

    @config
    @given(st.fixed_dictionaries(c.strategies))
    def run(kwargs):
        _check_call(c, kwargs)

    return run


@pytest.fixture(scope="module", autouse=True)
def _write_counts():
    """After the module: how many inputs were tried per function, and how the calls ended."""
    yield
    ARTIFACT.parent.mkdir(exist_ok=True)
    report = {"functions": len(TRIED), "inputs_tried": sum(TRIED.values()),
              "by_function": dict(sorted(TRIED.items())),
              "outcomes": {"ok": 0, "ValueError": 0, "TypeError": 0, **OUTCOMES}}
    ARTIFACT.write_text(json.dumps(report, indent=1) + "\n")


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_bad_input_fails_clearly(c: Case):
    _make_test(c)()


def test_table_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]


def test_the_property_rejects_a_stray_exception():
    """The checker itself: an IndexError, an unnamed ValueError and a NaN result all fail; a named error passes."""
    def index_error(x):
        return [][x]

    def anonymous(x):
        raise ValueError("something went wrong")

    def named(x):
        raise TypeError("x must be a real number, got str")

    tried, outcomes = Counter(), Counter()  # kept out of the reported counts
    with pytest.raises(IndexError):
        _check_call(Case("index", index_error, {}), {"x": 1}, tried, outcomes)
    with pytest.raises(AssertionError, match="does not name an argument"):
        _check_call(Case("anonymous", anonymous, {}), {"x": 1}, tried, outcomes)
    with pytest.raises(AssertionError, match="NaN or inf"):
        _check_call(Case("nan", lambda x: np.array([math.nan]), {}), {"x": 1}, tried, outcomes)
    _check_call(Case("named", named, {}), {"x": 1}, tried, outcomes)
    assert outcomes == Counter(ValueError=1, ok=1, TypeError=1)
