"""OpenSpec: real changes parse into tasks and scenarios; archiving applies deltas like `openspec archive`."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from exec_auto.errors import FormatError
from exec_auto.formats.base import LoadedTicket
from exec_auto.formats.openspec import OpenSpec, apply_delta, parse_delta
from exec_auto.formats.textfile import lines_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "openspec"


def load(tmp_path: Path, fixture: str) -> tuple[Path, LoadedTicket]:
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    fmt = OpenSpec()
    assert fmt.detect(root)
    (ref,) = fmt.list_tickets(root)
    return root, fmt.load(ref)


def test_stacking_change_groups_tasks_and_scenarios(tmp_path):
    _, t = load(tmp_path, "stacking")
    steps = t.plan.steps
    assert t.status == "proposed" and len(steps) == 22
    assert steps[0].id == "1.1" and steps[0].phase == "1. Metadata Model"
    assert steps[0].title.startswith("Add optional stack metadata fields (dependsOn, provides")
    assert steps[-1].phase == "6. Verification"
    assert len(t.criteria) == 21
    first = next(c for c in t.criteria if c.group == "cli-change (added)")
    assert first.text == (
        "Stack Planning Commands — Show dependency graph: WHEN a user runs openspec change graph; "
        "THEN the CLI SHALL display dependency relationships for active changes; "
        "AND SHALL include a deterministic recommended order for execution"
    )
    assert "scenario of ADDED requirement 'Stack Planning Commands'" in first.source
    assert "Why" not in t.plan.overview[:3] and t.plan.overview  # proposal.md's Why section


def test_given_scenarios_and_commented_out_tasks(tmp_path):
    _, t = load(tmp_path, "resolution-parity")
    assert t.status == "complete" and len(t.plan.steps) == 27
    crit = next(c for c in t.criteria if "Glob-tasks change with unfinished work" in c.text)
    assert crit.text.split(": ", 1)[1].startswith("GIVEN a schema whose tasks artifact generates")
    _, big = load(tmp_path, "skill-install")
    # Two tasks are commented out with <!-- -->: they are not tasks.
    assert len(big.plan.steps) == 90 and "10.2" not in {s.id for s in big.plan.steps}
    assert {c.group for c in big.criteria} == {
        "cli-init (modified)",
        "cli-update (modified)",
        "profiles (added)",
        "propose-workflow (added)",
    }


def test_archived_change_with_a_plain_numbered_task_list(tmp_path):
    _, t = load(tmp_path, "rcal-archived")
    assert t.ref.archived and t.status == "archived"
    assert [s.id for s in t.plan.steps] == ["1", "2", "3", "4", "5", "6"]
    assert t.plan.steps[5].title == "Update CHANGELOG.md to document the UI cleanup"
    assert "no checkbox" in t.plan.steps[0].source


def test_archive_applies_added_requirements_and_moves_the_change(tmp_path):
    root, t = load(tmp_path, "stacking")
    cli_change = root / "openspec/specs/cli-change/spec.md"
    before = cli_change.read_text()
    moved = OpenSpec().archive(t)
    today = dt.date.today().isoformat()
    assert moved.rel_dir == f"openspec/changes/archive/{today}-add-change-stacking-awareness"
    assert (root / moved.rel_dir / "tasks.md").is_file()
    assert not (root / "openspec/changes/add-change-stacking-awareness").exists()
    after = cli_change.read_text()
    # Existing requirements stay as they were; the ADDED ones come after them. Like
    # `openspec archive`, the heading gets a blank line after it.
    assert "## Requirements\n### Requirement" in before
    assert after.replace("## Requirements\n\n", "## Requirements\n", 1).startswith(before.rstrip())
    assert after.index("### Requirement: Stack Planning Commands") > len(before.rstrip())
    new = (root / "openspec/specs/change-stacking-workflow/spec.md").read_text()
    assert new.startswith(
        "# change-stacking-workflow Specification\n\n## Purpose\nTBD - created by archiving change "
        "add-change-stacking-awareness. Update Purpose after archive.\n\n## Requirements\n\n### Requirement:"
    )


GOLDEN = FIXTURES / "stacking-golden"


def test_archive_writes_the_same_bytes_as_the_openspec_cli(tmp_path):
    # stacking-golden/ is what `openspec archive add-change-stacking-awareness --yes` (OpenSpec
    # 1.13.2, npm @fission-ai/openspec) wrote into openspec/specs/ for the same fixture.
    root, t = load(tmp_path, "stacking")
    OpenSpec().archive(t)
    for golden in sorted(GOLDEN.glob("*/spec.md")):
        ours = root / "openspec" / "specs" / golden.parent.name / "spec.md"
        assert ours.read_bytes() == golden.read_bytes(), golden.parent.name


def test_archive_refuses_what_openspec_validation_refuses(tmp_path):
    root = tmp_path / "r"
    (root / "openspec/specs/auth").mkdir(parents=True)
    (root / "openspec/specs/auth/spec.md").write_text(MAIN)
    change = root / "openspec/changes/c"
    (change / "specs/auth").mkdir(parents=True)
    (change / "specs/auth/spec.md").write_text(DELTA)
    (change / "tasks.md").write_text("## 1. X\n\n- [x] 1.1 Do\n")
    fmt = OpenSpec()
    (ref,) = fmt.list_tickets(root)
    # The same message the CLI gives: an ADDED requirement needs a scenario.
    with pytest.raises(FormatError, match="ADDED 'Lockout' must include at least one scenario"):
        fmt.archive(fmt.load(ref))
    assert (root / "openspec/specs/auth/spec.md").read_text() == MAIN and change.is_dir()


def test_archive_refuses_a_stale_modified_delta_and_writes_nothing(tmp_path):
    root, t = load(tmp_path, "skill-install")
    specs = {p: p.read_bytes() for p in (root / "openspec/specs").rglob("spec.md")}
    with pytest.raises(FormatError, match="MODIFIED requirement 'Skill generation per tool"):
        OpenSpec().archive(t)
    assert {p: p.read_bytes() for p in (root / "openspec/specs").rglob("spec.md")} == specs
    assert (root / "openspec/changes/simplify-skill-installation").is_dir()


MAIN = """\
# auth Specification

## Purpose
Log users in.

## Requirements
### Requirement: Login
The system SHALL log users in.

#### Scenario: ok
- **WHEN** valid
- **THEN** in

### Requirement: Legacy tokens
The system SHALL accept legacy tokens.

### Requirement: Logout
The system SHALL log users out.
"""
DELTA = """\
## RENAMED Requirements
- FROM: `### Requirement: Logout`
- TO: `### Requirement: Sign out`

## REMOVED Requirements
### Requirement: Legacy tokens
**Reason**: unsafe

## MODIFIED Requirements
### Requirement: Login
The system SHALL log users in with a second factor.

#### Scenario: ok
- **WHEN** valid and second factor
- **THEN** in

## ADDED Requirements
### Requirement: Lockout
The system SHALL lock an account after 5 failures.
"""


def test_delta_operations_in_openspec_order():
    # Hand-written: covers RENAMED and REMOVED, which the real fixtures do not use. The expected text is
    # byte for byte what `openspec archive c --yes --no-validate` (1.13.2) writes for MAIN + DELTA.
    out = apply_delta(MAIN, parse_delta(lines_of(DELTA), "auth"), "c")
    assert out == (
        "# auth Specification\n\n## Purpose\nLog users in.\n\n## Requirements\n\n"
        "### Requirement: Login\nThe system SHALL log users in with a second factor.\n\n"
        "#### Scenario: ok\n- **WHEN** valid and second factor\n- **THEN** in\n\n"
        "### Requirement: Sign out\nThe system SHALL log users out.\n\n"
        "### Requirement: Lockout\nThe system SHALL lock an account after 5 failures.\n"
    )
