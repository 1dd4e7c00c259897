"""What the morning review shows about a ticket, derived only from stored data.

Sources: the ticket's report.json (the `Report` model), its batch row when it ran in a batch, and
its step history (`executor.history`) for diffs. Nothing is computed from the live work tree, so
the same stored data always gives the same review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from exec_auto.clock import parse_iso
from exec_auto.errors import ExecAutoError
from exec_auto.review import diffs
from exec_auto.review.diffs import DiffStat, FileDiff, TestChanges
from exec_auto.usage import Usage

if TYPE_CHECKING:  # keeps report/batch imports out of module import time
    from exec_auto.batch.report import BatchRow
    from exec_auto.report import Report

Verdict = Literal["proven", "partial", "failed", "blocked", "not_started"]
VERDICTS: tuple[Verdict, ...] = ("proven", "partial", "failed", "blocked", "not_started")
CUT_OFF_STATUSES = frozenset({"stopped", "interrupted"})
# The risk tiers of the review queue, most urgent first.
TIER_NAMES = ("integrity findings", "unverified claims", "failures", "clean", "not started")


@dataclass(frozen=True)
class Decision:
    """One thing decided without a human, for the human to accept or reject."""

    kind: str  # refused | dependency | fix_attempt | assumption | deviation
    step: str | None
    text: str


@dataclass(frozen=True)
class StepReview:
    """A step's line in the timeline, with its diff."""

    id: str
    title: str
    status: str
    duration: float | None
    usage: Usage
    gates: tuple[str, ...]
    attempts: tuple[str, ...]
    warnings: tuple[str, ...]
    commit: str | None
    files: tuple[FileDiff, ...] = ()

    @property
    def stat(self) -> DiffStat:
        """Files and lines this step changed."""
        return diffs.stat(list(self.files))


@dataclass(frozen=True)
class TicketReview:
    """Everything the page says about one ticket."""

    name: str
    verdict: Verdict
    status: str
    exit_code: int
    report: Report | None
    branch: str | None
    note: str | None
    integrity: tuple[str, ...]
    unverified: tuple[str, ...]
    failures: tuple[str, ...]
    needs_eyes: tuple[str, ...]
    stat: DiffStat
    tests: TestChanges
    steps: tuple[StepReview, ...]
    decisions: tuple[Decision, ...]
    touched: tuple[str, ...]
    history: str
    duration: float | None
    usage: Usage = field(default_factory=Usage)
    report_path: str | None = None

    @property
    def tier(self) -> int:
        """The risk tier (index into TIER_NAMES)."""
        if self.verdict == "not_started":
            return 4
        if self.integrity:
            return 0
        if self.unverified:
            return 1
        if self.failures or self.verdict in ("failed", "blocked"):
            return 2
        return 3

    def risk_key(self) -> tuple[int, int, str]:
        """Sort key of the review queue: tier, then (clean ones) the smallest change first."""
        size = self.stat.lines if self.tier == 3 else -len(self.integrity + self.failures)
        return (self.tier, size, self.name)


def _text(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("description", "message", "finding", "summary", "text"):
            if item.get(key):
                extra = item.get("kind") or item.get("type")
                return f"{extra}: {item[key]}" if extra else str(item[key])
        return ", ".join(f"{k}={v}" for k, v in sorted(item.items()))
    return str(item)


def integrity_findings(report: Report) -> tuple[str, ...]:
    """Integrity findings the report holds (audit data, and issues of an integrity type)."""
    data = report.model_dump(mode="json")
    found: list[str] = []
    raw = data.get("integrity")
    if isinstance(raw, dict):
        raw = raw.get("findings", [])
    if isinstance(raw, list):
        found += [_text(item) for item in raw]
    found += [f"{i.type}: {i.description}" for i in report.issues if "integrity" in i.type.lower()]
    return tuple(dict.fromkeys(found))


def audit_ran(report: Report) -> bool:
    """False when steps changed files and the integrity audit checked none of their diffs."""
    return getattr(report, "integrity_audited_steps", 0) is not None


def audit_text(report: Report) -> str:
    """What the integrity audit covered, in words."""
    audited = getattr(report, "integrity_audited_steps", 0)
    if audited is None:
        return "the integrity audit did not run on any step diff: nothing here is audited"
    return f"the integrity audit checked {audited} step diff(s)"


def decisions(report: Report) -> tuple[Decision, ...]:
    """The ledger: refused actions, dependencies installed, fix attempts, reported decisions."""
    out = [
        Decision("refused", i.step_id, i.description)
        for i in report.issues
        if i.type == "refused_action"
    ]
    out += [
        Decision("dependency", None, f"installed {d}")
        for d in report.auto_actions.dependencies_installed
    ]
    for step in report.steps:
        out += [
            Decision("fix_attempt", step.id, action)
            for action in step.auto_actions
            if action.startswith("Fix attempt")
        ]
        out += [Decision(d.kind, step.id, d.text) for d in step.decisions]
    return tuple(out)


def _verdict(report: Report | None, status: str, exit_code: int) -> Verdict:
    if status == "not_started":
        return "not_started"
    if report is None:
        return "blocked" if exit_code == 2 else "failed"
    if status in CUT_OFF_STATUSES or report.status in CUT_OFF_STATUSES:
        return "blocked"
    counts = report.step_counts
    done = counts.get("completed", 0) + counts.get("completed_with_warning", 0)
    if counts.get("failed", 0) or (report.steps and done == 0):
        return "failed"
    # Proven needs the audit too: a check that did not run is never a pass.
    if report.exit_code == 0 and not integrity_findings(report) and audit_ran(report):
        return "proven"
    return "partial"


def _duration(start: str | None, end: str | None) -> float | None:
    a, b = parse_iso(start or ""), parse_iso(end or "")
    return (b - a).total_seconds() if a and b else None


def _steps(root: Path | None, report: Report) -> tuple[tuple[StepReview, ...], list[FileDiff], str]:
    """The timeline with each step's diff, the whole run's diff, and where the diffs came from."""
    from exec_auto.executor.history import run_id, runs
    from exec_auto.executor.snapshot import SnapshotStore

    recorded = None
    note = "no step history kept (pruned, or recorded before exec-auto 0.2)"
    if root is not None:
        try:
            found = runs(root, report.history_key or report.ticket)
        except ExecAutoError:
            found = []
        wanted = report.run_id or run_id(report.started_at)
        recorded = next((r for r in found if r.run == wanted), None)
        if recorded is not None:
            note = f"step history: run {recorded.run}"
    store = (
        SnapshotStore(root, report.history_key or report.ticket)
        if recorded is not None and root
        else None
    )

    commits = {s.id: recorded.step(s.id) for s in report.steps} if recorded is not None else {}
    pairs = [(c.parent, c.commit) for c in commits.values() if c is not None]
    if recorded is not None:
        pairs.append((recorded.base, recorded.tip))
    # Every step's patch and the whole run's from one git process (a 20-step run: 21 before).
    patches = [diffs.parse(text) for text in store.patches(pairs)] if store is not None else []
    by_commit = dict(zip((c for _, c in pairs[:-1]), patches, strict=False))

    steps = []
    for s in report.steps:
        commit = commits.get(s.id)
        steps.append(
            StepReview(
                id=s.id,
                title=s.title,
                status=s.status,
                duration=_duration(s.started_at, s.completed_at),
                usage=s.usage,
                gates=tuple(s.quality_gates),
                attempts=tuple(
                    a
                    for a in s.auto_actions
                    if a.startswith(("Fix attempt", "Gates after the step"))
                ),
                warnings=tuple(s.warnings),
                commit=commit.commit if commit else None,
                files=tuple(by_commit.get(commit.commit, ())) if commit else (),
            )
        )
    whole = patches[-1] if patches and recorded is not None else []
    return tuple(steps), whole, note


def review_ticket(
    report: Report | None,
    root: Path | None,
    *,
    name: str | None = None,
    row: BatchRow | None = None,
) -> TicketReview:
    """The review of one ticket from its report (None: it never got one) and batch row."""
    status = row.status if row is not None else (report.status if report else "not_started")
    exit_code = row.exit_code if row is not None else (report.exit_code if report else 2)
    verdict = _verdict(report, status, exit_code)
    ticket = name or (report.ticket if report else (row.ticket if row else "?"))
    if report is None:
        return TicketReview(
            name=ticket,
            verdict=verdict,
            status=status,
            exit_code=exit_code,
            report=None,
            branch=row.branch if row else None,
            note=row.note if row else None,
            integrity=(),
            unverified=(),
            failures=(row.note,)
            if row is not None and row.note and verdict != "not_started"
            else (),
            needs_eyes=("no report: the ticket did not run to its end",)
            if verdict != "not_started"
            else (),
            stat=DiffStat(),
            tests=TestChanges(),
            steps=(),
            decisions=(),
            touched=(),
            history="",
            duration=row.duration_seconds if row else None,
            usage=row.usage if row else Usage(),
            report_path=row.report_path if row else None,
        )
    integrity = integrity_findings(report)
    unverified = tuple(c.criterion for c in report.acceptance_criteria if c.status == "unverified")
    failures = [f"step {s.id} failed: {s.title}" for s in report.steps if s.status == "failed"]
    failures += [
        f"criterion {c.status}: {c.criterion}"
        for c in report.acceptance_criteria
        if c.status in ("not_met", "partial")
    ]
    failures += [
        f"{i.type}: {i.description}"
        for i in report.issues
        if i.severity == "high" and "integrity" not in i.type.lower()
    ]
    steps, whole, history = _steps(root, report)
    tests = diffs.test_changes(whole)
    ledger = decisions(report)
    eyes = []
    if integrity:
        eyes.append(f"{len(integrity)} integrity finding(s)")
    if not audit_ran(report):
        eyes.append("integrity audit did not run")
    if unverified:
        eyes.append(f"{len(unverified)} unverified criterion/criteria")
    if failures:
        eyes.append(f"{len(failures)} failure(s)")
    if tests.removed:
        eyes.append(f"{len(tests.removed)} test(s) removed")
    kinds = {d.kind for d in ledger}
    for kind, label in (
        ("refused", "refused actions"),
        ("dependency", "dependencies installed"),
        ("deviation", "deviations from the plan"),
    ):
        if kind in kinds:
            eyes.append(label)
    if row is not None and row.worktree_kept:
        eyes.append("worktree kept with uncommitted work")
    touched = tuple(sorted({*report.files_created, *report.files_modified, *report.files_deleted}))
    return TicketReview(
        name=ticket,
        verdict=verdict,
        status=status,
        exit_code=exit_code,
        report=report,
        branch=row.branch if row else None,
        note=row.note if row else None,
        integrity=integrity,
        unverified=unverified,
        failures=tuple(failures),
        needs_eyes=tuple(eyes),
        stat=diffs.stat(whole) if whole else DiffStat(len(touched), 0, 0),
        tests=tests,
        steps=steps,
        decisions=ledger,
        touched=touched,
        history=history,
        duration=row.duration_seconds
        if row and row.duration_seconds is not None
        else report.duration_seconds,
        usage=report.usage,
        report_path=row.report_path if row else None,
    )


def queue(tickets: Sequence[TicketReview]) -> list[TicketReview]:
    """The review queue: integrity findings and unverified claims first, then failures, then
    the smallest clean changes; tickets that never started last."""
    return sorted(tickets, key=TicketReview.risk_key)
