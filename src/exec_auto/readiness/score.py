"""Combine the rules' findings into one deterministic score from 0 to 100."""

from __future__ import annotations

from collections.abc import Sequence

from exec_auto.readiness.model import Finding, FindingKind, Readiness
from exec_auto.readiness.rules import RULES, ReadinessInput, Rule

# The most one kind of finding can take off: a plan with forty questions is not four times as
# unready as one with ten, and one bad area must not hide every other reason.
CAPS: dict[FindingKind, int] = {
    "vague_step": 45,
    "open_question": 32,
    "unverifiable_criterion": 30,
    "no_criteria": 15,
    "missing_file": 18,
    "critical_area": 20,
    "research_ticket": 15,
    "history": 15,
    "pause_marker": 0,
}


def _capped(findings: Sequence[Finding]) -> list[Finding]:
    """Each finding with the penalty left after its kind's cap (in the order found)."""
    used: dict[str, int] = {}
    out = []
    for finding in findings:
        room = CAPS[finding.kind] - used.get(finding.kind, 0)
        penalty = max(0, min(finding.penalty, room))
        used[finding.kind] = used.get(finding.kind, 0) + penalty
        out.append(finding.model_copy(update={"penalty": penalty}))
    return out


def assess(ctx: ReadinessInput, threshold: int, rules: Sequence[Rule] = RULES) -> Readiness:
    """Run every rule and score the ticket: 100 minus the capped penalties, never below 0."""
    found = [finding for rule in rules for finding in rule(ctx)]
    findings = _capped(found)
    score = max(0, 100 - sum(f.penalty for f in findings))
    return Readiness(ticket=ctx.ticket, score=score, threshold=threshold, findings=tuple(findings))
