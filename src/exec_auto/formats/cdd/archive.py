"""Archive and restore: move a ticket folder between specs/tickets and specs/archive.

A move is two writes (the folder rename, then the spec's status), so a kill between them would
leave an archived ticket whose spec still says `completed`. Before the rename a marker file
(`.exec-auto-move.json`) is written into the folder, and it travels with it; the spec update
removes it. The next exec-auto command finds any marker left by a killed move and finishes that
move (`repair_pending_moves`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from exec_auto import faults
from exec_auto.atomicio import atomic_write_text, fsync_dir, remove_dead_temp_files
from exec_auto.clock import now_iso
from exec_auto.errors import ArchiveError, ExecAutoError
from exec_auto.formats.cdd.spec import load_spec, set_spec_status
from exec_auto.ticket.resolve import TicketRef, active_tickets, archived_tickets

MARKER = ".exec-auto-move.json"


def _move(src: Path, dst: Path) -> None:
    if dst.exists():
        raise ArchiveError(
            f"{dst} already exists; it is never overwritten",
            path=dst,
            hint="rename or remove the existing folder first",
        )
    dst.parent.mkdir(parents=True, exist_ok=True)
    # os.rename within one filesystem is atomic: the folder is in one place or the other.
    faults.point(f"before moving {src.name}")
    os.rename(src, dst)
    fsync_dir(src.parent)
    fsync_dir(dst.parent)
    faults.point(f"after moving {src.name}")


def _begin(ticket: TicketRef, archived: bool, status: str | None) -> None:
    """Write the marker naming the move's goal (it moves with the folder)."""
    note = {"archived": archived, "status": status, "at": now_iso()}
    atomic_write_text(ticket.dir / MARKER, json.dumps(note) + "\n")


def _finish(ticket: TicketRef, note: dict[str, object]) -> None:
    """Record the spec status of a completed move, then drop the marker."""
    status, at = note.get("status"), note.get("at")
    if isinstance(status, str) and ticket.spec_path.is_file():
        set_spec_status(ticket.spec_path, status, at if isinstance(at, str) else now_iso())
    (ticket.dir / MARKER).unlink(missing_ok=True)
    fsync_dir(ticket.dir)


def archive_ticket(ticket: TicketRef) -> TicketRef:
    """Move an active ticket to specs/archive and mark its spec `archived` with `archived_at`."""
    if ticket.archived:
        raise ArchiveError(
            f"ticket {ticket.name!r} is already archived",
            path=ticket.dir,
            hint=f"`exec-auto restore {ticket.name}` brings it back",
        )
    target = ticket.moved(archived=True)
    if ticket.spec_path.is_file():
        # Parse before moving: a spec we cannot parse must not end up half-updated.
        spec = load_spec(ticket.spec_path)
        if spec.not_writable is not None:
            raise ArchiveError(
                f"spec.yaml has a duplicate key ({spec.not_writable}); its status cannot be "
                "recorded",
                path=ticket.spec_path,
                hint="remove the duplicate key, then archive",
            )
    if target.dir.exists():
        _move(ticket.dir, target.dir)  # raises: the archive already holds that name
    # A partial temp file left by a killed save must not travel into the archive.
    remove_dead_temp_files(ticket.dir)
    _begin(ticket, True, "archived" if ticket.spec_path.is_file() else None)
    _move(ticket.dir, target.dir)
    _finish(target, _read_marker(target) or {"status": "archived"})
    return target


def restore_ticket(ticket: TicketRef) -> TicketRef:
    """Move an archived ticket back to specs/tickets; its spec returns to `completed` (or `planned`)."""
    if not ticket.archived:
        raise ArchiveError(
            f"ticket {ticket.name!r} is not archived",
            path=ticket.dir,
            hint="`exec-auto list` shows which tickets are archived",
        )
    target = ticket.moved(archived=False)
    status = None
    if ticket.spec_path.is_file():
        spec = load_spec(ticket.spec_path)
        status = "completed" if spec.implementation_completed else "planned"
    if target.dir.exists():
        _move(ticket.dir, target.dir)  # raises: an active ticket already has that name
    _begin(ticket, False, status)
    _move(ticket.dir, target.dir)
    _finish(target, _read_marker(target) or {"status": status})
    return target


def restore_command(ticket: TicketRef) -> str:
    """The command that undoes an archive, printed after every automatic archive."""
    return f"exec-auto restore {ticket.name}"


def _read_marker(ticket: TicketRef) -> dict[str, object] | None:
    try:
        note = json.loads((ticket.dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else None


@contextlib.contextmanager
def _ticket_lock(ticket: TicketRef) -> Iterator[bool]:
    """Hold the ticket's lock while repairing (False: a live run holds it and will finish)."""
    from exec_auto.errors import LockHeldError
    from exec_auto.executor.lock import TicketLock
    from exec_auto.repo import state_dir

    try:
        lock = TicketLock(state_dir(ticket.root), ticket.name, worktree=False)
    except ExecAutoError:
        yield True  # no git state dir: nothing else can be running a move under a lock
        return
    try:
        with lock:
            yield True
    except LockHeldError:
        yield False


def repair_pending_moves(root: Path) -> list[str]:
    """Finish archive/restore moves a kill interrupted; one line per repaired ticket."""
    notes: list[str] = []
    for ticket in [*active_tickets(root), *archived_tickets(root)]:
        if not (ticket.dir / MARKER).exists():
            continue
        with _ticket_lock(ticket) as free:
            if not free:
                continue
            notes.append(_repair(ticket))
    return notes


def _repair(ticket: TicketRef) -> str:
    note = _read_marker(ticket)
    if note is None:
        (ticket.dir / MARKER).unlink(missing_ok=True)
        return f"{ticket.rel_dir}: dropped an unreadable move marker"
    verb = "archiving" if note.get("archived") else "restoring"
    try:
        if bool(note.get("archived")) != ticket.archived:
            target = ticket.moved(bool(note.get("archived")))
            _move(ticket.dir, target.dir)
            ticket = target
        # The kill may have left a temp file of the spec update (or of a save) in the folder.
        remove_dead_temp_files(ticket.dir)
        _finish(ticket, note)
    except (ExecAutoError, OSError) as exc:
        why = exc.one_line() if isinstance(exc, ExecAutoError) else str(exc)
        return f"{ticket.rel_dir}: could not finish an interrupted {verb}: {why}"
    return f"finished {verb} {ticket.name} (interrupted earlier): now in {ticket.rel_dir}"
