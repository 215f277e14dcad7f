"""The book's hyperparameter explorers, one module per topic.

Each function returns an :class:`nblib.widgets.Explorer`; chapters display them,
and tests build them, move their controls and check what they show. Import from
the topic module, e.g. ``from nblib.explorers.neurons import neuron_boundary_explorer``.
"""
