"""`exec-auto list`: active and archived tickets with status, steps and open issues."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.repo import find_root
from exec_auto.ticket.resolve import TicketRef, active_tickets, archived_tickets


@dataclass(frozen=True)
class TicketSummary:
    """One row of the list."""

    ticket: TicketRef
    status: str
    steps: str
    open_issues: str


def summarize(ticket: TicketRef) -> TicketSummary:
    """Status, step count and open issues of a ticket; unreadable files show as errors, not crashes."""
    from exec_auto.ticket.plan import load_plan
    from exec_auto.ticket.progress import peek_progress
    from exec_auto.ticket.spec import load_spec

    status = "no spec"
    if ticket.spec_path.is_file():
        try:
            status = load_spec(ticket.spec_path).status or "unknown"
        except ExecAutoError:
            status = "spec error"
    try:
        steps = str(len(load_plan(ticket.plan_path).steps))
    except ExecAutoError:
        steps = "no plan" if not ticket.plan_path.exists() else "plan error"
    progress = peek_progress(ticket.progress_path)
    issues = "-" if progress is None else str(len(progress.open_issues()))
    return TicketSummary(ticket, status, steps, issues)


def main(args: argparse.Namespace) -> int:
    """Print the table (rich on a terminal, plain columns when piped)."""
    root = find_root(Path.cwd())
    rows = [summarize(t) for t in [*active_tickets(root), *archived_tickets(root)]]
    if not rows:
        print(f"No tickets in {root / 'specs'}/tickets or archive.")
        return 0
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"Tickets in {root}")
        for col in ("ticket", "where", "status", "steps", "open issues"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r.ticket.name,
                "archive" if r.ticket.archived else "tickets",
                r.status,
                r.steps,
                r.open_issues,
            )
        Console().print(table)
        return 0
    header = ("TICKET", "WHERE", "STATUS", "STEPS", "OPEN ISSUES")
    data = [
        (
            r.ticket.name,
            "archive" if r.ticket.archived else "tickets",
            r.status,
            r.steps,
            r.open_issues,
        )
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in [header, *data]) for i in range(len(header))]
    for line in [header, *data]:
        print("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    return 0
