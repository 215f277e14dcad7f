r"""Local learning rules in NumPy: Hebb, Oja, Sanger, and a predictive-coding network.

**Hebbian rules** change a weight in proportion to the activity on both sides of
it. For a linear neuron :math:`y = w^\top x`:

* plain Hebb, :math:`\Delta w = \eta\, y\, x`, grows :math:`\|w\|` without bound;
* Oja (1982), :math:`\Delta w = \eta\, y\,(x - y\, w)`, keeps :math:`\|w\| \to 1` and
  converges to the leading eigenvector of :math:`E[x x^\top]`, the first principal
  component of centred data;
* Sanger's generalized Hebbian algorithm (1989),
  :math:`\Delta W = \eta\,(y x^\top - \operatorname{LT}(y y^\top) W)`, finds the first
  :math:`k` components in order.

**Predictive coding** (Whittington & Bogacz 2017). Value nodes :math:`x_l` hold each
layer's activity; layer :math:`l` predicts the next as
:math:`\mu_{l+1} = W_l \phi_l(x_l) + b_l` and the errors :math:`\varepsilon_l = x_l - \mu_l`
define the energy :math:`F = \tfrac12 \sum_l \|\varepsilon_l\|^2`. With the input and
the target clamped, inference relaxes the hidden value nodes down the gradient of
:math:`F`; learning then changes each weight by the product of the error after it and
the activity before it, :math:`\Delta W_l = \eta\, \varepsilon_{l+1} \phi_l(x_l)^\top`:
local and Hebbian in form, with no backward pass.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from . import rng as _rng

__all__ = ["hebb", "oja", "sanger", "PCNetwork", "cosine"]


def _rule_args(X, lr, epochs, w0, rng, k=None):
    X = _checks.as_array(X, "X", ndim=2, dtype=np.float64)
    lr = _checks.positive(lr, "lr")
    epochs = _checks.integer(epochs, "epochs", minimum=1)
    g = _rng.resolve(rng)
    shape = (X.shape[1],) if k is None else (k, X.shape[1])
    if w0 is None:
        w = g.normal(0.0, 0.1, size=shape)
    else:
        w = _checks.as_array(w0, "w0", dtype=np.float64).copy()
        if w.shape != shape:
            raise ValueError(f"w0 must have shape {shape}, got {w.shape}")
    return X, lr, epochs, w, g


def hebb(X, lr: float = 0.01, epochs: int = 1, w0=None, rng=None) -> np.ndarray:
    r"""Plain Hebbian learning of one linear neuron, :math:`\Delta w = \eta\,(w^\top x)\, x`, one sample at a time.

    Args:
        X: inputs ``(n_samples, n_features)``, visited in a fresh random order each epoch.
        lr: learning rate :math:`\eta`.
        epochs: passes over ``X``.
        w0: initial weights ``(n_features,)``, small random ones by default.
        rng: a Generator or seed for the initial weights and the order.

    Returns:
        The weights after every update, shape ``(epochs * n_samples + 1, n_features)``.
        Their norm grows geometrically: nothing in the rule stops it.
    """
    X, lr, epochs, w, g = _rule_args(X, lr, epochs, w0, rng)
    out = [w.copy()]
    for _ in range(epochs):
        for i in g.permutation(len(X)):
            y = w @ X[i]
            w = w + lr * y * X[i]
            out.append(w.copy())
    return np.array(out)


def oja(X, lr: float = 0.01, epochs: int = 1, w0=None, rng=None) -> np.ndarray:
    r"""Oja's rule, :math:`\Delta w = \eta\, y\,(x - y\,w)` with :math:`y = w^\top x`, one sample at a time.

    The subtracted term :math:`-\eta y^2 w` is a local decay that normalises the weights:
    for small :math:`\eta` the rule follows :math:`\dot w = C w - (w^\top C w)\, w`, whose
    stable fixed points are the unit eigenvectors :math:`\pm u_1` of the largest eigenvalue
    of :math:`C = E[x x^\top]`.

    Args/Returns: as :func:`hebb`.

    Example:
        >>> X = np.random.default_rng(0).normal(size=(500, 2)) * [3.0, 1.0]
        >>> w = oja(X, lr=0.001, epochs=5, rng=0)[-1]
        >>> bool(abs(abs(w[0]) - 1) < 0.01 and abs(w[1]) < 0.05)  # the first PC is the x1 axis
        True
    """
    X, lr, epochs, w, g = _rule_args(X, lr, epochs, w0, rng)
    out = [w.copy()]
    for _ in range(epochs):
        for i in g.permutation(len(X)):
            y = w @ X[i]
            w = w + lr * y * (X[i] - y * w)
            out.append(w.copy())
    return np.array(out)


def sanger(X, n_components: int = 2, lr: float = 0.01, epochs: int = 1, w0=None, rng=None) -> np.ndarray:
    r"""Sanger's generalized Hebbian algorithm, :math:`\Delta W = \eta\,(y x^\top - \operatorname{LT}(y y^\top)\, W)`.

    Row :math:`k` of :math:`W` learns by Oja's rule on the input minus what rows
    :math:`1..k-1` already explain, so the rows converge to the first
    ``n_components`` eigenvectors of :math:`E[x x^\top]`, in order.

    Returns:
        The final weights, shape ``(n_components, n_features)``.
    """
    k = _checks.integer(n_components, "n_components", minimum=1)
    X, lr, epochs, W, g = _rule_args(X, lr, epochs, w0, rng, k=k)
    if k > X.shape[1]:
        raise ValueError(f"n_components must be at most n_features={X.shape[1]}, got {k}")
    for _ in range(epochs):
        for i in g.permutation(len(X)):
            x = X[i]
            y = W @ x  # (k,)
            W = W + lr * (np.outer(y, x) - np.tril(np.outer(y, y)) @ W)
    return W


def cosine(a, b) -> float:
    """Cosine similarity of two arrays (flattened; lists of arrays are concatenated)."""
    def flat(v, name):
        if isinstance(v, (list, tuple)) and v and all(np.ndim(u) > 0 for u in v):
            return np.concatenate([np.ravel(_checks.as_array(u, name, dtype=np.float64)) for u in v])
        return np.ravel(_checks.as_array(v, name, dtype=np.float64))
    a, b = flat(a, "a"), flat(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same number of elements, got {a.size} and {b.size}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return float(a @ b / (na * nb))


_NO_Y = object()  # _check_xy's "no targets" marker: None is a wrong Y, to be rejected by name


# PCNetwork's size limits: a layer of more units, or a weight matrix of more entries (8 bytes
# each, so 800 MB), is a typo rather than a network this NumPy code can train.
MAX_UNITS = 10**7
MAX_WEIGHTS = 10**8


class PCNetwork:
    r"""A layered predictive-coding network (Whittington & Bogacz 2017) with tanh hidden units.

    Layer sizes ``sizes = [n_0, ..., n_L]``. Value nodes :math:`x_0` (input, clamped),
    :math:`x_1 .. x_{L-1}` (hidden, free during inference) and :math:`x_L` (output,
    clamped to the target during learning). Predictions
    :math:`\mu_{l+1} = W_l \phi_l(x_l) + b_l` with :math:`\phi_0 = \mathrm{id}` and
    :math:`\phi_l = \tanh` for hidden layers, so a feedforward pass
    (:math:`x_{l+1} = \mu_{l+1}`) is the MLP
    ``Linear -> tanh -> Linear -> ... -> Linear`` whose value nodes hold pre-activations.

    Inference descends :math:`F = \sum_{l\ge1} \frac{\pi_l}{2} \|\varepsilon_l\|^2` (summed over a
    batch; precision :math:`\pi_L` = ``output_precision`` for the output layer, 1 for the others)
    with Euler steps of size ``step``:
    :math:`x_l \leftarrow x_l + \gamma\,(-\varepsilon_l + \phi_l'(x_l) \odot W_l^\top \pi_{l+1}\varepsilon_{l+1})`,
    starting from the feedforward values. The learning rule uses only quantities at the
    two ends of each synapse: :math:`\Delta W_l = \frac{\eta}{B\pi_L} \sum_n \pi_{l+1}\varepsilon_{l+1} \phi_l(x_l)^\top`,
    :math:`\Delta b_l = \frac{\eta}{B\pi_L} \sum_n \pi_{l+1}\varepsilon_{l+1}` (divided by
    :math:`\pi_L` so that the size of the step does not depend on the precision).

    The comparison is backprop on the same network and the loss
    :math:`L = \frac{1}{2B} \sum_n \|y_n - \hat y_n\|^2` (:meth:`backprop_grads`). When
    inference has converged, :math:`\Delta W / \eta` is close to :math:`-\nabla L`, and it tends
    to it as ``output_precision`` tends to 0 (a weakly weighted output error).

    Args:
        sizes: layer widths, input first, at least ``[n_in, n_out]``; at most ``MAX_UNITS``
            (10**7) units per layer and ``MAX_WEIGHTS`` (10**8) weights between two layers.
        rng: a Generator or seed for the initial weights (uniform Xavier/Glorot).
        output_precision: :math:`\pi_L > 0`, the weight of the output errors in the energy.

    Shape:
        inputs ``(B, n_0)``, targets ``(B, n_L)``; ``weights[l]`` is ``(n_{l+1}, n_l)`` like
        ``torch.nn.Linear.weight``.

    Example:
        >>> net = PCNetwork([4, 8, 2], rng=0)
        >>> net.forward(np.ones((3, 4))).shape
        (3, 2)
    """

    def __init__(self, sizes, rng=None, output_precision: float = 1.0):
        self.output_precision = _checks.positive(output_precision, "output_precision")
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise TypeError(f"sizes must be a sequence of layer widths, got {type(sizes).__name__}")
        sizes = [_checks.integer(s, "sizes", minimum=1) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least an input and an output width, got {sizes}")
        if max(sizes) > MAX_UNITS or any(a * b > MAX_WEIGHTS for a, b in zip(sizes, sizes[1:])):
            raise ValueError(f"sizes {sizes} are too large: at most {MAX_UNITS:,} units per layer and "
                             f"{MAX_WEIGHTS:,} weights between two layers")
        self.sizes = sizes
        g = _rng.resolve(rng)
        self.weights, self.biases = [], []
        for n_in, n_out in zip(sizes, sizes[1:]):
            bound = np.sqrt(6.0 / (n_in + n_out))
            self.weights.append(g.uniform(-bound, bound, size=(n_out, n_in)))
            self.biases.append(np.zeros(n_out))

    def __repr__(self) -> str:
        return f"PCNetwork(sizes={self.sizes})"

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    def parameters(self) -> list[np.ndarray]:
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def _phi(self, l, x):
        return x if l == 0 else np.tanh(x)

    def _dphi(self, l, x):
        return np.ones_like(x) if l == 0 else 1.0 - np.tanh(x) ** 2

    def _check_xy(self, X, Y=_NO_Y):
        X = _checks.as_array(X, "X", ndim=2, dtype=np.float64)
        if X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have {self.sizes[0]} columns, got {X.shape[1]}")
        if Y is _NO_Y:
            return X
        Y = _checks.as_array(Y, "Y", ndim=2, dtype=np.float64)
        if Y.shape != (X.shape[0], self.sizes[-1]):
            raise ValueError(f"Y must have shape {(X.shape[0], self.sizes[-1])}, got {Y.shape}")
        return X, Y

    def _feedforward(self, X):
        xs = [X]
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            xs.append(self._phi(l, xs[-1]) @ W.T + b)  # (B, n_{l+1})
        return xs

    def forward(self, X) -> np.ndarray:
        """The feedforward prediction ``(B, n_L)`` (what inference starts from, and what the net outputs)."""
        return self._feedforward(self._check_xy(X))[-1]

    def errors(self, xs) -> list[np.ndarray]:
        r"""Prediction errors :math:`\varepsilon_l = x_l - \mu_l` for ``l = 1..L`` (index 0 is ``None``)."""
        eps = [None]
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            eps.append(xs[l + 1] - (self._phi(l, xs[l]) @ W.T + b))
        return eps

    def _precision(self, l) -> float:
        return self.output_precision if l == self.n_layers else 1.0

    def energy(self, xs) -> float:
        """The energy :math:`F = \\sum_l \\frac{\\pi_l}{2} \\|\\varepsilon_l\\|^2`, summed over the batch."""
        return float(sum(0.5 * self._precision(l) * np.sum(e ** 2) for l, e in enumerate(self.errors(xs)) if l > 0))

    def infer(self, X, Y, n_steps: int = 20, step: float = 0.1, return_energy: bool = False):
        """Clamp input and output, relax the hidden value nodes for ``n_steps`` Euler steps.

        Returns:
            The value nodes ``[x_0, ..., x_L]`` (and the energy after each step if ``return_energy``).
        """
        X, Y = self._check_xy(X, Y)
        n_steps = _checks.integer(n_steps, "n_steps", minimum=0)
        step = _checks.positive(step, "step")
        xs = self._feedforward(X)
        xs[-1] = Y
        energies = [self.energy(xs)]
        for _ in range(n_steps):
            eps = self.errors(xs)
            for l in range(1, self.n_layers):
                grad = -eps[l] + self._dphi(l, xs[l]) * (self._precision(l + 1) * eps[l + 1] @ self.weights[l])  # (B, n_l)
                xs[l] = xs[l] + step * grad
            if return_energy:
                energies.append(self.energy(xs))
        return (xs, energies) if return_energy else xs

    def pc_updates(self, X, Y, n_steps: int = 20, step: float = 0.1) -> list[np.ndarray]:
        r"""The local updates per unit learning rate, ``[dW_0, db_0, dW_1, db_1, ...]``, after inference.

        :math:`dW_l = \frac1B \sum_n \varepsilon_{l+1} \phi_l(x_l)^\top`; applying ``p += lr * d``
        descends the energy. Compare with ``-backprop_grads``.
        """
        xs = self.infer(X, Y, n_steps=n_steps, step=step)
        eps = self.errors(xs)
        B = xs[0].shape[0]
        out = []
        for l in range(self.n_layers):
            e = eps[l + 1] * (self._precision(l + 1) / self.output_precision)  # precision-weighted, per unit pi_L
            out.append(e.T @ self._phi(l, xs[l]) / B)  # (n_{l+1}, n_l)
            out.append(e.mean(axis=0))
        return out

    def backprop_grads(self, X, Y) -> list[np.ndarray]:
        r"""Exact gradients of :math:`L = \frac{1}{2B}\sum_n \|y_n - \hat y_n\|^2`, ``[dL/dW_0, dL/db_0, ...]``."""
        X, Y = self._check_xy(X, Y)
        xs = self._feedforward(X)
        B = X.shape[0]
        delta = (xs[-1] - Y) / B  # dL/d(pre-activation of the output), (B, n_L)
        grads = []
        for l in reversed(range(self.n_layers)):
            grads.append(delta.sum(axis=0))
            grads.append(delta.T @ self._phi(l, xs[l]))
            if l > 0:
                delta = (delta @ self.weights[l]) * self._dphi(l, xs[l])
        return grads[::-1]

    def loss(self, X, Y) -> float:
        """Mean over the batch of half the squared error of the feedforward prediction."""
        X, Y = self._check_xy(X, Y)
        return float(0.5 * np.sum((self.forward(X) - Y) ** 2) / len(X))

    def apply(self, updates, lr: float) -> None:
        """``p += lr * u`` for every parameter (use ``-grad`` for gradient descent)."""
        lr = _checks.as_real(lr, "lr")
        params = self.parameters()
        if not isinstance(updates, (list, tuple)):
            raise TypeError(f"updates must be a list of arrays, got {type(updates).__name__}")
        if len(updates) != len(params):
            raise ValueError(f"updates must hold {len(params)} arrays, got {len(updates)}")
        updates = [_checks.as_array(u, "updates", dtype=np.float64) for u in updates]
        for p, u in zip(params, updates):
            if u.shape != p.shape:
                raise ValueError(f"updates must match the parameter shapes, got {u.shape} for {p.shape}")
        for p, u in zip(params, updates):
            p += lr * u

    def train_step(self, X, Y, lr: float, rule: str = "pc", n_steps: int = 20, step: float = 0.1) -> None:
        """One SGD step on a batch, with the local predictive-coding rule (``"pc"``) or backprop (``"bp"``)."""
        if rule == "pc":
            self.apply(self.pc_updates(X, Y, n_steps=n_steps, step=step), lr)
        elif rule == "bp":
            self.apply([-g for g in self.backprop_grads(X, Y)], lr)
        else:
            raise ValueError(f"rule must be 'pc' or 'bp', got {rule!r}")
