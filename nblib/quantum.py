r"""Qubits and variational circuits: a NumPy state-vector simulator and the PennyLane circuits it checks.

A register of :math:`n` qubits is a unit vector :math:`|\psi\rangle \in \mathbb{C}^{2^n}`. Amplitude
:math:`k` belongs to the basis state whose bits, read from wire 0 (the most significant bit) to wire
:math:`n-1`, spell :math:`k` in binary; this is PennyLane's ordering, so the two simulators agree
amplitude for amplitude. A one-qubit gate :math:`U` on wire :math:`w` acts as
:math:`I \otimes \dots \otimes U \otimes \dots \otimes I`; the simulator never builds that
:math:`2^n \times 2^n` matrix but reshapes the state into a :math:`2 \times \dots \times 2` tensor and
multiplies along axis :math:`w`.

The rotations follow PennyLane's conventions:

.. math::

    R_X(\theta) = e^{-i\theta X/2},\quad R_Y(\theta) = e^{-i\theta Y/2},\quad R_Z(\theta) = e^{-i\theta Z/2},\quad
    \mathrm{Rot}(\phi, \theta, \omega) = R_Z(\omega)\,R_Y(\theta)\,R_Z(\phi).

Everything in the NumPy half accepts a leading batch dimension (angles of shape ``(B,)``, states of
shape ``(B, 2**n)``), which is how one call evaluates a circuit for a whole data set. The PennyLane
half (:func:`make_qnode`, :func:`gradient_samples`) and the torch helper (:func:`fit_full_batch`)
import their libraries inside the functions, so ``import nblib.quantum`` stays cheap.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks
from . import rng as _rng

__all__ = [
    "zero_state", "rx", "ry", "rz", "rot", "apply_gate", "apply_cnot", "probabilities", "expval_z",
    "sample_expval_z", "bloch_vector", "n_wires_of", "simulate_circuit", "weight_shapes",
    "make_qnode", "parameter_shift", "gradient_samples", "gradient_sweep", "decay_rate", "fit_full_batch",
    "shot_noise_variance", "MEASUREMENTS",
]

MEASUREMENTS = ("first", "each", "global")


# ------------------------------------------------------------------ states
def zero_state(n_wires: int, batch: int | None = None) -> np.ndarray:
    r"""The all-zeros state :math:`|0\dots0\rangle`: amplitude 1 at index 0.

    Args:
        n_wires: number of qubits :math:`n \ge 1`.
        batch: if given, ``batch`` copies stacked along a leading axis.

    Shape:
        ``(2**n,)``, or ``(batch, 2**n)``; complex128.

    Example:
        >>> zero_state(2)
        array([1.+0.j, 0.+0.j, 0.+0.j, 0.+0.j])
    """
    n_wires = _checks.integer(n_wires, "n_wires", minimum=1)
    if n_wires > 20:
        raise ValueError(f"n_wires must be at most 20 (a state of 2**n amplitudes), got {n_wires}")
    state = np.zeros(2 ** n_wires, dtype=np.complex128)
    state[0] = 1.0
    if batch is None:
        return state
    batch = _checks.integer(batch, "batch", minimum=1)
    return np.tile(state, (batch, 1))


def n_wires_of(state) -> int:
    """The number of qubits of a state of shape ``(2**n,)`` or ``(B, 2**n)``."""
    if isinstance(state, (str, bytes)):
        raise TypeError(f"state must be an array of amplitudes, got {type(state).__name__}")
    try:
        state = np.asarray(state)
    except (TypeError, ValueError) as err:
        raise TypeError(f"state must be an array of amplitudes: {err}") from None
    if state.ndim not in (1, 2):
        raise ValueError(f"state must have shape (2**n,) or (B, 2**n), got {state.shape}")
    size = state.shape[-1]
    n = size.bit_length() - 1
    if size < 2 or 2 ** n != size:
        raise ValueError(f"state's last dimension must be a power of 2 (at least 2), got {size}")
    return n


def _state(state, name: str = "state") -> np.ndarray:
    state = _checks.as_array(state, name, dtype=np.complex128, allow_complex=True)
    n_wires_of(state)
    return state


def _wire(wire, n: int, name: str = "wire") -> int:
    wire = _checks.integer(wire, name, minimum=0)
    if wire >= n:
        raise ValueError(f"{name} must be < {n} (the state has {n} qubits), got {wire}")
    return wire


# ------------------------------------------------------------------- gates
def _angle(theta, name: str) -> np.ndarray:
    arr = _checks.as_array(theta, name, dtype=np.float64)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or 1-D (a batch of angles), got shape {arr.shape}")
    return arr


def rx(theta) -> np.ndarray:
    r""":math:`R_X(\theta) = \begin{pmatrix}\cos\frac\theta2 & -i\sin\frac\theta2\\ -i\sin\frac\theta2 & \cos\frac\theta2\end{pmatrix}`.

    Shape: ``theta`` scalar gives ``(2, 2)``; ``(B,)`` gives ``(B, 2, 2)``.
    """
    t = _angle(theta, "theta") / 2
    c, s = np.cos(t), np.sin(t)
    return np.stack([np.stack([c + 0j, -1j * s], -1), np.stack([-1j * s, c + 0j], -1)], -2)


def ry(theta) -> np.ndarray:
    r""":math:`R_Y(\theta) = \begin{pmatrix}\cos\frac\theta2 & -\sin\frac\theta2\\ \sin\frac\theta2 & \cos\frac\theta2\end{pmatrix}` (real).

    Shape: ``theta`` scalar gives ``(2, 2)``; ``(B,)`` gives ``(B, 2, 2)``.
    """
    t = _angle(theta, "theta") / 2
    c, s = np.cos(t) + 0j, np.sin(t) + 0j
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def rz(theta) -> np.ndarray:
    r""":math:`R_Z(\theta) = \operatorname{diag}(e^{-i\theta/2}, e^{i\theta/2})`.

    Shape: ``theta`` scalar gives ``(2, 2)``; ``(B,)`` gives ``(B, 2, 2)``.
    """
    t = _angle(theta, "theta") / 2
    zero = np.zeros_like(t) + 0j
    return np.stack([np.stack([np.exp(-1j * t), zero], -1), np.stack([zero, np.exp(1j * t)], -1)], -2)


def rot(phi, theta, omega) -> np.ndarray:
    r""":math:`\mathrm{Rot}(\phi, \theta, \omega) = R_Z(\omega)\,R_Y(\theta)\,R_Z(\phi)`: any one-qubit rotation.

    Three Euler angles reach every :math:`2 \times 2` unitary up to a global phase, which is why
    variational circuits use this gate as their trainable block (PennyLane's ``qml.Rot``).

    Shape: scalars give ``(2, 2)``; any ``(B,)`` argument gives ``(B, 2, 2)``.

    Example:
        >>> np.allclose(rot(0.0, np.pi, 0.0), ry(np.pi))
        True
    """
    return rz(omega) @ ry(theta) @ rz(phi)


def apply_gate(state, gate, wire: int) -> np.ndarray:
    r"""Apply a one-qubit gate to ``wire``: :math:`|\psi\rangle \mapsto (I \otimes U_{\text{wire}} \otimes I)|\psi\rangle`.

    Args:
        state: ``(2**n,)`` or a batch ``(B, 2**n)``.
        gate: ``(2, 2)``, or one gate per batch element ``(B, 2, 2)``.
        wire: the qubit, 0 being the most significant bit of the index.

    Returns:
        the new state; batched if ``state`` or ``gate`` was.

    Example:
        >>> np.round(apply_gate(zero_state(2), ry(np.pi), 1).real, 6)  # |00> -> |01>
        array([0., 1., 0., 0.])
    """
    state = _state(state)
    n = n_wires_of(state)
    wire = _wire(wire, n)
    gate = np.asarray(gate)
    if gate.dtype.kind not in "biufc":
        raise TypeError(f"gate must hold numbers, got dtype {gate.dtype}")
    gate = gate.astype(np.complex128, copy=False)
    if gate.shape[-2:] != (2, 2) or gate.ndim not in (2, 3):
        raise ValueError(f"gate must have shape (2, 2) or (B, 2, 2), got {gate.shape}")
    if not np.all(np.isfinite(gate)):
        raise ValueError("gate contains NaN or inf")
    batched = state.ndim == 2 or gate.ndim == 3
    psi = state.reshape((-1,) + (2,) * n)                      # (B, 2, ..., 2)
    g = gate.reshape((-1,) + (1,) * (n - 1) + (2, 2))          # (B, 1, ..., 1, 2, 2)
    if psi.shape[0] != g.shape[0] and 1 not in (psi.shape[0], g.shape[0]):
        raise ValueError(f"state batch {psi.shape[0]} and gate batch {g.shape[0]} differ")
    psi = np.moveaxis(psi, wire + 1, -1)                       # (B, ..., 2): the wire's axis last
    out = (g @ psi[..., None])[..., 0]
    out = np.moveaxis(out, -1, wire + 1).reshape(out.shape[0], 2 ** n)
    return out if batched else out[0]


def apply_cnot(state, control: int, target: int) -> np.ndarray:
    r"""CNOT: flip ``target`` where ``control`` is 1, i.e. :math:`|c, t\rangle \mapsto |c, t \oplus c\rangle`.

    Shape: the state's shape is kept.

    Example:
        >>> s = apply_gate(zero_state(2), ry(np.pi), 0)           # |10>
        >>> np.round(apply_cnot(s, 0, 1).real, 6)                  # |11>
        array([0., 0., 0., 1.])
    """
    state = _state(state)
    n = n_wires_of(state)
    control, target = _wire(control, n, "control"), _wire(target, n, "target")
    if control == target:
        raise ValueError(f"control and target must be different wires, got {control} for both")
    psi = state.reshape((-1,) + (2,) * n).copy()               # (B, 2, ..., 2)
    where = [slice(None)] * (n + 1)
    where[control + 1] = 1
    # in the slice with the control bit fixed, the target's axis moves left by one if it came after
    axis = target + 1 - (1 if target > control else 0)
    psi[tuple(where)] = np.flip(psi[tuple(where)], axis=axis)
    return psi.reshape(state.shape)


# -------------------------------------------------------------- measurement
def probabilities(state) -> np.ndarray:
    r"""Born rule: :math:`p_k = |\psi_k|^2`, the probability of reading basis state :math:`k`."""
    state = _state(state)
    return np.abs(state) ** 2


def _signs(n: int, wires) -> np.ndarray:
    """(+1 or -1) for each basis index: the eigenvalue of the product of Z on ``wires``."""
    k = np.arange(2 ** n)
    parity = np.zeros(2 ** n, dtype=np.int64)
    for w in wires:
        parity ^= (k >> (n - 1 - w)) & 1
    return 1.0 - 2.0 * parity


def _wires(wires, n: int) -> tuple[int, ...]:
    if isinstance(wires, (int, np.integer)) and not isinstance(wires, bool):
        wires = (int(wires),)
    if isinstance(wires, (str, bytes)) or not hasattr(wires, "__iter__"):
        raise TypeError(f"wires must be an int or a sequence of ints, got {type(wires).__name__}")
    wires = tuple(wires)
    if not wires:
        raise ValueError("wires must name at least one qubit")
    for w in wires:
        _wire(w, n, "wires")
    if len(set(wires)) != len(wires):
        raise ValueError(f"wires must be distinct, got {wires}")
    return wires


def expval_z(state, wires=0) -> np.ndarray | float:
    r"""Exact expectation :math:`\langle\psi| Z_{w_1} Z_{w_2} \cdots |\psi\rangle` of a product of Pauli-Z.

    Each basis state is an eigenvector of :math:`Z_w` with eigenvalue :math:`+1` if bit :math:`w` is 0
    and :math:`-1` if it is 1, so the expectation is :math:`\sum_k p_k \prod_w (1 - 2 b_w(k))`.

    Args:
        state: ``(2**n,)`` or ``(B, 2**n)``.
        wires: one wire or a sequence of distinct wires (all of them give the *global* observable).

    Returns:
        a float, or ``(B,)`` for a batch.
    """
    state = _state(state)
    n = n_wires_of(state)
    value = probabilities(state) @ _signs(n, _wires(wires, n))
    return float(value) if np.ndim(value) == 0 else value


def sample_expval_z(state, wires=0, shots: int = 1000, rng=None) -> np.ndarray | float:
    r"""The estimate of :math:`\langle Z \cdots Z\rangle` that ``shots`` measurements give: the mean of the ±1 outcomes.

    Each shot reads a basis state :math:`k` with probability :math:`p_k`; the estimate is unbiased and
    its variance is :math:`(1 - \langle Z\rangle^2)/\text{shots}` (see :func:`shot_noise_variance`).

    Args:
        state: ``(2**n,)`` or ``(B, 2**n)``.
        wires: as in :func:`expval_z`.
        shots: measurements per state (``>= 1``).
        rng: a Generator, an int seed or None (nblib's generator).
    """
    state = _state(state)
    n = n_wires_of(state)
    signs = _signs(n, _wires(wires, n))
    shots = _checks.integer(shots, "shots", minimum=1)
    gen = _rng.resolve(rng)
    p = probabilities(state)
    norm = p.sum(axis=-1, keepdims=True)
    if np.any(norm == 0):
        raise ValueError("state must not be the zero vector: it has no outcome probabilities")
    p = p / norm
    counts = gen.multinomial(shots, p)                         # (B, 2**n) or (2**n,)
    value = counts @ signs / shots
    return float(value) if np.ndim(value) == 0 else value


def shot_noise_variance(expval, shots: int) -> np.ndarray | float:
    r"""Variance of a ``shots``-sample estimate of a ±1 observable with mean ``expval``: :math:`(1 - \langle Z\rangle^2)/S`."""
    e = _checks.as_array(expval, "expval", dtype=np.float64)
    if np.any(np.abs(e) > 1 + 1e-12):
        raise ValueError("expval must lie in [-1, 1]")
    shots = _checks.integer(shots, "shots", minimum=1)
    value = (1.0 - np.clip(e, -1, 1) ** 2) / shots
    return float(value) if value.ndim == 0 else value


def bloch_vector(state) -> np.ndarray:
    r"""The Bloch vector :math:`(\langle X\rangle, \langle Y\rangle, \langle Z\rangle)` of one qubit.

    For :math:`|\psi\rangle = a|0\rangle + b|1\rangle`: :math:`\langle X\rangle = 2\,\mathrm{Re}(\bar a b)`,
    :math:`\langle Y\rangle = 2\,\mathrm{Im}(\bar a b)`, :math:`\langle Z\rangle = |a|^2 - |b|^2`. A pure
    state's vector has length 1; :math:`|0\rangle` is the north pole, :math:`|1\rangle` the south pole.

    Shape: ``(2,)`` gives ``(3,)``; ``(B, 2)`` gives ``(B, 3)``.
    """
    state = _state(state)
    if n_wires_of(state) != 1:
        raise ValueError(f"bloch_vector needs a one-qubit state (2 amplitudes), got shape {state.shape}")
    a, b = state[..., 0], state[..., 1]
    ab = np.conj(a) * b
    return np.stack([2 * ab.real, 2 * ab.imag, np.abs(a) ** 2 - np.abs(b) ** 2], -1)


# ---------------------------------------------------- the variational circuit
def weight_shapes(n_layers: int, n_wires: int) -> dict[str, tuple[int, int, int]]:
    """Shapes of the trainable arrays of the layered circuit, as ``qml.qnn.TorchLayer`` wants them.

    Each layer has one ``Rot`` (three angles) per wire: ``{"weights": (n_layers, n_wires, 3)}``.

    Example:
        >>> weight_shapes(4, 2)
        {'weights': (4, 2, 3)}
    """
    n_layers = _checks.integer(n_layers, "n_layers", minimum=1)
    n_wires = _checks.integer(n_wires, "n_wires", minimum=1)
    return {"weights": (n_layers, n_wires, 3)}


def _circuit_args(inputs, weights):
    weights = _checks.as_array(weights, "weights", dtype=np.float64)
    if weights.ndim != 3 or weights.shape[2] != 3 or not 1 <= weights.shape[1] <= 20 or weights.shape[0] < 1:
        raise ValueError(f"weights must have shape (n_layers >= 1, n_wires in 1..20, 3), got {weights.shape}")
    if inputs is None:
        return None, weights
    inputs = _checks.as_array(inputs, "inputs", dtype=np.float64)
    if inputs.ndim not in (1, 2) or inputs.shape[-1] < 1:
        raise ValueError(f"inputs must have shape (features,) or (B, features), got {inputs.shape}")
    return inputs, weights


def simulate_circuit(inputs, weights, *, reupload: bool = True, measure: str = "first") -> np.ndarray | float:
    r"""The layered variational circuit of this chapter, simulated in NumPy (the reference for :func:`make_qnode`).

    For each layer :math:`\ell`: encode the features as angles, :math:`R_Y(x_{i \bmod d})` on wire
    :math:`i` (every layer if ``reupload``, else only before the first); apply
    :math:`\mathrm{Rot}(w_{\ell i 0}, w_{\ell i 1}, w_{\ell i 2})` on every wire; entangle with a chain of
    CNOTs :math:`0 \to 1 \to \dots \to n-1`. Then measure.

    Args:
        inputs: feature angles ``(d,)`` or ``(B, d)``, or None for no encoding.
        weights: ``(n_layers, n_wires, 3)``.
        reupload: encode the inputs before every layer (data re-uploading) or once.
        measure: ``"first"`` :math:`\langle Z_0\rangle`; ``"each"`` every :math:`\langle Z_i\rangle`;
            ``"global"`` :math:`\langle Z_0 Z_1 \cdots Z_{n-1}\rangle`.

    Shape:
        a float or ``(B,)``; for ``"each"`` ``(n_wires,)`` or ``(B, n_wires)``.
    """
    inputs, weights = _circuit_args(inputs, weights)
    if measure not in MEASUREMENTS:
        raise ValueError(f"measure must be one of {MEASUREMENTS}, got {measure!r}")
    n_layers, n = weights.shape[:2]
    batch = None if inputs is None or inputs.ndim == 1 else len(inputs)
    state = zero_state(n, batch)
    for layer in range(n_layers):
        if inputs is not None and (reupload or layer == 0):
            for i in range(n):
                state = apply_gate(state, ry(inputs[..., i % inputs.shape[-1]]), i)
        for i in range(n):
            state = apply_gate(state, rot(*weights[layer, i]), i)
        for i in range(n - 1):
            state = apply_cnot(state, i, i + 1)
    if measure == "first":
        return expval_z(state, 0)
    if measure == "global":
        return expval_z(state, tuple(range(n)))
    return np.stack([np.asarray(expval_z(state, i)) for i in range(n)], -1)


def _pennylane_circuit(qml, inputs, weights, n_wires: int, reupload: bool, measure: str):
    """The operations of :func:`simulate_circuit`, queued on the active PennyLane tape."""
    n_layers = weights.shape[-3]
    for layer in range(n_layers):
        if inputs is not None and (reupload or layer == 0):
            for i in range(n_wires):
                qml.RY(inputs[..., i % inputs.shape[-1]], wires=i)
        for i in range(n_wires):
            qml.Rot(weights[..., layer, i, 0], weights[..., layer, i, 1], weights[..., layer, i, 2], wires=i)
        for i in range(n_wires - 1):
            qml.CNOT(wires=[i, i + 1])
    if measure == "first":
        return qml.expval(qml.Z(0))
    parity = qml.prod(*(qml.Z(i) for i in range(n_wires))) if n_wires > 1 else qml.Z(0)
    if measure == "global":
        return qml.expval(parity)
    if measure == "plateau":  # both costs of gradient_samples from one run
        return [qml.expval(parity), qml.expval(qml.Z(0))]
    return [qml.expval(qml.Z(i)) for i in range(n_wires)]


def make_qnode(n_wires: int, *, reupload: bool = True, measure: str = "first", interface: str = "torch",
               diff_method: str = "backprop", shots: int | None = None, seed: int | None = None):
    r"""The circuit of :func:`simulate_circuit` as a PennyLane QNode on ``default.qubit``.

    The QNode is called as ``qnode(inputs, weights)``; ``inputs`` may be None (no encoding, used for
    barren plateaus) or a batch ``(B, d)``, in which case PennyLane's *parameter broadcasting*
    simulates the ``B`` circuits in one pass. ``weights`` ``(n_layers, n_wires, 3)`` may carry a
    leading batch dimension too. The argument names are those ``qml.qnn.TorchLayer`` needs.

    Args:
        n_wires: qubits.
        reupload, measure: as in :func:`simulate_circuit`.
        interface: ``"torch"``, ``"autograd"``, ``"numpy"``...
        diff_method: ``"backprop"`` (differentiate the simulation) or ``"parameter-shift"``
            (two shifted circuit runs per parameter, what hardware must do).
        shots: None for exact expectations, or the number of measurements per expectation.
        seed: the device's seed for sampling shots.

    Example:
        >>> qnode = make_qnode(2, interface="numpy")                           # doctest: +SKIP
        >>> qnode(np.array([0.3, -0.2]), np.zeros((1, 2, 3)))                   # doctest: +SKIP
    """
    import pennylane as qml

    n_wires = _checks.integer(n_wires, "n_wires", minimum=1)
    if measure not in MEASUREMENTS + ("plateau",):
        raise ValueError(f"measure must be one of {MEASUREMENTS}, got {measure!r}")
    if diff_method not in ("backprop", "parameter-shift", "adjoint", "finite-diff", "best"):
        raise ValueError(f"diff_method must be 'backprop' or 'parameter-shift' (or another PennyLane method), "
                         f"got {diff_method!r}")
    if seed is not None and not isinstance(seed, np.random.Generator):
        seed = _checks.integer(seed, "seed", minimum=0)
    if shots is not None:
        shots = _checks.integer(shots, "shots", minimum=1)
        if diff_method == "backprop":
            raise ValueError("backprop differentiates exact expectations: use shots=None or "
                             "diff_method='parameter-shift'")
    dev = qml.device("default.qubit", wires=n_wires, seed=seed)

    def circuit(inputs, weights):
        return _pennylane_circuit(qml, inputs, weights, n_wires, reupload, measure)

    return qml.QNode(circuit, dev, interface=interface, diff_method=diff_method, shots=shots)


# ------------------------------------------------------ gradients by shifting
def parameter_shift(f, params, shift: float = math.pi / 2) -> np.ndarray:
    r"""Gradient of ``f`` by the parameter-shift rule, all shifts evaluated in one batched call.

    For a gate :math:`e^{-i\theta P/2}` with :math:`P` a Pauli operator, an expectation is
    :math:`a + b\cos\theta + c\sin\theta` in :math:`\theta`, so the *exact* derivative is

    .. math:: \frac{\partial f}{\partial\theta} = \frac{f(\theta + s) - f(\theta - s)}{2\sin s},\qquad s = \pi/2
              \text{ gives } \frac{f(\theta + \tfrac\pi2) - f(\theta - \tfrac\pi2)}{2}.

    Unlike a finite difference the shift is large, so on hardware the two values differ by far more
    than their shot noise.

    Args:
        f: maps a batch of parameter arrays ``(M, *params.shape)`` to values ``(M,)``; every
            parameter must enter through one Pauli rotation (RX, RY, RZ, or an angle of Rot).
        params: the point, any shape.
        shift: :math:`s`, not a multiple of :math:`\pi`.

    Returns:
        the gradient, shape of ``params``.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    params = _checks.as_array(params, "params", dtype=np.float64)
    shift = _checks.as_real(shift, "shift")
    if abs(math.sin(shift)) < 1e-6:
        raise ValueError(f"shift must not be a multiple of pi (sin(shift) = 0), got {shift}")
    p = params.size
    eye = np.eye(p).reshape((p,) + params.shape) * shift       # (P, *shape)
    batch = np.concatenate([params + eye, params - eye])       # (2P, *shape)
    values = np.asarray(f(batch), dtype=np.float64).reshape(-1)
    if values.shape[0] != 2 * p:
        raise ValueError(f"f must return one value per batch element ({2 * p}), got shape {values.shape}")
    return ((values[:p] - values[p:]) / (2 * math.sin(shift))).reshape(params.shape)


def gradient_samples(n_wires: int, n_layers: int, *, n_samples: int = 200, rng=None) -> dict[str, np.ndarray]:
    r"""Samples of :math:`\partial C/\partial\theta` at random initialisations, for barren-plateau plots.

    The circuit is :func:`make_qnode`'s layered ansatz with no inputs and weights drawn uniformly from
    :math:`[0, 2\pi)`; :math:`\theta` is the :math:`R_Y` angle of wire 0 in the first layer. Two costs
    are measured on the same circuits: the **global** parity :math:`\langle Z_0 Z_1 \cdots Z_{n-1}\rangle`,
    which involves every qubit, and the **local** :math:`\langle Z_0\rangle`, which involves one. The
    derivative is taken with the parameter-shift rule; all :math:`2 \times` ``n_samples`` shifted
    circuits run as one broadcast batch on ``default.qubit``.

    McClean et al. (2018): for deep random circuits the variance of such derivatives falls exponentially
    with :math:`n`; Cerezo et al. (2021): with a global cost it does so even for shallow circuits, while a
    local cost keeps it at most polynomial when the circuit is shallow.

    Args:
        n_wires: qubits (2 to 16).
        n_layers: layers of Rot gates and CNOT chains.
        n_samples: random initialisations.
        rng: a Generator, an int seed or None.

    Returns:
        ``{"global": (n_samples,), "local": (n_samples,)}``; each has mean about 0, and its variance
        measures the plateau.
    """
    n_wires = _checks.integer(n_wires, "n_wires", minimum=2)
    if n_wires > 16:
        raise ValueError(f"n_wires must be at most 16 here (each sample holds 2**n_wires amplitudes), got {n_wires}")
    n_layers = _checks.integer(n_layers, "n_layers", minimum=1)
    n_samples = _checks.integer(n_samples, "n_samples", minimum=2)
    gen = _rng.resolve(rng)
    weights = gen.uniform(0, 2 * np.pi, (n_samples, n_layers, n_wires, 3))
    shifted = np.concatenate([weights, weights])               # (2S, L, n, 3)
    shifted[:n_samples, 0, 0, 1] += np.pi / 2
    shifted[n_samples:, 0, 0, 1] -= np.pi / 2
    qnode = make_qnode(n_wires, measure="plateau", interface="numpy", diff_method="parameter-shift")
    parity, z0 = (np.asarray(v, dtype=np.float64) for v in qnode(None, shifted))   # (2S,) each
    return {"global": (parity[:n_samples] - parity[n_samples:]) / 2,
            "local": (z0[:n_samples] - z0[n_samples:]) / 2}


def gradient_sweep(qubits, layers, *, n_samples: int = 200, rng=None) -> dict[str, np.ndarray]:
    """:func:`gradient_samples` over a grid of qubit counts and depths, for plots and the explorer.

    Args:
        qubits, layers: sequences of qubit counts (``>= 2``) and layer counts (``>= 1``).
        n_samples: random initialisations per grid point.
        rng: a Generator, an int seed or None; one stream is used for the whole grid.

    Shape:
        ``{"global": (len(qubits), len(layers), n_samples), "local": ...}``.
    """
    for name, seq in (("qubits", qubits), ("layers", layers)):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__iter__"):
            raise TypeError(f"{name} must be a sequence of ints, got {type(seq).__name__}")
    n_samples = _checks.integer(n_samples, "n_samples", minimum=2)
    qubits = [_checks.integer(q, "qubits", minimum=2) for q in qubits]
    layers = [_checks.integer(L, "layers", minimum=1) for L in layers]
    if not qubits or not layers:
        raise ValueError("qubits and layers must be non-empty")
    gen = _rng.resolve(rng)
    out = {c: np.empty((len(qubits), len(layers), n_samples)) for c in ("global", "local")}
    for i, n in enumerate(qubits):
        for j, L in enumerate(layers):
            samples = gradient_samples(n, L, n_samples=n_samples, rng=gen)
            for c in out:
                out[c][i, j] = samples[c]
    return out


def decay_rate(n_wires, variances) -> tuple[float, float]:
    r"""Fit :math:`\operatorname{Var} \approx A\,e^{-r n}` by least squares on :math:`\log\operatorname{Var}`.

    Returns:
        ``(r, A)``; :math:`e^{r}` is the factor the variance loses per added qubit (2 for :math:`2^{-n}`).
    """
    n = _checks.as_array(n_wires, "n_wires", ndim=1, dtype=np.float64)
    v = _checks.as_array(variances, "variances", ndim=1, dtype=np.float64)
    if len(n) != len(v) or len(n) < 2:
        raise ValueError(f"n_wires and variances need the same length >= 2, got {len(n)} and {len(v)}")
    if np.any(v <= 0):
        raise ValueError("variances must be positive to fit on a log scale")
    slope, intercept = np.polyfit(n, np.log(v), 1)
    return float(-slope), float(np.exp(intercept))


# ------------------------------------------------------------------ training
def fit_full_batch(forward, params, X, targets, *, epochs: int, lr: float) -> list[float]:
    r"""Train by full-batch Adam on the square loss :math:`\frac1N\sum_i (f(x_i) - t_i)^2`.

    Small enough to treat every model of the chapter alike: a QNode plus a bias, a hybrid
    ``nn.Module`` or an MLP. Targets are :math:`\pm 1`; a positive score predicts class 1.

    Args:
        forward: maps the input tensor ``(N, d)`` to scores ``(N,)`` or ``(N, 1)``.
        params: the tensors to train (``requires_grad``).
        X, targets: torch tensors ``(N, d)`` and ``(N,)``.
        epochs: Adam steps on the whole set.
        lr: Adam's learning rate.

    Returns:
        the loss before each step.
    """
    import torch

    if not callable(forward):
        raise TypeError(f"forward must be callable, got {type(forward).__name__}")
    epochs = _checks.integer(epochs, "epochs", minimum=1)
    lr = _checks.positive(lr, "lr")
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be an iterable of tensors, got {type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError("params is empty: nothing to train")
    if not all(isinstance(p, torch.Tensor) and p.is_floating_point() for p in params):
        raise TypeError("params must hold floating-point torch tensors")
    if not any(p.requires_grad for p in params):
        raise ValueError("params: none of the tensors has requires_grad=True, so nothing would train")
    for value, name, ndim in ((X, "X", 2), (targets, "targets", 1)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch tensor, got {type(value).__name__}")
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
        if value.dim() != ndim:
            raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(value.shape)}")
        if not torch.isfinite(value).all():
            raise ValueError(f"{name} contains NaN or inf")
    if len(X) == 0 or len(targets) != len(X):
        raise ValueError(f"X and targets must have the same, nonzero number of rows, got {len(X)} and "
                         f"{len(targets)}")
    opt = torch.optim.Adam(params, lr=lr)
    history = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = ((forward(X).reshape(-1) - targets) ** 2).mean()
        loss.backward()
        opt.step()
        history.append(float(loss.detach()))
    return history
