"""Helpers for the chapter tests (tests/test_chapter_NN.py): cell text and glued-number bands."""

from __future__ import annotations

import pytest


def join_text(value) -> str:
    """A notebook's multi-line field (a cell's source, an output's text) as one string."""
    return "".join(value) if isinstance(value, list) else value


def markdown(cells) -> list[str]:
    """The source of every markdown cell, in order."""
    return [join_text(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def prose(cells) -> str:
    """All the markdown of a notebook as one string."""
    return "\n".join(markdown(cells))


def band_params(table) -> list:
    """``pytest.param(name, low, high, id=...)`` for each ``(name, low, high, id)`` row of a band table."""
    return [pytest.param(name, low, high, id=test_id) for name, low, high, test_id in table]


def assert_in_band(glued: dict, name: str, low: float, high: float) -> None:
    """The glued value ``name`` exists and lies in ``[low, high]``."""
    assert name in glued, f"{name} is not glued"
    assert low <= glued[name] <= high, f"{name} = {glued[name]!r}, expected within [{low}, {high}]"
