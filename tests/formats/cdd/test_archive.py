"""Archive and restore: the whole folder moves, the spec's status follows, nothing is overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from exec_auto.errors import ArchiveError
from exec_auto.formats.cdd.archive import archive_ticket, restore_ticket
from exec_auto.formats.cdd.spec import load_spec, set_spec_status
from exec_auto.ticket.resolve import resolve_ticket


def test_archive_then_restore_round_trip(project: Path) -> None:
    ticket = resolve_ticket("feature-x", project)
    (ticket.dir / "notes.txt").write_text("kept\n")
    archived = archive_ticket(ticket)
    assert not ticket.dir.exists() and (archived.dir / "notes.txt").read_text() == "kept\n"
    spec = load_spec(archived.spec_path)
    assert spec.status == "archived" and spec.archived_at
    assert "# keep this comment" in archived.spec_path.read_text()
    restored = restore_ticket(archived)
    assert restored.dir == ticket.dir and load_spec(restored.spec_path).status == "planned"


def test_restore_of_an_implemented_ticket_is_completed(project: Path) -> None:
    ticket = resolve_ticket("feature-x", project)
    set_spec_status(ticket.spec_path, "completed", "2026-01-01T00:00:00Z")
    restored = restore_ticket(archive_ticket(ticket))
    assert load_spec(restored.spec_path).status == "completed"


def test_an_existing_archive_is_never_overwritten(project: Path) -> None:
    ticket = resolve_ticket("feature-x", project)
    older = project / "specs" / "archive" / "feature-x"
    older.mkdir(parents=True)
    (older / "plan.md").write_text("the older archive\n")
    with pytest.raises(ArchiveError, match="never overwritten"):
        archive_ticket(ticket)
    assert (older / "plan.md").read_text() == "the older archive\n"
    assert ticket.plan_path.exists()
    assert load_spec(ticket.spec_path).status == "planned"


def test_a_spec_that_cannot_be_parsed_blocks_the_archive(project: Path) -> None:
    ticket = resolve_ticket("feature-x", project)
    ticket.spec_path.write_text("title: [broken\n")
    with pytest.raises(Exception, match="could not parse"):
        archive_ticket(ticket)
    assert ticket.dir.exists() and ticket.spec_path.read_text() == "title: [broken\n"
