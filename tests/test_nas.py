"""Search space, random search, regularized evolution and Spearman's rho (nblib.nas) against scipy and torch."""

import numpy as np
import pytest

from nblib.nas import SearchSpace, random_search, rankdata, regularized_evolution, spearman, train_mlp_lrs

scipy_stats = pytest.importorskip("scipy.stats")

SPACE = SearchSpace({"a": (0, 1, 2, 3), "b": ("x", "y", "z"), "c": (0.1, 1.0)})


@pytest.mark.parametrize("case", ["continuous", "ties", "reversed", "small"])
def test_spearman_and_ranks_match_scipy(case):
    rng = np.random.default_rng(0)
    if case == "continuous":
        x = rng.normal(size=50)
        y = x + rng.normal(size=50)
    elif case == "ties":  # many tied values on both sides: average ranks matter
        x = rng.integers(0, 5, 60).astype(float)
        y = rng.integers(0, 3, 60) + 0.1 * x
    elif case == "reversed":
        x, y = np.arange(10.0), -np.arange(10.0) ** 3
    else:
        x, y = np.array([1.0, 2.0]), np.array([5.0, 3.0])
    np.testing.assert_allclose(rankdata(x), scipy_stats.rankdata(x))
    np.testing.assert_allclose(spearman(x, y), scipy_stats.spearmanr(x, y).statistic, atol=1e-12)


def test_space_enumerates_samples_and_mutates_one_choice():
    assert SPACE.size == 24 and len(set(SPACE.configs())) == 24
    rng = np.random.default_rng(0)
    for _ in range(100):
        c = SPACE.sample(rng)
        assert c in SPACE.configs()
        child = SPACE.mutate(c, rng)
        assert sum(u != v for u, v in zip(c, child)) == 1 and child in SPACE.configs()
    assert SPACE.as_dict((1, "y", 0.1)) == {"a": 1, "b": "y", "c": 0.1}


def test_searches_return_a_nondecreasing_best_and_find_the_optimum_of_an_easy_space():
    score = lambda c: c[0] + {"x": 0, "y": 1, "z": 2}[c[1]] + c[2]  # best: (3, "z", 1.0) = 6
    rs = random_search(SPACE, score, 40, rng=0)
    ev = regularized_evolution(SPACE, score, 40, population=6, sample=3, rng=0)
    for trace in (rs, ev):
        assert trace.shape == (40,) and np.all(np.diff(trace) >= 0)
    # hill climbing on a separable score: evolution reaches the optimum in nearly every run
    hits = np.mean([regularized_evolution(SPACE, score, 40, 6, 3, rng=s)[-1] == 6.0 for s in range(50)])
    assert hits > 0.9


def test_evolution_keeps_the_population_size_and_starts_randomly():
    calls = []
    score = lambda c: calls.append(c) or 0.0
    regularized_evolution(SPACE, score, 12, population=5, sample=2, rng=1)
    assert len(calls) == 12
    # every child differs from some earlier configuration in exactly one choice
    for i in range(5, 12):
        assert any(sum(u != v for u, v in zip(calls[j], calls[i])) == 1 for j in range(i))


def test_batched_adam_equals_torch_adam_on_each_copy():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5)).astype(np.float32), rng.integers(0, 3, 60)
    lrs = [1e-3, 3e-2]
    ours = train_mlp_lrs(X, y, X, y, depth=1, width=7, activation="tanh", lrs=lrs, steps=15, checkpoints=(15,), seed=3)
    for k, lr in enumerate(lrs):
        torch.manual_seed(3)
        model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        for _ in range(15):
            loss = torch.nn.functional.cross_entropy(model(Xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
        acc = (model(Xt).argmax(1) == yt).double().mean().item()
        assert ours[k, 0] == pytest.approx(acc, abs=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: SearchSpace({}), "choices"),
    (lambda: SearchSpace({"a": ()}), "values"),
    (lambda: SPACE.mutate((1, "x"), 0), "config"),
    (lambda: regularized_evolution(SPACE, lambda c: 0.0, 20, population=3, sample=4), "sample"),
    (lambda: regularized_evolution(SPACE, lambda c: 0.0, 2, population=3), "budget"),
    (lambda: spearman([1.0, 2.0], [1.0]), "same length"),
    (lambda: spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]), "constant"),
    (lambda: train_mlp_lrs(np.ones((4, 2)), [0, 1, 0, 1], np.ones((2, 2)), [0, 1], 1, 2, "gelu", [0.1]), "activation"),
    (lambda: train_mlp_lrs(np.ones((4, 2)), [0, 1, 0, 1], np.ones((2, 2)), [0, 1], 1, 2, "relu", [0.0]), "lrs"),
])
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
