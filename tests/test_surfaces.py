"""nblib.surfaces: analytic derivatives against central differences and autograd, known minima, descend."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nblib.autograd import Tensor
from nblib.gradcheck import numerical_grad
from nblib.optim import SGD, Adam
from nblib.surfaces import Himmelblau, Ravine, Rosenbrock, Saddle, Trajectory, descend, get_surface

SURFACES = {
    "rosenbrock": Rosenbrock(),
    "rosenbrock-a2-b10": Rosenbrock(a=2.0, b=10.0),
    "saddle": Saddle(),
    "ravine": Ravine(),
    "ravine-rotated": Ravine(condition=40.0, angle=0.6),
    "himmelblau": Himmelblau(),
}
POINTS = np.random.default_rng(0).uniform(-2.0, 2.0, size=(6, 2))


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES.keys())
def test_gradient_matches_central_differences(surface):
    for point in POINTS:
        numeric = numerical_grad(lambda p: surface(p), point)
        # central differences in float64 at eps=1e-6: error ~1e-9 relative to the function's scale
        assert_allclose(surface.grad(point), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES.keys())
def test_hessian_matches_differences_of_the_gradient(surface):
    for point in POINTS:
        rows = [numerical_grad(lambda p, i=i: surface.grad(p)[i], point) for i in range(2)]
        H = surface.hessian(point)
        assert_allclose(H, np.array(rows), rtol=1e-6, atol=1e-5)
        assert_allclose(H, H.T, atol=0)  # symmetric by construction


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES.keys())
def test_autograd_through_the_formula_gives_the_analytic_gradient(surface):
    p = Tensor(POINTS.copy(), requires_grad=True)  # (6, 2): a batch of points at once
    surface(p).sum().backward()
    assert_allclose(p.grad, surface.grad(POINTS), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES.keys())
def test_minima_are_minima(surface):
    for m in surface.minima:
        assert_allclose(surface.grad(m), [0.0, 0.0], atol=1e-10)
        assert surface(m) == pytest.approx(surface.min_value, abs=1e-12)
        assert np.all(np.linalg.eigvalsh(surface.hessian(m)) > 0), "the Hessian is positive definite"
    # and nothing on a fine grid over the plotting region is lower
    _, _, Z = surface.grid(301)
    assert Z.min() >= surface.min_value - 1e-12


def test_rosenbrock_minimum_is_at_a_a_squared():
    assert_allclose(Rosenbrock(a=2.0, b=10.0).minima, [[2.0, 4.0]])


def test_saddle_point_is_a_saddle():
    s = Saddle()
    assert_allclose(s.grad(s.saddle_point), [0.0, 0.0])
    eig = np.linalg.eigvalsh(s.hessian(s.saddle_point))
    assert eig[0] < 0 < eig[1]


@pytest.mark.parametrize("angle", [0.0, 0.3, np.pi / 4], ids=["aligned", "tilted", "diagonal"])
def test_ravine_condition_number(angle):
    r = Ravine(condition=25.0, angle=angle)
    eig = np.linalg.eigvalsh(r.hessian([0.7, -0.2]))
    assert_allclose(eig, [r.mu, r.L], rtol=1e-12)
    assert eig[1] / eig[0] == pytest.approx(25.0)


def test_value_works_on_a_meshgrid():
    X, Y, Z = Rosenbrock().grid(50)
    assert X.shape == Y.shape == Z.shape == (50, 50)
    assert_allclose(Z[7, 11], Rosenbrock()([X[7, 11], Y[7, 11]]))


@pytest.mark.parametrize("lr_factor, converges", [(0.9, True), (1.1, False)], ids=["below-2/L", "above-2/L"])
def test_gradient_descent_on_the_ravine_obeys_two_over_L(lr_factor, converges):
    r = Ravine(condition=25.0)
    path = descend(r, lambda ps: SGD(ps, lr=lr_factor * 2 / r.L), steps=400)
    if converges:
        assert not path.diverged and path.distance_to_minimum(r) < 1e-3
    else:
        assert path.diverged and path.diverged_at < 400


def test_descend_with_autograd_matches_analytic_gradients():
    surf = Rosenbrock()
    make = lambda ps: Adam(ps, lr=0.05)  # noqa: E731
    a = descend(surf, make, steps=300)
    b = descend(surf, make, steps=300, autograd=True)
    assert_allclose(a.points, b.points, rtol=1e-12, atol=1e-12)


def test_trajectory_bookkeeping():
    surf = Rosenbrock()
    path = descend(surf, lambda ps: Adam(ps, lr=0.05), steps=2000)
    assert isinstance(path, Trajectory) and path.points.shape == (2001, 2) and path.values.shape == (2001,)
    assert_allclose(path.points[0], surf.start)
    assert path.distance_to_minimum(surf) < 1e-3
    k = path.steps_to(surf, 1e-2)
    assert k is not None and 0 < k < 2000
    assert np.all(np.linalg.norm(path.points[k:] - surf.minima[0], axis=1) <= 1e-2)


def test_divergence_is_reported_not_raised():
    path = descend(Rosenbrock(), lambda ps: SGD(ps, lr=0.1), steps=100)
    assert path.diverged and np.all(np.isfinite(path.points)) and len(path.points) == path.diverged_at
    assert path.steps_to(Rosenbrock(), 0.1) is None


def test_get_surface_by_name():
    assert isinstance(get_surface("saddle"), Saddle)
    with pytest.raises(ValueError, match="unknown surface"):
        get_surface("volcano")


@pytest.mark.parametrize(("call", "exc", "match"), [
    pytest.param(lambda: Rosenbrock()(np.zeros(3)), ValueError, "shape", id="three-coordinates"),
    pytest.param(lambda: Rosenbrock(b=-1.0), ValueError, "b", id="negative-b"),
    pytest.param(lambda: Ravine(condition=0.5), ValueError, "condition", id="condition-below-one"),
    pytest.param(lambda: descend(Saddle(), lambda ps: SGD(ps, lr=0.1), steps=-1), ValueError, "steps",
                 id="negative-steps"),
    pytest.param(lambda: descend(Saddle(), lambda ps: SGD(ps, lr=0.1), steps=5, start=[1.0, 2.0, 3.0]),
                 ValueError, "start", id="bad-start"),
])
def test_bad_input_is_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_this_chapters_modules_import_no_heavy_library():
    import subprocess
    import sys

    heavy = ["torch", "matplotlib", "ipywidgets", "sklearn", "IPython", "myst_nb"]
    code = ("import sys, nblib.surfaces, nblib.schedules, nblib.optim, nblib.explorers.optimisers\n"
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"importing loaded {loaded}"
