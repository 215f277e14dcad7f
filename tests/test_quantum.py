"""nblib.quantum: the NumPy state-vector simulator against hand-worked cases and dense matrices,
PennyLane's circuits against the simulator, and gradients against each other."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.gradcheck import numerical_grad
from nblib.quantum import (apply_cnot, apply_gate, bloch_vector, decay_rate, expval_z, n_wires_of,
                           parameter_shift, probabilities, rot, rx, ry, rz, sample_expval_z,
                           shot_noise_variance, simulate_circuit, weight_shapes, zero_state)

X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0 + 0j, -1.0])
I2 = np.eye(2, dtype=complex)


def _random_state(n, rng):
    v = rng.normal(size=2 ** n) + 1j * rng.normal(size=2 ** n)
    return v / np.linalg.norm(v)


def _dense(gate, wire, n):
    """The full 2^n x 2^n matrix of a one-qubit gate on ``wire`` (wire 0 = most significant bit)."""
    out = np.eye(1)
    for w in range(n):
        out = np.kron(out, gate if w == wire else I2)
    return out


def _dense_cnot(control, target, n):
    m = np.zeros((2 ** n, 2 ** n))
    for k in range(2 ** n):
        bits = [(k >> (n - 1 - w)) & 1 for w in range(n)]
        if bits[control]:
            bits[target] ^= 1
        m[int("".join(map(str, bits)), 2), k] = 1
    return m


# ------------------------------------------------------------------ gates
@pytest.mark.parametrize("gate, pauli", [(rx, X), (ry, Y), (rz, Z)], ids=["RX", "RY", "RZ"])
def test_rotations_are_exponentials_of_paulis(gate, pauli):
    for theta in (0.0, 0.3, -1.7, np.pi):
        expected = math.cos(theta / 2) * I2 - 1j * math.sin(theta / 2) * pauli   # exp(-i theta P / 2)
        assert_allclose(gate(theta), expected, atol=1e-15)
        assert_allclose(gate(theta) @ gate(theta).conj().T, I2, atol=1e-14)


def test_rot_is_rz_ry_rz_and_broadcasts():
    phi, theta, omega = 0.2, -0.9, 1.4
    assert_allclose(rot(phi, theta, omega), rz(omega) @ ry(theta) @ rz(phi), atol=1e-15)
    batch = rot(np.array([phi, 0.0]), np.array([theta, 0.0]), omega)
    assert batch.shape == (2, 2, 2)
    assert_allclose(batch[0], rot(phi, theta, omega), atol=1e-15)
    assert_allclose(batch[1], rz(omega), atol=1e-15)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_apply_gate_matches_the_dense_kronecker_product(n):
    rng = np.random.default_rng(n)
    state = _random_state(n, rng)
    gate = rot(*rng.uniform(0, 2 * np.pi, 3))
    for wire in range(n):
        assert_allclose(apply_gate(state, gate, wire), _dense(gate, wire, n) @ state, atol=1e-13)


def test_apply_gate_batches_states_and_gates():
    rng = np.random.default_rng(0)
    states = np.stack([_random_state(3, rng) for _ in range(4)])
    thetas = rng.uniform(0, 2 * np.pi, 4)
    out = apply_gate(states, ry(thetas), 1)
    for b in range(4):
        assert_allclose(out[b], _dense(ry(thetas[b]), 1, 3) @ states[b], atol=1e-13)
    # one gate for a batch of states, and a batch of gates for one state
    assert_allclose(apply_gate(states, rx(0.3), 2)[1], apply_gate(states[1], rx(0.3), 2), atol=1e-15)
    assert_allclose(apply_gate(states[0], ry(thetas), 0)[2], apply_gate(states[0], ry(thetas[2]), 0), atol=1e-15)


@pytest.mark.parametrize("control, target", [(0, 1), (1, 0), (0, 2), (2, 1), (1, 3)])
def test_cnot_matches_the_dense_permutation(control, target):
    n = 4
    state = _random_state(n, np.random.default_rng(control * 10 + target))
    assert_allclose(apply_cnot(state, control, target), _dense_cnot(control, target, n) @ state, atol=1e-15)
    # CNOT is its own inverse
    assert_allclose(apply_cnot(apply_cnot(state, control, target), control, target), state, atol=1e-15)


def test_bell_state_by_hand():
    bell = apply_cnot(apply_gate(zero_state(2), ry(np.pi / 2), 0), 0, 1)
    assert_allclose(bell, np.array([1, 0, 0, 1]) / np.sqrt(2), atol=1e-15)
    assert abs(expval_z(bell, 0)) < 1e-15 and abs(expval_z(bell, 1)) < 1e-15
    assert expval_z(bell, (0, 1)) == pytest.approx(1.0)


# ------------------------------------------------------------ measurement
def test_expval_z_is_the_expectation_of_the_dense_observable():
    rng = np.random.default_rng(3)
    state = _random_state(3, rng)
    for wires in [0, 1, 2, (0, 2), (0, 1, 2)]:
        obs = np.eye(1)
        ws = (wires,) if isinstance(wires, int) else wires
        for w in range(3):
            obs = np.kron(obs, Z if w in ws else I2)
        assert expval_z(state, wires) == pytest.approx((state.conj() @ obs @ state).real, abs=1e-14)
    assert probabilities(state).sum() == pytest.approx(1.0)


def test_bloch_vector_matches_pauli_expectations_and_has_unit_length():
    rng = np.random.default_rng(4)
    for _ in range(5):
        s = _random_state(1, rng)
        expected = [(s.conj() @ P @ s).real for P in (X, Y, Z)]
        assert_allclose(bloch_vector(s), expected, atol=1e-14)
        assert np.linalg.norm(bloch_vector(s)) == pytest.approx(1.0)
    assert_allclose(bloch_vector(apply_gate(zero_state(1), ry(np.pi / 2), 0)), [1, 0, 0], atol=1e-15)
    assert_allclose(bloch_vector(apply_gate(zero_state(1), rx(np.pi / 2), 0)), [0, -1, 0], atol=1e-15)


def test_sampled_expectation_is_unbiased_with_the_predicted_spread():
    state = apply_gate(zero_state(1, batch=4000), ry(1.0), 0)
    estimates = sample_expval_z(state, 0, shots=100, rng=0)                   # (4000,)
    sigma = math.sqrt(shot_noise_variance(math.cos(1.0), 100))
    assert abs(estimates.mean() - math.cos(1.0)) < 4 * sigma / math.sqrt(4000)
    assert estimates.std() == pytest.approx(sigma, rel=0.06)                  # 4000 samples: ~1% error on s.d.
    assert np.all(np.abs(estimates) <= 1)
    # a basis state gives its eigenvalue on every shot
    assert sample_expval_z(zero_state(2), (0, 1), shots=10, rng=0) == 1.0


def test_sampling_is_seeded():
    state = apply_gate(zero_state(2), ry(0.7), 1)
    assert sample_expval_z(state, 1, shots=50, rng=5) == sample_expval_z(state, 1, shots=50, rng=5)


# ------------------------------------------------------- circuit and grads
def test_simulate_circuit_shapes_and_a_hand_worked_case():
    # one wire, one layer, no rotation: <Z> = cos(x) after RY(x)
    w = np.zeros((1, 1, 3))
    assert simulate_circuit(np.array([0.8]), w) == pytest.approx(math.cos(0.8))
    batch = simulate_circuit(np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]), np.zeros((2, 3, 3)), measure="each")
    assert batch.shape == (3, 3)
    assert weight_shapes(4, 2) == {"weights": (4, 2, 3)}


def test_re_uploading_reaches_higher_frequencies():
    # on one wire, L re-uploading layers give a trigonometric polynomial of degree L in x
    rng = np.random.default_rng(0)
    x = np.linspace(0, 2 * np.pi, 64, endpoint=False)[:, None]
    for layers, reupload, degree in [(3, False, 1), (3, True, 3)]:
        f = simulate_circuit(x, rng.uniform(0, 2 * np.pi, (layers, 1, 3)), reupload=reupload)
        spectrum = np.abs(np.fft.rfft(f)) / len(f)
        assert spectrum[degree] > 1e-6
        assert spectrum[degree + 1:].max() < 1e-12


def test_parameter_shift_is_exact_for_a_sinusoid_and_matches_finite_differences():
    rng = np.random.default_rng(1)
    x, w = np.array([0.4, -1.1]), rng.uniform(0, 2 * np.pi, (2, 2, 3))
    f_batch = lambda W: np.array([simulate_circuit(x, Wi) for Wi in W])       # (M,)
    shift = parameter_shift(f_batch, w)
    assert_allclose(shift, numerical_grad(lambda W: simulate_circuit(x, W), w), atol=1e-8)
    # any shift s (not a multiple of pi) gives the same, exact derivative
    assert_allclose(parameter_shift(f_batch, w, shift=0.3), shift, atol=1e-12)


def test_decay_rate_recovers_an_exponential():
    n = np.arange(2, 11)
    rate, amplitude = decay_rate(n, 0.7 * 2.0 ** -n)
    assert rate == pytest.approx(math.log(2))
    assert amplitude == pytest.approx(0.7)


# ------------------------------------------------------------- validation
@pytest.mark.parametrize("call, match", [
    (lambda: zero_state(0), "n_wires"),
    (lambda: apply_gate(zero_state(2), rx(0.1), 2), "wire"),
    (lambda: apply_gate(np.ones(3), rx(0.1), 0), "power of 2"),
    (lambda: apply_gate(zero_state(1), np.eye(3), 0), "gate"),
    (lambda: apply_cnot(zero_state(2), 1, 1), "different"),
    (lambda: expval_z(zero_state(2), (0, 0)), "distinct"),
    (lambda: sample_expval_z(zero_state(1), 0, shots=0), "shots"),
    (lambda: bloch_vector(zero_state(2)), "one-qubit"),
    (lambda: simulate_circuit([0.1], np.zeros((2, 3))), "weights"),
    (lambda: simulate_circuit([0.1], np.zeros((1, 1, 3)), measure="all"), "measure"),
    (lambda: parameter_shift(lambda W: W.sum(axis=1), np.zeros(2), shift=np.pi), "shift"),
    (lambda: decay_rate([1, 2], [0.1, 0.0]), "positive"),
    (lambda: rx(np.zeros((2, 2))), "theta"),
    (lambda: apply_gate(np.array([np.nan, 1.0]), rx(0.1), 0), "state"),
    (lambda: sample_expval_z(np.zeros(2), 0, shots=5), "zero vector"),
    (lambda: simulate_circuit([0.1], np.zeros((1, 0, 3))), "weights"),
], ids=["zero-wires", "wire-range", "not-power-of-2", "gate-shape", "cnot-same-wire", "repeated-wires",
        "zero-shots", "bloch-two-qubits", "weights-shape", "measure-name", "shift-multiple-of-pi",
        "nonpositive-variance", "angle-2d",
        "nan-state", "zero-state-vector", "no-wires"])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_n_wires_of_reads_the_state_size():
    assert n_wires_of(zero_state(3)) == 3 and n_wires_of(zero_state(2, batch=5)) == 2


def test_type_errors():
    with pytest.raises(TypeError, match="f must be callable"):
        parameter_shift(3, np.zeros(2))
    with pytest.raises(TypeError, match="state"):
        apply_gate(np.array(["a", "b"]), rx(0.1), 0)


# ------------------------------------------------------ PennyLane against us
qml = pytest.importorskip("pennylane")


@pytest.mark.parametrize("reupload", [True, False], ids=["reupload", "encode-once"])
@pytest.mark.parametrize("measure", ["first", "each", "global"])
def test_pennylane_circuit_matches_the_numpy_simulator(reupload, measure):
    from nblib.quantum import make_qnode

    rng = np.random.default_rng(7)
    inputs, weights = rng.uniform(-np.pi, np.pi, (6, 2)), rng.uniform(0, 2 * np.pi, (3, 3, 3))
    out = make_qnode(3, reupload=reupload, measure=measure, interface="numpy")(inputs, weights)
    out = np.stack(out, -1) if measure == "each" else np.asarray(out)
    assert_allclose(out, simulate_circuit(inputs, weights, reupload=reupload, measure=measure), atol=1e-12)


def test_pennylane_state_matches_ours():
    angles = np.random.default_rng(8).uniform(0, 2 * np.pi, 4)

    @qml.qnode(qml.device("default.qubit", wires=2))
    def circuit():
        qml.RX(angles[0], wires=0)
        qml.RY(angles[1], wires=1)
        qml.CNOT(wires=[1, 0])
        qml.Rot(angles[1], angles[2], angles[3], wires=1)
        return qml.state()

    ours = apply_gate(apply_gate(zero_state(2), rx(angles[0]), 0), ry(angles[1]), 1)
    ours = apply_gate(apply_cnot(ours, 1, 0), rot(angles[1], angles[2], angles[3]), 1)
    assert_allclose(circuit(), ours, atol=1e-13)


def test_parameter_shift_matches_backprop_and_pennylanes_parameter_shift():
    torch = pytest.importorskip("torch")
    from nblib.quantum import make_qnode

    rng = np.random.default_rng(9)
    x, w = np.array([0.3, 1.2]), rng.uniform(0, 2 * np.pi, (3, 2, 3))
    grads = []
    for method in ("backprop", "parameter-shift"):
        wt = torch.tensor(w, requires_grad=True)
        make_qnode(2, diff_method=method)(torch.tensor(x), wt).backward()
        grads.append(wt.grad.numpy())
    ours = parameter_shift(lambda W: make_qnode(2, interface="numpy")(x, W), w)
    fd = numerical_grad(lambda W: simulate_circuit(x, W), w)
    assert_allclose(grads[1], grads[0], atol=1e-12)
    assert_allclose(ours, grads[0], atol=1e-12)
    assert_allclose(fd, grads[0], atol=1e-8)


def test_shots_give_seeded_noisy_estimates():
    from nblib.quantum import make_qnode

    w = np.zeros((1, 1, 3))
    exact = make_qnode(1, interface="numpy")(np.array([1.0]), w)
    noisy = [make_qnode(1, interface="numpy", diff_method="parameter-shift", shots=200, seed=3)(np.array([1.0]), w)
             for _ in range(2)]
    assert noisy[0] == noisy[1]                                  # same seed, same estimate
    assert abs(noisy[0] - exact) < 5 * math.sqrt(shot_noise_variance(exact, 200))
    with pytest.raises(ValueError, match="backprop"):
        make_qnode(1, shots=10)


def test_gradient_samples_agree_with_backprop_per_sample():
    torch = pytest.importorskip("torch")
    from nblib.quantum import gradient_samples, make_qnode

    g = gradient_samples(3, 2, n_samples=5, rng=0)
    weights = np.random.default_rng(0).uniform(0, 2 * np.pi, (5, 2, 3, 3))   # the same draw
    for measure, key in (("global", "global"), ("first", "local")):
        wt = torch.tensor(weights, requires_grad=True)
        make_qnode(3, measure=measure)(None, wt).sum().backward()   # samples are independent: sum gives each
        assert_allclose(g[key], wt.grad[:, 0, 0, 1].numpy(), atol=1e-12)


def test_global_cost_plateaus_and_shallow_local_cost_does_not():
    from nblib.quantum import gradient_samples

    small, large = gradient_samples(2, 8, n_samples=200, rng=0), gradient_samples(8, 8, n_samples=200, rng=1)
    assert abs(small["global"].mean()) < 0.1
    assert large["global"].var() < small["global"].var() / 10       # 2^-6 = 1/64 expected; wide margin
    shallow_small, shallow_large = gradient_samples(2, 2, n_samples=200, rng=2), gradient_samples(8, 2, n_samples=200, rng=3)
    assert shallow_large["local"].var() > shallow_small["local"].var() / 3


def test_fit_full_batch_trains_and_validates():
    torch = pytest.importorskip("torch")
    from nblib.quantum import fit_full_batch

    torch.manual_seed(0)
    Xt = torch.randn(64, 2, dtype=torch.float64)
    t = torch.sign(Xt[:, 0])
    model = torch.nn.Linear(2, 1).double()
    history = fit_full_batch(model, model.parameters(), Xt, t, epochs=100, lr=0.05)
    assert len(history) == 100 and history[-1] < history[0] / 2
    with pytest.raises(ValueError, match="params"):
        fit_full_batch(model, [], Xt, t, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        fit_full_batch(model, model.parameters(), Xt, t, epochs=1, lr=0.0)
