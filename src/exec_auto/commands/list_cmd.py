"""`exec-auto list`: active and archived tickets with status, steps and open issues."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from exec_auto.commands.housekeeping import finish_interrupted_moves
from exec_auto.errors import ExecAutoError
from exec_auto.repo import find_root
from exec_auto.ticket.resolve import TicketRef


@dataclass(frozen=True)
class TicketSummary:
    """One row of the list."""

    ticket: TicketRef
    status: str
    steps: int | None
    open_issues: int | None
    # Why steps is None ("no plan", "plan error").
    plan_problem: str | None = None

    def cells(self) -> tuple[str, str, str, str, str, str]:
        """The table row."""
        return (
            self.ticket.name,
            self.ticket.format,
            self.where(),
            self.status,
            str(self.steps) if self.steps is not None else str(self.plan_problem),
            "-" if self.open_issues is None else str(self.open_issues),
        )

    def where(self) -> str:
        """'tickets'/'archive' for CDD, else the format's folder or file."""
        if self.ticket.format == "cdd":
            return "archive" if self.ticket.archived else "tickets"
        return self.ticket.rel_dir + (" (archived)" if self.ticket.archived else "")


def summarize(ticket: TicketRef) -> TicketSummary:
    """Status, step count and open issues of a ticket; unreadable files show as errors, not crashes."""
    from exec_auto.executor.startup import read_spec
    from exec_auto.formats.cdd.plan import load_plan
    from exec_auto.ticket.progress import inspect_progress

    if ticket.format != "cdd":
        return _summarize_format(ticket)
    spec = read_spec(ticket)
    status = "no spec"
    if spec.problem is not None:
        status = "spec error"
    elif spec.spec is not None:
        status = spec.spec.status or "unknown"
    steps, problem = None, None
    try:
        steps = len(load_plan(ticket.plan_path).steps)
    except ExecAutoError:
        problem = "no plan" if not ticket.plan_path.exists() else "plan error"
    view = inspect_progress(ticket.progress_path)
    issues = None if view.progress is None else len(view.progress.open_issues())
    if view.problem is not None:
        status = f"{status}, progress unreadable"
    return TicketSummary(ticket, status, steps, issues, problem)


def _summarize_format(ticket: TicketRef) -> TicketSummary:
    """A non-CDD ticket: the status its own files show, its open steps, open issues of our runs."""
    from exec_auto.formats.registry import load_ticket
    from exec_auto.ticket.progress import peek_progress

    try:
        loaded = load_ticket(ticket)
    except ExecAutoError:
        return TicketSummary(ticket, "unreadable", None, None, "read error")
    progress = peek_progress(ticket.progress_path) if ticket.progress_path.is_file() else None
    issues = None if progress is None else len(progress.open_issues())
    steps = len(loaded.plan.steps)
    return TicketSummary(ticket, loaded.status or "unknown", steps, issues)


def main(args: argparse.Namespace) -> int:
    """Print the table (rich on a terminal, plain columns when piped)."""
    from exec_auto.formats.registry import all_tickets, get_format

    finish_interrupted_moves(Path.cwd())
    root = find_root(Path.cwd())
    only = getattr(args, "format", None)
    if only:
        get_format(only)
    rows = [summarize(t) for t in all_tickets(root, only)]
    if args.json:
        data = [
            {
                "name": r.ticket.name,
                "format": r.ticket.format,
                "archived": r.ticket.archived,
                "status": r.status,
                "steps": r.steps,
                "plan_problem": r.plan_problem,
                "open_issues": r.open_issues,
                "path": str(r.ticket.location),
            }
            for r in rows
        ]
        print(json.dumps(data, indent=2))
        return 0
    if not rows:
        print(f"No tickets in {root / 'specs'}/tickets or archive, nor of any other format.")
        return 0
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"Tickets in {root}")
        for col in ("ticket", "format", "where", "status", "steps", "open issues"):
            table.add_column(col)
        for r in rows:
            table.add_row(*r.cells())
        Console().print(table)
        return 0
    header = ("TICKET", "FORMAT", "WHERE", "STATUS", "STEPS", "OPEN ISSUES")
    cells = [r.cells() for r in rows]
    widths = [max(len(x[i]) for x in [header, *cells]) for i in range(len(header))]
    for line in [header, *cells]:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    return 0
