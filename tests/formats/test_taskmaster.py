"""Taskmaster: real tasks.json files parse into subtasks with dependencies; status edits touch one value."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest

from exec_auto.errors import FormatError
from exec_auto.formats.base import LoadedTicket
from exec_auto.formats.jsonedit import JSONEditError, set_value
from exec_auto.formats.taskmaster import Taskmaster

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "taskmaster"


def load(tmp_path: Path, fixture: str) -> LoadedTicket:
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    fmt = Taskmaster()
    assert fmt.detect(root)
    (ref,) = fmt.list_tickets(root)
    return fmt.load(ref)


def test_string_ids_sibling_dependencies_and_task_dependencies(tmp_path):
    t = load(tmp_path, "taskmaster-sync")
    steps = {s.id: s for s in t.plan.steps}
    assert t.ref.name == "master" and t.status == "in-progress"
    open_ids = [s.id for s in t.plan.steps if not s.done]
    assert open_ids[:3] == [
        "github-action-simplification.detect-missing-project",
        "github-action-simplification.auto-create-project",
        "github-action-simplification.update-action-docs",
    ]
    # A sibling named without its task ("detect-missing-project") and the task's own dependency.
    auto = steps["github-action-simplification.auto-create-project"]
    assert auto.depends_on[0] == "github-action-simplification.detect-missing-project"
    assert "rust-distribution.rust-cross-compilation" in auto.depends_on
    assert auto.phase.startswith("Task github-action-simplification: ")
    # A task marked done counts as done even where a subtask still says pending.
    assert steps["rust-real-issues.enhanced-subtasks"].done
    # A task without subtasks is one step.
    assert (
        steps["github-action-publishing"].phase is None
        and not steps["github-action-publishing"].done
    )


def test_numeric_ids_criteria_from_test_strategies(tmp_path):
    t = load(tmp_path, "resourcer")
    steps = {s.id: s for s in t.plan.steps}
    assert steps["9.2"].depends_on[0] == "9.1" and steps["9.3"].depends_on[0] == "9.2"
    # Task 9 depends on task 4: every subtask of 9 waits for every step of 4.
    assert {"4.1", "4.2", "4.3"} <= set(steps["9.1"].depends_on)
    assert {c.group for c in t.criteria} >= {"Task 10", "Task 11"}
    assert all(
        c.source.startswith(".taskmaster/tasks/tasks.json master.tasks[") for c in t.criteria
    )
    assert "(status pending)" in steps["10"].source


def test_finished_tag_and_parent_ids(tmp_path):
    t = load(tmp_path, "tajdin")
    assert t.status == "done" and all(s.done for s in t.plan.steps) and t.criteria == ()


def diff_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_status_write_back_changes_only_status_values(tmp_path):
    t = load(tmp_path, "edu-parser")
    path = t.ref.root / ".taskmaster/tasks/tasks.json"
    before = path.read_text()
    fmt = Taskmaster()
    first = next(s for s in t.plan.steps if not s.done)
    assert first.id == "11.1"
    assert fmt.mark_step(t, first, "in_progress") == [
        "tasks.json: 11.1 status in-progress",
        "tasks.json: task 11 status in-progress",
    ]
    middle = path.read_text()
    assert [line[0] + line[1:].strip() for line in diff_lines(before, middle)] == [
        '-"status": "pending",',
        '+"status": "in-progress",',
        '-"status": "pending",',
        '+"status": "in-progress",',
    ]
    assert len(middle) == len(before) + 2 * len("in-progress") - 2 * len("pending")
    for step in [s for s in t.plan.steps if s.id.startswith("11.")]:
        fmt.mark_step(t, step, "completed")
    data = json.loads(path.read_text())
    task = next(x for x in data["master"]["tasks"] if x["id"] == 11)
    assert task["status"] == "done" and {s["status"] for s in task["subtasks"]} == {"done"}
    changed = diff_lines(before, path.read_text())
    assert all('"status": ' in line for line in changed)
    # Failing a step puts back the status it had before the run.
    fmt.mark_step(t, first, "failed")
    assert json.loads(path.read_text())["master"]["tasks"][10]["subtasks"][0]["status"] == "pending"


def test_missing_status_is_added_like_its_siblings_and_bad_json_is_refused(tmp_path):
    text = '{\n  "master": {\n    "tasks": [\n      {\n        "id": 1,\n        "title": "One"\n      }\n    ]\n  }\n}\n'
    out = set_value(text, ("master", "tasks", 0, "status"), "done")
    assert out == text.replace('"title": "One"\n', '"title": "One",\n        "status": "done"\n')
    with pytest.raises(JSONEditError):
        set_value('{"a": [1, }', ("a", 0), 2)
    root = tmp_path / "bad"
    (root / ".taskmaster/tasks").mkdir(parents=True)
    (root / ".taskmaster/tasks/tasks.json").write_text('{"master": {"tasks": [}')
    fmt = Taskmaster()
    (ref,) = fmt.list_tickets(root)
    with pytest.raises(FormatError, match="is not valid JSON"):
        fmt.load(ref)


def test_legacy_untagged_file_reads_as_master(tmp_path):
    root = tmp_path / "legacy"
    (root / ".taskmaster/tasks").mkdir(parents=True)
    (root / ".taskmaster/tasks/tasks.json").write_text(
        json.dumps(
            {"tasks": [{"id": 1, "title": "Do", "status": "pending", "testStrategy": "run it"}]},
            indent=2,
        )
    )
    fmt = Taskmaster()
    (ref,) = fmt.list_tickets(root)
    t = fmt.load(ref)
    assert ref.name == "master" and [s.id for s in t.plan.steps] == ["1"]
    assert fmt.mark_step(t, t.plan.steps[0], "completed") == ["tasks.json: 1 status done"]
    assert (
        json.loads((root / ".taskmaster/tasks/tasks.json").read_text())["tasks"][0]["status"]
        == "done"
    )
