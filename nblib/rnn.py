r"""An Elman recurrent network in NumPy, with backpropagation through time written out.

The recurrence is torch's ``nn.RNN`` with ``nonlinearity="tanh"``:

.. math::

    h_t = \tanh(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}),

applied for ``t = 1 .. T`` from an initial state ``h_0``. Inputs are batch-first,
``(N, T, input_size)``, like ``nn.RNN(batch_first=True)``, and the parameters carry
torch's names (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``; torch adds the
layer suffix ``_l0``).

:func:`rnn_forward` and :func:`rnn_backward` are the two halves of the algorithm as
plain functions; :class:`RNN` holds the parameters and caches the forward pass for
its ``backward``. :func:`hidden_gradient_norms` and :func:`input_gradient_norms`
measure how the gradient of a loss on the last step shrinks (or grows) with the
distance back in time, for this RNN and for torch's RNN, GRU and LSTM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _checks
from . import rng as _rng


# --------------------------------------------------------------------------- checks
def _weights(weight_ih, weight_hh, bias_ih, bias_hh):
    weight_ih = _checks.as_array(weight_ih, "weight_ih", ndim=2)
    weight_hh = _checks.as_array(weight_hh, "weight_hh", ndim=2)
    hidden = weight_hh.shape[0]
    if weight_hh.shape != (hidden, hidden):
        raise ValueError(f"weight_hh must be square (hidden_size, hidden_size), got shape {weight_hh.shape}")
    if weight_ih.shape[0] != hidden:
        raise ValueError(f"weight_ih must have hidden_size = {hidden} rows (like weight_hh), "
                         f"got shape {weight_ih.shape}")
    biases = []
    for name, b in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if b is not None:
            b = _checks.as_array(b, name, ndim=1)
            if b.shape != (hidden,):
                raise ValueError(f"{name} must have shape ({hidden},), got {b.shape}")
        biases.append(b)
    return weight_ih, weight_hh, biases[0], biases[1]


def _input(x, input_size: int) -> np.ndarray:
    x = _checks.as_array(x, "input", ndim=3)
    if x.shape[2] != input_size:
        raise ValueError(f"input must have shape (N, T, {input_size}) to match weight_ih, got {x.shape}")
    if x.shape[1] == 0:
        raise ValueError("input must have at least one time step, got T = 0")
    return x


def _state(h, name: str, n: int, hidden: int, dtype) -> np.ndarray:
    if h is None:
        return np.zeros((n, hidden), dtype=dtype)
    h = _checks.as_array(h, name)
    if h.ndim == 3 and h.shape[0] == 1:  # torch's (num_layers=1, N, H)
        h = h[0]
    if h.shape != (n, hidden):
        raise ValueError(f"{name} must have shape ({n}, {hidden}) or (1, {n}, {hidden}), got {h.shape}")
    return h


# ------------------------------------------------------------------ the algorithm
def rnn_forward(input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None) -> np.ndarray:
    r"""All hidden states of a tanh RNN over a batch of sequences.

    .. math::  h_t = \tanh(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})

    Args:
        input: the sequences ``x``.
        weight_ih, weight_hh: input-to-hidden and hidden-to-hidden weights.
        bias_ih, bias_hh: the two biases (torch keeps both; only their sum matters).
        h0: the initial state; zeros when omitted.

    Shape:
        input ``(N, T, input_size)``, weight_ih ``(hidden_size, input_size)``,
        weight_hh ``(hidden_size, hidden_size)``, biases ``(hidden_size,)``,
        h0 ``(N, hidden_size)`` (or torch's ``(1, N, hidden_size)``);
        returns ``(N, T, hidden_size)``, the state after every step (torch's ``output``).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> out = rnn_forward(rng.normal(size=(4, 7, 3)), rng.normal(size=(5, 3)), rng.normal(size=(5, 5)))
        >>> out.shape
        (4, 7, 5)
    """
    weight_ih, weight_hh, bias_ih, bias_hh = _weights(weight_ih, weight_hh, bias_ih, bias_hh)
    x = _input(input, weight_ih.shape[1])
    n, steps, _ = x.shape
    hidden = weight_hh.shape[0]
    dtype = np.result_type(x, weight_ih, weight_hh, np.float32)
    h = _state(h0, "h0", n, hidden, dtype)
    drive = x @ weight_ih.T  # (N, T, H): the input's contribution, for all steps at once
    if bias_ih is not None:
        drive = drive + bias_ih
    if bias_hh is not None:
        drive = drive + bias_hh
    output = np.empty((n, steps, hidden), dtype=dtype)
    for t in range(steps):
        h = np.tanh(drive[:, t] + h @ weight_hh.T)  # (N, H)
        output[:, t] = h
    return output


@dataclass
class RNNGradients:
    """What :func:`rnn_backward` returns: the gradient of the loss with respect to each argument.

    Attributes:
        weight_ih, weight_hh, bias_ih, bias_hh: parameter gradients (same shapes as the parameters).
        input: ``(N, T, input_size)``, the gradient with respect to every input step.
        h0: ``(N, hidden_size)``, the gradient with respect to the initial state.
        hidden: ``(N, T, hidden_size)``, the *total* gradient with respect to each state
            :math:`h_t`, through every later step: the quantity that vanishes or explodes.
    """

    weight_ih: np.ndarray
    weight_hh: np.ndarray
    bias_ih: np.ndarray
    bias_hh: np.ndarray
    input: np.ndarray
    h0: np.ndarray
    hidden: np.ndarray

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={getattr(self, k).shape}" for k in
                           ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "input", "h0"))
        return f"RNNGradients({shapes})"


def rnn_backward(grad_output, input, output, weight_ih, weight_hh, h0=None, grad_h_n=None) -> RNNGradients:
    r"""Backpropagation through time for :func:`rnn_forward`.

    Given :math:`g_t = \partial L/\partial h_t` from the layers above (``grad_output``), the
    total gradient on each state runs backwards, one step at a time:

    .. math::

        \delta_t = g_t + a_{t+1} W_{hh}, \qquad a_t = \delta_t \odot (1 - h_t^2),

    with :math:`a_{T+1} W_{hh}` replaced by ``grad_h_n``. :math:`a_t` is the gradient on the
    pre-activation of step ``t``; the shared weights collect it from every step:
    :math:`\partial L/\partial W_{hh} = \sum_t a_t^\top h_{t-1}`,
    :math:`\partial L/\partial W_{ih} = \sum_t a_t^\top x_t`, both biases get
    :math:`\sum_t a_t`, the inputs :math:`a_t W_{ih}` and the initial state :math:`a_1 W_{hh}`.

    Args:
        grad_output: :math:`\partial L/\partial h_t` for every step, as from the output.
        input: the ``input`` given to :func:`rnn_forward`.
        output: what :func:`rnn_forward` returned (the states, reused: tanh' = 1 - h^2).
        weight_ih, weight_hh: the weights used in the forward pass.
        h0: the initial state used (zeros when omitted).
        grad_h_n: :math:`\partial L/\partial h_T` through the final state ``h_n``, if any.

    Shape:
        grad_output and output ``(N, T, hidden_size)``, grad_h_n ``(N, hidden_size)`` or
        ``(1, N, hidden_size)``; the rest as in :func:`rnn_forward`.

    Returns:
        :class:`RNNGradients`.
    """
    weight_ih, weight_hh, _, _ = _weights(weight_ih, weight_hh, None, None)
    x = _input(input, weight_ih.shape[1])
    n, steps, _ = x.shape
    hidden = weight_hh.shape[0]
    out = _checks.as_array(output, "output", ndim=3)
    grad_out = _checks.as_array(grad_output, "grad_output", ndim=3)
    for name, arr in (("output", out), ("grad_output", grad_out)):
        if arr.shape != (n, steps, hidden):
            raise ValueError(f"{name} must have shape {(n, steps, hidden)}, got {arr.shape}")
    dtype = np.result_type(out, grad_out, weight_hh)
    h0 = _state(h0, "h0", n, hidden, dtype)
    carry = _state(grad_h_n, "grad_h_n", n, hidden, dtype).astype(dtype, copy=True)  # a_{t+1} W_hh
    pre = np.empty((n, steps, hidden), dtype=dtype)      # a_t
    total = np.empty((n, steps, hidden), dtype=dtype)    # delta_t
    for t in reversed(range(steps)):
        total[:, t] = grad_out[:, t] + carry
        pre[:, t] = total[:, t] * (1.0 - out[:, t] ** 2)
        carry = pre[:, t] @ weight_hh  # (N, H): back through the recurrent weights
    previous = np.concatenate([h0[:, None, :], out[:, :-1]], axis=1)  # h_{t-1}, (N, T, H)
    grad_bias = pre.sum(axis=(0, 1))
    return RNNGradients(
        weight_ih=np.einsum("nth,ntf->hf", pre, x),
        weight_hh=np.einsum("nth,ntk->hk", pre, previous),
        bias_ih=grad_bias,
        bias_hh=grad_bias.copy(),
        input=pre @ weight_ih,
        h0=carry,
        hidden=total,
    )


# ---------------------------------------------------------------------- the module
class RNN:
    r"""A one-layer tanh RNN in NumPy, batch-first, with torch's parameter names.

    .. math::  h_t = \tanh(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})

    Args:
        input_size: features per time step.
        hidden_size: size of the state ``h``.
        bias: whether to learn ``bias_ih`` and ``bias_hh``.
        dtype: parameter dtype (float32 like torch; float64 for gradient checks).
        rng: a numpy Generator or int seed for the initialisation (nblib's default
            generator when omitted).

    Initialisation follows torch: every parameter uniform in :math:`\pm 1/\sqrt{\text{hidden\_size}}`.

    Shape:
        input ``(N, T, input_size)``, h0 ``(N, hidden_size)`` or ``(1, N, hidden_size)``;
        ``forward`` returns output ``(N, T, hidden_size)`` and h_n ``(1, N, hidden_size)``, as torch.

    Example:
        >>> rnn = RNN(3, 8, dtype=np.float64, rng=0)
        >>> out, h_n = rnn(np.ones((2, 5, 3)))
        >>> grads = rnn.backward(np.ones_like(out))
        >>> out.shape, h_n.shape, grads.weight_hh.shape
        ((2, 5, 8), (1, 2, 8), (8, 8))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=np.float32, rng=None):
        self.input_size = _checks.integer(input_size, "input_size", minimum=1)
        self.hidden_size = _checks.integer(hidden_size, "hidden_size", minimum=1)
        self.bias = bool(bias)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"dtype must be a floating type, got {self.dtype}")
        self.grads: RNNGradients | None = None
        self._cache = None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        gen = _rng.resolve(rng)
        bound = 1.0 / math.sqrt(self.hidden_size)
        h, f = self.hidden_size, self.input_size
        self.weight_ih = gen.uniform(-bound, bound, (h, f)).astype(self.dtype)
        self.weight_hh = gen.uniform(-bound, bound, (h, h)).astype(self.dtype)
        self.bias_ih = gen.uniform(-bound, bound, h).astype(self.dtype) if self.bias else None
        self.bias_hh = gen.uniform(-bound, bound, h).astype(self.dtype) if self.bias else None

    def named_parameters(self) -> dict[str, np.ndarray]:
        """The parameters by name (torch's names without the ``_l0`` suffix)."""
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        return {name: getattr(self, name) for name in names}

    def num_parameters(self) -> int:
        return sum(p.size for p in self.named_parameters().values())

    def forward(self, input, h0=None) -> tuple[np.ndarray, np.ndarray]:
        """Run the sequences; returns ``(output, h_n)`` and remembers what ``backward`` needs."""
        x = _input(input, self.input_size)
        h0 = _state(h0, "h0", x.shape[0], self.hidden_size, self.dtype)
        output = rnn_forward(x, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, h0)
        self._cache = (x, h0, output)
        return output, output[:, -1][None].copy()

    __call__ = forward

    def backward(self, grad_output, grad_h_n=None) -> RNNGradients:
        """Backpropagation through time for the last ``forward``; stores and returns the gradients."""
        if self._cache is None:
            raise RuntimeError("call forward() before backward()")
        x, h0, output = self._cache
        grads = rnn_backward(grad_output, x, output, self.weight_ih, self.weight_hh, h0, grad_h_n)
        if not self.bias:
            grads.bias_ih = grads.bias_hh = None
        self.grads = grads
        return grads

    def to_torch(self):
        """The same network as ``torch.nn.RNN(batch_first=True)``, with these weights copied in."""
        import torch

        dtype = torch.float64 if self.dtype == np.float64 else torch.float32
        twin = torch.nn.RNN(self.input_size, self.hidden_size, nonlinearity="tanh", bias=self.bias,
                            batch_first=True, dtype=dtype)
        with torch.no_grad():
            for name, value in self.named_parameters().items():
                getattr(twin, f"{name}_l0").copy_(torch.from_numpy(np.ascontiguousarray(value)))
        return twin

    def __repr__(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"RNN({self.input_size}, {self.hidden_size}{extra}, dtype={self.dtype})"


# ------------------------------------------------------------- gradient vs time lag
def spectral_radius(matrix) -> float:
    """The largest absolute eigenvalue of a square matrix."""
    m = _checks.as_array(matrix, "matrix", ndim=2)
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"matrix must be square, got shape {m.shape}")
    return float(np.abs(np.linalg.eigvals(m)).max())


def _readout(hidden: int, readout, dtype) -> np.ndarray:
    if readout is None:
        u = np.random.default_rng(0).standard_normal(hidden)
        return (u / np.linalg.norm(u)).astype(dtype)
    u = _checks.as_array(readout, "readout", ndim=1)
    if u.shape != (hidden,):
        raise ValueError(f"readout must have shape ({hidden},), got {u.shape}")
    return u.astype(dtype)


def hidden_gradient_norms(rnn: RNN, input, h0=None, readout=None) -> np.ndarray:
    r"""How strongly a loss on the last state reaches back to each earlier state.

    With the loss :math:`L = u \cdot h_T` for a fixed unit vector ``u`` (``readout``),
    returns, for each step ``t``, the norm :math:`\|\partial L/\partial h_t\|` averaged over
    the batch. It equals :math:`\|u^\top \partial h_T/\partial h_t\|`, a product of
    ``T - t`` Jacobians :math:`\mathrm{diag}(1 - h_s^2)\,W_{hh}`: plotted against the lag
    ``T - t`` on a log scale, a straight line means exponential decay or growth.

    Args:
        rnn: an :class:`RNN`.
        input: sequences ``(N, T, input_size)``.
        h0: initial state (zeros when omitted).
        readout: ``(hidden_size,)``; a fixed random unit vector when omitted.

    Returns:
        ``(T,)``: entry ``t`` (0-based) is the mean norm for step ``t + 1``; the last is ``|u| = 1``.
    """
    if not isinstance(rnn, RNN):
        raise TypeError(f"rnn must be an nblib.rnn.RNN, got {type(rnn).__name__}")
    x = _input(input, rnn.input_size)
    h0 = _state(h0, "h0", x.shape[0], rnn.hidden_size, rnn.dtype)
    output = rnn_forward(x, rnn.weight_ih, rnn.weight_hh, rnn.bias_ih, rnn.bias_hh, h0)
    grad = np.zeros_like(output)
    grad[:, -1] = _readout(rnn.hidden_size, readout, output.dtype)  # L = u . h_T
    total = rnn_backward(grad, x, output, rnn.weight_ih, rnn.weight_hh, h0).hidden  # (N, T, H)
    return np.linalg.norm(total, axis=2).mean(axis=0)


def input_gradient_norms(model, input, readout=None, float64: bool = True) -> np.ndarray:
    r""":math:`\|\partial L/\partial x_t\|` for every step of a torch RNN, GRU or LSTM, by autograd.

    The loss is :math:`L = u \cdot h_T`, a fixed unit projection (``readout``) of the last
    output; the norm of its gradient with respect to each input step is averaged over the
    batch. Because every cell type receives its input the same way, this compares how far
    back a signal from the loss reaches, whatever the cell.

    Args:
        model: a ``torch.nn.RNN``, ``GRU`` or ``LSTM`` with ``batch_first=True`` (or any module
            that maps ``(N, T, F)`` to ``(output, state)`` or to an output ``(N, T, H)``).
        input: ``(N, T, F)``, NumPy or torch; converted to the model's dtype and device.
        readout: ``(H,)``; a fixed random unit vector when omitted.
        float64: measure on a float64 copy of the model (the model itself is untouched), so
            that gradients far below float32's smallest number (about 1e-45) are still seen.

    Returns:
        NumPy ``(T,)``, float64.
    """
    import copy

    import torch

    if float64:
        model = copy.deepcopy(model).double()
    param = next(model.parameters())
    x = torch.as_tensor(input if isinstance(input, torch.Tensor) else _checks.as_array(input, "input"))
    if x.ndim != 3:
        raise ValueError(f"input must be 3-D (N, T, F), got shape {tuple(x.shape)}")
    expected = getattr(model, "input_size", None)
    if isinstance(expected, int) and x.shape[-1] != expected:
        raise ValueError(f"input has {x.shape[-1]} features but the model's input_size is {expected}")
    x = x.to(dtype=param.dtype, device=param.device).detach().requires_grad_(True)
    output = model(x)
    if isinstance(output, tuple):
        output = output[0]
    u = torch.as_tensor(_readout(output.shape[-1], readout, np.float64), dtype=param.dtype, device=param.device)
    (output[:, -1] @ u).sum().backward()
    return x.grad.norm(dim=2).mean(dim=0).detach().cpu().double().numpy()
