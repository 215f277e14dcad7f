"""Re-execute chapter notebooks in place and store their outputs.

The book renders stored outputs (``execute_notebooks: off``), and nbval compares
fresh runs against them, so a chapter's outputs are refreshed with this script
after every change to its code.

For each notebook it:

* runs every cell with nbclient in the ``python3`` kernel, with ``chapters/`` as
  the working directory and a 300 s limit per cell;
* stores the widget state, so the book can render widgets without a kernel;
* strips metadata that changes from run to run (timings and the like);
* records the wall time per chapter in ``.artifacts/execution_times.json``.

Usage::

    python tools/execute_chapters.py                          # every chapter
    python tools/execute_chapters.py chapters/01_perceptron.ipynb 02_backprop
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
TIMES_FILE = ROOT / ".artifacts" / "execution_times.json"

KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 300
CHAPTER_BUDGET_S = 90  # the per-chapter limit that tests/conftest.py enforces under nbval

# Metadata that records when or how long something ran, or editor state; none of
# it belongs in version control.
VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled")
VOLATILE_NOTEBOOK_KEYS = ("papermill", "execution")


def resolve(names: list[str]) -> list[Path]:
    """Turn command-line names (paths or bare stems) into chapter notebook paths."""
    if not names:
        found = sorted(CHAPTERS.glob("*.ipynb"))
        if not found:
            raise SystemExit(f"no notebooks in {CHAPTERS}")
        return found
    paths = []
    for name in names:
        candidates = [Path(name), ROOT / name, CHAPTERS / name, CHAPTERS / f"{name}.ipynb"]
        match = next((p.resolve() for p in candidates if p.is_file() and p.suffix == ".ipynb"), None)
        if match is None:
            raise SystemExit(f"not a notebook: {name}")
        paths.append(match)
    return paths


def strip_volatile(nb: nbformat.NotebookNode) -> None:
    for key in VOLATILE_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            # Jupyter sometimes records per-output execution metadata; drop it too.
            output.get("metadata", {}).pop("execution", None)


def execute(path: Path) -> float:
    """Execute one notebook in place; return its wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(CHAPTERS)}},
        store_widget_state=True,
        record_timing=False,
        allow_errors=False,
    )
    start = time.perf_counter()
    client.execute()  # raises on the first failing cell, a timeout or a dead kernel
    elapsed = time.perf_counter() - start
    strip_volatile(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return elapsed


def record_time(name: str, seconds: float) -> None:
    """Merge one chapter's time into the JSON file.

    Several chapters may be executed at once by separate processes, so the file is
    read, updated and written under an exclusive lock.
    """
    TIMES_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(TIMES_FILE.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            times = json.loads(TIMES_FILE.read_text())["chapters"]
        except (OSError, ValueError, KeyError):
            times = {}
        times[name] = round(seconds, 2)
        ordered = dict(sorted(times.items()))
        payload = {
            "chapters": ordered,
            "total_s": round(sum(ordered.values()), 2),
            "python": sys.version.split()[0],
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        temporary = TIMES_FILE.with_suffix(".tmp")
        temporary.write_text(json.dumps(payload, indent=2) + "\n")
        temporary.replace(TIMES_FILE)


def print_table(rows: list[tuple[str, float, str]]) -> None:
    width = max([len("chapter")] + [len(name) for name, _, _ in rows])
    print(f"\n{'chapter':<{width}}  {'wall s':>8}  status")
    print(f"{'-' * width}  {'-' * 8}  ------")
    for name, seconds, status in rows:
        print(f"{name:<{width}}  {seconds:8.1f}  {status}")
    print(f"{'total':<{width}}  {sum(s for _, s, _ in rows):8.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute chapter notebooks in place.")
    parser.add_argument("notebooks", nargs="*", help="paths or stems; default: all of chapters/")
    args = parser.parse_args(argv)

    rows: list[tuple[str, float, str]] = []
    failed = False
    for path in resolve(args.notebooks):
        name = path.relative_to(ROOT).as_posix()
        print(f"executing {name} ...", flush=True)
        try:
            seconds = execute(path)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            # The notebook on disk is left untouched when a cell fails.
            print(f"  FAILED: {error}", file=sys.stderr)
            rows.append((name, 0.0, "failed"))
            failed = True
            continue
        record_time(name, seconds)
        status = "ok" if seconds <= CHAPTER_BUDGET_S else f"over the {CHAPTER_BUDGET_S} s budget"
        rows.append((name, seconds, status))
        print(f"  {seconds:.1f} s", flush=True)

    print_table(rows)
    print(f"\ntimes written to {TIMES_FILE.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
