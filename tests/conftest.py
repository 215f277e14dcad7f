"""Shared pytest set-up: nbval comparison rules and the chapters' time budget.

nbval (``pytest --nbval``) turns every chapter notebook into one test item per
cell. This file adjusts how those items compare outputs, and it times them:

* ``text/html`` is not compared. An nblib explorer's HTML is a frame player that
  embeds PNG data, which differs in its bytes from run to run; its ``text/plain``
  summary is stable and is compared instead. ``stderr`` is not compared either:
  it carries warnings and progress bars, not results.
* Each notebook's time is the sum of its cells' setup, call and teardown times
  (kernel start-up included). At the end of the session a table of these times is
  printed and written to ``.artifacts/nbval_times.json``, and the session fails
  when a chapter takes longer than 90 s or all chapters together longer than 600 s.

With pytest-xdist the reports of all workers reach the controller, so the times
are collected there, in ``pytest_runtest_logreport``.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / ".artifacts"

# The budgets of PLAN.md; the environment may lower them (to test this file) or
# raise them (on a slow machine), but CI uses the defaults.
CHAPTER_LIMIT_S = float(os.environ.get("NBVAL_CHAPTER_LIMIT_S", 90))
TOTAL_LIMIT_S = float(os.environ.get("NBVAL_TOTAL_LIMIT_S", 600))
NBVAL_SKIP_COMPARE = ("text/html", "stderr")


# ------------------------------------------------------------ notebook timing
class NotebookTimer:
    """Sums the durations of notebook cell reports, per notebook."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.failed: set[str] = set()
        self.violations: list[str] = []

    def add(self, report) -> None:
        path, sep, _ = report.nodeid.partition("::")
        if not sep or not path.endswith(".ipynb"):
            return
        self.seconds[path] += report.duration
        if report.failed:
            self.failed.add(path)

    def check(self) -> None:
        self.violations = [
            f"{path} took {seconds:.1f} s (limit {CHAPTER_LIMIT_S:.0f} s)"
            for path, seconds in sorted(self.seconds.items())
            if seconds > CHAPTER_LIMIT_S
        ]
        total = sum(self.seconds.values())
        if total > TOTAL_LIMIT_S:
            self.violations.append(f"all notebooks took {total:.1f} s (limit {TOTAL_LIMIT_S:.0f} s)")

    def write(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        payload = {
            "chapters": {path: round(s, 2) for path, s in sorted(self.seconds.items())},
            "total_s": round(sum(self.seconds.values()), 2),
            "limits_s": {"chapter": CHAPTER_LIMIT_S, "total": TOTAL_LIMIT_S},
            "failed": sorted(self.failed),
            "violations": self.violations,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (ARTIFACTS / "nbval_times.json").write_text(json.dumps(payload, indent=2) + "\n")

    def table(self) -> list[str]:
        width = max([len("notebook")] + [len(p) for p in self.seconds])
        lines = [f"{'notebook':<{width}}  {'seconds':>8}  status", f"{'-' * width}  {'-' * 8}  ------"]
        for path, seconds in sorted(self.seconds.items()):
            status = "failed" if path in self.failed else "ok"
            if seconds > CHAPTER_LIMIT_S:
                status += f", over {CHAPTER_LIMIT_S:.0f} s"
            lines.append(f"{path:<{width}}  {seconds:8.1f}  {status}")
        total = sum(self.seconds.values())
        flag = f"over {TOTAL_LIMIT_S:.0f} s" if total > TOTAL_LIMIT_S else ""
        lines.append(f"{'total':<{width}}  {total:8.1f}  {flag}".rstrip())
        return lines


def write_outcomes(stats: dict, exitstatus) -> None:
    """Counts of test outcomes and the machine, for the execution report (tools/execution_report.py)."""
    import platform

    kinds = ("passed", "failed", "skipped", "error", "xfailed", "xpassed")
    reports = {k: [r for r in stats.get(k, []) if getattr(r, "when", "call") in ("call", "setup")] for k in kinds}
    counts = {k: len(v) for k, v in reports.items()}
    counts["notebook_cells_passed"] = sum(".ipynb::" in r.nodeid for r in reports["passed"])
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    payload = {"outcomes": counts, "exitstatus": int(exitstatus), "offline": os.environ.get("NBLIB_OFFLINE") == "1",
               "machine": {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
                           "system": f"{platform.system()} {platform.machine()}"},
               "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "test_summary.json").write_text(json.dumps(payload, indent=2) + "\n")


# ------------------------------------------------------------------ the plugin
class NotebookRules:
    """The hooks, registered once as a plugin object so that they apply to every item.

    (Hooks written as conftest functions would only see items below tests/, and a
    notebook lives in chapters/.) The comparison rules run wherever items are
    collected, xdist workers included; the timing runs on the controller, which
    receives every worker's reports.
    """

    def __init__(self, config) -> None:
        self.timer = None if hasattr(config, "workerinput") else NotebookTimer()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        for collector in {id(item.parent): item.parent for item in items}.values():
            skip = getattr(collector, "skip_compare", None)
            if type(collector).__name__ == "IPyNbFile" and isinstance(skip, tuple):
                collector.skip_compare = skip + tuple(k for k in NBVAL_SKIP_COMPARE if k not in skip)

    def pytest_runtest_logreport(self, report):
        if self.timer is not None:
            self.timer.add(report)

    def pytest_sessionfinish(self, session, exitstatus):
        if self.timer is None or not self.timer.seconds:
            return
        self.timer.check()
        self.timer.write()
        if self.timer.violations and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        if self.timer is None:
            return
        write_outcomes(terminalreporter.stats, exitstatus)
        if not self.timer.seconds:
            return
        terminalreporter.section("notebook execution times")
        for line in self.timer.table():
            terminalreporter.write_line(line)
        for violation in self.timer.violations:
            terminalreporter.write_line(f"TIME BUDGET EXCEEDED: {violation}", red=True, bold=True)
        terminalreporter.write_line(f"(written to {(ARTIFACTS / 'nbval_times.json').relative_to(ROOT)})")


PLUGIN_NAME = "perceptron-to-qubit-notebook-rules"


def pytest_configure(config):
    # The root conftest.py also loads this file (so that `pytest --nbval chapters/...`
    # gets these rules); the name check keeps the plugin from being registered twice.
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(NotebookRules(config), PLUGIN_NAME)


# --------------------------------------------------- chapter headline fixtures
@pytest.fixture(scope="module")
def glued(request) -> dict:
    """The values glued in the test module's ``NOTEBOOK`` (see tests/test_chapter_NN.py)."""
    from nblib.report import read_glued

    values = read_glued(request.module.NOTEBOOK)
    assert values, f"{request.module.NOTEBOOK.name} stores no glued values: execute it first (make execute)"
    return values


@pytest.fixture(scope="module")
def cells(request) -> list[dict]:
    """The cells of the test module's ``NOTEBOOK``."""
    return json.loads(request.module.NOTEBOOK.read_text(encoding="utf-8"))["cells"]


@pytest.fixture(scope="module")
def torch_one_thread():
    """Run a test module's torch code on one thread, as ``make test`` does (OMP_NUM_THREADS=1).

    The small networks of the explorers only lose from extra threads, and a shared
    machine makes them much slower. Use with ``pytestmark = pytest.mark.usefixtures(...)``.
    """
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
