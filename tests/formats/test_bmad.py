"""BMAD: real stories (v6 and v4) parse into their tasks and acceptance criteria; write-back is local."""

from __future__ import annotations

import shutil
from pathlib import Path

from exec_auto.formats.base import LoadedTicket, RunSummary
from exec_auto.formats.bmad import Bmad

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "bmad"


def load(tmp_path: Path, fixture: str) -> LoadedTicket:
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    fmt = Bmad()
    assert fmt.detect(root)
    (ref,) = fmt.list_tickets(root)
    return fmt.load(ref)


def test_v6_story_with_bold_ac_blocks_and_ac_references(tmp_path):
    t = load(tmp_path, "todo-app")
    assert t.title == "Story 1.2: User Registration" and t.status == "done"
    assert [s.id for s in t.plan.steps] == ["1", "2", "3", "4", "5"]
    first = t.plan.steps[0]
    assert first.title == "Shared types — registration schemas"
    assert "AC AC4" in first.source and "with 2 subtask(s)" in first.source
    assert "- [x] 1.2 Verify `shared/types/index.ts` still compiles" in first.body
    assert [c.text.split(":")[0] for c in t.criteria] == [
        "AC1 — Successful registration",
        "AC2 — Duplicate email",
        "AC3 — Empty field validation (client-side)",
        "AC4 — Server-side schema validation",
    ]
    assert t.criteria[0].text.endswith(
        "Given I am on the registration page (/register) When I submit a valid email and password "
        "Then my account is created and I am immediately redirected to the authenticated task list (/) "
        "And my password is stored as a bcrypt hash (12 rounds) — never plaintext"
    )
    assert t.files[-1].endswith("sprint-status.yaml")


def test_v6_story_with_numbered_given_when_then_criteria(tmp_path):
    t = load(tmp_path, "docvet")
    assert [c.text.split(":")[0] for c in t.criteria] == [f"AC #{n}" for n in range(1, 6)]
    assert t.criteria[0].text == (
        "AC #1: Given the checks/__init__.py module, when imported, then it exports Finding as the only public name"
    )
    assert [s.title for s in t.plan.steps][-1] == "Run quality gates and verify all pass"


def test_v4_story_status_heading_and_plain_numbered_criteria(tmp_path):
    t = load(tmp_path, "todo-v4")
    assert t.ref.name == "1.1.story" and t.status == "Done"
    assert len(t.plan.steps) == 11 and len(t.criteria) == 7
    assert (
        t.criteria[6].text
        == "AC #7: Health check endpoint returns 200 status confirming app deployment"
    )
    assert "AC 1, 2, 7" in t.plan.steps[10].source


STORY = """\
# Story 2.1: Sums

Status: ready-for-dev

## Story

As a user, I want sums.

## Acceptance Criteria

1. Adding 2 and 3 gives 5 (test_add)

## Tasks / Subtasks

- [ ] Task 1: Add (AC: #1)
  - [ ] 1.1 Write calc/ops.py
  - [ ] 1.2 Write the test

## Dev Notes

Nothing.

## Dev Agent Record

### Agent Model Used

{{agent_model_name_version}}

### Debug Log References

### Completion Notes List

### File List

## Change Log
"""
SPRINT = """\
# generated: 2026-01-01
development_status:
  epic-2: in-progress  # keep
  2-1-sums: ready-for-dev
  2-2-products: backlog
"""


def test_status_ticks_record_and_sprint_status_change_only_their_lines(tmp_path):
    folder = tmp_path / "r" / "_bmad-output" / "implementation-artifacts"
    folder.mkdir(parents=True)
    (folder / "2-1-sums.md").write_text(STORY)
    (folder / "sprint-status.yaml").write_text(SPRINT)
    fmt = Bmad()
    (ref,) = fmt.list_tickets(tmp_path / "r")
    t = fmt.load(ref)
    # As dev-story: the sprint file says in-progress; the story's Status waits for the end.
    assert fmt.mark_started(t, "2026-12-02T08:00:00Z") == [
        "sprint-status.yaml: 2-1-sums in-progress"
    ]
    assert fmt.mark_step(t, t.plan.steps[0], "completed") == ["2-1-sums.md: task 1 ticked [x]"]
    summary = RunSummary(
        agent="exec-auto with agent command",
        notes=("- Task 1 (Add): completed",),
        files=("calc/ops.py",),
    )
    fmt.mark_finished(t, "2026-12-02T09:00:00Z", clean=True, summary=summary)
    story = (folder / "2-1-sums.md").read_text()
    assert story == (
        STORY.replace("Status: ready-for-dev", "Status: review")
        .replace("- [ ] Task 1", "- [x] Task 1")
        .replace("- [ ] 1.1", "- [x] 1.1")
        .replace("- [ ] 1.2", "- [x] 1.2")
        .replace("{{agent_model_name_version}}", "exec-auto with agent command")
        .replace(
            "### Completion Notes List\n",
            "### Completion Notes List\n\n- Task 1 (Add): completed\n",
        )
        .replace("### File List\n", "### File List\n\n- calc/ops.py\n")
        .replace(
            "## Change Log\n",
            "## Change Log\n\n- 2026-12-02: exec-auto with agent command ran 1 task(s), 1 completed\n",
        )
    )
    assert (folder / "sprint-status.yaml").read_text() == SPRINT.replace(
        "2-1-sums: ready-for-dev", "2-1-sums: review"
    )
