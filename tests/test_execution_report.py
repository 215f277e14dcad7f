"""The execution report page is generated, complete, and not stale.

``book/execution_report.md`` is written by tools/execution_report.py from a test run.
These tests check that every chapter of the table of contents has a row and headline
numbers, that each headline number on the page is the value the stored notebook
glues now (so a re-executed chapter cannot leave the page behind), and that the
total at the top is the sum of the rows.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import execution_report  # noqa: E402

PAGE = ROOT / "book" / "execution_report.md"


@pytest.fixture(scope="module")
def rows() -> dict[str, list[str]]:
    text = PAGE.read_text(encoding="utf-8")
    found = {}
    for line in text.splitlines():
        match = re.match(r"\| \[[^\]]*\]\(\.\./chapters/(\w+)\.ipynb\) \|(.*)\|\s*$", line)
        if match:
            found[match.group(1)] = [c.strip() for c in match.group(2).split("|")]
    return found


def test_every_chapter_has_headline_numbers_that_exist():
    headlines = yaml.safe_load((ROOT / "book" / "headlines.yml").read_text())
    for stem in execution_report.chapters_in_toc():
        assert headlines.get(stem), f"book/headlines.yml lists nothing for {stem}"
        execution_report.headline_text(stem, headlines)  # raises if a name is not glued


def test_page_lists_every_chapter_as_passed(rows):
    assert list(rows) == execution_report.chapters_in_toc()
    assert {status for _, status, _ in rows.values()} == {"passed"}


def test_headline_numbers_match_the_stored_notebooks(rows):
    headlines = yaml.safe_load((ROOT / "book" / "headlines.yml").read_text())
    for stem, (_, _, numbers) in rows.items():
        assert numbers == execution_report.headline_text(stem, headlines), (
            f"{stem}: the report is stale; run `make test` and `make report`")


def test_total_is_the_sum_of_the_chapters(rows):
    total = float(re.search(r"whole book executed in (\d+) s", PAGE.read_text()).group(1))
    assert abs(total - sum(float(t) for t, _, _ in rows.values())) <= 1.0
    assert total <= 600
