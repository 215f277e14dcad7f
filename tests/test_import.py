"""`import nblib` is cheap and has no side effects."""

import pkgutil
import subprocess
import sys

import nblib

HEAVY = ["torch", "matplotlib", "ipywidgets", "sklearn", "pennylane", "IPython", "myst_nb"]
MODULES = sorted(m.name for m in pkgutil.walk_packages(nblib.__path__, prefix="nblib."))


def test_every_module_is_found():
    assert {"nblib.autograd", "nblib.widgets", "nblib.explorers.neurons"} <= set(MODULES)


def test_importing_every_module_loads_no_heavy_library():
    code = (f"import sys, importlib\nfor m in {MODULES!r}: importlib.import_module(m)\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"importing nblib's modules loaded {loaded}"


def test_import_does_not_seed_or_touch_numpy_global_state():
    code = ("import numpy as np; np.random.seed(123); a = np.random.rand(); np.random.seed(123); "
            "import nblib, nblib.rng, nblib.nn; print(np.random.rand() == a)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "True"
