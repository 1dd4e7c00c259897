"""`exec-auto archive TICKET` / `exec-auto restore TICKET`."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from exec_auto.commands.housekeeping import finish_interrupted_moves
from exec_auto.formats.cdd.archive import archive_ticket, restore_command, restore_ticket
from exec_auto.ticket.resolve import TicketRef


@contextlib.contextmanager
def _run_lock(ticket: TicketRef) -> Iterator[None]:
    """Hold the ticket's and the work tree's run lock: a folder moved mid-run loses its progress,
    and a move during another ticket's run would be recorded as that run's change."""
    from exec_auto.executor.lock import TicketLock
    from exec_auto.proc import git
    from exec_auto.repo import state_dir

    if not git("rev-parse", "--git-dir", cwd=ticket.root).ok:
        yield  # not a git repository: no run can be going on here
        return
    with TicketLock(state_dir(ticket.root), ticket.name):
        yield


def _free_attempts(root: Path, name: str) -> None:
    """Archived: the fix attempts' snapshots and large files no final tree kept go (the step
    history stays until `exec-auto prune`)."""
    from exec_auto.config import HistoryConfig, build_config
    from exec_auto.errors import ExecAutoError
    from exec_auto.executor.compact import compact_at_archive, dropped_line

    try:
        keep = build_config(root).history.keep_bytes
    except ExecAutoError:
        keep = HistoryConfig().keep_bytes  # a broken pyproject.toml must not stop the archive
    try:
        freed = compact_at_archive(root, name, keep)
    except ExecAutoError as exc:
        print(f"Could not free intermediate snapshots: {exc.one_line()}")
        return
    if freed.dropped:
        print(dropped_line(freed))


def _other_format(ticket: TicketRef, command: str) -> int:
    """archive/restore of a ticket that is not CDD: its format decides where finished work lives."""
    from exec_auto.errors import ArchiveError
    from exec_auto.formats.registry import format_of, load_ticket

    fmt = format_of(ticket)
    if command == "restore" or not fmt.archives:
        why = (
            f"{fmt.label} keeps finished tickets where they are ({ticket.rel_dir})"
            if not fmt.archives
            else f"{fmt.label} has no un-archive"
        )
        raise ArchiveError(
            f"cannot {command} {fmt.name}:{ticket.name}: {why}",
            path=ticket.location,
            hint="nothing to move" if not fmt.archives else "git restores the archived change",
        )
    loaded = load_ticket(ticket)
    with _run_lock(ticket):
        moved = fmt.archive(loaded)
    print(f"Archived {ticket.rel_dir} -> {moved.rel_dir}")
    return 0


def main(args: argparse.Namespace) -> int:
    """Move the ticket folder and print where it went."""
    from exec_auto.formats.registry import resolve

    finish_interrupted_moves(Path.cwd())
    ticket = resolve(args.ticket, Path.cwd(), allow_archived=True)
    if ticket.format != "cdd":
        return _other_format(ticket, args.command)
    with _run_lock(ticket):
        if args.command == "archive":
            moved = archive_ticket(ticket)
            print(f"Archived {ticket.rel_dir} -> {moved.rel_dir}")
            _free_attempts(moved.root, moved.name)
            print(f"Restore with: {restore_command(moved)}")
        else:
            moved = restore_ticket(ticket)
            print(f"Restored {ticket.rel_dir} -> {moved.rel_dir}")
    return 0
