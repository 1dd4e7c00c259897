"""A Taskmaster tag runs end to end: statuses written as Taskmaster does, nothing else in tasks.json moves."""

from __future__ import annotations

import json

from exec_auto.ticket.resolve import state_home
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

TASKS = {
    "master": {
        "tasks": [
            {
                "id": 1,
                "title": "Add",
                "description": "Implement add",
                "details": "calc/ops.py",
                "testStrategy": "test_add passes",
                "priority": "high",
                "dependencies": [],
                "status": "pending",
                "subtasks": [
                    {
                        "id": 1,
                        "title": "Write add",
                        "description": "calc/ops.py",
                        "dependencies": [],
                        "status": "pending",
                    },
                    {
                        "id": 2,
                        "title": "Test add",
                        "description": "tests/test_ops.py",
                        "dependencies": [1],
                        "status": "pending",
                    },
                ],
            },
            {
                "id": 2,
                "title": "Multiply",
                "description": "Implement mul",
                "testStrategy": "test_mul passes",
                "priority": "medium",
                "dependencies": [1],
                "status": "pending",
                "subtasks": [],
            },
        ],
        "metadata": {
            "created": "2026-01-01T00:00:00.000Z",
            "updated": "2026-01-01T00:00:00.000Z",
            "description": "Tasks for master context",
        },
    }
}


def test_tag_runs_and_tasks_json_gets_taskmaster_statuses(tmp_path, script_agent, monkeypatch):
    text = json.dumps(TASKS, indent=2) + "\n"
    root = calc_project(
        tmp_path / "calc", {".taskmaster/tasks/tasks.json": text, ".taskmaster/config.json": "{}\n"}
    )
    agent = script_agent(
        {
            "1.1": [{"write": "calc/ops.py", "text": ADD}],
            "1.2": [{"write": "tests/test_ops.py", "text": TEST_ADD}],
            "2": [
                {"write": "calc/more.py", "text": MUL},
                {"write": "tests/test_more.py", "text": TEST_MUL},
            ],
        }
    )
    assert run(root, monkeypatch, "taskmaster:master", agent) == 0
    report = json.loads((state_home(root, "taskmaster", "master") / "report.json").read_text())
    assert [s["id"] for s in report["steps"]] == ["1.1", "1.2", "2"]
    assert [c["status"] for c in report["acceptance_criteria"]] == ["met", "met"]
    data = json.loads((root / ".taskmaster/tasks/tasks.json").read_text())
    tasks = data["master"]["tasks"]
    assert [t["status"] for t in tasks] == ["done", "done"]
    assert [s["status"] for s in tasks[0]["subtasks"]] == ["done", "done"]
    assert tracked_changes(root) == [".taskmaster/tasks/tasks.json"]
    # Only status values changed (pending -> done); order, indentation, metadata as they were.
    pairs = changed_lines(root, ".taskmaster/tasks/tasks.json")
    assert pairs and all(a.replace('"pending"', '"done"') == b for a, b in pairs)
    assert (
        list(data["master"]) == ["tasks", "metadata"]
        and data["master"]["metadata"] == TASKS["master"]["metadata"]
    )
