"""`exec-auto prune [--dry-run]`: remove the step history of tickets that are no longer active.

A ticket is active while any ticket format lists it as not archived (CDD: its folder is in
specs/tickets); the history of archived tickets, and of tickets no format lists any more, is what
prune lists and, without --dry-run, removes — exactly that.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from exec_auto.repo import find_root
from exec_auto.ticket.resolve import ARCHIVE, TICKETS


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()


def ticket_names(root: Path) -> tuple[set[str], set[str]]:
    """(active, archived) ticket names over every format, plus the CDD folders themselves."""
    from exec_auto.formats.registry import all_tickets

    active, archived = _names(root / TICKETS), _names(root / ARCHIVE)
    for ref in all_tickets(root):
        (archived if ref.archived else active).update({ref.name, ref.history_key})
    return active, archived - active


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def main(args: argparse.Namespace) -> int:
    """List (and unless --dry-run, remove) the snapshot stores of inactive tickets."""
    from exec_auto.executor.history import prune_candidates
    from exec_auto.executor.snapshot import SnapshotStore

    root = find_root(Path.cwd())
    active, archived = ticket_names(root)
    candidates = prune_candidates(root, active)
    if not candidates:
        print("Nothing to prune: every kept step history belongs to an active ticket.")
        return 0
    verb = "Would remove" if args.dry_run else "Removing"
    for c in candidates:
        why = "archived" if c.ticket in archived else "no ticket folder"
        print(f"{verb} {c.ticket} ({why}): {len(c.refs)} ref(s), {_mb(c.size_bytes)} — {c.path}")
        for ref in c.refs:
            print(f"  {ref}")
        if not args.dry_run:
            SnapshotStore(root, c.ticket).remove()
    total = sum(c.size_bytes for c in candidates)
    if args.dry_run:
        print(
            f"Dry run: {len(candidates)} ticket(s), {_mb(total)} would be freed; nothing removed."
        )
    else:
        print(f"Pruned {len(candidates)} ticket(s), {_mb(total)} freed.")
    return 0
