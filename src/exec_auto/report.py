"""The completion report: one honest record of the run, as report.json, report.md and on screen."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel, Field

from exec_auto.atomicio import atomic_write_text
from exec_auto.clock import parse_iso
from exec_auto.decisions.reporting import answered_lines, pending_lines
from exec_auto.evidence.model import RedGreenRecord
from exec_auto.evidence.reporting import evidence_sections, integrity_section
from exec_auto.textsafe import clean_text
from exec_auto.ticket.model import (
    AgentDecision,
    AutoActionsSummary,
    CriterionProgress,
    Decision,
    Progress,
    ReadinessRecord,
)
from exec_auto.usage import Usage

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


class ReportStep(BaseModel):
    """A step's line in the report."""

    id: str
    title: str
    status: str
    files_created: list[str] = Field(default_factory=list)
    files_modified: list[str] = Field(default_factory=list)
    files_deleted: list[str] = Field(default_factory=list)
    quality_gates: list[str] = Field(default_factory=list)
    attempts: int = 0
    usage: Usage = Field(default_factory=Usage)
    started_at: str | None = None
    completed_at: str | None = None
    auto_actions: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    decisions: list[AgentDecision] = Field(default_factory=list)
    # Seconds each gate took after the step (the last run, fix attempts included).
    gate_seconds: dict[str, float] = Field(default_factory=dict)


class ReportIssue(BaseModel):
    """A logged issue, marked for manual review."""

    type: str
    severity: str
    step_id: str | None
    description: str
    details: str = ""
    action_taken: str | None = None
    manual_review: bool = True


class Report(BaseModel):
    """Everything report.json holds."""

    ticket: str
    status: str
    mode: str = "autonomous"
    agent: str = ""
    started_at: str | None = None
    completed_at: str | None = None
    # The step history's run (None in reports written before run ids were recorded).
    run_id: str | None = None
    duration_seconds: float | None = None
    steps: list[ReportStep]
    step_counts: dict[str, int]
    files_created: list[str]
    files_modified: list[str]
    files_deleted: list[str]
    acceptance_criteria: list[CriterionProgress]
    # Red/green runs of the criteria's and the ticket's tests (None: not run).
    red_green: RedGreenRecord | None = None
    issues: list[ReportIssue]
    # The integrity audit's findings (also among issues) and how many step diffs it audited.
    integrity: list[ReportIssue] = Field(default_factory=list)
    integrity_audited_steps: int | None = None
    quality_gates: dict[str, str]
    # Seconds of the run-level gates (baseline, final, bisection), keyed as quality_gates.
    gate_seconds: dict[str, float] = Field(default_factory=dict)
    auto_actions: AutoActionsSummary
    usage: Usage = Field(default_factory=Usage)
    next_actions: list[str]
    progress_file: str = ""
    archived_to: str | None = None
    restore_command: str | None = None
    # The ticket's snapshot store and step refs (`TicketRef.history_key`; None: the bare name).
    history_key: str | None = None
    exit_code: int = 1
    # How the run was contained (the sandbox's status line); sandboxed False puts it first.
    sandbox: str = ""
    sandboxed: bool | None = None
    readiness: ReadinessRecord | None = None
    # Questions for a human (pending first) and the answers given (who, when).
    decisions: list[Decision] = Field(default_factory=list)


def _net_files(progress: Progress) -> tuple[list[str], list[str], list[str]]:
    """Run-level created/modified/deleted from the steps' changes, in order."""
    state: dict[str, str] = {}
    for step in progress.implementation_steps:
        for path in step.files_touched.created:
            state[path] = "modified" if state.get(path) == "deleted" else "created"
        for path in step.files_touched.modified:
            state.setdefault(path, "modified")
        for path in step.files_touched.deleted:
            if state.get(path) == "created":
                del state[path]
            else:
                state[path] = "deleted"

    def pick(kind: str) -> list[str]:
        return sorted(p for p, k in state.items() if k == kind)

    return pick("created"), pick("modified"), pick("deleted")


def _next_actions(progress: Progress, criteria: list[CriterionProgress]) -> list[str]:
    actions = []
    issues = sorted(progress.open_issues(), key=lambda i: SEVERITY_ORDER.get(i.severity, 3))
    for issue in issues[:8]:
        where = f" (step {issue.step_id})" if issue.step_id else ""
        actions.append(
            f"Review {issue.type}{where}: {issue.description[:120]} ({issue.severity.upper()})"
        )
    for crit in criteria:
        if crit.status != "met":
            actions.append(f"Check criterion ({crit.status}): {crit.criterion[:120]}")
    if progress.auto_actions_summary.dependencies_installed:
        actions.append(
            "Review auto-installed dependencies: "
            + ", ".join(progress.auto_actions_summary.dependencies_installed)
        )
    actions.append(
        f"Review the diff (`exec-auto diff {progress.ticket.name}`, per step: "
        f"`exec-auto diff {progress.ticket.name} STEP`; report.html shows each) "
        "and run the full test suite before merging"
    )
    return actions


def _audited_steps(progress: Progress) -> int | None:
    """Step diffs the integrity audit checked; None when steps changed files and none was audited."""
    steps = progress.implementation_steps
    audited = sum(any(g.startswith("Integrity:") for g in s.quality_gates) for s in steps)
    changed = any(s.files_touched.all() or s.files_touched.deleted for s in steps)
    return None if changed and not audited else audited


def build_report(progress: Progress, agent: str, exit_code: int, progress_file: str) -> Report:
    """Derive the report from the progress document (the single source of truth)."""
    steps = [
        ReportStep(
            id=s.step_id,
            title=s.description,
            status=s.status,
            files_created=s.files_touched.created,
            files_modified=s.files_touched.modified,
            files_deleted=s.files_touched.deleted,
            quality_gates=s.quality_gates,
            attempts=s.attempts,
            usage=s.agent.only(),
            started_at=s.started_at,
            completed_at=s.completed_at,
            auto_actions=s.auto_actions,
            warnings=s.warnings,
            decisions=s.decisions,
            gate_seconds=s.gate_seconds,
        )
        for s in progress.implementation_steps
    ]
    counts = {k: 0 for k in ("completed", "completed_with_warning", "failed", "skipped", "pending")}
    for s in progress.implementation_steps:
        key = s.status if s.status in counts else "pending"
        counts[key] += 1
    created, modified, deleted = _net_files(progress)
    start, end = (
        parse_iso(progress.ticket.started_at or ""),
        parse_iso(progress.ticket.completed_at or ""),
    )
    issues = [
        ReportIssue(
            type=i.type,
            severity=i.severity,
            step_id=i.step_id,
            description=i.description,
            details=i.details,
            action_taken=i.action_taken,
        )
        for i in sorted(progress.open_issues(), key=lambda i: SEVERITY_ORDER.get(i.severity, 3))
    ]
    return Report(
        ticket=progress.ticket.name,
        status=progress.ticket.status,
        mode=progress.ticket.execution_mode,
        agent=agent,
        started_at=progress.ticket.started_at,
        completed_at=progress.ticket.completed_at,
        run_id=progress.ticket.run_id,
        duration_seconds=(end - start).total_seconds() if start and end else None,
        steps=steps,
        step_counts=counts,
        files_created=created,
        files_modified=modified,
        files_deleted=deleted,
        acceptance_criteria=progress.acceptance_criteria,
        red_green=progress.red_green,
        issues=issues,
        integrity=[i for i in issues if i.type == "integrity"],
        integrity_audited_steps=_audited_steps(progress),
        quality_gates=dict(progress.quality_gates),
        gate_seconds=dict(progress.gate_seconds),
        auto_actions=progress.auto_actions_summary,
        usage=Usage.total(s.usage for s in steps),
        next_actions=_next_actions(progress, progress.acceptance_criteria),
        progress_file=progress_file,
        exit_code=exit_code,
        readiness=progress.readiness,
        decisions=sorted(progress.decisions, key=lambda d: d.answer is not None),
    )


def decision_lines(report: Report) -> list[str]:
    """One checklist line per refused action, install, fix attempt and reported decision."""
    from exec_auto.review.model import decisions

    return [
        f"- [ ] {d.kind.replace('_', ' ')}{' (step ' + d.step + ')' if d.step else ''}: {d.text}"
        for d in decisions(report)
    ]


def usage_text(usage: Usage) -> str:
    """One line: turns, tokens and cost with measured and estimated apart."""
    return (
        f"{usage.turns} turns, {usage.input_tokens} input / {usage.output_tokens} output tokens "
        f"({usage.cache_read_tokens} cache read, {usage.cache_write_tokens} cache write), "
        f"cost {usage.cost_text()}"
    )


def _readiness_lines(readiness: ReadinessRecord | None) -> list[str]:
    if readiness is None:
        return []
    forced = ", below it: started anyway" if readiness.forced else ""
    lines = [f"**Readiness:** {readiness.score}/100 (threshold {readiness.threshold}{forced})"]
    if readiness.forced:
        lines += [f"  - {reason}" for reason in readiness.reasons[:8]]
    return ["", *lines]


CRIT_MARK = {
    "met": "[met]",
    "partial": "[partial]",
    "not_met": "[NOT MET]",
    "unverified": "[unverified]",
}


def render_markdown(report: Report) -> str:
    """report.md: the seed's completion report, as markdown."""
    c = report.step_counts
    total = len(report.steps)
    done = c["completed"] + c["completed_with_warning"]
    dur = f"{report.duration_seconds:.0f} s" if report.duration_seconds is not None else "unknown"
    # An uncontained run says so before anything else.
    warning = [f"**{report.sandbox}**", ""] if report.sandboxed is False else []
    lines = [
        *warning,
        f"# Completion report: {report.ticket}",
        *pending_lines(report.ticket, report.decisions),
        "",
        f"**Status:** {report.status}  ",
        f"**Mode:** {report.mode} ({report.agent})  ",
        *([f"**Containment:** {report.sandbox}  "] if report.sandboxed else []),
        f"**Started:** {report.started_at}  ",
        f"**Completed:** {report.completed_at}  ",
        f"**Duration:** {dur}  ",
        f"**Steps:** {done}/{total} completed ({c['completed_with_warning']} with warnings), "
        f"{c['failed']} failed, {c['skipped']} skipped",
        *_readiness_lines(report.readiness),
        "",
        *integrity_section(report.integrity, report.integrity_audited_steps),
        "## Steps",
        *(f"- {s.id}. {s.title} — **{s.status}**" for s in report.steps),
        "",
        *answered_lines(report.decisions),
    ]
    for title, files in (
        ("Files created", report.files_created),
        ("Files modified", report.files_modified),
        ("Files deleted", report.files_deleted),
    ):
        lines += [f"## {title}", *(f"- `{f}`" for f in files), "" if files else "- none", ""]
    met = sum(1 for a in report.acceptance_criteria if a.status == "met")
    lines += [f"## Acceptance criteria ({met}/{len(report.acceptance_criteria)} met)"]
    for a in report.acceptance_criteria:
        lines.append(f"- {CRIT_MARK[a.status]} {a.criterion}")
        lines += [f"  - evidence: {e}" for e in a.evidence]
    if not report.acceptance_criteria:
        unreadable = any(i.type == "spec_unreadable" for i in report.issues)
        lines.append("- could not be read (see issues)" if unreadable else "- none defined")
    lines += ["", *evidence_sections(report.acceptance_criteria, report.red_green)]
    lines += ["", f"## Issues logged ({len(report.issues)}, manual review needed)"]
    for n, i in enumerate(report.issues, 1):
        step = f" — step {i.step_id}" if i.step_id else ""
        lines.append(
            f"{n}. **[{i.severity.upper()}] {i.type}{step}**: {i.description} → MANUAL REVIEW NEEDED"
        )
        if i.details:
            lines += ["   ```", *("   " + d for d in i.details.splitlines()[:20]), "   ```"]
    if not report.issues:
        lines.append("- none")
    lines += ["", "## Decisions to ratify (made without a human)"]
    lines += decision_lines(report) or ["- none"]
    lines += ["", "## Quality gates"]
    lines += [f"- {k}: {v}" for k, v in report.quality_gates.items()] or ["- not run"]
    actions = report.auto_actions
    lines += [
        "",
        "## Auto-actions",
        f"- dependencies installed: {', '.join(actions.dependencies_installed) or 'none'}",
        f"- files formatted: {actions.formatting_applied}",
        f"- lint issues auto-fixed: {actions.linting_fixed}",
        f"- fix attempts: {actions.fix_attempts}",
        f"- tests: {actions.tests_run} run, {actions.tests_passed} passed, {actions.tests_failed} failed",
        f"- agent usage: {usage_text(report.usage)}",
        "",
        "## Recommended next actions",
        *(f"{n}. {t}" for n, t in enumerate(report.next_actions, 1)),
        "",
        f"Progress file: `{report.progress_file}`",
    ]
    if report.archived_to:
        lines += [
            "",
            f"Archived to: `{report.archived_to}`"
            + (f" — restore with `{report.restore_command}`" if report.restore_command else ""),
        ]
    return "\n".join(lines) + "\n"


def write_report(report: Report, folder: Path, root: Path | None = None) -> tuple[Path, ...]:
    """Write report.md, report.json and report.html next to progress.yaml.

    root (the project) lets the HTML page show each step's diff from the step history.
    """
    md, js = folder / "report.md", folder / "report.json"
    # Agent text may carry terminal escapes; a report viewed with `cat` must not run them.
    atomic_write_text(md, clean_text(render_markdown(report)))
    atomic_write_text(js, json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    from exec_auto.review.pages import write_ticket_html

    try:
        page = write_ticket_html(report, folder, root)
    except Exception as exc:  # the page is extra: md and json are the report of record
        print(f"[AUTO] could not write report.html: {type(exc).__name__}: {exc}", file=sys.stderr)
        return md, js
    return md, js, page


def print_report(report: Report, color: bool) -> None:
    """Print the report: rich markdown on a colour terminal, plain text otherwise."""
    text = clean_text(render_markdown(report))
    if color:
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        print(text, flush=True)
