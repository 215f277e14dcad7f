r"""A small environment in NumPy, exact planning for it, and policy-gradient learning (REINFORCE).

:class:`CliffWalk` is a gridworld with a gym-like interface: ``reset()`` returns
``(state, info)`` and ``step(action)`` returns ``(state, reward, terminated, truncated, info)``,
as in Gymnasium. Its dynamics are also available as arrays (:meth:`CliffWalk.model`), so
that the optimal expected return can be computed exactly by dynamic programming
(:func:`plan`) and learning curves can be compared with it.

The agent is a tabular softmax policy :math:`\pi_\theta(a \mid s) = \operatorname{softmax}(\theta_s)_a`
trained by REINFORCE (Williams, 1992): after each episode,

.. math::
    \theta \leftarrow \theta + \eta \sum_t \bigl(G_t - b(s_t)\bigr)\, \nabla_\theta \log \pi_\theta(a_t \mid s_t),
    \qquad \nabla_{\theta_s} \log \pi_\theta(a \mid s) = e_a - \pi_\theta(\cdot \mid s),

where :math:`G_t` is the return from step :math:`t` on and :math:`b` an optional baseline
(here a learned state value), which leaves the expected gradient unchanged and lowers its variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from . import rng as _rng

__all__ = ["CliffWalk", "plan", "softmax_policy", "returns_to_go", "policy_gradient_estimate",
           "bandit_exact_gradient", "run_episode", "reinforce", "ReinforceResult", "learning_curves"]

# up, right, down, left as (row, column) moves
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
ACTION_NAMES = ("up", "right", "down", "left")


class CliffWalk:
    r"""A gridworld with a cliff between start and goal; moves may slip.

    The agent starts in the bottom-left cell and must reach the bottom-right cell, which
    ends the episode (``terminated``). The cells between them on the bottom row are a
    cliff, as in Sutton and Barto's cliff walking. Each move costs ``step_reward``;
    a move into the cliff costs ``cliff_reward`` instead and sends the agent back to the
    start, and the move into the goal earns ``goal_reward``. With probability ``slip``
    the chosen action is replaced by one drawn uniformly from all four (possibly the same).
    A move into the outer wall leaves the agent where it is. After ``max_steps`` steps the
    episode is cut off (``truncated``).

    States are numbered ``row * cols + col``; actions are 0 up, 1 right, 2 down, 3 left.

    Args:
        rows, cols: grid size (at least 2 x 3, so that there is a cliff).
        slip: probability in [0, 1] that an action is replaced by a random one.
        step_reward, cliff_reward, goal_reward: rewards of an ordinary move, a fall and arrival.
        max_steps: episode length limit.

    Example:
        >>> env = CliffWalk()
        >>> state, info = env.reset(seed=0)
        >>> state, reward, terminated, truncated, info = env.step(0)  # up
    """

    n_actions = 4

    def __init__(self, rows: int = 4, cols: int = 4, slip: float = 0.1, step_reward: float = -1.0,
                 cliff_reward: float = -5.0, goal_reward: float = 0.0, max_steps: int = 30):
        self.rows = _checks.integer(rows, "rows", minimum=2)
        self.cols = _checks.integer(cols, "cols", minimum=3)
        self.slip = _checks.in_range(slip, "slip", 0.0, 1.0)
        self.step_reward = _checks.as_real(step_reward, "step_reward")
        self.cliff_reward = _checks.as_real(cliff_reward, "cliff_reward")
        self.goal_reward = _checks.as_real(goal_reward, "goal_reward")
        self.max_steps = _checks.integer(max_steps, "max_steps", minimum=1)
        self.n_states = self.rows * self.cols
        self.start = (self.rows - 1) * self.cols
        self.goal = self.n_states - 1
        self.cliff = frozenset(range(self.start + 1, self.goal))
        # next state for each (state, action): a plain table, so that step() is cheap
        self._next = np.empty((self.n_states, self.n_actions), dtype=np.int64)
        for s in range(self.n_states):
            r, c = divmod(s, self.cols)
            for a, (dr, dc) in enumerate(MOVES):
                r2, c2 = min(max(r + dr, 0), self.rows - 1), min(max(c + dc, 0), self.cols - 1)
                self._next[s, a] = r2 * self.cols + c2
        # where a move actually lands: a fall into the cliff sends the agent back to the start
        self._land = np.where(np.isin(self._next, list(self.cliff)), self.start, self._next)
        self._next_list = self._next.tolist()
        self._land_list = self._land.tolist()
        self._state = None
        self._done = True
        self._t = 0
        self._rng = np.random.default_rng()

    def is_terminal(self, state: int) -> bool:
        return state == self.goal

    def reward_for(self, target: int) -> float:
        """The reward of a move aimed at cell ``target`` (before a fall sends the agent back)."""
        if target == self.goal:
            return self.goal_reward
        if target in self.cliff:
            return self.cliff_reward
        return self.step_reward

    def reset(self, seed=None):
        """Start an episode in the start cell; returns ``(state, info)``. ``seed`` reseeds the slips."""
        if seed is not None:
            self._rng = _rng.resolve(seed)
        self._state, self._done, self._t = self.start, False, 0
        return self._state, {}

    def step(self, action):
        """Apply ``action``; returns ``(state, reward, terminated, truncated, info)``."""
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise TypeError(f"action must be an integer in [0, {self.n_actions}), got {type(action).__name__}")
        if not 0 <= action < self.n_actions:
            raise ValueError(f"action must lie in [0, {self.n_actions}), got {action}")
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError("the episode has ended: call reset() to start a new one")
        slipped = self.slip > 0 and self._rng.random() < self.slip
        taken = int(self._rng.integers(self.n_actions)) if slipped else int(action)
        target = self._next_list[self._state][taken]
        s = self._land_list[self._state][taken]
        self._t += 1
        reward = self.reward_for(target)
        terminated = self.is_terminal(s)
        truncated = not terminated and self._t >= self.max_steps
        self._state, self._done = s, terminated or truncated
        return s, reward, terminated, truncated, {"slipped": slipped, "action_taken": taken}

    def model(self):
        r"""The dynamics as arrays: ``P`` (S, A, S) transition probabilities, ``R`` (S, A) expected rewards,
        ``terminal`` (S,) bool. The terminal state (the goal) is absorbing with reward 0; the
        cliff cells are never occupied."""
        S, A = self.n_states, self.n_actions
        P = np.zeros((S, A, S))
        R = np.zeros((S, A))
        terminal = np.array([self.is_terminal(s) for s in range(S)])
        for s in range(S):
            if terminal[s]:
                P[s, :, s] = 1.0
                continue
            for a in range(A):
                for taken in range(A):
                    p = (1 - self.slip) * (taken == a) + self.slip / A
                    P[s, a, self._land[s, taken]] += p
                    R[s, a] += p * self.reward_for(int(self._next[s, taken]))
        return P, R, terminal

    def __repr__(self) -> str:
        return (f"CliffWalk(rows={self.rows}, cols={self.cols}, slip={self.slip}, "
                f"max_steps={self.max_steps})")


def plan(P, R, horizon: int, policy=None, gamma: float = 1.0):
    r"""Exact expected returns over a finite horizon by backward induction (value iteration).

    .. math::
        V_0 = 0, \qquad Q_k(s, a) = R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V_{k-1}(s'), \qquad
        V_k(s) = \max_a Q_k(s, a) \;\text{ or }\; \textstyle\sum_a \pi(a \mid s)\, Q_k(s, a).

    With ``horizon`` equal to an environment's step limit, :math:`V_H(s)` is the best
    (or the given policy's) expected return of an episode started in ``s``.

    Args:
        P: transitions, shape (S, A, S), rows summing to 1.
        R: expected rewards, shape (S, A).
        horizon: number of steps.
        policy: ``None`` for the optimal value, or action probabilities of shape (S, A).
        gamma: discount in [0, 1].

    Returns:
        ``(V, greedy)``: values (S,) and a greedy action per state (S,).
    """
    P = _checks.as_array(P, "P", ndim=3).astype(float)
    R = _checks.as_array(R, "R", ndim=2).astype(float)
    S, A, S2 = P.shape
    if S2 != S or R.shape != (S, A):
        raise ValueError(f"P must have shape (S, A, S) and R (S, A); got {P.shape} and {R.shape}")
    if not np.allclose(P.sum(axis=2), 1.0):
        raise ValueError("every row P[s, a, :] must sum to 1")
    horizon = _checks.integer(horizon, "horizon", minimum=0)
    gamma = _checks.in_range(gamma, "gamma", 0.0, 1.0)
    if policy is not None:
        policy = _checks.as_array(policy, "policy", ndim=2).astype(float)
        if policy.shape != (S, A) or not np.allclose(policy.sum(axis=1), 1.0) or (policy < 0).any():
            raise ValueError(f"policy must hold probabilities of shape {(S, A)} whose rows sum to 1")
    V = np.zeros(S)
    Q = R.copy()
    for _ in range(horizon):
        Q = R + gamma * P @ V  # (S, A)
        V = Q.max(axis=1) if policy is None else (policy * Q).sum(axis=1)
    return V, Q.argmax(axis=1)


def softmax_policy(theta) -> np.ndarray:
    r"""Action probabilities :math:`\pi(a \mid s) = e^{\theta_{sa}} / \sum_b e^{\theta_{sb}}`, row-wise.

    Shape: ``theta`` (S, A) or (A,); the result has the same shape.
    """
    theta = _checks.as_array(theta, "theta").astype(float)
    if theta.ndim not in (1, 2) or theta.shape[-1] == 0:
        raise ValueError(f"theta must have shape (S, A) or (A,) with A >= 1, got {theta.shape}")
    z = np.exp(theta - theta.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def returns_to_go(rewards, gamma: float = 1.0) -> np.ndarray:
    r""":math:`G_t = \sum_{k \ge t} \gamma^{k-t} r_k` for every step of one episode. Shape (T,) -> (T,)."""
    rewards = _checks.as_array(rewards, "rewards", ndim=1).astype(float)
    gamma = _checks.in_range(gamma, "gamma", 0.0, 1.0)
    G = np.empty_like(rewards)
    acc = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        acc = rewards[t] + gamma * acc
        G[t] = acc
    return G


def policy_gradient_estimate(theta, states, actions, returns, baseline=None) -> np.ndarray:
    r"""The REINFORCE estimate :math:`\sum_t (G_t - b(s_t))\,(e_{a_t} - \pi(\cdot \mid s_t))` placed in row :math:`s_t`.

    A bandit is the one-state case: ``states`` all 0, ``theta`` of shape (1, A), and the
    rewards as ``returns``.

    Args:
        theta: policy logits (S, A).
        states, actions: the visited states and chosen actions, (T,) integers.
        returns: :math:`G_t`, (T,).
        baseline: ``None``, a scalar, or per-state values (S,).

    Returns:
        The gradient estimate, shape (S, A).
    """
    theta = _checks.as_array(theta, "theta", ndim=2).astype(float)
    S, A = theta.shape
    states = _checks.as_labels(states, "states", n_classes=S)
    actions = _checks.as_labels(actions, "actions", n=len(states), n_classes=A)
    returns = _checks.as_array(returns, "returns", ndim=1).astype(float)
    if len(returns) != len(states):
        raise ValueError(f"returns has {len(returns)} entries but states has {len(states)}")
    if baseline is None:
        b = 0.0
    else:
        baseline = _checks.as_array(baseline, "baseline").astype(float)
        if baseline.ndim == 0:
            b = float(baseline)
        elif baseline.shape == (S,):
            b = baseline[states]
        else:
            raise ValueError(f"baseline must be a scalar or have shape ({S},), got {baseline.shape}")
    advantage = returns - b  # (T,)
    pi = softmax_policy(theta)  # (S, A)
    grad = np.zeros((S, A))
    np.add.at(grad, states, -advantage[:, None] * pi[states])  # the - pi(.|s_t) part
    np.add.at(grad, (states, actions), advantage)  # the e_{a_t} part
    return grad


def bandit_exact_gradient(theta, mean_rewards) -> np.ndarray:
    r"""Exact gradient of the expected reward :math:`J(\theta) = \sum_a \pi_a r_a` of a softmax bandit:
    :math:`\partial J / \partial \theta_a = \pi_a (r_a - J)`. Shapes (A,) -> (A,)."""
    theta = _checks.as_array(theta, "theta", ndim=1).astype(float)
    r = _checks.as_array(mean_rewards, "mean_rewards", ndim=1).astype(float)
    if r.shape != theta.shape:
        raise ValueError(f"mean_rewards must have shape {theta.shape}, got {r.shape}")
    pi = softmax_policy(theta)
    return pi * (r - pi @ r)


def run_episode(env: CliffWalk, theta, rng=None):
    """Play one episode with the softmax policy ``theta`` (S, A); returns ``(states, actions, rewards)`` arrays."""
    if not isinstance(env, CliffWalk):
        raise TypeError(f"env must be a CliffWalk, got {type(env).__name__}")
    theta = _checks.as_array(theta, "theta", ndim=2)
    if theta.shape != (env.n_states, env.n_actions):
        raise ValueError(f"theta must have shape {(env.n_states, env.n_actions)}, got {theta.shape}")
    gen = _rng.resolve(rng)
    cum = np.cumsum(softmax_policy(theta), axis=1).tolist()
    s, _ = env.reset(seed=gen)
    states, actions, rewards = [], [], []
    done = False
    while not done:
        u = gen.random()
        row = cum[s]
        a = next((i for i, c in enumerate(row) if u < c), len(row) - 1)
        s2, r, terminated, truncated, _ = env.step(a)
        states.append(s)
        actions.append(a)
        rewards.append(r)
        s, done = s2, terminated or truncated
    return np.array(states), np.array(actions), np.array(rewards, dtype=float)


@dataclass
class ReinforceResult:
    """What :func:`reinforce` returns: the return of every episode, the final logits and baseline."""

    returns: np.ndarray  # (episodes,) undiscounted return of each episode
    theta: np.ndarray  # (S, A) final policy logits
    values: np.ndarray  # (S,) the learned baseline (zeros without one)

    @property
    def policy(self) -> np.ndarray:
        return softmax_policy(self.theta)


def reinforce(env: CliffWalk, episodes: int, lr: float, baseline: bool = True, value_lr: float = 0.1,
              gamma: float = 1.0, rng=None) -> ReinforceResult:
    r"""Train a tabular softmax policy on ``env`` with REINFORCE, one update per episode.

    Each episode's update is ``lr`` times :func:`policy_gradient_estimate`, with the learned
    state values as baseline when ``baseline`` is true. The values follow the returns by
    :math:`V(s_t) \leftarrow V(s_t) + \alpha (G_t - V(s_t))` with :math:`\alpha` = ``value_lr``,
    after the policy update (so the baseline of an episode never depends on its own returns).

    Args:
        env: the environment (its ``n_states``, ``n_actions``, ``reset`` and ``step`` are used).
        episodes: number of episodes.
        lr: policy step size :math:`\eta \ge 0`.
        baseline: subtract a learned state value from the returns.
        value_lr: step size of the baseline, in (0, 1].
        gamma: discount used for :math:`G_t`.
        rng: a Generator or seed for the actions and slips.
    """
    episodes = _checks.integer(episodes, "episodes", minimum=1)
    lr = _checks.positive(lr, "lr", allow_zero=True)
    value_lr = _checks.in_range(value_lr, "value_lr", 0.0, 1.0)
    gen = _rng.resolve(rng)
    theta = np.zeros((env.n_states, env.n_actions))
    values = np.zeros(env.n_states)
    out = np.empty(episodes)
    for k in range(episodes):
        states, actions, rewards = run_episode(env, theta, gen)
        G = returns_to_go(rewards, gamma)
        out[k] = rewards.sum()
        theta += lr * policy_gradient_estimate(theta, states, actions, G, values if baseline else None)
        if baseline:
            for s, g in zip(states.tolist(), G.tolist()):
                values[s] += value_lr * (g - values[s])
    return ReinforceResult(out, theta, values)


def learning_curves(env: CliffWalk, lrs, baselines=(False, True), seeds: int = 5, episodes: int = 300) -> dict:
    """Run :func:`reinforce` for every learning rate, baseline setting and seed.

    Seed ``k`` is the same for every setting (the same random numbers drive each run), so
    settings are compared on equal terms.

    Returns:
        ``{(lr, baseline): returns}`` with ``returns`` of shape (seeds, episodes).
    """
    if not isinstance(env, CliffWalk):
        raise TypeError(f"env must be a CliffWalk, got {type(env).__name__}")
    for name, seq in (("lrs", lrs), ("baselines", baselines)):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__iter__"):
            raise TypeError(f"{name} must be a sequence, got {type(seq).__name__}")
    lrs = [_checks.positive(lr, "lrs", allow_zero=True) for lr in lrs]
    seeds = _checks.integer(seeds, "seeds", minimum=1)
    episodes = _checks.integer(episodes, "episodes", minimum=1)
    return {(lr, bool(b)): np.array([reinforce(env, episodes, lr, baseline=bool(b), rng=k).returns
                                     for k in range(seeds)])
            for lr in lrs for b in baselines}
