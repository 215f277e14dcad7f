"""Two-dimensional loss surfaces for watching optimisers move.

Each surface is a function :math:`f(x, y)` with its analytic gradient and Hessian,
its known minima, a starting point and a plotting region. The same formula serves
three uses:

* ``surface.value(X, Y)`` on NumPy arrays, e.g. a meshgrid for a contour plot
  (``surface.grid()`` makes one);
* ``surface(p)`` on an nblib :class:`~nblib.autograd.Tensor` ``p`` of shape ``(2,)``
  (or ``(..., 2)``), which records the graph, so ``surface(p).backward()`` fills
  ``p.grad`` and any nblib optimiser can descend the surface;
* ``surface.grad(points)`` and ``surface.hessian(points)``, the analytic derivatives,
  which tests check against central differences.

:func:`descend` runs an optimiser from a start point and returns its
:class:`Trajectory`, stopping early, and saying so, if the iterates blow up.

Example:
    >>> from nblib.optim import Adam
    >>> surf = Rosenbrock()
    >>> path = descend(surf, lambda params: Adam(params, lr=0.05), steps=2000)
    >>> path.distance_to_minimum(surf) < 1e-3
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _checks
from .autograd import Tensor


class Surface:
    """Base class. Subclasses define ``value``, ``gradient`` and ``hessian`` in terms of ``x`` and ``y``.

    Attributes:
        name: a short label for plots.
        minima: the global minima, shape ``(k, 2)``.
        min_value: :math:`f` at the minima.
        start: the default starting point, shape ``(2,)``.
        bounds: the plotting region ``(xmin, xmax, ymin, ymax)``.
    """

    name = "surface"
    minima: np.ndarray
    min_value: float
    start: np.ndarray
    bounds: tuple[float, float, float, float]

    # ---------------------------------------------------------- the formulas
    def value(self, x, y):
        """:math:`f(x, y)` elementwise, for arrays or Tensors of the same shape."""
        raise NotImplementedError

    def gradient(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """:math:`(\\partial f/\\partial x, \\partial f/\\partial y)` elementwise, as arrays."""
        raise NotImplementedError

    def hessian_entries(self, x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:math:`(f_{xx}, f_{xy}, f_{yy})` elementwise, as arrays."""
        raise NotImplementedError

    # -------------------------------------------------------- point interface
    def __call__(self, point):
        """:math:`f` at points of shape ``(..., 2)``: a Tensor (graph recorded) or an array."""
        if isinstance(point, Tensor):
            if point.ndim == 0 or point.shape[-1] != 2:
                raise ValueError(f"point must have shape (..., 2), got {point.shape}")
            return self.value(point[..., 0], point[..., 1])
        x, y = self._split(point)
        return self.value(x, y)

    def grad(self, point) -> np.ndarray:
        """The analytic gradient at points of shape ``(..., 2)``, returned with that shape."""
        x, y = self._split(point)
        return np.stack(self.gradient(x, y), axis=-1)

    def hessian(self, point) -> np.ndarray:
        """The analytic Hessian at points of shape ``(..., 2)``, shape ``(..., 2, 2)``."""
        x, y = self._split(point)
        fxx, fxy, fyy = (np.broadcast_to(h, np.shape(x)) for h in self.hessian_entries(x, y))
        return np.stack([np.stack([fxx, fxy], -1), np.stack([fxy, fyy], -1)], -2)

    def grid(self, resolution: int = 200, bounds=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A meshgrid over ``bounds`` (the surface's by default) and :math:`f` on it, for contour plots."""
        resolution = _checks.integer(resolution, "resolution", minimum=2)
        x0, x1, y0, y1 = self.bounds if bounds is None else bounds
        X, Y = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
        return X, Y, self.value(X, Y)

    @staticmethod
    def _split(point) -> tuple[np.ndarray, np.ndarray]:
        p = _checks.as_array(point, "point", dtype=np.float64, finite=False)
        if p.ndim == 0 or p.shape[-1] != 2:
            raise ValueError(f"point must have shape (..., 2), got {p.shape}")
        return p[..., 0], p[..., 1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Rosenbrock(Surface):
    r"""Rosenbrock's banana valley :math:`f(x, y) = (a - x)^2 + b\,(y - x^2)^2`.

    The minimum :math:`f = 0` sits at :math:`(a, a^2)` at the bottom of a narrow curved valley:
    finding the valley is easy, following it to the minimum is slow, because its floor is
    nearly flat while its walls are steep (at the minimum the Hessian's eigenvalues differ by a
    factor of about 2500 for the default :math:`a = 1, b = 100`).

    Args:
        a, b: the position parameter and the steepness of the valley walls (:math:`b > 0`).
    """

    name = "Rosenbrock"

    def __init__(self, a: float = 1.0, b: float = 100.0):
        self.a = _checks.as_real(a, "a")
        if not math.isfinite(self.a * self.a):
            raise ValueError(f"a is too large: the minimum (a, a**2) overflows, got {a}")
        self.b = _checks.positive(b, "b")
        self.minima = np.array([[self.a, self.a**2]])
        self.min_value = 0.0
        self.start = np.array([-1.5, 2.0])
        self.bounds = (-2.0, 2.0, -1.0, 3.0)

    def value(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def gradient(self, x, y):
        inner = y - x**2
        return -2 * (self.a - x) - 4 * self.b * x * inner, 2 * self.b * inner

    def hessian_entries(self, x, y):
        return 2 - 4 * self.b * (y - x**2) + 8 * self.b * x**2, -4 * self.b * x, 2 * self.b + 0 * x

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


class Saddle(Surface):
    r"""A saddle between two valleys: :math:`f(x, y) = \tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2`.

    The origin is a saddle point (gradient zero, Hessian :math:`\mathrm{diag}(1, -1)`), and the
    two minima :math:`f = -\tfrac14` sit at :math:`(0, \pm 1)`. Started near the line
    :math:`y = 0`, gradient descent slides down to the saddle and lingers there: the only way
    out is along :math:`y`, where the gradient :math:`y^3 - y` is tiny.
    """

    name = "saddle"

    def __init__(self):
        self.minima = np.array([[0.0, 1.0], [0.0, -1.0]])
        self.saddle_point = np.array([0.0, 0.0])
        self.min_value = -0.25
        self.start = np.array([-1.8, 0.01])
        self.bounds = (-2.0, 2.0, -1.5, 1.5)

    def value(self, x, y):
        return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2

    def gradient(self, x, y):
        return 1.0 * x, y**3 - y

    def hessian_entries(self, x, y):
        return 1.0 + 0 * x, 0.0 * x, 3 * y**2 - 1


class Ravine(Surface):
    r"""An ill-conditioned quadratic bowl: :math:`f = \tfrac12 (u^2 + \kappa v^2)`, with
    :math:`(u, v)` the coordinates :math:`(x, y)` rotated by ``angle``.

    The Hessian is constant, with eigenvalues :math:`\mu = 1` (along the ravine) and
    :math:`L = \kappa` (across it), so its condition number is :math:`\kappa`. Gradient
    descent with learning rate :math:`\eta` multiplies the error along each eigenvector by
    :math:`1 - \eta\lambda` per step: it converges only if :math:`\eta < 2/L`, and then
    crawls along the floor at the rate :math:`1 - \eta\mu`.

    Args:
        condition: :math:`\kappa \ge 1`.
        angle: rotation of the ravine in radians; 0 aligns it with the :math:`x` axis, where
            per-coordinate methods (RMSprop, Adam) can rescale each axis separately.
    """

    name = "ravine"

    def __init__(self, condition: float = 25.0, angle: float = 0.0):
        self.condition = _checks.in_range(condition, "condition", 1.0, math.inf)
        self.angle = _checks.as_real(angle, "angle")
        self._c, self._s = math.cos(self.angle), math.sin(self.angle)
        self.minima = np.array([[0.0, 0.0]])
        self.min_value = 0.0
        self.start = np.array([-4.5, 1.0])
        self.bounds = (-5.0, 5.0, -2.0, 2.0)

    @property
    def L(self) -> float:
        """The largest curvature (Hessian eigenvalue); gradient descent needs ``lr < 2 / L``."""
        return self.condition

    @property
    def mu(self) -> float:
        """The smallest curvature."""
        return 1.0

    def value(self, x, y):
        u = self._c * x + self._s * y
        v = -self._s * x + self._c * y
        return 0.5 * (u**2 + self.condition * v**2)

    def gradient(self, x, y):
        c, s, k = self._c, self._s, self.condition
        u, v = c * x + s * y, -s * x + c * y
        return c * u - k * s * v, s * u + k * c * v

    def hessian_entries(self, x, y):
        c, s, k = self._c, self._s, self.condition
        zero = 0 * np.asarray(x, dtype=np.float64)
        return c * c + k * s * s + zero, (1 - k) * c * s + zero, s * s + k * c * c + zero

    def __repr__(self) -> str:
        return f"Ravine(condition={self.condition:g}, angle={self.angle:g})"


class Himmelblau(Surface):
    r"""Himmelblau's function :math:`(x^2 + y - 11)^2 + (x + y^2 - 7)^2`: four minima, all :math:`f = 0`.

    Which minimum an optimiser reaches depends on where it starts and on its dynamics.
    """

    name = "Himmelblau"

    def __init__(self):
        self.minima = np.array([[3.0, 2.0], [-2.805118086952745, 3.131312518250573],
                                [-3.779310253377747, -3.2831859912861696],
                                [3.5844283403304917, -1.8481265269644034]])  # refined by Newton's method
        self.min_value = 0.0
        self.start = np.array([-0.5, -0.5])
        self.bounds = (-5.0, 5.0, -5.0, 5.0)

    def value(self, x, y):
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def gradient(self, x, y):
        a, b = x**2 + y - 11, x + y**2 - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b

    def hessian_entries(self, x, y):
        return 12 * x**2 + 4 * y - 42, 4 * (x + y), 4 * x + 12 * y**2 - 26


SURFACES: dict[str, type[Surface]] = {"rosenbrock": Rosenbrock, "saddle": Saddle, "ravine": Ravine,
                                      "himmelblau": Himmelblau}


def get_surface(name: str) -> Surface:
    """A surface with its default parameters, by name: ``"rosenbrock"``, ``"saddle"``, ``"ravine"``, ``"himmelblau"``."""
    if name not in SURFACES:
        raise ValueError(f"unknown surface {name!r}; name must be one of {sorted(SURFACES)}")
    return SURFACES[name]()


@dataclass(frozen=True)
class Trajectory:
    """The iterates of one optimiser on one surface.

    Attributes:
        points: the start and the point after each completed step, shape ``(n + 1, 2)``.
        values: :math:`f` at those points, shape ``(n + 1,)``.
        diverged_at: the step (counting from 1) whose result was NaN, inf, or beyond the
            escape radius; those points are not stored. None if the run finished.
    """

    points: np.ndarray
    values: np.ndarray
    diverged_at: int | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final(self) -> np.ndarray:
        return self.points[-1]

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    def distance_to_minimum(self, surface: Surface) -> float:
        """Distance from the final point to the nearest of ``surface``'s minima."""
        return float(np.min(np.linalg.norm(surface.minima - self.final, axis=1)))

    def steps_to(self, surface: Surface, tol: float) -> int | None:
        """The first step after which the iterate stays within ``tol`` of a minimum, or None."""
        dist = np.min(np.linalg.norm(self.points[:, None, :] - surface.minima[None], axis=2), axis=1)
        outside = np.flatnonzero(dist > tol)
        if self.diverged or dist[-1] > tol:
            return None
        return 0 if outside.size == 0 else int(outside[-1]) + 1

    def __repr__(self) -> str:
        status = f"diverged at step {self.diverged_at}" if self.diverged else "finished"
        return f"Trajectory({self.steps} steps, {status}, final point {np.round(self.final, 4).tolist()})"


def descend(surface: Surface, make_optimizer: Callable[[list[Tensor]], object], steps: int, start=None, *,
            autograd: bool = False, escape: float | None = None) -> Trajectory:
    """Run an optimiser on ``surface`` from ``start`` for ``steps`` steps.

    Args:
        surface: the :class:`Surface` to descend.
        make_optimizer: builds the optimiser from a parameter list, e.g.
            ``lambda params: SGD(params, lr=0.01, momentum=0.9)``.
        steps: how many updates to take.
        start: the starting point, shape ``(2,)``; ``surface.start`` by default.
        autograd: compute gradients with ``surface(p).backward()`` instead of the analytic
            formula (slower; the two agree, which the tests check).
        escape: stop, reporting divergence, once the iterate is farther than this from the
            origin. Default: 100 times the largest coordinate of the plotting region.

    Returns:
        the :class:`Trajectory`; a diverging run stops at the first bad step.
    """
    steps = _checks.integer(steps, "steps", minimum=0)
    start = surface.start if start is None else start
    start = _checks.as_array(start, "start", ndim=1, dtype=np.float64)
    if start.shape != (2,):
        raise ValueError(f"start must have shape (2,), got {start.shape}")
    if escape is None:
        escape = 100.0 * max(abs(b) for b in surface.bounds)
    escape = _checks.positive(escape, "escape")
    p = Tensor(start.copy(), requires_grad=True)
    optimizer = make_optimizer([p])
    points = [start.copy()]
    diverged_at = None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            if autograd:
                p.grad = None
                surface(p).backward()
            else:
                p.grad = surface.grad(p.data)
            optimizer.step()
            if not np.all(np.isfinite(p.data)) or np.linalg.norm(p.data) > escape:
                diverged_at = k
                break
            points.append(p.data.copy())
        path = np.array(points)
        values = surface.value(path[:, 0], path[:, 1])
    return Trajectory(path, values, diverged_at)


def plot_paths(surface: Surface, paths: dict[str, Trajectory], ax=None, *, colours: dict[str, str] | None = None,
               resolution: int = 150, title: str | None = None, legend: bool = True):
    """Contours of ``surface`` with each trajectory drawn over them; minima marked with a star.

    Contour levels are quantiles of :math:`f` over the region, so they stay readable whether
    :math:`f` spans two orders of magnitude or five. Points outside the region are clipped.

    Args:
        surface: the surface to draw.
        paths: ``{label: Trajectory}``, drawn in order.
        ax: the Axes to draw on (a new figure when omitted).
        colours: ``{label: colour}``; matplotlib's default cycle otherwise.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    X, Y, Z = surface.grid(resolution)
    levels = np.unique(np.quantile(Z, np.linspace(0.0, 0.97, 12)))
    ax.contour(X, Y, Z, levels=levels, colors="#9a9a9a", linewidths=0.6)
    ax.contourf(X, Y, Z, levels=levels, cmap="Greys", alpha=0.18, extend="max")
    for label, path in paths.items():
        colour = None if colours is None else colours.get(label)
        line, = ax.plot(path.points[:, 0], path.points[:, 1], lw=1.3, color=colour, label=label)
        ax.plot(*path.final, "o", ms=4, color=line.get_color())
    ax.plot(*surface.start, "s", ms=5, color="k", label="start")
    ax.plot(surface.minima[:, 0], surface.minima[:, 1], "*", ms=11, color="gold", markeredgecolor="k",
            label="minimum" if len(surface.minima) == 1 else "minima")
    x0, x1, y0, y1 = surface.bounds
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x$ (parameter 1)", ylabel="$y$ (parameter 2)",
           title=title or f"Optimisers on the {surface.name} surface")
    if legend:
        ax.legend(loc="best", fontsize=7, framealpha=0.85)
    return ax


def plot_gaps(surface: Surface, paths: dict[str, Trajectory], ax=None, *, colours: dict[str, str] | None = None,
              title: str | None = None, legend: bool = False):
    """The gap :math:`f - f_{\\min}` against the step, on a log scale, for each trajectory."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    floor = 1e-16
    for label, path in paths.items():
        colour = None if colours is None else colours.get(label)
        gap = np.maximum(path.values - surface.min_value, floor)
        ax.plot(np.arange(len(gap)), gap, lw=1.3, color=colour, label=label)
    ax.set(yscale="log", xlabel="step", ylabel=r"$f - f_{\min}$ (loss above the minimum)",
           title=title or "Distance to the minimum value")
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=7)
    return ax
