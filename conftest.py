"""Repository-wide pytest set-up.

The notebook rules live in tests/conftest.py (nbval comparison settings and the
chapters' time budget). Loading them here as a plugin makes them apply to every
run in this repository, including one that names only notebooks, such as
``pytest --nbval chapters/01_perceptron.ipynb``.
"""

import os

# Kernels started by nbval inherit this: training loops print text, as in the stored outputs.
os.environ.setdefault("NBLIB_PROGRESS", "text")

pytest_plugins = ["tests.conftest"]
