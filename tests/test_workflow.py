"""The publishing workflow runs what CI runs, then builds and deploys the book."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def _steps(job: str) -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]


def test_build_job_runs_ci_then_report_then_book():
    commands = [s.get("run", "") for s in _steps("build")]
    ci = next(i for i, c in enumerate(commands) if "bash .ci/run" in c)
    book = next(i for i, c in enumerate(commands) if "make book" in c)
    assert ci < book, ".ci/run (make test) must pass before the book is built"
    assert "make report" in commands[book], "the published execution report comes from this run"
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact") and s["with"]["path"] == "_build/html"
               for s in _steps("build"))


def test_only_main_is_deployed():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    deploy = workflow["jobs"]["deploy"]
    assert "refs/heads/main" in deploy["if"] and deploy["needs"] == "build"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in deploy["steps"])


def test_ci_entry_point_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
