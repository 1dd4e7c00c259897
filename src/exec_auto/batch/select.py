"""Which tickets `run --all` picks: active, with a plan, not completed or archived."""

from __future__ import annotations

from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.ticket.resolve import TicketRef, active_tickets

DONE_STATUSES = frozenset({"completed", "archived"})


def runnable_tickets(root: Path) -> list[TicketRef]:
    """Active tickets with a plan.md whose spec is not completed/archived, in name order."""
    from exec_auto.formats.cdd.spec import load_spec

    picked = []
    for ticket in active_tickets(root):
        if not ticket.plan_path.is_file():
            continue
        if ticket.spec_path.is_file():
            try:
                if load_spec(ticket.spec_path).status in DONE_STATUSES:
                    continue
            except ExecAutoError:
                pass  # an unreadable spec is reported when the ticket runs
        picked.append(ticket)
    return picked
