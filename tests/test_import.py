"""`import nblib` is cheap and has no side effects."""

import subprocess
import sys

HEAVY = ["torch", "matplotlib", "ipywidgets", "sklearn", "pennylane", "IPython", "myst_nb"]


def test_importing_every_module_loads_no_heavy_library():
    code = (
        "import sys, nblib, nblib.autograd, nblib.nn, nblib.optim, nblib.data, nblib.gradcheck, nblib.neuron, "
        "nblib.train, nblib.plot, nblib.widgets, nblib.explorers.neurons, nblib.explorers.training, nblib.report, nblib.rng, nblib.activations, nblib.init, nblib.explorers.activations, nblib.surfaces, nblib.schedules, nblib.explorers.optimisers, nblib.preprocessing, nblib.regularisation, nblib.explorers.generalisation, nblib.torch_train, nblib.sequences, nblib.explorers.pytorch, nblib.rnn, nblib.explorers.recurrent, nblib.conv, nblib.receptive_field, nblib.images, nblib.explorers.convolution, nblib.attention, nblib.text, nblib.explorers.attention, nblib.monitor, nblib.lr_finder, nblib.explorers.diagnostics, nblib.compression, nblib.explorers.compression, nblib.torch_regularisation, nblib.explorers.regularisation\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"importing nblib loaded {loaded}"


def test_import_does_not_seed_or_touch_numpy_global_state():
    code = ("import numpy as np; np.random.seed(123); a = np.random.rand(); np.random.seed(123); "
            "import nblib, nblib.rng, nblib.nn; print(np.random.rand() == a)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "True"
