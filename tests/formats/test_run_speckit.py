"""A spec-kit feature runs end to end: scripted agent, real gates, tasks.md ticked like /implement."""

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
# Tasks: Calculator

**Input**: Design documents from `/specs/001-calc/`

## Format: `[ID] [P?] [Story] Description`

- **[P]**: Can run in parallel (different files, no dependencies)

## Phase 1: Setup

- [ ] T001 [US1] Implement add in calc/ops.py with tests/test_ops.py
- [ ] T002 [P] [US2] Implement mul in calc/more.py with tests/test_more.py

**Checkpoint**: add and mul work

---

## Phase 2: Polish

- [ ] T003 [US2] Document mul in calc/more.py (depends on T002)
- [ ] T004 Add a changelog line to NOTES.txt
"""
SPEC = """\
# Feature Specification: Calculator

## User Scenarios & Testing *(mandatory)*

### User Story 1 - Add numbers (Priority: P1)

**Acceptance Scenarios**:

1. **Given** two numbers, **When** they are added, **Then** the sum is returned (test_add)

### User Story 2 - Multiply numbers (Priority: P2)

1. **Given** two numbers, **When** they are multiplied, **Then** the product is returned (test_mul)

## Success Criteria *(mandatory)*

- **SC-001**: Every calculator function has a passing test (test_add, test_mul)
"""


def project(tmp_path):
    return calc_project(
        tmp_path / "calc",
        {
            "specs/001-calc/tasks.md": TASKS,
            "specs/001-calc/spec.md": SPEC,
            "specs/001-calc/plan.md": "# Plan\n",
        },
    )


def behaviour(mul: str = MUL, fail: bool = False) -> dict[str, object]:
    return {
        "T001": [
            {"write": "calc/ops.py", "text": ADD},
            {"write": "tests/test_ops.py", "text": TEST_ADD},
        ],
        "T002": [{"exit": 1, "message": "cannot"}]
        if fail
        else [
            {"write": "calc/more.py", "text": mul},
            {"write": "tests/test_more.py", "text": TEST_MUL},
        ],
        "T003": [{"write": "calc/more.py", "text": '"""Multiplication."""\n\n\n' + mul}],
        "T004": [{"write": "NOTES.txt", "text": "mul added\n"}],
    }


def test_feature_runs_and_tasks_md_shows_the_result(tmp_path, script_agent, monkeypatch):
    root = project(tmp_path)
    agent = script_agent(behaviour())
    assert run(root, monkeypatch, "001", agent) == 0
    home = state_home(root, "speckit", "001-calc")
    report = json.loads((home / "report.json").read_text())
    assert [s["status"] for s in report["steps"]] == ["completed"] * 4
    assert [c["status"] for c in report["acceptance_criteria"]] == ["met"] * 3
    assert (home / "progress.yaml").is_file() and not (
        root / "specs/001-calc/progress.yaml"
    ).exists()
    # The user's tracked files: only tasks.md changed, and only its four checkboxes.
    assert tracked_changes(root) == ["specs/001-calc/tasks.md"]
    pairs = changed_lines(root, "specs/001-calc/tasks.md")
    assert [(a.replace("[ ]", "[X]", 1) == b) for a, b in pairs] == [True] * 4
    calls = [c for c in agent_calls(tmp_path) if c["kind"] == "step"]
    assert [c["step"] for c in calls] == ["T001", "T002", "T003", "T004"]
    assert "Checkpoint after this task: add and mul work" in calls[1]["prompt"]


def test_failed_dependency_skips_its_dependant_and_leaves_it_unticked(
    tmp_path, script_agent, monkeypatch
):
    root = project(tmp_path)
    agent = script_agent(behaviour(fail=True))
    # Ordering and skips are the executor's, not the gates': no gates keeps this test quick.
    assert run(root, monkeypatch, "speckit:001-calc", agent, "--no-gates") == 1
    home = state_home(root, "speckit", "001-calc")
    report = json.loads((home / "report.json").read_text())
    status = {s["id"]: s["status"] for s in report["steps"]}
    assert status == {"T001": "completed", "T002": "failed", "T003": "skipped", "T004": "completed"}
    progress = (home / "progress.yaml").read_text()
    assert "step T003 skipped: dependency T002 (failed) did not complete" in progress
    tasks = (root / "specs/001-calc/tasks.md").read_text()
    assert (
        "- [X] T001" in tasks
        and "- [ ] T002" in tasks
        and "- [ ] T003" in tasks
        and "- [X] T004" in tasks
    )
    assert "T003" not in [c["step"] for c in agent_calls(tmp_path)]


PARALLEL = """\
# Tasks: Calculator

## Phase 1: Core

- [ ] T001 [P] Implement add in calc/ops.py with tests/test_ops.py
- [ ] T002 [P] Implement mul in calc/more.py with tests/test_more.py
- [ ] T003 Add a changelog line to NOTES.txt
"""


def test_parallel_tasks_share_one_batch_only_when_asked(tmp_path, script_agent, monkeypatch):
    both = [
        {"write": "calc/ops.py", "text": ADD},
        {"write": "tests/test_ops.py", "text": TEST_ADD},
        {"write": "calc/more.py", "text": MUL},
        {"write": "tests/test_more.py", "text": TEST_MUL},
    ]
    root = calc_project(tmp_path / "calc", {"specs/001-calc/tasks.md": PARALLEL})
    agent = script_agent({"T001+T002": both, "T003": [{"write": "NOTES.txt", "text": "x\n"}]})
    assert run(root, monkeypatch, "001-calc", agent, "--parallel-tasks") == 0
    calls = [c for c in agent_calls(tmp_path) if c["kind"] == "step"]
    assert [c["step"] for c in calls] == ["T001+T002", "T003"]
    assert (
        "### Task T001: Implement add" in calls[0]["prompt"]
        and "### Task T002: Implement mul" in calls[0]["prompt"]
    )
    report = json.loads((state_home(root, "speckit", "001-calc") / "report.json").read_text())
    assert [(s["id"], s["status"]) for s in report["steps"]] == [
        ("T001", "completed"),
        ("T002", "completed"),
        ("T003", "completed"),
    ]
    tasks = (root / "specs/001-calc/tasks.md").read_text()
    assert tasks == PARALLEL.replace("- [ ]", "- [X]")
    progress = (state_home(root, "speckit", "001-calc") / "progress.yaml").read_text()
    assert (
        "ran in one batch with T002 (--parallel-tasks)" in progress
        and "T001+T002" not in progress.split("issues:")[0]
    )


def test_a_rerun_does_not_redo_tasks_ticked_by_an_earlier_run(tmp_path, script_agent, monkeypatch):
    root = project(tmp_path)
    assert run(root, monkeypatch, "001", script_agent(behaviour(fail=True)), "--no-gates") == 1
    # The user fixes what made T002 fail and starts over: T001 and T004 are [X] in tasks.md now.
    log = tmp_path / "agent-calls.jsonl"
    log.unlink()
    assert run(root, monkeypatch, "001", script_agent(behaviour()), "--no-gates", "--restart") == 1
    assert [c["step"] for c in agent_calls(tmp_path) if c["kind"] == "step"] == ["T002", "T003"]
    report = json.loads((state_home(root, "speckit", "001-calc") / "report.json").read_text())
    assert [(s["id"], s["status"]) for s in report["steps"]] == [
        ("T002", "completed"),
        ("T003", "completed"),
    ]
    assert (root / "specs/001-calc/tasks.md").read_text().count("- [X]") == 4
