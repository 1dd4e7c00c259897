"""The report's evidence sections: Integrity first, then proven / only passing / unverified.

Kept apart from report.py so the report's other parts can change without touching these; every
count is derived from the records passed in, and an empty section says "none".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from exec_auto.evidence.model import RedGreenRecord

if TYPE_CHECKING:
    from exec_auto.report import ReportIssue
    from exec_auto.ticket.model import CriterionProgress


def integrity_section(issues: Sequence[ReportIssue], audited_steps: int | None) -> list[str]:
    """'## Integrity': every weakened check with where, before/after, and who allowed it."""
    blocking = [i for i in issues if i.severity != "low"]
    allowed = [i for i in issues if i.severity == "low"]
    if audited_steps is None:
        return ["## Integrity", "- not audited (evidence.integrity is off)", ""]
    head = (
        f"## Integrity ({len(blocking)} weakened check(s), {len(allowed)} authorised by the plan;"
        f" {audited_steps} step diff(s) audited)"
    )
    lines = [head]
    if not issues:
        lines.append(
            "- none: no test, assert, skip, suppression or check configuration was weakened"
        )
    for issue in [*blocking, *allowed]:
        step = f"step {issue.step_id}: " if issue.step_id else ""
        tag = "AUTHORISED" if issue.severity == "low" else "WEAKENED"
        lines.append(f"- **[{tag}]** {step}{issue.description}")
        lines += [f"  - {d}" for d in issue.details.splitlines()[:12] if d.strip()]
    return [*lines, ""]


def _criterion_line(criterion: CriterionProgress) -> str:
    shown = [e for e in criterion.evidence if e.startswith("red/green")] or [
        e for e in criterion.evidence if e.startswith(("test ", "verify", "passes without"))
    ]
    why = "; ".join(shown[:3]) or "; ".join(criterion.evidence[:2])
    return f"- criterion ({criterion.status}) {criterion.criterion}: {why}"


def evidence_sections(
    criteria: Sequence[CriterionProgress], record: RedGreenRecord | None
) -> list[str]:
    """Proven (red/green), only passing, unverified: each item once, counts from the items."""
    proven = [_criterion_line(c) for c in criteria if c.proof == "red_green"]
    passing = [_criterion_line(c) for c in criteria if c.proof == "passing"]
    unverified = [
        _criterion_line(c) for c in criteria if c.status == "unverified" and c.proof == "none"
    ]
    for test in record.tests if record else []:
        if test.origin.startswith("criterion"):
            continue  # shown with its criterion
        line = (
            f"- test `{test.test_id}` ({test.origin}) — before the ticket:"
            f" {test.before.describe()}; after: {test.after.describe()}"
        )
        if test.verdict == "proven":
            proven.append(line)
        elif test.after.outcome == "passed":
            passing.append(line)
    lines = [
        f"## Evidence ({len(proven)} proven, {len(passing)} only passing,"
        f" {len(unverified)} unverified)",
    ]
    if record is None:
        lines.append("- red/green: not run (evidence.red_green is off, or no final validation)")
    else:
        lines += [f"- note: {n}" for n in record.notes]
    for title, items in (
        ("Proven: fails before the ticket, passes after", proven),
        ("Only passing: passes, but not shown to fail before the ticket", passing),
        ("Unverified: nothing the tool could check", unverified),
    ):
        lines += [f"### {title} ({len(items)})", *(items or ["- none"])]
    return [*lines, ""]
