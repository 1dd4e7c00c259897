"""Pull-request text for a finished ticket, as Markdown `gh pr create --body-file -` accepts."""

from __future__ import annotations

from exec_auto.report import decision_lines
from exec_auto.review.model import TicketReview


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip() or "-"


def title(review: TicketReview) -> str:
    """The PR title."""
    return f"exec-auto: {review.name} ({review.verdict.replace('_', ' ')})"


def pr_body(review: TicketReview, page: str | None = None) -> str:
    """Summary, criteria and evidence, integrity flags, decisions, steps, how to review."""
    report = review.report
    lines = ["## Summary", ""]
    if report is None:
        lines += [f"Ticket `{review.name}` has no report: it did not run to its end.", ""]
        return "\n".join(lines)
    c = report.step_counts
    done = c.get("completed", 0) + c.get("completed_with_warning", 0)
    met = sum(1 for a in report.acceptance_criteria if a.status == "met")
    lines += [
        f"Ticket `{review.name}`, run unattended by exec-auto ({report.agent}): "
        f"**{review.verdict.replace('_', ' ')}** — {done}/{len(report.steps)} steps completed, "
        f"{met}/{len(report.acceptance_criteria)} acceptance criteria met with evidence, "
        f"{len(report.issues)} open issue(s). Change: {review.stat.text()}; "
        f"tests added/changed/removed: {review.tests.text()}.",
        "",
        "## Acceptance criteria and evidence",
        "",
    ]
    if report.acceptance_criteria:
        lines += ["| Criterion | Result | Evidence |", "|---|---|---|"]
        lines += [
            f"| {_cell(a.criterion)} | {a.status} | {_cell('; '.join(a.evidence))} |"
            for a in report.acceptance_criteria
        ]
    else:
        lines.append("none defined")
    lines += ["", "## Integrity", ""]
    flags = [*review.integrity, *(f"unverified: {u}" for u in review.unverified)]
    flags += [f"test removed: {t}" for t in review.tests.removed]
    lines += [f"- {f}" for f in flags] or ["none"]
    lines += ["", "## Decisions to ratify", ""]
    lines += decision_lines(report) or ["none"]
    lines += ["", "## Steps", "", "| Step | Title | Status | Diff |", "|---|---|---|---|"]
    lines += [
        f"| {_cell(s.id)} | {_cell(s.title)} | {s.status} | "
        f"{s.stat.text() if s.commit else 'no snapshot'} |"
        for s in review.steps
    ]
    lines += ["", "## How to review", ""]
    if review.needs_eyes:
        lines.append(f"- **Needs eyes:** {'; '.join(review.needs_eyes)}")
    lines += [
        f"- Each step's diff: `exec-auto diff {review.name} STEP` (whole run: `exec-auto diff {review.name}`)",
        "- Open issues: "
        + ("; ".join(f"{i.type} ({i.severity})" for i in report.issues) or "none"),
    ]
    if page:
        lines.append(f"- Review page: `{page}`")
    return "\n".join(lines) + "\n"
