"""`exec-auto archive TICKET` / `exec-auto restore TICKET`."""

from __future__ import annotations

import argparse
from pathlib import Path

from exec_auto.formats.cdd.archive import archive_ticket, restore_command, restore_ticket
from exec_auto.ticket.resolve import resolve_ticket


def _free_attempts(root: Path, name: str) -> None:
    """Archived: the fix attempts' snapshots go (step history stays until `exec-auto prune`)."""
    from exec_auto.errors import ExecAutoError
    from exec_auto.executor.history import drop_attempts

    try:
        drop_attempts(root, name)
    except ExecAutoError as exc:
        print(f"Could not free intermediate snapshots: {exc.one_line()}")


def main(args: argparse.Namespace) -> int:
    """Move the ticket folder and print where it went."""
    ticket = resolve_ticket(args.ticket, Path.cwd(), allow_archived=True)
    if args.command == "archive":
        moved = archive_ticket(ticket)
        print(f"Archived {ticket.rel_dir} -> {moved.rel_dir}")
        _free_attempts(moved.root, moved.name)
        print(f"Restore with: {restore_command(moved)}")
    else:
        moved = restore_ticket(ticket)
        print(f"Restored {ticket.rel_dir} -> {moved.rel_dir}")
    return 0
