"""The run's side of the formats layer: status write-back, dependency order and skips, conventions.

The executor calls these hooks without knowing the format. A write-back that fails (the user
edited the file meanwhile, a permission problem) is logged as an issue and the run goes on:
the work is recorded in progress.yaml either way, and a file we cannot edit is never guessed at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from exec_auto.errors import ExecAutoError
from exec_auto.executor.order import batches, blocked_by, execution_order
from exec_auto.executor.state import ProgressStore
from exec_auto.executor.steps import StepEnv
from exec_auto.executor.ui import RunUI
from exec_auto.formats.base import Format, LoadedTicket, RunSummary
from exec_auto.ticket.model import (
    FINISHED_STEP_STATUSES,
    Plan,
    Progress,
    Step,
    StepProgress,
    StepStatus,
)

MAX_FORMAT_CONVENTION_CHARS = 12_000


def executable_plan(plan: Plan, progress: Progress) -> Plan:
    """The steps to run: those not already done in the format's file, plus any this tool ran.

    A step ticked before exec-auto ever saw it is the user's own record: it is neither re-run
    nor reported as work of this run. One exec-auto ticked itself keeps its progress record.
    """
    known = {r.step_id for r in progress.implementation_steps if r.status != "pending"}
    kept = tuple(s for s in plan.steps if not s.done or s.id in known)
    if len(kept) == len(plan.steps):
        return plan
    ids = {s.id for s in kept}
    # Dependencies on steps done before the run are met; drop them so nothing waits on them.
    kept = tuple(
        s.model_copy(update={"depends_on": tuple(d for d in s.depends_on if d in ids)})
        for s in kept
    )
    return plan.model_copy(update={"steps": kept})


def run_summary(progress: Progress, agent: str) -> RunSummary:
    """One note per step and the files the run touched."""
    notes = []
    files: list[str] = []
    deleted: list[str] = []
    for record in progress.implementation_steps:
        warn = f" ({'; '.join(record.warnings)})" if record.warnings else ""
        notes.append(f"- Task {record.step_id} ({record.description}): {record.status}{warn}")
        files += [f for f in record.files_touched.all() if f not in files]
        deleted += [f for f in record.files_touched.deleted if f not in deleted]
    files = [f for f in files if f not in deleted]
    return RunSummary(
        agent=f"exec-auto with agent {agent}",
        notes=tuple(notes),
        files=(*files, *(f"{f} (deleted)" for f in deleted)),
    )


class FormatHooks:
    """Calls into the ticket's format at each point of the run, logging what they change."""

    def __init__(self, fmt: Format, loaded: LoadedTicket, store: ProgressStore, ui: RunUI):
        self.fmt = fmt
        self.loaded = loaded
        self.store = store
        self.ui = ui
        # Told after every write-back (a task list ticked), so the next snapshot is taken anew.
        self.on_write: Callable[[], None] | None = None

    def announce(self, already_done: int) -> None:
        """Say which format was read, and how many steps it already marks done."""
        if self.loaded.format == "cdd":
            return
        files = ", ".join(self.loaded.files)
        self.ui.message(f"[AUTO] Format: {self.fmt.label} ({files})")
        if already_done:
            self.ui.message(
                f"[AUTO] {already_done} step(s) already marked done in {self.loaded.files[0]}: not re-run"
            )
        for warning in self.loaded.warnings:
            self.ui.message(f"[AUTO] {warning}")

    def conventions(self, text: str) -> str:
        """The project conventions plus the format's own (a spec-kit constitution, steering docs)."""
        parts = [text] if text else []
        for rel in self.loaded.conventions:
            path = self.loaded.ref.root / rel
            try:
                body = path.read_text(encoding="utf-8", errors="replace")[
                    :MAX_FORMAT_CONVENTION_CHARS
                ]
            except OSError:
                continue
            parts.append(f"### {rel}\n{body}")
        return "\n\n".join(parts)

    def _write(self, what: str, action: Callable[[], list[str]]) -> None:
        # A format says one line per change it made: none, nothing in the tree changed. A
        # failed write may have changed part of a file.
        wrote = True
        try:
            messages = action()
            wrote = bool(messages)
        except (ExecAutoError, OSError) as exc:
            text = exc.one_line() if isinstance(exc, ExecAutoError) else str(exc)
            self.store.log_issue(
                "status_writeback_failed",
                f"could not record {what} in the ticket's files: {text}",
                step_id=None,
                severity="medium",
                action_taken="Recorded in progress.yaml only",
            )
            return
        finally:
            if wrote and self.on_write is not None:
                self.on_write()
        for message in messages:
            self.ui.message(f"[AUTO] {message}")

    def started(self, now: str) -> None:
        """The run began."""
        self._write("the start", lambda: self.fmt.mark_started(self.loaded, now))

    def step_changed(self, step: Step, status: StepStatus) -> None:
        """A step started or finished."""
        self._write(
            f"step {step.id} as {status}", lambda: self.fmt.mark_step(self.loaded, step, status)
        )

    def finished(self, now: str, *, clean: bool, agent: str) -> None:
        """Every step ran and the criteria were validated."""
        summary = run_summary(self.store.progress, agent)
        self._write(
            "the finish",
            lambda: self.fmt.mark_finished(self.loaded, now, clean=clean, summary=summary),
        )

    def order(self, steps: Sequence[Step]) -> list[Step]:
        """Steps after their dependencies; a cycle is logged once."""
        ordered, warnings = execution_order(steps)
        for warning in warnings:
            self.ui.message(f"[AUTO] {warning}")
        return ordered

    def skip_blocked(self, step: Step) -> bool:
        """Skip step when a dependency failed or was skipped; the reason is logged."""
        reason = blocked_by(step, self.store.progress.implementation_steps)
        if reason is None:
            return False
        record = self.store.step(step.id)
        record.warnings = [f"skipped: {reason}"]
        self.store.set_step_status(step.id, "skipped")
        self.store.log_issue(
            "dependency_failed",
            f"step {step.id} skipped: {reason}",
            step_id=step.id,
            severity="medium",
            action_taken="Skipped; fix the dependency, then rerun with --restart",
        )
        self.step_changed(step, "skipped")
        return True

    def parallel_batches(self, steps: Sequence[Step], enabled: bool) -> dict[str, list[Step]]:
        """First step id -> its batch, for batches of 2+ pending parallel steps (only when enabled)."""
        if not enabled:
            return {}
        records = {r.step_id: r.status for r in self.store.progress.implementation_steps}
        pending = [s for s in steps if records.get(s.id) not in FINISHED_STEP_STATUSES]
        return {b[0].id: b for b in batches(pending, parallel_tasks=True) if len(b) > 1}

    def run_batch(self, env: StepEnv, batch: list[Step], run: Callable[..., object]) -> bool:
        """Run parallel-marked steps as one agent task with one gate run and fix loop.

        Each member's record then carries the batch's outcome (status, files, gates) and says
        which steps it shared the batch with. False (nothing run) when a member is blocked.
        """
        if any(blocked_by(s, self.store.progress.implementation_steps) for s in batch):
            return False
        ids = [s.id for s in batch]
        joint = Step(
            id="+".join(ids),
            title="; ".join(f"{s.id} {s.title}" for s in batch),
            body="\n\n".join(f"### Task {s.id}: {s.title}\n{s.body}" for s in batch),
            phase=batch[0].phase,
        )
        self.store.progress.implementation_steps.append(
            StepProgress(step_id=joint.id, description=joint.title)
        )
        for step in batch:
            self.store.set_step_status(step.id, "in_progress")
            self.step_changed(step, "in_progress")
        try:
            run(env, joint, resumed=False)
            shared = self.store.step(joint.id)
            for step in batch:
                record = self.store.step(step.id)
                record.status = shared.status
                record.started_at, record.completed_at = shared.started_at, shared.completed_at
                record.files_touched = shared.files_touched.model_copy(deep=True)
                record.attempts = shared.attempts
                record.quality_gates = list(shared.quality_gates)
                others = ", ".join(i for i in ids if i != step.id)
                record.warnings = [
                    *shared.warnings,
                    f"ran in one batch with {others} (--parallel-tasks): files, gates and "
                    "status are the batch's",
                ]
                if step is batch[0]:
                    record.agent = shared.agent.model_copy(deep=True)
        finally:
            self.store.progress.implementation_steps = [
                r for r in self.store.progress.implementation_steps if r.step_id != joint.id
            ]
            self.store.save()
        for step in batch:
            self.step_changed(step, self.store.step(step.id).status)
        return True
