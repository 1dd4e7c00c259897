"""The report's evidence sections: Integrity first, then proven / only passing / unverified.

Kept apart from report.py so the report's other parts can change without touching these; every
count is derived from the records passed in, and an empty section says "none".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exec_auto.report import ReportIssue


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
