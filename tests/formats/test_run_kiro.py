"""A Kiro spec runs end to end: leaves ticked [x], parents when their required children are."""

from __future__ import annotations

import json

from exec_auto.ticket.resolve import state_home
from tests.conftest import agent_calls
from tests.formats.support import (
    ADD,
    MUL,
    TEST_ADD,
    TEST_MUL,
    calc_project,
    changed_lines,
    run,
    tracked_changes,
)

TASKS = """\
# Implementation Plan

- [ ] 1. Calculator core
- [ ] 1.1 (P) Implement add in calc/ops.py
  - Write tests/test_ops.py
  - _Requirements: 1.1_
  - _Boundary: ops_
- [ ] 1.2 (P) Implement mul in calc/more.py
  - _Requirements: 1.2_
- [ ]* 1.3 Write a property test for add
  - **Validates: Requirements 1.1**

- [ ] 2. Checkpoint - Ensure all tests pass
  - _Depends: 1.1, 1.2_
"""
REQUIREMENTS = """\
# Requirements Document

## Requirements

### Requirement 1: Arithmetic

**User Story:** As a user, I want to add and multiply.

#### Acceptance Criteria

1. WHEN two numbers are added THEN the calculator SHALL return their sum (test_add)
2. WHEN two numbers are multiplied THEN the calculator SHALL return their product (test_mul)
3. WHEN nothing references this THEN it is not a criterion of the tasks
"""


def test_kiro_spec_runs_and_tasks_md_shows_kiro_ticks(tmp_path, script_agent, monkeypatch):
    root = calc_project(
        tmp_path / "calc",
        {".kiro/specs/calc/tasks.md": TASKS, ".kiro/specs/calc/requirements.md": REQUIREMENTS},
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
            "1.3": [
                {
                    "append": "tests/test_ops.py",
                    "text": "\n\ndef test_add_zero():\n    assert add(0, 0) == 0\n",
                }
            ],
            "2": [{"write": "CHECKPOINT.txt", "text": "all green\n"}],
        }
    )
    assert run(root, monkeypatch, "kiro:calc", agent) == 0
    report = json.loads((state_home(root, "kiro", "calc") / "report.json").read_text())
    assert [s["id"] for s in report["steps"]] == ["1.1", "1.2", "1.3", "2"]
    assert [c["criterion"][:4] for c in report["acceptance_criteria"]] == ["1.1:", "1.2:"]
    assert all(c["status"] == "met" for c in report["acceptance_criteria"])
    assert tracked_changes(root) == [".kiro/specs/calc/tasks.md"]
    pairs = changed_lines(root, ".kiro/specs/calc/tasks.md")
    assert [b for _, b in pairs] == [
        "- [x] 1. Calculator core",
        "- [x] 1.1 (P) Implement add in calc/ops.py",
        "- [x] 1.2 (P) Implement mul in calc/more.py",
        "- [x]* 1.3 Write a property test for add",
        "- [x] 2. Checkpoint - Ensure all tests pass",
    ]
    assert all(a.replace("[ ]", "[x]", 1) == b for a, b in pairs)
    assert [c["step"] for c in agent_calls(tmp_path) if c["kind"] == "step"] == [
        "1.1",
        "1.2",
        "1.3",
        "2",
    ]
