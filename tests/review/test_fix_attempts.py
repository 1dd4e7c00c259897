"""Gate results per fix attempt reach the report and the review's timeline; attempts' snapshots go at archive."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from exec_auto.executor.snapshot import SnapshotStore
from tests.conftest import init_repo, plan_text, run_cli

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
TEST_ADD = "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def _calc(root: Path) -> None:
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "calc"
            version = "0"
            [tool.pytest.ini_options]
            testpaths = ["tests"]
            [tool.exec-auto.gates]
            baseline = false
            final_gate = false
            """
        )
    )
    ticket = root / "specs" / "tickets" / "feature-x"
    ticket.mkdir(parents=True)
    (ticket / "plan.md").write_text(plan_text(["Add"]))
    (ticket / "spec.yaml").write_text(
        "acceptance_criteria:\n  - criterion: add works\n    tests: [test_add]\nticket:\n  status: planned\n"
    )
    (root / "CLAUDE.md").write_text("conventions\n")
    init_repo(root)


def test_each_fix_attempt_is_in_the_timeline_and_its_snapshot_is_freed_at_archive(
    tmp_path, script_agent, monkeypatch
):
    root = tmp_path / "calc"
    _calc(root)
    agent = script_agent(
        {
            "1": [
                {"write": "calc/ops.py", "text": BUGGY},
                {"write": "tests/test_ops.py", "text": TEST_ADD},
            ],
            "fix:1": [{"write": "calc/ops.py", "text": FIXED}],
        }
    )
    run_cli(root, monkeypatch, agent, "--no-install")
    folder = root / "specs" / "archive" / "feature-x"
    step = json.loads((folder / "report.json").read_text())["steps"][0]
    tried = [a for a in step["auto_actions"] if a.startswith(("Gates after", "Fix attempt"))]
    assert tried[0].startswith("Gates after the step: ") and "failed" in tried[0]
    assert tried[1].startswith("Fix attempt 1: gates passed (") and "passed" in tried[1]
    page = (folder / "report.html").read_text()
    assert "Fix attempt 1: gates passed" in page and "<b>final:</b>" in page
    # The fix attempt's snapshot was kept during the run and freed when the ticket was archived.
    refs = SnapshotStore(root, "feature-x").git("for-each-ref", "--format=%(refname)")
    assert "/step-1" in refs and "/attempts/" not in refs
