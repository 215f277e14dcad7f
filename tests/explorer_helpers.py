"""What a freshly rendered explorer frame shows, for the explorer tests (tests/test_explorers_*.py)."""

from __future__ import annotations


def axes_titles(exp, **setting) -> list[str]:
    """The titles of every axes of the frame ``exp`` renders for ``setting`` (other controls as they are)."""
    import matplotlib.pyplot as plt

    fig = exp.render(**{**exp.setting, **setting})
    try:
        return [ax.get_title() for ax in fig.axes]
    finally:
        plt.close(fig)
