"""The cliff walk's dynamics, exact planning, and the REINFORCE estimator (nblib.envs) against exact answers."""

import numpy as np
import pytest

from nblib.envs import (CliffWalk, bandit_exact_gradient, learning_curves, plan, policy_gradient_estimate,
                        reinforce, returns_to_go, run_episode, softmax_policy)

UP, RIGHT, DOWN, LEFT = range(4)


def test_deterministic_moves_walls_cliff_and_goal():
    env = CliffWalk(slip=0.0)
    s, info = env.reset(seed=0)
    assert s == env.start == 12 and info == {}
    assert env.step(LEFT)[:4] == (12, -1.0, False, False)  # the wall: stay put, still pay
    assert env.step(RIGHT)[:4] == (12, -5.0, False, False)  # into the cliff: back to the start
    assert env.step(UP)[:2] == (8, -1.0)
    for _ in range(3):
        s, r, term, trunc, _ = env.step(RIGHT)
    assert s == 11
    s, r, term, trunc, _ = env.step(DOWN)
    assert (s, r, term, trunc) == (env.goal, 0.0, True, False)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(UP)


def test_truncation_after_max_steps():
    env = CliffWalk(slip=0.0, max_steps=3)
    env.reset()
    assert [env.step(UP)[3] for _ in range(3)] == [False, False, True]


def test_slips_happen_at_the_stated_rate():
    env = CliffWalk(slip=0.4, max_steps=10_000)
    env.reset(seed=1)
    slips = []
    for _ in range(4000):
        *_, terminated, _, info = env.step(UP)
        slips.append(info["slipped"])
        if terminated:  # a run of slips can carry the agent to the goal
            env.reset()
    assert abs(np.mean(slips) - 0.4) < 0.03  # binomial std ~0.008


@pytest.mark.parametrize("slip", [0.0, 0.25])
def test_model_matches_sampled_transitions(slip):
    env = CliffWalk(slip=slip, max_steps=10_000)
    P, R, terminal = env.model()
    np.testing.assert_allclose(P.sum(2), 1.0)
    assert terminal.sum() == 1 and terminal[env.goal]
    rng = np.random.default_rng(0)
    counts = np.zeros(env.n_states)
    rewards = []
    for _ in range(6000):  # from state 9 (above the cliff) with action DOWN
        env.reset(seed=rng)
        env._state = 9
        s, r, *_ = env.step(DOWN)
        counts[s] += 1
        rewards.append(r)
    np.testing.assert_allclose(counts / counts.sum(), P[9, DOWN], atol=0.02)
    assert abs(np.mean(rewards) - R[9, DOWN]) < 0.1


def test_plan_gives_the_shortest_path_without_slips_and_policy_evaluation_agrees_with_monte_carlo():
    env = CliffWalk(slip=0.0)
    P, R, _ = env.model()
    V, greedy = plan(P, R, env.max_steps)
    assert V[env.start] == -4.0  # up, right, right, right, down (the last move is free)
    assert greedy[env.start] == UP
    env = CliffWalk(slip=0.2, max_steps=8)
    P, R, _ = env.model()
    uniform = np.full((env.n_states, 4), 0.25)
    V_rand, _ = plan(P, R, env.max_steps, policy=uniform)
    rng = np.random.default_rng(0)
    mc = [run_episode(env, np.zeros((env.n_states, 4)), rng)[2].sum() for _ in range(4000)]
    assert abs(np.mean(mc) - V_rand[env.start]) < 4 * np.std(mc) / np.sqrt(len(mc))


def test_returns_to_go():
    np.testing.assert_allclose(returns_to_go([1.0, 2.0, 3.0]), [6.0, 5.0, 3.0])
    np.testing.assert_allclose(returns_to_go([1.0, 2.0, 3.0], gamma=0.5), [1 + 0.5 * 2 + 0.25 * 3, 2 + 1.5, 3.0])


def test_softmax_policy_rows_sum_to_one_and_resist_overflow():
    pi = softmax_policy(np.array([[1000.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(pi.sum(1), 1.0)
    np.testing.assert_allclose(pi[1], 0.5)


@pytest.mark.parametrize("baseline", [0.0, 1.3, -7.0])
def test_the_estimator_is_unbiased_exactly_on_a_bandit(baseline):
    # E_a[(r_a - b)(e_a - pi)] summed over the actions with their probabilities equals the exact gradient
    theta = np.array([0.3, -1.0, 0.8, 0.0])
    r = np.array([1.0, -2.0, 0.5, 3.0])
    pi = softmax_policy(theta)
    expected = sum(pi[a] * policy_gradient_estimate(theta[None], [0], [a], [r[a]], baseline)[0] for a in range(4))
    np.testing.assert_allclose(expected, bandit_exact_gradient(theta, r), atol=1e-12)


def test_exact_bandit_gradient_matches_finite_differences():
    theta = np.array([0.3, -1.0, 0.8])
    r = np.array([1.0, -2.0, 0.5])
    J = lambda t: softmax_policy(t) @ r
    fd = np.array([(J(theta + h) - J(theta - h)) / 2e-6 for h in 1e-6 * np.eye(3)])
    np.testing.assert_allclose(bandit_exact_gradient(theta, r), fd, rtol=1e-6, atol=1e-9)


def test_monte_carlo_estimate_is_close_and_the_baseline_lowers_the_variance():
    theta, means = np.array([0.5, 0.0, -0.5]), np.array([1.0, 2.0, 3.0])
    rng = np.random.default_rng(0)
    a = rng.choice(3, 40_000, p=softmax_policy(theta))
    r = means[a] + rng.normal(0, 1, len(a))
    J = softmax_policy(theta) @ means
    one = lambda b: np.array([policy_gradient_estimate(theta[None], [0], [ai], [ri], b)[0] for ai, ri in zip(a[:3000], r[:3000])])
    total = policy_gradient_estimate(theta[None], np.zeros(len(a), int), a, r, J)[0] / len(a)
    np.testing.assert_allclose(total, bandit_exact_gradient(theta, means), atol=0.02)
    assert one(J).var(0).sum() < 0.5 * one(0.0).var(0).sum()


def test_per_state_baseline_and_state_rows():
    theta = np.zeros((3, 2))
    g = policy_gradient_estimate(theta, [0, 2], [1, 0], [4.0, 1.0], baseline=np.array([1.0, 0.0, 3.0]))
    np.testing.assert_allclose(g, [[-1.5, 1.5], [0, 0], [-1.0, 1.0]])


def test_reinforce_learns_the_cliff_walk_with_a_baseline():
    env = CliffWalk()
    res = reinforce(env, 300, lr=0.03, baseline=True, rng=0)
    assert res.returns[-50:].mean() > -12  # optimum is about -5.1, random about -41.7
    assert res.returns[:20].mean() < res.returns[-50:].mean()
    curves = learning_curves(env, [0.01], seeds=2, episodes=5)
    assert set(curves) == {(0.01, False), (0.01, True)} and curves[0.01, True].shape == (2, 5)


@pytest.mark.parametrize("call, match", [
    (lambda: CliffWalk(slip=1.5), "slip"),
    (lambda: CliffWalk(cols=2), "cols"),
    (lambda: CliffWalk().step(0), "reset"),
    (lambda: (lambda e: (e.reset(), e.step(4)))(CliffWalk()), "action"),
    (lambda: (lambda e: (e.reset(), e.step(1.0)))(CliffWalk()), "action"),
    (lambda: plan(np.ones((2, 2, 2)), np.zeros((2, 2)), 3), "sum to 1"),
    (lambda: plan(np.full((2, 1, 2), 0.5), np.zeros((2, 1)), 3, policy=np.ones((2, 2))), "policy"),
    (lambda: policy_gradient_estimate(np.zeros((2, 2)), [0], [3], [1.0]), "actions"),
    (lambda: policy_gradient_estimate(np.zeros((2, 2)), [0], [1], [1.0, 2.0]), "returns"),
    (lambda: reinforce(CliffWalk(), 10, lr=-1.0), "lr"),
])
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=match):
        call()
