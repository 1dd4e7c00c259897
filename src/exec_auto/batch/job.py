"""The job unit: one ticket, on its own branch, in its own worktree, checkpointed, with a result file.

`exec-auto run TICKET --branch B --push REMOTE --result-file F` and every ticket of a local
`--parallel` batch go through `run_job`, so a CI job and a local batch do exactly the same thing:

1. fetch B and the ticket's step refs from REMOTE (a rerun on a fresh machine resumes there);
2. check B out in a worktree (`worktree.py`) — the user's own work tree is never touched;
3. run the ticket, committing after every step (and pushing, with a remote), so a killed job loses
   at most the step it was in;
4. commit the result, push B and the step refs, remove the worktree when nothing is left in it;
5. write the result file (`result.py`) — also when the run failed to start or was interrupted.

Rerunning a job whose ticket already finished on B reruns nothing: the result is rebuilt from the
report archived on the branch.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exec_auto.batch.policy import PARKED, LimitAware, UsageLimitPause, iso
from exec_auto.batch.remote import Remote, local_step_refs
from exec_auto.batch.result import (
    ERROR,
    INTERRUPTED,
    JobResult,
    ResultRefs,
    result_from_report,
    write_result,
)
from exec_auto.batch.worktree import Worktree, Worktrees
from exec_auto.clock import now_iso, parse_iso
from exec_auto.config import Config
from exec_auto.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_ISSUES, ExecAutoError
from exec_auto.executor.ui import RunUI
from exec_auto.gates.base import Gates
from exec_auto.proc import git
from exec_auto.report import Report
from exec_auto.ticket.model import ProgressIssue, ReadinessRecord, StepProgress
from exec_auto.ticket.resolve import TicketRef


@dataclass(frozen=True)
class JobSpec:
    """What one job runs: the ticket (resolved in the main tree), its branch, remote and result file."""

    ticket: TicketRef
    branch: str
    remote: str | None = None
    result_file: Path | None = None
    restart: bool = False
    # The readiness check the caller made (recorded in the ticket's progress.yaml).
    readiness: ReadinessRecord | None = None
    # A new branch starts here instead of HEAD (a ticket queued behind an overlapping one).
    base: str | None = None
    based_on: str | None = None


@dataclass
class JobEnv:
    """What the caller supplies: the worktrees, the UI, and a batch's hooks."""

    worktrees: Worktrees
    ui: RunUI
    interrupted: threading.Event | None = None
    should_stop: Callable[[], str | None] | None = None
    # Wraps the agent and gates (a batch makes them interruptible from the main thread).
    wrap_agent: Callable[[object], object] | None = None
    gates_factory: Callable[[Config, tuple[str, ...]], Gates] | None = None
    # Where to copy the ticket's report.md/json before its worktree is removed.
    report_copy_dir: Path | None = None
    # Told when a provider usage limit parks the ticket (a batch holds the backend).
    on_limit: Callable[[UsageLimitPause], None] | None = None


class Checkpointing:
    """A RunUI that commits the worktree (and pushes) after every finished step."""

    def __init__(self, inner: RunUI, wt: Worktree, worktrees: Worktrees, remote: Remote | None):
        self.inner = inner
        self.wt = wt
        self.worktrees = worktrees
        self.remote = remote
        self.push_errors: list[str] = []

    def message(self, text: str) -> None:
        """Forwarded."""
        self.inner.message(text)

    def step_started(self, index: int, total: int, step_id: str, title: str) -> None:
        """Forwarded."""
        self.inner.step_started(index, total, step_id, title)

    def step_finished(self, index: int, total: int, record: StepProgress) -> None:
        """Forward, then commit the step's work and progress.yaml to the branch and push it."""
        self.inner.step_finished(index, total, record)
        try:
            self.worktrees.commit(self.wt, f"step {record.step_id} {record.status}")
        except ExecAutoError as exc:
            self.inner.message(f"[AUTO] checkpoint after step {record.step_id} failed: {exc}")
            return
        if self.remote is not None:
            error = self.remote.push()
            if error:
                self.push_errors.append(error)
                self.inner.message(f"[AUTO] checkpoint push after step {record.step_id}: {error}")

    def issue_logged(self, issue: ProgressIssue) -> None:
        """Forwarded."""
        self.inner.issue_logged(issue)

    def close(self) -> None:
        """Forwarded."""
        self.inner.close()


def keep_report(paths: tuple[Path, ...], folder: Path) -> str:
    """Copy a ticket's report.md/json/html into folder (its worktree may be removed afterwards)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy2(path, folder / path.name)
    return str(folder / paths[0].name)


def _error(ticket: str, exc: ExecAutoError, status: str = ERROR) -> JobResult:
    note = exc.one_line() + (f" (hint: {exc.hint})" if exc.hint else "")
    return JobResult(ticket=ticket, status=status, exit_code=exc.exit_code, note=note)


def step_seconds(ticket: TicketRef) -> dict[str, float]:
    from exec_auto.ticket.progress import peek_progress

    progress = peek_progress(ticket.progress_path)
    if progress is None:
        return {}
    out = {}
    for step in progress.implementation_steps:
        start, end = parse_iso(step.started_at or ""), parse_iso(step.completed_at or "")
        if start and end:
            out[step.step_id] = round((end - start).total_seconds(), 1)
    return out


def result_from_progress(ticket: TicketRef, status: str, code: int, note: str) -> JobResult:
    """A result for a run that ended without a report: what progress.yaml says was done."""
    from exec_auto.report import build_report
    from exec_auto.ticket.progress import peek_progress

    progress = peek_progress(ticket.progress_path)
    if progress is None:
        return JobResult(ticket=ticket.name, status=status, exit_code=code, note=note)
    partial = result_from_report(build_report(progress, "", code, ""), None)
    return partial.model_copy(update={"status": status, "exit_code": code, "note": note})


def mark_parked(ticket: TicketRef, pause: UsageLimitPause) -> JobResult:
    """Record in progress.yaml that a usage limit parked the ticket; its result (exit 1)."""
    from exec_auto.ticket.progress import peek_progress, save_progress

    progress = peek_progress(ticket.progress_path)
    if progress is not None:
        progress.ticket.status = PARKED
        save_progress(ticket.progress_path, progress)
    until = iso(pause.reset_at) if pause.reset_at is not None else None
    note = (
        f"parked by a {pause.backend} usage limit"
        + (f" until {until}" if until else " (no reset time given)")
        + f": {pause.message}; rerun to resume"
    )
    result = result_from_progress(ticket, PARKED, EXIT_ISSUES, note)
    result.parked_until = until
    return result


def _earlier(local: TicketRef, branch: str) -> JobResult:
    """The result of a ticket an earlier job already finished (and archived) on its branch."""
    archived = local.moved(archived=True)
    try:
        report = Report.model_validate_json((archived.dir / "report.json").read_text("utf-8"))
    except (OSError, ValueError):
        return JobResult(
            ticket=local.name,
            status=ERROR,
            exit_code=2,
            note=f"archived on {branch} without a readable report.json",
        )
    result = result_from_report(report, None)
    result.note = f"finished by an earlier batch or job; git branch -D {branch} to run it again"
    result.report_path = f"{branch}:{archived.rel_dir}/report.md"
    result.timings.steps = step_seconds(archived)
    return result


def _run_ticket(
    spec: JobSpec, config: Config, env: JobEnv, local: TicketRef, ui: RunUI
) -> JobResult:
    """Run the ticket in its worktree; every outcome becomes a result (interrupts included)."""
    from exec_auto.agents.registry import create_agent
    from exec_auto.executor.lock import TicketLock
    from exec_auto.executor.run import default_gates, run_ticket
    from exec_auto.repo import state_dir

    started = time.monotonic()
    try:
        agent = LimitAware(create_agent(config.agent))
        if env.wrap_agent is not None:
            agent = env.wrap_agent(agent)  # type: ignore[assignment]
        with contextlib.ExitStack() as stack:
            # The worktree run also holds the ticket's lock in the main tree, so a plain
            # `exec-auto run` of the same ticket there cannot run alongside it.
            # Only the ticket's lock: the job works in a worktree of its own, not this tree.
            stack.enter_context(
                TicketLock(state_dir(spec.ticket.root), spec.ticket.name, worktree=False)
            )
            outcome = run_ticket(
                local,
                config,
                agent,
                ui,
                restart=spec.restart,
                gates_factory=env.gates_factory or default_gates,
                should_stop=env.should_stop,
                readiness=spec.readiness,
            )
    except UsageLimitPause as pause:
        if env.on_limit is not None:
            env.on_limit(pause)
        result = mark_parked(local, pause)
    except KeyboardInterrupt:
        if env.interrupted is not None:
            env.interrupted.set()
        result = result_from_progress(
            local, INTERRUPTED, EXIT_INTERRUPTED, "progress saved; rerun the same command to resume"
        )
    except ExecAutoError as exc:
        if exc.exit_code == EXIT_INTERRUPTED:
            if env.interrupted is not None:
                env.interrupted.set()
            result = result_from_progress(
                local, INTERRUPTED, EXIT_INTERRUPTED, "progress saved; rerun to resume"
            )
        else:
            result = _error(local.name, exc)
    except Exception as exc:  # one ticket's crash must not end a batch: record it, go on
        result = JobResult(
            ticket=local.name,
            status=ERROR,
            exit_code=EXIT_INTERNAL,
            note=f"internal error: {type(exc).__name__}: {exc}",
        )
    else:
        result = result_from_report(outcome.report, time.monotonic() - started)
        result.timings.steps = step_seconds(outcome.ticket)
        result.report_path = str(outcome.report_paths[0])
        if env.report_copy_dir is not None:
            result.report_path = keep_report(outcome.report_paths, env.report_copy_dir)
        return result
    result.timings.duration_seconds = round(time.monotonic() - started, 1)
    return result


def run_job(spec: JobSpec, config: Config, env: JobEnv) -> JobResult:
    """Run one ticket as a self-contained job; the result is also written to spec.result_file."""
    name, root = spec.ticket.name, spec.ticket.root
    started_at = now_iso()
    if spec.ticket.format != "cdd":
        # Other formats keep their progress under .git/exec-auto, which a worktree's branch
        # cannot carry: said plainly instead of a misleading "uncommitted changes".
        refused = ExecAutoError(
            f"{spec.ticket.format}:{name}: worktree jobs (--parallel, exec-auto job) run CDD tickets only",
            hint="run it without --parallel; serial runs cover every format",
        )
        return _write(_error(name, refused), spec)
    remote = Remote(root, spec.remote, spec.branch, name) if spec.remote else None
    try:
        if remote is not None:
            remote.check()
            synced = remote.fetch(env.worktrees.checked_out(name, spec.branch))
            if synced.fast_forwarded:
                env.ui.message(f"[AUTO] Resuming from {spec.remote}/{spec.branch}")
        wt = env.worktrees.prepare(name, branch=spec.branch, base=spec.base)
    except ExecAutoError as exc:
        result = _error(name, exc)
        exists = git("rev-parse", "--verify", "-q", f"refs/heads/{spec.branch}", cwd=root).ok
        result.refs = ResultRefs(branch=spec.branch if exists else None, remote=spec.remote)
        result.timings.started_at = started_at
        return _write(result, spec)
    local = TicketRef(name, wt.project_root(env.worktrees.rel))
    ui = Checkpointing(env.ui, wt, env.worktrees, remote)
    if not local.dir.is_dir() and local.moved(archived=True).dir.is_dir():
        result = _earlier(local, wt.branch)
    else:
        result = _run_ticket(spec, config, env, local, ui)
    # Interrupted work stays uncommitted in its worktree: the next run resumes it right there.
    done = env.worktrees.finish(wt, None if result.status == INTERRUPTED else result.status)
    refs = ResultRefs(branch=done.branch, base_commit=wt.base, remote=spec.remote)
    if wt.created_branch and spec.base is not None:
        refs.based_on = spec.based_on
    if done.kept is not None:
        refs.worktree_kept = str(done.kept)
        if result.status == INTERRUPTED:
            result.note = "progress saved in its worktree; rerun the same command to resume"
        else:
            result.note = "; ".join(n for n in (result.note, f"worktree kept, {done.note}") if n)
    elif done.note:
        result.note = "; ".join(n for n in (result.note, done.note) if n)
    if done.branch is not None:
        tip = git("rev-parse", "--verify", "-q", f"refs/heads/{done.branch}", cwd=root)
        refs.head_commit = tip.stdout.strip() or None
        refs.step_refs = local_step_refs(root, name)
        inside = result.report_path and Path(result.report_path).resolve().is_relative_to(
            wt.path.resolve()
        )
        if done.kept is None and inside and result.report_path:
            # The worktree is gone; the report is on the branch: `git show <branch>:<path>`.
            rel = Path(result.report_path).resolve().relative_to(wt.path.resolve()).as_posix()
            result.report_path = f"{done.branch}:{rel}"
    if remote is not None and done.branch is not None:
        error = remote.push()
        refs.pushed = error is None
        refs.push_error = error or (ui.push_errors[-1] if ui.push_errors else None)
        if error:
            # The work is only on this machine: a CI job must not pass as if it were saved.
            result.exit_code = max(result.exit_code, EXIT_ISSUES)
            result.note = "; ".join(n for n in (result.note, error) if n)
    result.refs = refs
    result.timings.started_at = result.timings.started_at or started_at
    result.timings.completed_at = now_iso()
    return _write(result, spec)


def _write(result: JobResult, spec: JobSpec) -> JobResult:
    if spec.result_file is not None:
        write_result(result, spec.result_file)
    return result
