"""An OpenSpec change runs end to end: tasks ticked [x], then archived the way `openspec archive` does."""

from __future__ import annotations

import datetime as dt
import json

from exec_auto.ticket.resolve import state_home
from tests.conftest import git
from tests.formats.support import ADD, MUL, TEST_ADD, TEST_MUL, calc_project, run

TASKS = """\
## 1. Core

- [ ] 1.1 Implement add in calc/ops.py with a test
- [ ] 1.2 Implement mul in calc/more.py with a test
"""
DELTA = """\
## ADDED Requirements

### Requirement: Arithmetic
The calculator SHALL add and multiply.

#### Scenario: Add
- **WHEN** adding 2 and 3
- **THEN** the result is 5 (test_add)

#### Scenario: Multiply
- **WHEN** multiplying 2 and 3
- **THEN** the result is 6 (test_mul)
"""
MAIN = "# calc Specification\n\n## Purpose\nA calculator.\n\n## Requirements\n\n### Requirement: Exists\nThe calculator SHALL exist.\n"


def test_change_runs_ticks_tasks_and_archives_into_the_specs(tmp_path, script_agent, monkeypatch):
    root = calc_project(
        tmp_path / "calc",
        {
            "openspec/project.md": "# Project\n",
            "openspec/specs/calc/spec.md": MAIN,
            "openspec/changes/add-arith/proposal.md": "## Why\n\nPeople need sums.\n",
            "openspec/changes/add-arith/tasks.md": TASKS,
            "openspec/changes/add-arith/specs/calc/spec.md": DELTA,
        },
    )
    agent = script_agent(
        {
            "1.1": [
                {"write": "calc/ops.py", "text": ADD},
                {"write": "tests/test_ops.py", "text": TEST_ADD},
            ],
            "1.2": [
                {"write": "calc/more.py", "text": MUL},
                {"write": "tests/test_more.py", "text": TEST_MUL},
            ],
        }
    )
    assert run(root, monkeypatch, "add-arith", agent) == 0
    report = json.loads((state_home(root, "openspec", "add-arith") / "report.json").read_text())
    assert [c["status"] for c in report["acceptance_criteria"]] == ["met", "met"]
    archived = f"openspec/changes/archive/{dt.date.today().isoformat()}-add-arith"
    assert report["archived_to"] == archived and report["restore_command"] is None
    assert (root / archived / "tasks.md").read_text() == TASKS.replace("- [ ]", "- [x]")
    assert (root / "openspec/specs/calc/spec.md").read_text() == MAIN + "\n" + DELTA.split(
        "\n\n", 1
    )[1]
    status = git(root, "status", "--porcelain", "--", "openspec").splitlines()
    assert sorted(status) == [
        " D openspec/changes/add-arith/proposal.md",
        " D openspec/changes/add-arith/specs/calc/spec.md",
        " D openspec/changes/add-arith/tasks.md",
        " M openspec/specs/calc/spec.md",
        "?? openspec/changes/archive/",
    ]
