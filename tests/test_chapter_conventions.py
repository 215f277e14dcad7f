"""Every chapter keeps the reader's promise of PLAN.md, checked on the stored notebook.

Each chapter opens with what you will learn and what you need first, has one
title, never skips a heading level, carries a Claim check box, displays an
explorer, ends with a summary, 3 to 6 exercises and a hidden, executed solution
to each, cites only glued numbers and known references, seeds everything in its
first code cell, marks its timing cells for nbval, has no error output, and stays
small. A chapter still being written (a placeholder without code) is skipped.

The chapter-specific numbers are checked in tests/test_chapter_NN.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nblib.report import read_glued
from chapter_helpers import join_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIBLIOGRAPHY = ROOT / "book" / "references.bib"
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 2_000_000
SECTIONS = ["## What you will learn", "## What you need first", "## Summary", "## Exercises", "## Solutions"]
TIMING = re.compile(r"perf_counter|time\.time\(|%%?timeit|%%?time\b")


class Chapter:
    def __init__(self, path: Path):
        self.path = path
        self.cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        self.code = [c for c in self.cells if c["cell_type"] == "code"]
        self.markdown = [join_text(c["source"]) for c in self.cells if c["cell_type"] == "markdown"]
        self.headings = [line for md in self.markdown for line in md.splitlines() if re.match(r"#{1,6} ", line)]


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def chapter(request) -> Chapter:
    ch = Chapter(request.param)
    if not ch.code:
        pytest.skip(f"{ch.path.name} is a placeholder: the chapter is being written")
    return ch


def test_one_title_and_no_skipped_heading_level(chapter):
    titles = [h for h in chapter.headings if h.startswith("# ")]
    assert len(titles) == 1 and titles[0].startswith("# Chapter "), titles
    levels = [len(h.split(" ")[0]) for h in chapter.headings]
    for (a, b), heading in zip(zip(levels, levels[1:]), chapter.headings[1:]):
        assert b <= a + 1, f"heading level jumps before {heading!r}"


def test_sections_in_order_and_a_claim_check(chapter):
    positions = []
    for section in SECTIONS:
        assert section in chapter.headings, f"missing section {section!r}"
        positions.append(chapter.headings.index(section))
    assert positions == sorted(positions)
    assert any(":::{admonition} Claim check" in md for md in chapter.markdown), "no Claim check box"


def test_every_exercise_has_a_hidden_executed_solution(chapter):
    exercises = next(md for md in chapter.markdown if md.startswith("## Exercises"))
    count = len(re.findall(r"^\d+\. ", exercises, flags=re.M))
    assert 3 <= count <= 6, f"{count} exercises"
    for k in range(1, count + 1):
        heading = re.compile(rf"^### Solution to exercise {k}\b", re.M)
        start = next((i for i, c in enumerate(chapter.cells)
                      if c["cell_type"] == "markdown" and heading.search(join_text(c["source"]))), None)
        assert start is not None, f"no solution heading for exercise {k}"
        solution = []
        for cell in chapter.cells[start + 1:]:
            if cell["cell_type"] == "markdown" and re.search(r"^### ", join_text(cell["source"]), re.M):
                break
            if cell["cell_type"] == "code":
                solution.append(cell)
        assert solution, f"solution {k} has no code"
        for cell in solution:
            assert "hide-cell" in cell["metadata"].get("tags", []), f"solution {k} is not behind a toggle"
            assert cell.get("execution_count") is not None, f"solution {k} was not executed"


def test_prose_cites_only_glued_values_and_known_references(chapter):
    text = "\n".join(chapter.markdown)
    glued = read_glued(chapter.path)
    cited = set(re.findall(r"\{glue(?::text)?\}`([A-Za-z_]\w*)", text))
    assert cited, "the prose should cite measured numbers"
    assert cited <= set(glued), f"prose cites values never glued: {sorted(cited - set(glued))}"
    bib = BIBLIOGRAPHY.read_text(encoding="utf-8")
    for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
        for key in (k.strip() for k in group.split(",")):
            assert re.search(rf"@\w+\{{{re.escape(key)},", bib), f"{key} is missing from references.bib"


def test_first_code_cell_seeds_everything(chapter):
    assert "seed_everything(" in join_text(chapter.code[0]["source"])


def test_an_explorer_is_displayed(chapter):
    summaries = [join_text(o.get("data", {}).get("text/plain", "")) for c in chapter.code for o in c.get("outputs", [])]
    assert any("[explorer:" in s for s in summaries), "no explorer is displayed"


def test_timing_cells_are_ignored_by_nbval(chapter):
    for cell in chapter.code:
        source = join_text(cell["source"])
        if TIMING.search(source):
            assert source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT"), f"timing cell not marked: {source[:80]!r}"


def test_no_errors_and_no_echoed_glue(chapter):
    for cell in chapter.code:
        source = join_text(cell["source"])
        assert not any(o.get("output_type") == "error" for o in cell.get("outputs", [])), source[:80]
        last = source.strip().splitlines()[-1] if source.strip() else ""
        assert not last.startswith("glue("), f"a bare glue(...) ends a cell and echoes its value: {source[:80]!r}"


def test_notebook_stays_small(chapter):
    assert chapter.path.stat().st_size < MAX_BYTES
