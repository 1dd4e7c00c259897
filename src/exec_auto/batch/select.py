"""Which tickets `run --all` picks: active tickets of every format that still have work to do."""

from __future__ import annotations

from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.ticket.resolve import TicketRef, active_tickets

DONE_STATUSES = frozenset({"completed", "archived"})


def _cdd_runnable(root: Path) -> list[TicketRef]:
    """Active CDD tickets with a plan.md whose spec is not completed/archived."""
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


def _has_work(ref: TicketRef) -> bool:
    """A ticket of another format runs while one of its required steps is not ticked in its files."""
    from exec_auto.formats.registry import load_ticket

    try:
        loaded = load_ticket(ref)
    except ExecAutoError:
        return True  # the run reports why it cannot be read, in its own row
    return any(not step.done and not step.optional for step in loaded.plan.steps)


def runnable_tickets(root: Path) -> list[TicketRef]:
    """CDD tickets, then every other detected format's unfinished tickets, each in name order."""
    from exec_auto.formats.registry import all_tickets

    others = [
        ref
        for ref in all_tickets(root)
        if ref.format != "cdd" and not ref.archived and _has_work(ref)
    ]
    return [*_cdd_runnable(root), *sorted(others, key=lambda r: (r.format, r.name))]
