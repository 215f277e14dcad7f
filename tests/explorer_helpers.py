"""What a freshly rendered explorer frame shows, for the explorer tests (tests/test_explorers_*.py)."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def rendered(exp, **setting):
    """The figure ``exp`` renders for ``setting`` (other controls as they are), closed afterwards."""
    import matplotlib.pyplot as plt

    fig = exp.render(**{**exp.setting, **setting})
    try:
        yield fig
    finally:
        plt.close(fig)


def axes_titles(exp, **setting) -> list[str]:
    """The titles of every axes of the frame."""
    with rendered(exp, **setting) as fig:
        return [ax.get_title() for ax in fig.axes]


def suptitle(exp, **setting) -> str:
    """The frame's suptitle, after checking that it plots only finite numbers."""
    from nblib.widgets import _figure_is_finite

    with rendered(exp, **setting) as fig:
        assert _figure_is_finite(fig), "a frame must never plot NaN or inf"
        return fig._suptitle.get_text()
