"""Numbers that leave a notebook: glued into the prose, and read back by tests.

A chapter calls ``glue("digits_test_acc", acc)`` and its prose cites the value with
MyST's ``{glue:text}`digits_test_acc:.1%``` role, so no number in the text is typed
by hand. :func:`read_glued` reads the values stored in an executed notebook, which
is how the tests check each chapter's headline numbers against tolerance bands.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

_RECORD = "application/papermill.record/text/plain"


def glue(name: str, value: Any, display: bool = False) -> Any:
    """Store ``value`` under ``name`` in the notebook's outputs (myst-nb's glue); returns ``value``.

    Floats are stored as Python floats (not NumPy scalars) so that their text form
    is stable and parseable. Because the value is returned, a cell that *ends* with
    a bare ``glue(...)`` call also echoes it as ``Out[]``; assign the result instead
    (``acc = glue("acc", ...)``).
    """
    from myst_nb import glue as _glue

    if not isinstance(name, str):
        raise TypeError(f"glue name must be a string, got {type(name).__name__}")
    if not name.isidentifier():
        raise ValueError(f"glue name must be an identifier, got {name!r}")
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    _glue(name, value, display=display)
    return value


def read_glued(notebook) -> dict[str, Any]:
    """Every glued value in an executed notebook, parsed back to Python where possible."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    values: dict[str, Any] = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get(_RECORD)
            if name is None or text is None:
                continue
            text = "".join(text) if isinstance(text, list) else text
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[name] = text
    return values
