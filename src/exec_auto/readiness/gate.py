"""Assess a ticket on disk, and the gate every unattended run passes before its first step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from exec_auto.clock import now_iso
from exec_auto.config import Config
from exec_auto.errors import NotReadyError
from exec_auto.readiness.model import Readiness
from exec_auto.readiness.paths import RepoFiles
from exec_auto.readiness.rules import KindHistory, ReadinessInput
from exec_auto.readiness.score import assess
from exec_auto.readiness.text import CRITICAL_AREAS, fold
from exec_auto.ticket.model import ReadinessRecord
from exec_auto.ticket.resolve import TicketRef

MAX_REASONS_SHOWN = 12


def _critical_areas(config: Config) -> dict[str, tuple[str, ...]]:
    areas = dict(CRITICAL_AREAS)
    for name, words in config.readiness.critical_areas.items():
        areas[name] = (*areas.get(name, ()), *(fold(w) for w in words))
    return areas


def history_of(root: Path, config: Config, ticket: str) -> dict[str, KindHistory]:
    """How each kind of step went in other tickets' runs here (empty when switched off).

    The ticket's own progress is left out, so resuming it does not lower its own score.
    """
    if not config.readiness.history:
        return {}
    from exec_auto.insights.collect import collect, kind_history

    return kind_history(collect(root, exclude=[ticket]))


def readiness_input(
    ticket: TicketRef, config: Config, history: dict[str, KindHistory] | None = None
) -> ReadinessInput:
    """Load the ticket (with its own format) into what the rules read."""
    from exec_auto.formats.registry import load_ticket

    loaded = load_ticket(ticket)
    return ReadinessInput(
        ticket=ticket.name,
        plan=loaded.plan,
        criteria=loaded.criteria,
        ticket_type=loaded.ticket_type,
        files=RepoFiles.scan(ticket.root),
        critical_areas=_critical_areas(config),
        history=history_of(ticket.root, config, ticket.name) if history is None else history,
    )


def check_ticket(
    ticket: TicketRef, config: Config, history: dict[str, KindHistory] | None = None
) -> Readiness:
    """The ticket's readiness, against the configured threshold."""
    return assess(readiness_input(ticket, config, history), config.readiness.threshold)


def render(readiness: Readiness, limit: int = MAX_REASONS_SHOWN) -> str:
    """The assessment as text: the summary line, then one line per reason (costliest first)."""
    lines = [readiness.summary()]
    ranked = sorted(readiness.findings, key=lambda f: -f.penalty)
    for finding in ranked[:limit]:
        cost = f"-{finding.penalty}" if finding.penalty else "  0"
        lines.append(f"  {cost:>4}  {finding.message}")
    if len(ranked) > limit:
        lines.append(f"        ... {len(ranked) - limit} more (exec-auto check --json lists all)")
    improve = readiness.improvements()
    if improve and not readiness.ready:
        lines.append("To improve:")
        lines += [f"  - {hint}" for hint in improve]
    return "\n".join(lines)


def record(readiness: Readiness, *, forced: bool) -> ReadinessRecord:
    """The assessment as progress.yaml keeps it."""
    return ReadinessRecord(
        score=readiness.score,
        threshold=readiness.threshold,
        checked_at=now_iso(),
        forced=forced,
        reasons=[f.message for f in readiness.findings if f.penalty],
    )


def refusal(readiness: Readiness) -> NotReadyError:
    """The error an unattended run stops with: why, and what to improve."""
    worst = sorted((f for f in readiness.findings if f.penalty), key=lambda f: -f.penalty)
    why = "; ".join(f.message for f in worst[:3])
    hints = readiness.improvements(3)
    return NotReadyError(
        f"readiness {readiness.score}/100 is below the threshold {readiness.threshold} "
        f"for an unattended run: {why}",
        score=readiness.score,
        reasons=[f"-{f.penalty} {f.message}" for f in worst],
        hint="; ".join(
            [
                *hints,
                "or run it with --interactive, or pass --force to run it unattended anyway "
                f"(`exec-auto check {readiness.ticket}` lists every reason)",
            ]
        ),
    )


def gate(
    ticket: TicketRef,
    config: Config,
    *,
    force: bool,
    attended: bool = False,
    say: Callable[[str], None] = print,
) -> ReadinessRecord | None:
    """Check the ticket before a run; raise NotReadyError when an unattended run must not start.

    None when the check is switched off. A ticket an earlier run already forced past the gate
    resumes without --force: the decision to run it was made.
    """
    if not config.readiness.enabled:
        return None
    readiness = check_ticket(ticket, config)
    say(render(readiness, limit=6))
    if readiness.ready:
        return record(readiness, forced=False)
    if force or attended or _forced_before(ticket):
        why = "--interactive" if attended else "--force" if force else "an earlier --force"
        say(f"[AUTO] Starting below the readiness threshold ({why})")
        return record(readiness, forced=True)
    raise refusal(readiness)


def _forced_before(ticket: TicketRef) -> bool:
    from exec_auto.ticket.progress import peek_progress

    progress = peek_progress(ticket.progress_path)
    return bool(progress and progress.readiness and progress.readiness.forced)
