"""Every explorer at the extremes of its controls shows a finite figure or a clear message.

Each explorer is built through its function, with small inputs (fewer steps, epochs and
samples than the book uses: the same code paths, faster), and its live widget is created.
Then every control is moved to its smallest and largest value, as a reader dragging a
slider to either end would: all corners when there are at most ``MAX_CORNERS`` of them,
otherwise each control's two ends with the others at their defaults, plus the all-minimum
and all-maximum corners. For every setting the test checks what the reader sees:

* a figure, rendered from finite data only (the render function's figure is inspected
  before it is turned into a PNG), and shown in the widget with no message; or
* a message, shown in the widget instead of the image: it names the setting, reads as a
  sentence, and is not a traceback or a raw message from numpy's or torch's internals;

and never an exception escaping from ``Explorer.set``.

The explorers and their small inputs come from ``nblib.explorers.catalog.BUILDERS``; a
new explorer is covered by adding one line there.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from nblib.explorers.catalog import BUILDERS  # noqa: E402
from nblib.widgets import Explorer, _figure_is_finite  # noqa: E402

MAX_CORNERS = 16

# Phrases of messages that come from a library's insides rather than from a sentence
# written for the reader.
RAW_MESSAGES = ("Traceback", 'File "', "object has no attribute", "unsupported operand", "is not defined",
                "zero-size array", "index out of bounds", "out of bounds for axis", "could not broadcast",
                "must match the size of tensor", "setting an array element", "division by zero")


def extreme_settings(exp: Explorer) -> list[dict]:
    """The settings at the ends of every control (see the module docstring)."""
    ends = [(c.name, [c.values[0], c.values[-1]] if len(c.values) > 1 else [c.values[0]]) for c in exp.controls]
    n_corners = int(np.prod([len(v) for _, v in ends]))
    if n_corners <= MAX_CORNERS:
        return [dict(zip([n for n, _ in ends], combo)) for combo in itertools.product(*(v for _, v in ends))]
    settings = [{name: v[0] for name, v in ends}, {name: v[-1] for name, v in ends}]
    defaults = {c.name: c.value for c in exp.controls}
    settings += [{**defaults, name: value} for name, values in ends for value in values]
    return settings


def _watch_figures(exp: Explorer) -> list[bool]:
    """Record, for every figure the render function returns, whether all its data are finite."""
    seen: list[bool] = []
    render = exp.render

    def watched(**setting):
        fig = render(**setting)
        if fig is not None and hasattr(fig, "axes"):
            seen.append(_figure_is_finite(fig))
        return fig

    exp.render = watched
    return seen


def _check_message(exp: Explorer, setting: dict, message: str | None) -> None:
    assert message, f"{setting}: a frame without a figure must carry a message"
    prefix = exp._describe({**exp.setting, **setting})
    assert message.startswith(prefix + ": "), f"the message should name the setting ({prefix!r}): {message!r}"
    text = message[len(prefix) + 2:]
    assert len(re.findall(r"[A-Za-z]{2,}", text)) >= 4, f"{setting}: the message is not a sentence: {text!r}"
    for raw in RAW_MESSAGES:
        assert raw not in text, f"{setting}: the message leaks internals ({raw!r}): {text!r}"


@pytest.mark.parametrize("key", [pytest.param(key, marks=pytest.mark.slow) if torch else key
                                 for key, (_, torch) in BUILDERS.items()])
def test_every_control_extreme_shows_a_figure_or_a_clear_message(key, request):
    build, needs_torch = BUILDERS[key]
    if needs_torch:
        pytest.importorskip("torch")
        request.getfixturevalue("torch_one_thread")
    exp = build()
    box = exp.widget  # the live view: set() updates it as a reader's slider would
    finite = _watch_figures(exp)
    shown = {"figure": 0, "message": 0}
    for setting in extreme_settings(exp):
        exp._cache.clear()  # render each setting through the watched function
        n_figures = len(finite)
        frame = exp.set(**setting)  # any exception escaping here fails the test
        if frame.ok:
            shown["figure"] += 1
            assert len(finite) == n_figures + 1 and finite[-1], f"{key} {setting}: the figure plots NaN or inf"
            assert frame.png[:8] == b"\x89PNG\r\n\x1a\n"
            assert box.image.value == frame.png and box.message.value == ""
            assert box.image.layout.display != "none"
        else:
            shown["message"] += 1
            _check_message(exp, setting, frame.message)
            assert box.image.layout.display == "none", "a message replaces the image"
            assert "nblib-message" in box.message.value
    assert shown["figure"] + shown["message"] == len(extreme_settings(exp))


def test_extreme_settings_cover_both_ends_of_every_control():
    from nblib.widgets import Slider, explorer

    def render(**_):
        raise AssertionError("not rendered here")

    small = explorer(render, [Slider("a", [1, 2, 3]), Slider("b", ["x", "y"])])
    assert extreme_settings(small) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 3, "b": "x"},
                                       {"a": 3, "b": "y"}]
    wide = explorer(render, [Slider(n, [0, 1, 2], book_values=[1]) for n in "abcde"])  # 32 corners
    settings = extreme_settings(wide)
    assert len(settings) == 2 + 2 * 5
    for name in "abcde":
        assert {s[name] for s in settings} >= {0, 2}


def test_catalog_covers_every_explorer_module():
    import pkgutil

    import nblib.explorers

    modules = {m.name for m in pkgutil.iter_modules(nblib.explorers.__path__)} - {"catalog"}
    assert set(BUILDERS) == modules, "every nblib/explorers module needs a line in catalog.BUILDERS"
