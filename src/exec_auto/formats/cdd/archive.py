"""Archive and restore: move a ticket folder between specs/tickets and specs/archive."""

from __future__ import annotations

import os
from pathlib import Path

from exec_auto.atomicio import fsync_dir
from exec_auto.clock import now_iso
from exec_auto.errors import ArchiveError
from exec_auto.formats.cdd.spec import load_spec, set_spec_status
from exec_auto.ticket.resolve import TicketRef


def _move(src: Path, dst: Path) -> None:
    if dst.exists():
        raise ArchiveError(
            f"{dst} already exists; it is never overwritten",
            path=dst,
            hint="rename or remove the existing folder first",
        )
    dst.parent.mkdir(parents=True, exist_ok=True)
    # os.rename within one filesystem is atomic: the folder is in one place or the other.
    os.rename(src, dst)
    fsync_dir(src.parent)
    fsync_dir(dst.parent)


def archive_ticket(ticket: TicketRef) -> TicketRef:
    """Move an active ticket to specs/archive and mark its spec `archived` with `archived_at`."""
    if ticket.archived:
        raise ArchiveError(f"ticket {ticket.name!r} is already archived", path=ticket.dir)
    target = ticket.moved(archived=True)
    if ticket.spec_path.is_file():
        # Parse before moving: a spec we cannot parse must not end up half-updated.
        load_spec(ticket.spec_path)
    _move(ticket.dir, target.dir)
    if target.spec_path.is_file():
        set_spec_status(target.spec_path, "archived", now_iso())
    return target


def restore_ticket(ticket: TicketRef) -> TicketRef:
    """Move an archived ticket back to specs/tickets; its spec returns to `completed` (or `planned`)."""
    if not ticket.archived:
        raise ArchiveError(f"ticket {ticket.name!r} is not archived", path=ticket.dir)
    target = ticket.moved(archived=False)
    status = None
    if ticket.spec_path.is_file():
        spec = load_spec(ticket.spec_path)
        status = "completed" if spec.implementation_completed else "planned"
    _move(ticket.dir, target.dir)
    if status is not None:
        set_spec_status(target.spec_path, status, now_iso())
    return target


def restore_command(ticket: TicketRef) -> str:
    """The command that undoes an archive, printed after every automatic archive."""
    return f"exec-auto restore {ticket.name}"
