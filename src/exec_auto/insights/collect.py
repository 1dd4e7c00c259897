"""Read the progress files of every active and archived ticket into lessons about this repository.

Only reads (never moves or repairs a file: `peek_progress`). Each lesson counts tickets and
steps, so one bad night does not read like a pattern: `MIN_TICKETS` tickets must agree before a
dependency or a step kind is called a pitfall.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.readiness.kinds import step_kind
from exec_auto.readiness.rules import KindHistory
from exec_auto.ticket.model import Progress, ProgressIssue, StepProgress
from exec_auto.ticket.resolve import TicketRef, active_tickets, archived_tickets

TROUBLED_STATUSES = frozenset({"failed", "skipped", "completed_with_warning"})
# Issue types that are about the run, not about what a step did.
NOT_STEP_TROUBLE = frozenset({"budget_exhausted", "warning", "no_changes"})
_FIX_LINE = re.compile(r"^Fix attempt (\d+): gates (passed|still failing)")
_INSTALL = re.compile(
    r"(?:Failed to install|Missing module '[^']+' \(|still missing after installing) ?([\w.\-\[\]<>=!~, ]+)"
)


@dataclass(frozen=True)
class PastTicket:
    """One ticket's progress file, as the insights read it."""

    name: str
    archived: bool
    progress: Progress


@dataclass
class KindStats:
    """Steps of one kind across every past run."""

    kind: str
    steps: int = 0
    troubled: int = 0
    issue_types: Counter[str] = field(default_factory=Counter)
    fix_attempts: int = 0
    fixes_that_helped: int = 0
    decisions: int = 0


def collect(root: Path, exclude: Iterable[str] = ()) -> list[PastTicket]:
    """Every readable progress.yaml under specs/tickets and specs/archive (except `exclude`)."""
    from exec_auto.ticket.progress import peek_progress

    skip = set(exclude)
    found = []
    refs: list[TicketRef] = [*active_tickets(root), *archived_tickets(root)]
    for ref in refs:
        if ref.name in skip or not ref.progress_path.is_file():
            continue
        progress = peek_progress(ref.progress_path)
        if progress is not None:
            found.append(PastTicket(ref.name, ref.archived, progress))
    return found


def step_issues(progress: Progress, step: StepProgress) -> list[ProgressIssue]:
    """The issues a step logged itself (not the run's own notes)."""
    return [
        i for i in progress.issues if i.step_id == step.step_id and i.type not in NOT_STEP_TROUBLE
    ]


def fix_outcomes(step: StepProgress) -> tuple[int, bool]:
    """(fix attempts the step made, whether the last one got the gates to pass)."""
    attempts, helped = 0, False
    for action in step.auto_actions:
        match = _FIX_LINE.match(action)
        if match:
            attempts = max(attempts, int(match.group(1)))
            helped = match.group(2) == "passed"
    return attempts, helped


def _decided_steps(progress: Progress) -> set[str]:
    return {d.step_id for d in progress.decisions}


def kind_stats(tickets: Iterable[PastTicket]) -> dict[str, KindStats]:
    """Per step kind: how many steps, how many had trouble, which issues, how fixes went."""
    stats: dict[str, KindStats] = {}
    for past in tickets:
        decided = _decided_steps(past.progress)
        for step in past.progress.implementation_steps:
            if step.status in ("pending", "in_progress") and not step.attempts:
                continue
            kind = step_kind(step.description)
            entry = stats.setdefault(kind, KindStats(kind))
            entry.steps += 1
            issues = step_issues(past.progress, step)
            serious = [i for i in issues if i.severity != "low"]
            if serious or step.status in ("failed", "skipped"):
                entry.troubled += 1
            entry.issue_types.update(i.type for i in serious)
            attempts, helped = fix_outcomes(step)
            entry.fix_attempts += attempts
            entry.fixes_that_helped += 1 if helped else 0
            entry.decisions += 1 if step.step_id in decided else 0
    return stats


def kind_history(tickets: Iterable[PastTicket]) -> dict[str, KindHistory]:
    """The readiness rules' view of the stats: kinds and how often they went wrong."""
    return {
        kind: KindHistory(
            kind=kind,
            steps=s.steps,
            troubled=s.troubled,
            issue_types=tuple(t for t, _ in s.issue_types.most_common(3)),
        )
        for kind, s in kind_stats(tickets).items()
    }


def failed_installs(tickets: Iterable[PastTicket]) -> Counter[str]:
    """Requirements that failed to install, by how many tickets they failed in."""
    counts: Counter[str] = Counter()
    for past in tickets:
        names = set()
        for issue in past.progress.issues:
            if issue.type != "dependency_error":
                continue
            match = _INSTALL.search(issue.description)
            if match:
                names.add(match.group(1).strip().rstrip(")").strip())
        counts.update(names)
    return counts
