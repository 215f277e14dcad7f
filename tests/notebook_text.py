"""Text of stored notebook cells, for the chapter tests (tests/test_chapter_NN.py)."""

from __future__ import annotations


def join_text(value) -> str:
    """A notebook's multi-line field (a cell's source, an output's text) as one string."""
    return "".join(value) if isinstance(value, list) else value


def markdown(cells) -> list[str]:
    """The source of every markdown cell, in order."""
    return [join_text(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def prose(cells) -> str:
    """All the markdown of a notebook as one string."""
    return "\n".join(markdown(cells))
