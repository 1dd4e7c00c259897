"""`exec-auto list`: active and archived tickets with status, steps and open issues."""

from __future__ import annotations

import argparse
import json
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
    steps: int | None
    open_issues: int | None
    # Why steps is None ("no plan", "plan error").
    plan_problem: str | None = None

    def cells(self) -> tuple[str, str, str, str, str]:
        """The table row."""
        return (
            self.ticket.name,
            "archive" if self.ticket.archived else "tickets",
            self.status,
            str(self.steps) if self.steps is not None else str(self.plan_problem),
            "-" if self.open_issues is None else str(self.open_issues),
        )


def summarize(ticket: TicketRef) -> TicketSummary:
    """Status, step count and open issues of a ticket; unreadable files show as errors, not crashes."""
    from exec_auto.formats.cdd.plan import load_plan
    from exec_auto.formats.cdd.spec import load_spec
    from exec_auto.ticket.progress import peek_progress

    status = "no spec"
    if ticket.spec_path.is_file():
        try:
            status = load_spec(ticket.spec_path).status or "unknown"
        except ExecAutoError:
            status = "spec error"
    steps, problem = None, None
    try:
        steps = len(load_plan(ticket.plan_path).steps)
    except ExecAutoError:
        problem = "no plan" if not ticket.plan_path.exists() else "plan error"
    progress = peek_progress(ticket.progress_path)
    issues = None if progress is None else len(progress.open_issues())
    return TicketSummary(ticket, status, steps, issues, problem)


def main(args: argparse.Namespace) -> int:
    """Print the table (rich on a terminal, plain columns when piped)."""
    root = find_root(Path.cwd())
    rows = [summarize(t) for t in [*active_tickets(root), *archived_tickets(root)]]
    if args.json:
        data = [
            {
                "name": r.ticket.name,
                "archived": r.ticket.archived,
                "status": r.status,
                "steps": r.steps,
                "plan_problem": r.plan_problem,
                "open_issues": r.open_issues,
                "path": str(r.ticket.dir),
            }
            for r in rows
        ]
        print(json.dumps(data, indent=2))
        return 0
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
            table.add_row(*r.cells())
        Console().print(table)
        return 0
    header = ("TICKET", "WHERE", "STATUS", "STEPS", "OPEN ISSUES")
    cells = [r.cells() for r in rows]
    widths = [max(len(x[i]) for x in [header, *cells]) for i in range(len(header))]
    for line in [header, *cells]:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    return 0
