"""Kiro and cc-sdd: real specs parse into leaf tasks, parents, marks and the referenced EARS criteria."""

from __future__ import annotations

import shutil
from pathlib import Path

from exec_auto.formats.base import LoadedTicket
from exec_auto.formats.kiro import Kiro

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "kiro"


def load(tmp_path: Path, fixture: str) -> LoadedTicket:
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    fmt = Kiro()
    assert fmt.detect(root)
    (ref,) = fmt.list_tickets(root)
    return fmt.load(ref)


def test_kiro_children_at_the_parents_indent_and_validates_lines(tmp_path):
    t = load(tmp_path, "kythira-network-concept")
    steps = {s.id: s for s in t.plan.steps}
    # "- [x] 2. Fix core header files" has no details: its children 2.1... are the steps.
    assert "2" not in steps and "1" in steps
    assert steps["2.1"].phase == "Fix core header files"
    assert steps["2.2"].title == "Write property test for raft.hpp concept constraints"
    assert "**Validates: Requirements 1.5, 3.1, 3.4**" in steps["2.2"].body
    assert "requirements 1.5, 3.1, 3.4" in steps["2.2"].source
    assert t.status == "done"
    ids = [c.text.split(":")[0] for c in t.criteria]
    assert ids[:5] == ["1.1", "1.2", "1.3", "1.4", "1.5"]
    assert t.criteria[0].text.startswith(
        "1.1: WHEN the network_client concept is used THEN the system SHALL provide exactly two"
    )
    assert t.criteria[0].group == "Requirement 1"


def test_kiro_messy_spec_bold_titles_nested_boxes_ranges_and_states(tmp_path):
    t = load(tmp_path, "kythira-alibaba")
    steps = {s.id: s for s in t.plan.steps}
    assert t.title == "Alibaba Cloud Services"
    # Task 0's sub-tasks are nested boxes; "[~]" (in progress) is not done.
    assert [s for s in steps if s.startswith("0.")] == ["0.1", "0.2", "0.3", "0.4", "0.5"]
    assert steps["0.1"].done and not steps["0.2"].done and steps["0.4"].done
    assert steps["0.2"].title == "OSS V4 signing canonical form"
    # The parent's own trailing lines (Verify, _Requirements_) travel with each sub-task.
    assert "Verify: spike-notes.md exists with a finding per sub-item" in steps["0.3"].body
    assert "requirements 1.3, 2.2, 6.1, 7.1, 8.1, 17.2" in steps["0.3"].source
    assert steps["1"].title == "Shared control-plane foundation"
    # "_Requirements: 1.1 to 1.9_" (written with an en dash) is a range within requirement 1.
    assert "requirements 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 11.1" in steps["1"].source
    assert [s.id for s in t.plan.steps if not s.done] == [
        "0.2",
        "0.3",
        "0.5",
        "3",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
    ]


def test_ccsdd_parallel_boundary_depends_and_japanese_ears(tmp_path):
    t = load(tmp_path, "kolt-concurrent-build")
    steps = {s.id: s for s in t.plan.steps}
    assert list(steps) == ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "4.1"]
    assert [s.id for s in t.plan.steps if s.parallel] == ["1.2", "2.1", "2.2", "3.1", "3.2"]
    assert steps["3.1"].depends_on == ("1.1", "2.1")
    assert steps["4.1"].depends_on == ("3.1", "3.2", "2.2")
    assert "_Boundary: BuildCommands_" in steps["3.1"].body
    assert steps["1.2"].title == "ADR 0029 を起草し並行性契約を記録"
    assert steps["1.1"].phase == "Foundation: exit code と ADR"
    assert len(t.criteria) == 15
    assert t.criteria[0].text.startswith("1.1: When 同一プロジェクトで")


def test_ccsdd_whole_requirement_references_and_group_headings(tmp_path):
    t = load(tmp_path, "ccsdd-rag-backend")
    first = t.plan.steps[0]
    assert first.id == "1.1" and first.parallel and first.phase == "1. Project Foundation and Setup"
    assert first.title == "Python Development Environment and Project Structure Setup"
    # "_Requirements: 6_" names all of requirement 6.
    assert "requirement 6 referenced" in next(
        c.source for c in t.criteria if c.text.startswith("6.1:")
    )
    assert {c.group for c in t.criteria} >= {"Requirement 1: Inquiry Reception API"}


OPTIONAL = """\
# Implementation Plan

- [ ] 1. Core
  - [ ] 1.1 Build it
    - _Requirements: 1.1_
  - [ ]* 1.2 Write property test for it
    - **Validates: Requirements 1.1**
- [ ] 2. Checkpoint - Ensure all tests pass
"""


def test_optional_children_do_not_hold_the_parent_and_ticks_are_single_characters(tmp_path):
    # Hand-written: the real fixtures above have no `- [ ]*` task.
    folder = tmp_path / "r" / ".kiro" / "specs" / "opt"
    folder.mkdir(parents=True)
    (folder / "tasks.md").write_text(OPTIONAL)
    fmt = Kiro()
    (ref,) = fmt.list_tickets(tmp_path / "r")
    t = fmt.load(ref)
    assert [(s.id, s.optional) for s in t.plan.steps] == [
        ("1.1", False),
        ("1.2", True),
        ("2", False),
    ]
    assert fmt.mark_step(t, t.plan.steps[0], "completed") == [
        "tasks.md: 1.1 ticked [x]",
        "tasks.md: 1 ticked [x] (its required sub-tasks are done)",
    ]
    after = (folder / "tasks.md").read_text()
    assert after == OPTIONAL.replace("- [ ] 1. Core", "- [x] 1. Core").replace(
        "- [ ] 1.1", "- [x] 1.1"
    )


def test_parent_ticked_only_when_last_required_child_is_done(tmp_path):
    t = load(tmp_path, "kolt-concurrent-build")
    fmt = Kiro()
    path = t.ref.location / "tasks.md"
    before = path.read_text()
    # Every leaf of the real file is [x] while parents 1-4 are still [ ]: ticking a leaf again
    # changes nothing in the leaf, and closes its parent.
    assert fmt.mark_step(t, t.plan.steps[0], "completed") == [
        "tasks.md: 1 ticked [x] (its required sub-tasks are done)"
    ]
    after = path.read_text()
    assert after == before.replace("- [ ] 1. Foundation", "- [x] 1. Foundation", 1)
