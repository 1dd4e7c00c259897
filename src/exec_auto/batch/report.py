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
from exec_auto.batch.result import ERROR, INTERRUPTED, NOT_READY, NOT_STARTED, JobResult
from exec_auto.clock import parse_iso
from exec_auto.proc import git
from exec_auto.repo import git_dir
from exec_auto.ticket.model import Decision
from exec_auto.usage import Usage

SEVERITIES = ("high", "medium", "low")
META_FILE = "batch.json"
__all__ = [
    "ERROR",
    "INTERRUPTED",
    "NOT_READY",
    "NOT_STARTED",
    "BatchMeta",
    "BatchReport",
    "BatchRow",
]


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
    # The readiness score; not_ready rows also carry its reasons (as `exec-auto check` words them).
    readiness_score: int | None = None
    readiness_reasons: list[str] = Field(default_factory=list)
    # The unanswered questions of a parked (needs_decision) ticket.
    decisions: list[Decision] = Field(default_factory=list)


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
    stopped: str | None = None
    exit_code: int
    tickets: list[BatchRow]
    totals: BatchTotals


class BatchMeta(BaseModel):
    """What a batch knows beyond its result files (batch.json): how it ran, merges, budget.

    A CI fan-in has only the result files; then the times come from the results themselves.
    """

    started_at: str | None = None
    completed_at: str | None = None
    wall_seconds: float | None = None
    mode: str = "results"
    parallel: int = 1
    base_commit: str | None = None
    budget: dict[str, object] = Field(default_factory=dict)
    # Ticket order of the batch (rows follow it; tickets not in it come after, by name).
    order: list[str] = Field(default_factory=list)
    # ticket -> merged?, and a note from the merge (conflict, tests failed after merging).
    merged: dict[str, bool] = Field(default_factory=dict)
    merge_notes: dict[str, str] = Field(default_factory=dict)
    # Why the batch stopped early (a usage limit past --deadline, an interrupt), if it did.
    stopped: str | None = None
    interrupted: bool = False
    deadline: str | None = None
    # The order --merge tried the branches in (tests ran after each).
    merge_order: list[str] = Field(default_factory=list)


def row_from_result(result: JobResult) -> BatchRow:
    """A ticket's row, from its result file."""
    issues = _no_issues()
    for issue in result.issues:
        issues[issue.severity] = issues.get(issue.severity, 0) + 1
    return BatchRow(
        ticket=result.ticket,
        status=result.status,
        exit_code=result.exit_code,
        steps_done=result.steps_done,
        steps_total=result.steps_total,
        issues=issues,
        criteria_met=sum(1 for c in result.criteria if c.status == "met"),
        criteria_total=len(result.criteria),
        duration_seconds=result.timings.duration_seconds,
        usage=result.usage,
        branch=result.refs.branch,
        worktree_kept=result.refs.worktree_kept,
        report_path=result.report_path,
        note=result.note,
        readiness_score=result.readiness_score,
        readiness_reasons=result.readiness_reasons,
        decisions=[d for d in result.decisions if d.answer is None],
    )


def _span(results: list[JobResult]) -> tuple[str | None, str | None, float | None]:
    starts = [r.timings.started_at for r in results if r.timings.started_at]
    ends = [r.timings.completed_at for r in results if r.timings.completed_at]
    first, last = (min(starts) if starts else None), (max(ends) if ends else None)
    a, b = parse_iso(first or ""), parse_iso(last or "")
    return first, last, round((b - a).total_seconds(), 1) if a and b else None


def assemble(results: list[JobResult], meta: BatchMeta) -> BatchReport:
    """The batch report from result files (and batch.json when the batch wrote one)."""
    rank = {name: i for i, name in enumerate(meta.order)}
    ordered = sorted(results, key=lambda r: (rank.get(r.ticket, len(rank)), r.ticket))
    rows = []
    for result in ordered:
        row = row_from_result(result)
        if result.ticket in meta.merged:
            row.merged = meta.merged[result.ticket]
        elif row.branch and meta.merged:
            row.merged = False
        extra = meta.merge_notes.get(result.ticket)
        if extra:
            row.note = "; ".join(n for n in (row.note, extra) if n)
        rows.append(row)
    first, last, span = _span(results)
    codes = [r.exit_code for r in rows] or [0]
    return BatchReport(
        started_at=meta.started_at or first or "",
        completed_at=meta.completed_at or last or "",
        wall_seconds=meta.wall_seconds if meta.wall_seconds is not None else (span or 0.0),
        mode=meta.mode,
        parallel=meta.parallel,
        base_commit=meta.base_commit,
        budget=meta.budget,
        stopped=meta.stopped,
        exit_code=130 if meta.interrupted else max(codes),
        tickets=rows,
        totals=totals(rows),
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


def _not_ready(report: BatchReport) -> list[str]:
    skipped = [r for r in report.tickets if r.status == NOT_READY]
    if not skipped:
        return []
    lines = ["", "## Skipped: not ready for an unattended run"]
    for r in skipped:
        lines.append(
            f"- **{r.ticket}**: readiness {r.readiness_score}/100 — improve the plan, run it with "
            f"`exec-auto run {r.ticket} --interactive`, or pass `--force`"
        )
        lines += [f"  - {reason.strip()}" for reason in r.readiness_reasons]
    return lines


def _decisions_needed(report: BatchReport) -> list[str]:
    """The questions first: parked tickets wait for these answers."""
    parked = [r for r in report.tickets if r.decisions]
    if not parked:
        return []
    lines = ["", "## Decisions needed (answer these first)"]
    for r in parked:
        for d in r.decisions:
            lines.append(f"- **{r.ticket}**, step {d.step_id}: {d.question}")
            lines += [f"  - option: {o}" for o in d.options]
        lines.append(f'  - answer: `exec-auto answer {r.ticket} "your decision"`')
    return lines


def render_markdown(report: BatchReport) -> str:
    """batch-report.md: the table a reviewer reads in the morning."""
    t = report.totals
    budget = report.budget
    lines = [
        "# Batch report",
        *_decisions_needed(report),
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
    if report.stopped:
        lines.append(f"**Stopped early:** {report.stopped}  ")
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
    lines += _not_ready(report)
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
    if report.stopped:
        lines.append(f"  stopped early: {report.stopped}")
    lines += [f"  {r.ticket}: {r.note}" for r in report.tickets if r.note]
    lines += [
        f"  {r.ticket} needs a decision (step {d.step_id}): {d.question}"
        f' — exec-auto answer {r.ticket} "..."'
        for r in report.tickets
        for d in r.decisions
    ]
    return "\n".join(lines)


def write_batch_report(report: BatchReport, folder: Path) -> tuple[Path, Path]:
    """Write batch-report.md and batch-report.json into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "batch-report.md", folder / "batch-report.json"
    atomic_write_text(md, render_markdown(report))
    atomic_write_text(js, json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    return md, js
