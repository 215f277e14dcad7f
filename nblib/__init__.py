"""nblib: the shared library of *From Perceptron to Qubit*.

Chapters import what they need explicitly, for example::

    from nblib.autograd import Tensor
    from nblib.nn import Linear, ReLU, Sequential

Importing ``nblib`` itself is cheap and has no side effects: NumPy is the only
hard dependency, and matplotlib, ipywidgets, scikit-learn and torch are imported
inside the modules (or functions) that need them.
"""

__version__ = "0.1.0"
