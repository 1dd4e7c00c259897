"""The run's progress document and the one place that changes it: every change is saved at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from exec_auto.clock import now_iso
from exec_auto.errors import ProgressError
from exec_auto.executor.history import new_run_id
from exec_auto.redact import redact
from exec_auto.textsafe import clean_text
from exec_auto.ticket.model import (
    FINISHED_STEP_STATUSES,
    Plan,
    Progress,
    ProgressIssue,
    Severity,
    StepProgress,
    StepStatus,
    TicketProgress,
)
from exec_auto.ticket.progress import save_progress


class ProgressStore:
    """Holds progress.yaml's model; each mutation is written atomically before returning."""

    def __init__(
        self,
        path: Path,
        progress: Progress,
        root: Path,
        on_issue: Callable[[ProgressIssue], None] | None = None,
    ):
        self.path = path
        self.progress = progress
        self.root = root
        # Told about every logged issue (the live view), after it is on disk.
        self.on_issue = on_issue

    def save(self) -> None:
        """Write progress.yaml now (its folder re-created if something deleted it mid-run)."""
        try:
            save_progress(self.path, self.progress)
        except ProgressError:
            # Formats without a progress file of their own keep it in .git/exec-auto, which an
            # unsandboxed agent may delete; the record is in memory, so it is written again.
            if self.path.parent.is_dir():
                raise
            self.path.parent.mkdir(parents=True, exist_ok=True)
            save_progress(self.path, self.progress)

    def relocate(self, path: Path) -> None:
        """Follow the ticket folder after an archive."""
        self.path = path

    def set_run_status(self, status: str, *, completed: bool = False) -> None:
        """Set the ticket block's status (and completed_at)."""
        self.progress.ticket.status = status
        if completed:
            self.progress.ticket.completed_at = now_iso()
        self.save()

    def step(self, step_id: str) -> StepProgress:
        """The record of a step (created by `reconcile`)."""
        found = self.progress.step(step_id)
        assert found is not None, step_id
        return found

    def set_step_status(self, step_id: str, status: StepStatus) -> None:
        """Move a step to a new status, stamping start/end times, and save."""
        record = self.step(step_id)
        record.status = status
        if status == "in_progress":
            record.started_at = now_iso()
            record.completed_at = None
        elif status in FINISHED_STEP_STATUSES:
            record.completed_at = now_iso()
        self.save()

    def log_issue(
        self,
        type_: str,
        description: str,
        *,
        step_id: str | None,
        severity: Severity,
        details: str = "",
        action_taken: str | None = None,
        once: bool = False,
    ) -> ProgressIssue:
        """Append an issue (secrets redacted, terminal escapes removed) and save.

        With once, an open issue of the same type, step and description is returned instead of
        logging it again (a resumed run meeting the same start-up problem).
        """
        description = clean_text(redact(description, repo_root=self.root))[:500]
        if once:
            for known in self.progress.open_issues():
                if (known.type, known.step_id, known.description) == (
                    type_,
                    step_id,
                    description,
                ):
                    return known
        issue = ProgressIssue(
            timestamp=now_iso(),
            type=type_,
            step_id=step_id,
            description=description,
            details=clean_text(redact(details, repo_root=self.root))[:4000],
            severity=severity,
            action_taken=action_taken,
        )
        self.progress.issues.append(issue)
        self.save()
        if self.on_issue is not None:
            self.on_issue(issue)
        return issue


def fresh_progress(name: str, ticket_type: str | None) -> Progress:
    """A new progress document for a ticket starting now."""
    started = now_iso()
    return Progress(
        ticket=TicketProgress(
            name=name,
            type=ticket_type,
            started_at=started,
            status="in_progress",
            run_id=new_run_id(started),
        )
    )


def reconcile(progress: Progress, plan: Plan) -> list[str]:
    """Align progress steps with the plan's steps (by id, in plan order); return warnings.

    Steps the plan no longer has are kept at the end so no record is lost.
    """
    warnings: list[str] = []
    by_id = {s.step_id: s for s in progress.implementation_steps}
    ordered: list[StepProgress] = []
    for step in plan.steps:
        record = by_id.pop(step.id, None)
        if record is None:
            record = StepProgress(step_id=step.id, description=step.title)
        elif not record.description:
            # Legacy files may list only ids (completed_steps: [1, 2]); the plan knows the titles.
            record.description = step.title
        ordered.append(record)
    for orphan in by_id.values():
        warnings.append(
            f"progress.yaml has step {orphan.step_id!r} that the plan no longer has; kept as is"
        )
        ordered.append(orphan)
    progress.implementation_steps = ordered
    return warnings
