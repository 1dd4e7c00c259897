"""The batch report: one row per ticket plus totals, as batch-report.md and batch-report.json.

It goes to `<git-common-dir>/exec-auto/batches/<timestamp>/` by default, outside the work tree so a
batch leaves nothing to commit or ignore; `--report-dir` puts it anywhere else. The location is
printed at the end of every batch.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from exec_auto.atomicio import atomic_write_text
from exec_auto.proc import git
from exec_auto.repo import git_dir
from exec_auto.report import Report
from exec_auto.usage import Usage

SEVERITIES = ("high", "medium", "low")
NOT_STARTED = "not_started"
ERROR = "error"
INTERRUPTED = "interrupted"


def _no_issues() -> dict[str, int]:
    return dict.fromkeys(SEVERITIES, 0)


class BatchRow(BaseModel):
    """One ticket's line in the batch report."""

    ticket: str
    status: str
    exit_code: int
    steps_done: int = 0
    steps_total: int = 0
    issues: dict[str, int] = Field(default_factory=_no_issues)
    criteria_met: int = 0
    criteria_total: int = 0
    duration_seconds: float | None = None
    usage: Usage = Field(default_factory=Usage)
    # Parallel runs only: the ticket's branch, whether --merge merged it, a worktree left behind.
    branch: str | None = None
    merged: bool | None = None
    worktree_kept: str | None = None
    report_path: str | None = None
    note: str | None = None


class BatchTotals(BaseModel):
    """Sums over the rows."""

    tickets: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    steps_done: int = 0
    steps_total: int = 0
    issues: dict[str, int] = Field(default_factory=_no_issues)
    criteria_met: int = 0
    criteria_total: int = 0
    duration_seconds: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    merged: int = 0


class BatchReport(BaseModel):
    """Everything batch-report.json holds."""

    started_at: str
    completed_at: str
    wall_seconds: float
    mode: str
    parallel: int
    base_commit: str | None = None
    budget: dict[str, object]
    exit_code: int
    tickets: list[BatchRow]
    totals: BatchTotals


def row_from_report(report: Report, duration: float | None) -> BatchRow:
    """A row from a ticket's completion report (duration: this batch's wall time for it)."""
    issues = _no_issues()
    for issue in report.issues:
        issues[issue.severity] = issues.get(issue.severity, 0) + 1
    counts = report.step_counts
    return BatchRow(
        ticket=report.ticket,
        status=report.status,
        exit_code=report.exit_code,
        steps_done=counts.get("completed", 0) + counts.get("completed_with_warning", 0),
        steps_total=len(report.steps),
        issues=issues,
        criteria_met=sum(1 for c in report.acceptance_criteria if c.status == "met"),
        criteria_total=len(report.acceptance_criteria),
        duration_seconds=round(duration, 1) if duration is not None else report.duration_seconds,
        usage=report.usage,
    )


def totals(rows: list[BatchRow]) -> BatchTotals:
    """Add the rows up."""
    out = BatchTotals(tickets=len(rows))
    for row in rows:
        out.by_status[row.status] = out.by_status.get(row.status, 0) + 1
        out.steps_done += row.steps_done
        out.steps_total += row.steps_total
        for severity, n in row.issues.items():
            out.issues[severity] = out.issues.get(severity, 0) + n
        out.criteria_met += row.criteria_met
        out.criteria_total += row.criteria_total
        out.duration_seconds += row.duration_seconds or 0.0
        out.usage = out.usage + row.usage
        out.merged += 1 if row.merged else 0
    out.duration_seconds = round(out.duration_seconds, 1)
    return out


def default_report_dir(root: Path) -> Path:
    """A new `<git-common-dir>/exec-auto/batches/<timestamp>` folder name (not yet created)."""
    common = git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=root)
    base = Path(common.stdout.strip()) if common.ok else git_dir(root)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = base / "exec-auto" / "batches" / stamp
    n = 2
    while folder.exists():
        folder = folder.with_name(f"{stamp}-{n}")
        n += 1
    return folder


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _issues(counts: dict[str, int]) -> str:
    return "/".join(str(counts.get(s, 0)) for s in SEVERITIES)


def _merged(row: BatchRow) -> str:
    return "-" if row.merged is None else ("yes" if row.merged else "no")


def render_markdown(report: BatchReport) -> str:
    """batch-report.md: the table a reviewer reads in the morning."""
    t = report.totals
    budget = report.budget
    lines = [
        "# Batch report",
        "",
        f"**Started:** {report.started_at}  ",
        f"**Completed:** {report.completed_at}  ",
        f"**Wall time:** {_dur(report.wall_seconds)}  ",
        f"**Mode:** {report.mode}"
        + (
            f" ({report.parallel} at once, worktrees from {report.base_commit})"
            if report.base_commit
            else ""
        )
        + "  ",
        f"**Exit code:** {report.exit_code} (the worst of the tickets')  ",
    ]
    if budget.get("usd") is not None or budget.get("seconds") is not None:
        lines.append(
            f"**Budget:** ${budget.get('spent_usd', 0):.2f} of "
            f"{'$' + format(budget['usd'], '.2f') if budget.get('usd') is not None else 'unlimited'}, "
            f"{budget.get('elapsed_seconds')} s of "
            f"{str(budget['seconds']) + ' s' if budget.get('seconds') is not None else 'unlimited'}"
            + (f" — {budget['exhausted']}" if budget.get("exhausted") else "")
            + "  "
        )
    lines += [
        "",
        "| Ticket | Status | Exit | Steps | Issues H/M/L | Criteria | Duration | Tokens in/out | Cost (~ estimated) | Branch | Merged |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.tickets:
        lines.append(
            f"| {r.ticket} | {r.status} | {r.exit_code} | {r.steps_done}/{r.steps_total} "
            f"| {_issues(r.issues)} | {r.criteria_met}/{r.criteria_total} | {_dur(r.duration_seconds)} "
            f"| {r.usage.input_tokens}/{r.usage.output_tokens} | {r.usage.short_cost()} | {r.branch or '-'} | {_merged(r)} |"
        )
    lines.append(
        f"| **Total ({t.tickets})** | {', '.join(f'{k}: {v}' for k, v in t.by_status.items())} "
        f"| {report.exit_code} | {t.steps_done}/{t.steps_total} | {_issues(t.issues)} "
        f"| {t.criteria_met}/{t.criteria_total} | {_dur(t.duration_seconds)} "
        f"| {t.usage.input_tokens}/{t.usage.output_tokens} | {t.usage.short_cost()} | | {t.merged} |"
    )
    notes = [r for r in report.tickets if r.note or r.worktree_kept or r.report_path]
    if notes:
        lines += ["", "## Tickets"]
    for r in notes:
        lines.append(f"- **{r.ticket}**" + (f": {r.note}" if r.note else ""))
        if r.worktree_kept:
            lines.append(f"  - worktree kept (uncommitted work): `{r.worktree_kept}`")
        if r.report_path:
            lines.append(f"  - report: `{r.report_path}`")
    unmerged = [r for r in report.tickets if r.branch and not r.merged and not r.worktree_kept]
    if unmerged:
        lines += ["", "## Branches to review"]
        lines += [
            f"- `{r.branch}` — `git log -p HEAD..{r.branch}`, then `git merge --no-ff {r.branch}`"
            for r in unmerged
        ]
    return "\n".join(lines) + "\n"


def render_summary(report: BatchReport) -> str:
    """The end-of-batch screen summary: one aligned line per ticket, then notes."""
    t = report.totals
    statuses = ", ".join(f"{k}: {v}" for k, v in t.by_status.items())
    head = (
        "ticket",
        "status",
        "exit",
        "steps",
        "issues h/m/l",
        "criteria",
        "time",
        "cost",
        "branch",
    )
    table = [head]
    for r in report.tickets:
        branch = r.branch or "-"
        if r.merged:
            branch += " (merged)"
        table.append(
            (
                r.ticket,
                r.status,
                str(r.exit_code),
                f"{r.steps_done}/{r.steps_total}",
                _issues(r.issues),
                f"{r.criteria_met}/{r.criteria_total}",
                _dur(r.duration_seconds),
                r.usage.short_cost(2),
                branch,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = [
        f"Batch of {t.tickets} ({report.mode}): {statuses}; exit {report.exit_code}; "
        f"{t.steps_done}/{t.steps_total} steps, {t.usage.short_cost(2)}, {_dur(report.wall_seconds)}",
        *(
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in table
        ),
    ]
    if report.budget.get("exhausted"):
        lines.append(f"  budget: {report.budget['exhausted']}")
    lines += [f"  {r.ticket}: {r.note}" for r in report.tickets if r.note]
    return "\n".join(lines)


def write_batch_report(report: BatchReport, folder: Path) -> tuple[Path, Path]:
    """Write batch-report.md and batch-report.json into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "batch-report.md", folder / "batch-report.json"
    atomic_write_text(md, render_markdown(report))
    atomic_write_text(js, json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    return md, js
