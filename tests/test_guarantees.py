"""Determinism and independence, tested by executing chapters again, apart from the book.

nbval (``make test``) already re-runs every chapter in a fresh kernel and compares it
with its stored outputs. These tests make two of the book's promises explicit, on
two chapters chosen to cover NumPy and PyTorch cheaply:

* **Alone, in any order.** Each chapter is copied into an empty directory and run
  there in a fresh kernel, in reverse book order; nothing another chapter wrote is
  available to it.
* **Deterministic.** Each is executed twice; every text output (stdout, and the
  ``text/plain`` form of results and displays) is identical between the two runs,
  and identical to the stored outputs once nbval's sanitising rules are applied.
  Cells marked ``# NBVAL_IGNORE_OUTPUT`` (timings) are the only ones left out.
"""

from __future__ import annotations

import re
import shutil
from configparser import ConfigParser
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["06_pytorch", "01_perceptron"]  # reverse book order on purpose


def _sanitisers() -> list[tuple[re.Pattern, str]]:
    cfg = ConfigParser()
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def text_outputs(nb, sanitise: bool = False) -> list[tuple[int, str]]:
    """(cell index, text) for every compared output; timing cells are skipped."""
    rules = _sanitisers() if sanitise else []
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "NBVAL_IGNORE_OUTPUT" in cell.source:
            continue
        # stdout arrives in chunks that depend on flush timing: compare it whole, per cell
        texts = ["".join(o.text for o in cell.get("outputs", [])
                         if o.output_type == "stream" and o.name == "stdout")]
        texts += [o.data["text/plain"] for o in cell.get("outputs", [])
                  if o.output_type in ("execute_result", "display_data") and "text/plain" in o.data]
        for text in filter(None, texts):
            for pattern, replacement in rules:
                text = pattern.sub(replacement, text)
            found.append((i, text))
    return found


def _execute_alone(source: Path, workdir: Path):
    from nbclient import NotebookClient

    workdir.mkdir()
    copy = workdir / source.name
    shutil.copy(source, copy)
    nb = nbformat.read(copy, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_runs_alone_and_repeats_exactly(stem, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("NBLIB_PROGRESS", "text")
    source = ROOT / "chapters" / f"{stem}.ipynb"
    first_nb = _execute_alone(source, tmp_path / "first")
    second_nb = _execute_alone(source, tmp_path / "second")
    first, second = text_outputs(first_nb), text_outputs(second_nb)
    assert len(first) > 5, "the chapter should print something to compare"
    assert first == second, "two executions of the same chapter printed different text"
    stored = text_outputs(nbformat.read(source, as_version=4), sanitise=True)
    assert text_outputs(first_nb, sanitise=True) == stored, "the fresh run differs from the stored outputs"
