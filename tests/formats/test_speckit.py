"""spec-kit: real tasks.md/spec.md files parse into the tasks and criteria their authors wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exec_auto.formats.base import LoadedTicket
from exec_auto.formats.speckit import SpecKit, parse_tasks
from exec_auto.formats.textfile import lines_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "speckit"


def load(tmp_path: Path, fixture: str) -> LoadedTicket:
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    fmt = SpecKit()
    assert fmt.detect(root)
    (ref,) = fmt.list_tickets(root)
    return fmt.load(ref)


def test_mock_auth_tasks_phases_parallel_marks_and_criteria(tmp_path):
    t = load(tmp_path, "community-mock-auth")
    steps = t.plan.steps
    assert t.title == "Mock Authentication with Sample Users" and t.status == "planned"
    assert [s.id for s in steps] == [f"T{n:03d}" for n in range(1, 26)]
    assert not any(s.done for s in steps)
    assert [s.id for s in steps if s.parallel] == ["T002", "T003", "T022", "T023", "T024"]
    assert steps[0].phase == "Phase 1: Setup"
    assert steps[0].title.startswith("Create mock user definitions module with all 5 sample users")
    assert steps[5].phase.startswith("Phase 3: User Story 1")
    assert steps[5].title.startswith("Modify getServerSession() in src/lib/auth/session.ts")
    # The phase's **Checkpoint** goes with its last task, so the agent checks it.
    assert "Checkpoint after this task: Mock user data definitions" in steps[4].body
    assert steps[0].source == "specs/007-mock-auth/tasks.md:20 checkbox T001"
    scenarios = [c for c in t.criteria if c.group != "Success criteria"]
    success = [c for c in t.criteria if c.group == "Success criteria"]
    assert len(scenarios) == 20 and len(success) == 7
    assert scenarios[0].group == "US1: Developer Runs App Locally Without Entra ID"
    assert scenarios[0].text.startswith("Given the app is running in development mode, When")
    assert (
        scenarios[0].source
        == "specs/007-mock-auth/spec.md:20 acceptance scenario 1 of US1: Developer Runs App Locally Without Entra ID"
    )
    assert success[0].text.startswith("SC-001: A new developer can run the app locally")


def test_events_explorer_only_open_tasks_are_left(tmp_path):
    t = load(tmp_path, "community-events-explorer")
    assert len(t.plan.steps) == 84 and t.status == "in progress"
    assert [s.id for s in t.plan.steps if not s.done] == [
        "T021",
        "T037",
        "T046",
        "T063",
        "T064",
        "T065",
        "T066",
    ]
    groups = {c.group for c in t.criteria}
    # "User Story 5a - ..." is a story of its own, not story 5.
    assert "US5a: Event Count Toggles" in groups and "US5b: City-Level Event List" in groups


def test_speck_ids_with_suffixes_and_tags(tmp_path):
    t = load(tmp_path, "speck-worktree")
    ids = [s.id for s in t.plan.steps]
    assert ids[:6] == ["T000", "T001", "T002", "T003", "T004", "T004a"]
    assert "T005-TEST" in ids and "T005" in ids and len(ids) == len(set(ids)) == 112
    assert t.status == "done" and t.warnings == ()
    first = t.plan.steps[0]
    assert first.title.startswith("Capture test baseline before implementation")
    assert "[Constitution]" in first.source


def test_dependencies_inline_wrapped_and_on_group_headings():
    text = (
        "# Tasks: X\n\n## Phase 1: Setup\n\n"
        "- [ ] T001 Create the model in src/m.py\n"
        "- [ ] T002 [P] Service in src/s.py (depends on T001)\n"
        "- [X] T003 Job card in src/j.py; resolve the department\n"
        "  (T001) and authorize the actor (depends\n  on T001, T002)\n\n"
        "### Inline Rename (depends on T003)\n\n"
        "- [ ] T004 [US1] Rename in src/r.py (depends on T099 models)\n"
    )
    steps, warnings = parse_tasks(lines_of(text), "tasks.md")
    deps = {s.id: s.depends_on for s in steps}
    assert deps == {"T001": (), "T002": ("T001",), "T003": ("T001", "T002"), "T004": ("T003",)}
    assert steps[1].parallel and not steps[0].parallel and steps[2].done
    assert steps[2].body.endswith("on T001, T002)")
    assert warnings == ["tasks.md: T004 depends on T099, which is not a task here; ignored"]


def test_tick_changes_one_character(tmp_path):
    t = load(tmp_path, "community-mock-auth")
    path = t.ref.location / "tasks.md"
    before = path.read_bytes()
    fmt = SpecKit()
    assert fmt.mark_step(t, t.plan.steps[2], "completed") == ["tasks.md: T003 ticked [X]"]
    after = path.read_bytes()
    assert len(after) == len(before)
    diff = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(diff) == 1 and after[diff[0] : diff[0] + 1] == b"X"
    assert b"- [X] T003 [P] Create the dev components directory" in after
    # Failing or starting a task writes nothing; ticking again changes nothing.
    assert fmt.mark_step(t, t.plan.steps[2], "completed") == []
    assert fmt.mark_step(t, t.plan.steps[3], "failed") == []
    assert path.read_bytes() == after


@pytest.mark.parametrize("crlf", [False, True])
def test_tick_keeps_line_endings_and_bom(tmp_path, crlf):
    root = tmp_path / "r"
    folder = root / "specs" / "001-x"
    folder.mkdir(parents=True)
    nl = "\r\n" if crlf else "\n"
    text = "\ufeff# Tasks: X" + nl + nl + "- [ ] T001 One" + nl + "- [ ] T002 Two" + nl
    (folder / "tasks.md").write_bytes(text.encode("utf-8"))
    fmt = SpecKit()
    (ref,) = fmt.list_tickets(root)
    loaded = fmt.load(ref)
    assert loaded.no_criteria_note == "spec.md not found: no acceptance criteria to validate"
    fmt.mark_step(loaded, loaded.plan.steps[1], "completed")
    assert (folder / "tasks.md").read_bytes() == text.replace("[ ] T002", "[X] T002").encode()
