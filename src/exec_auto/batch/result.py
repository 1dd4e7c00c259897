"""The result file: what one job unit (`exec-auto run TICKET --result-file F`) leaves behind.

One typed record per ticket run, written atomically as JSON. Local batches write one per ticket
into `<report-dir>/results/`, CI jobs upload theirs as artefacts, and the batch report is built
from these files only (`batch-report --from DIR`), so a local and a remote batch over the same
results produce the same report. `load_results` validates at the edge: a file that is not a
result file is named with what is wrong, never half-read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exec_auto.atomicio import atomic_write_text
from exec_auto.errors import ExecAutoError
from exec_auto.report import Report, ReportIssue
from exec_auto.ticket.model import CriterionProgress, Decision
from exec_auto.usage import Usage

RESULT_SCHEMA = "exec-auto/job-result/1"
RESULTS_DIR = "results"
# Statuses a job has besides the ticket's own run statuses (completed, stopped, parked, ...).
NOT_STARTED = "not_started"
ERROR = "error"
INTERRUPTED = "interrupted"
# Skipped before starting: the readiness score is below the threshold (see exec_auto.readiness).
NOT_READY = "not_ready"


class ResultFileError(ExecAutoError):
    """A result file cannot be read or is not a job result."""


class ResultRefs(BaseModel):
    """Where the work is: the branch, its tip, the remote it was pushed to, the step refs."""

    model_config = ConfigDict(extra="forbid")

    branch: str | None = None
    base_commit: str | None = None
    head_commit: str | None = None
    remote: str | None = None
    pushed: bool = False
    push_error: str | None = None
    # refs/exec-auto/<ticket>/... -> commit, as pushed next to the branch.
    step_refs: dict[str, str] = Field(default_factory=dict)
    # A worktree left behind because something in it could not be committed.
    worktree_kept: str | None = None
    # The ticket whose finished branch this one started from (it was queued behind it).
    based_on: str | None = None


class ResultTimings(BaseModel):
    """When the job ran and how long the ticket's steps took."""

    model_config = ConfigDict(extra="forbid")

    started_at: str | None = None
    completed_at: str | None = None
    # Wall time of this job (None when the job did not run the ticket, e.g. not started).
    duration_seconds: float | None = None
    # Seconds per step id, from progress.yaml's timestamps (resumed steps: the last run).
    steps: dict[str, float] = Field(default_factory=dict)


class JobResult(BaseModel):
    """Everything a result file holds."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_id: Literal["exec-auto/job-result/1"] = Field(
        default="exec-auto/job-result/1", alias="schema"
    )
    ticket: str
    status: str
    exit_code: int
    agent: str = ""
    steps_done: int = 0
    steps_total: int = 0
    criteria: list[CriterionProgress] = Field(default_factory=list)
    issues: list[ReportIssue] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    refs: ResultRefs = Field(default_factory=ResultRefs)
    timings: ResultTimings = Field(default_factory=ResultTimings)
    # Files the run created, modified or deleted: what later batches use to predict conflicts.
    files_touched: list[str] = Field(default_factory=list)
    # Where the ticket's own report is (a path, or `<branch>:<path>` once the worktree is gone).
    report_path: str | None = None
    # A provider usage limit parked the ticket: when it resets (ISO time) and which backend.
    parked_until: str | None = None
    note: str | None = None
    # The readiness check before the run (not_ready results: why it did not start).
    readiness_score: int | None = None
    readiness_reasons: list[str] = Field(default_factory=list)
    # Questions for a human (a parked `needs_decision` ticket has one unanswered).
    decisions: list[Decision] = Field(default_factory=list)


def result_from_report(report: Report, duration: float | None) -> JobResult:
    """A result from a ticket's completion report (duration: this job's wall time for it)."""
    counts = report.step_counts
    files = sorted({*report.files_created, *report.files_modified, *report.files_deleted})
    return JobResult(
        ticket=report.ticket,
        status=report.status,
        exit_code=report.exit_code,
        agent=report.agent,
        steps_done=counts.get("completed", 0) + counts.get("completed_with_warning", 0),
        steps_total=len(report.steps),
        criteria=list(report.acceptance_criteria),
        issues=list(report.issues),
        usage=report.usage.only(),
        timings=ResultTimings(
            started_at=report.started_at,
            completed_at=report.completed_at,
            duration_seconds=round(duration, 1)
            if duration is not None
            else report.duration_seconds,
        ),
        files_touched=files,
        decisions=list(report.decisions),
    )


def write_result(result: JobResult, path: Path) -> Path:
    """Write the result file atomically (parent folders made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = result.model_dump(mode="json", by_alias=True)
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
    return path


def read_result(path: Path) -> JobResult:
    """One result file, validated; ResultFileError naming the file and the problem otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResultFileError(f"cannot read: {exc.strerror}", path=path) from exc
    try:
        return JobResult.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ResultFileError(
            f"not an exec-auto job result: {where}: {first['msg']}",
            path=path,
            hint=f"result files are written by `exec-auto run --result-file` ({RESULT_SCHEMA})",
        ) from exc


def find_result_files(folder: Path) -> list[Path]:
    """Every *.json below folder that declares the job-result schema (artefact layouts vary)."""
    found = []
    for path in sorted(folder.rglob("*.json")):
        if not path.is_file() or path.name.startswith("batch-report"):
            continue
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError:
            continue
        if f'"{RESULT_SCHEMA}"' in head:
            found.append(path)
    return found


def load_results(folder: Path) -> list[JobResult]:
    """All result files below folder, one per ticket (the newest completed_at wins a duplicate)."""
    if not folder.is_dir():
        raise ResultFileError(
            "no such folder", path=folder, hint="pass the folder the result files were saved to"
        )
    by_ticket: dict[str, JobResult] = {}
    for path in find_result_files(folder):
        result = read_result(path)
        seen = by_ticket.get(result.ticket)
        if seen is None or (result.timings.completed_at or "") >= (seen.timings.completed_at or ""):
            by_ticket[result.ticket] = result
    return [by_ticket[name] for name in sorted(by_ticket)]
