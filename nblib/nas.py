r"""Neural architecture search on a small space: the space, two search strategies, and rank correlation.

A *search space* is a dictionary of choices (depth, width, activation, learning rate, ...);
a configuration picks one value for each. :func:`random_search` draws configurations
uniformly (Li and Talwalkar, 2019, show it is a strong baseline); :func:`regularized_evolution`
(Real et al., 2019) keeps a population, copies the best of a random sample with one
choice changed, and retires the oldest member. Both call a ``score`` function, which in the
chapter looks up accuracies computed once in advance, so that many searches cost nothing.

:func:`spearman` measures how well a cheap predictor ranks configurations: Pearson's
correlation of the ranks, with tied values sharing their average rank.
"""

from __future__ import annotations

import itertools
from typing import Callable

import numpy as np

from . import _checks
from . import rng as _rng

__all__ = ["SearchSpace", "random_search", "regularized_evolution", "rankdata", "spearman", "train_mlp_lrs"]


class SearchSpace:
    """A product of discrete choices; a configuration is a tuple with one value per choice, in key order.

    Args:
        choices: ``{name: sequence of values}``, each with at least one value.

    Example:
        >>> space = SearchSpace({"depth": (1, 2), "act": ("relu", "tanh")})
        >>> space.configs()
        [(1, 'relu'), (1, 'tanh'), (2, 'relu'), (2, 'tanh')]
    """

    def __init__(self, choices: dict):
        if not isinstance(choices, dict) or not choices:
            raise TypeError("choices must be a non-empty dict of {name: values}")
        self.names = tuple(choices)
        bad = [n for n, v in choices.items() if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__")]
        if bad:
            raise TypeError(f"choices must map each name to a sequence of values; {bad} are not sequences")
        self.values = tuple(tuple(v) for v in choices.values())
        empty = [n for n, v in zip(self.names, self.values) if not v]
        if empty:
            raise ValueError(f"choices {empty} have no values")

    @property
    def size(self) -> int:
        return int(np.prod([len(v) for v in self.values]))

    def configs(self) -> list[tuple]:
        """Every configuration, in a fixed order."""
        return list(itertools.product(*self.values))

    def as_dict(self, config) -> dict:
        return dict(zip(self.names, config))

    def sample(self, rng=None) -> tuple:
        gen = _rng.resolve(rng)
        return tuple(v[gen.integers(len(v))] for v in self.values)

    def mutate(self, config, rng=None) -> tuple:
        """Change one choice (picked uniformly among those with more than one value) to a different value."""
        gen = _rng.resolve(rng)
        if isinstance(config, (str, bytes)) or not hasattr(config, "__iter__"):
            raise TypeError(f"config must be a tuple with one value per choice, got {type(config).__name__}")
        config = tuple(config)
        if len(config) != len(self.values):
            raise ValueError(f"config must have {len(self.values)} entries, got {len(config)}")
        free = [i for i, v in enumerate(self.values) if len(v) > 1]
        if not free:
            return config
        i = free[gen.integers(len(free))]
        others = [v for v in self.values[i] if v != config[i]]
        new = list(config)
        new[i] = others[gen.integers(len(others))]
        return tuple(new)

    def __repr__(self) -> str:
        return f"SearchSpace({', '.join(f'{n}: {len(v)}' for n, v in zip(self.names, self.values))}; {self.size} configs)"


def random_search(space: SearchSpace, score: Callable, budget: int, rng=None) -> np.ndarray:
    """Score ``budget`` configurations drawn uniformly (with replacement); returns the best score so far after each, (budget,)."""
    budget = _checks.integer(budget, "budget", minimum=1)
    if not isinstance(space, SearchSpace):
        raise TypeError(f"space must be a SearchSpace, got {type(space).__name__}")
    gen = _rng.resolve(rng)
    scores = np.array([score(space.sample(gen)) for _ in range(budget)], dtype=float)
    return np.maximum.accumulate(scores)


def regularized_evolution(space: SearchSpace, score: Callable, budget: int, population: int = 10,
                          sample: int = 3, rng=None) -> np.ndarray:
    """Aging evolution (Real et al., 2019); returns the best score so far after each evaluation, (budget,).

    The first ``population`` evaluations are random configurations. Then, repeatedly: draw
    ``sample`` members of the population at random, mutate the best of them
    (:meth:`SearchSpace.mutate`), score the child, add it, and remove the *oldest* member.

    Args:
        space: the search space.
        score: configuration -> number (higher is better).
        budget: number of evaluations, at least ``population``.
        population, sample: population size and tournament size (``1 <= sample <= population``).
    """
    if not isinstance(space, SearchSpace):
        raise TypeError(f"space must be a SearchSpace, got {type(space).__name__}")
    population = _checks.integer(population, "population", minimum=1)
    sample = _checks.integer(sample, "sample", minimum=1)
    if sample > population:
        raise ValueError(f"sample must be at most population ({population}), got {sample}")
    budget = _checks.integer(budget, "budget", minimum=population)
    gen = _rng.resolve(rng)
    members = []  # (config, score), oldest first
    history = []
    for _ in range(population):
        c = space.sample(gen)
        members.append((c, float(score(c))))
        history.append(members[-1][1])
    while len(history) < budget:
        picks = gen.choice(len(members), sample, replace=False)
        parent = max((members[i] for i in picks), key=lambda m: m[1])[0]
        child = space.mutate(parent, gen)
        members.append((child, float(score(child))))
        members.pop(0)
        history.append(members[-1][1])
    return np.maximum.accumulate(np.array(history))


def rankdata(x) -> np.ndarray:
    """Ranks 1..n of the entries of ``x`` (1-D), tied values sharing the average of their ranks."""
    x = _checks.as_array(x, "x", ndim=1)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    sorted_x = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1  # positions i..j hold ranks i+1..j+1
        i = j + 1
    return ranks


def spearman(x, y) -> float:
    r"""Spearman's rank correlation :math:`\rho`: Pearson's correlation of ``rankdata(x)`` and ``rankdata(y)``.

    1 means the two orderings agree exactly, -1 that they are reversed.
    """
    x = _checks.as_array(x, "x", ndim=1)
    y = _checks.as_array(y, "y", ndim=1)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"x and y must have the same length, at least 2; got {len(x)} and {len(y)}")
    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx ** 2).sum() * (ry ** 2).sum())
    if denom == 0:
        raise ValueError("spearman is undefined when x or y is constant")
    return float((rx * ry).sum() / denom)


def train_mlp_lrs(X, y, X_val, y_val, depth: int, width: int, activation: str, lrs, steps: int = 60,
                  checkpoints=(6, 60), seed: int = 0) -> np.ndarray:
    r"""Train one MLP architecture at several learning rates at once; validation accuracy at checkpoints.

    The architecture is ``depth`` hidden layers of ``width`` units with ``activation``
    (``"relu"``, ``"tanh"`` or ``"sigmoid"``), then a linear layer to the classes. For each
    learning rate a separate copy (the same initial weights) is trained with full-batch Adam
    on ``(X, y)``. The copies live in one batched tensor and Adam is written out with one
    step size per copy, which is exactly ``torch.optim.Adam`` applied to each copy alone
    (Adam acts elementwise) but costs about as much as training one.

    Args:
        X, y: training inputs (N, D) and labels (N,).
        X_val, y_val: validation inputs and labels.
        depth, width, activation: the architecture (``depth >= 0``).
        lrs: learning rates (L,).
        steps: full-batch Adam steps.
        checkpoints: steps after which the validation accuracy is recorded.
        seed: seeds the initial weights.

    Returns:
        Accuracies, shape (L, len(checkpoints)).
    """
    import torch

    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_labels(y, "y", n=len(X))
    X_val = _checks.as_array(X_val, "X_val", ndim=2)
    y_val = _checks.as_labels(y_val, "y_val", n=len(X_val))
    depth = _checks.integer(depth, "depth", minimum=0)
    width = _checks.integer(width, "width", minimum=1)
    acts = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
    if activation not in acts:
        raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")
    lrs = _checks.as_array(lrs, "lrs", ndim=1).astype(np.float32)
    if (lrs <= 0).any():
        raise ValueError("every learning rate in lrs must be > 0")
    steps = _checks.integer(steps, "steps", minimum=1)
    checkpoints = [_checks.integer(c, "checkpoints", minimum=1) for c in checkpoints]
    if max(checkpoints) > steps:
        raise ValueError(f"checkpoints must not exceed steps ({steps}), got {checkpoints}")
    L, C = len(lrs), int(max(y.max(), y_val.max())) + 1
    torch.manual_seed(_checks.integer(seed, "seed", minimum=0))
    sizes = [X.shape[1]] + [width] * depth + [C]
    params = []
    for a, b in zip(sizes, sizes[1:]):
        layer = torch.nn.Linear(a, b)  # torch's default initialisation, shared by the copies
        params += [layer.weight.detach().T.repeat(L, 1, 1).requires_grad_(),  # (L, a, b)
                   layer.bias.detach().repeat(L, 1, 1).requires_grad_()]  # (L, 1, b)
    Xt, Xv = torch.from_numpy(np.asarray(X, np.float32)), torch.from_numpy(np.asarray(X_val, np.float32))
    yt, yv = torch.from_numpy(y), torch.from_numpy(y_val)
    act = acts[activation]

    def forward(inputs):
        h = inputs.expand(L, *inputs.shape)  # (L, N, D)
        for k in range(0, len(params), 2):
            h = torch.baddbmm(params[k + 1], h, params[k])  # (L, N, b)
            if k < len(params) - 2:
                h = act(h)
        return h

    lr = torch.from_numpy(lrs)[:, None, None]
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    out = np.zeros((L, len(checkpoints)))
    for t in range(1, steps + 1):
        logits = forward(Xt)  # (L, N, C)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, C), yt.repeat(L), reduction="sum") / len(yt)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g, mi, vi in zip(params, grads, m, v):
                mi.mul_(b1).add_(g, alpha=1 - b1)
                vi.mul_(b2).addcmul_(g, g, value=1 - b2)
                p.sub_(lr * (mi / (1 - b1 ** t)) / ((vi / (1 - b2 ** t)).sqrt() + eps))
            if t in checkpoints:
                acc = (forward(Xv).argmax(-1) == yv).double().mean(1).numpy()
                for j, c in enumerate(checkpoints):
                    if c == t:
                        out[:, j] = acc
    return out
