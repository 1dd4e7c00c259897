"""Decisions in reports: the open question first (with how to answer it), then the answers given."""

from __future__ import annotations

from collections.abc import Sequence

from exec_auto.ticket.model import Decision


def pending_lines(ticket: str, decisions: Sequence[Decision]) -> list[str]:
    """The 'Decision needed' block that opens a parked ticket's report."""
    pending = [d for d in decisions if d.answer is None]
    if not pending:
        return []
    lines = ["", "## Decision needed (the ticket is parked until it is answered)"]
    for d in pending:
        origin = "the plan's pause point" if d.source == "plan" else "the agent"
        lines.append(f"- **Step {d.step_id}** ({origin}, {d.asked_at}): {d.question}")
        lines += [f"  - option: {o}" for o in d.options]
    lines.append(f'- answer with: `exec-auto answer {ticket} "your decision"` (the run resumes)')
    return lines


def answered_lines(decisions: Sequence[Decision]) -> list[str]:
    """The 'Decisions' section: each answer with who gave it and when."""
    done = [d for d in decisions if d.answer is not None]
    if not done:
        return []
    lines = ["## Decisions", ""]
    for d in done:
        lines.append(f"- **Step {d.step_id}**: {d.question}")
        lines.append(f"  - decided: {d.answer} — by {d.answered_by}, {d.answered_at}")
    return [*lines, ""]
