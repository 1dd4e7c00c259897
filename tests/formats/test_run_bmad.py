"""A BMAD story runs end to end: Status review, tasks ticked, Dev Agent Record and sprint-status filled."""

from __future__ import annotations

import json

from exec_auto.ticket.resolve import state_home
from tests.formats.support import ADD, TEST_ADD, calc_project, run, tracked_changes
from tests.formats.test_bmad import SPRINT, STORY


def test_story_runs_and_the_story_file_shows_it_like_dev_story(tmp_path, script_agent, monkeypatch):
    root = calc_project(
        tmp_path / "calc",
        {
            "_bmad-output/implementation-artifacts/2-1-sums.md": STORY,
            "_bmad-output/implementation-artifacts/sprint-status.yaml": SPRINT,
        },
    )
    agent = script_agent(
        {
            "1": [
                {"write": "calc/ops.py", "text": ADD},
                {"write": "tests/test_ops.py", "text": TEST_ADD},
            ]
        }
    )
    assert run(root, monkeypatch, "2.1", agent) == 0
    report = json.loads((state_home(root, "bmad", "2-1-sums") / "report.json").read_text())
    assert [c["status"] for c in report["acceptance_criteria"]] == ["met"]
    story = (root / "_bmad-output/implementation-artifacts/2-1-sums.md").read_text()
    assert (
        "Status: review" in story
        and "- [x] Task 1: Add (AC: #1)" in story
        and "- [x] 1.2 Write the test" in story
    )
    record = story.split("## Dev Agent Record", 1)[1]
    assert "exec-auto with agent command" in record and "{{agent_model_name_version}}" not in record
    assert "- Task 1 (Add): completed" in record
    assert "- calc/ops.py" in record and "- tests/test_ops.py" in record
    sprint = (root / "_bmad-output/implementation-artifacts/sprint-status.yaml").read_text()
    assert sprint == SPRINT.replace("2-1-sums: ready-for-dev", "2-1-sums: review")
    assert tracked_changes(root) == [
        "_bmad-output/implementation-artifacts/2-1-sums.md",
        "_bmad-output/implementation-artifacts/sprint-status.yaml",
    ]
    # Everything above the Dev Agent Record is as it was, but for Status and the ticks.
    head = story.split("## Dev Agent Record", 1)[0]
    assert head == STORY.split("## Dev Agent Record", 1)[0].replace(
        "Status: ready-for-dev", "Status: review"
    ).replace("- [ ]", "- [x]")
