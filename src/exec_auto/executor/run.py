"""Run one ticket from start (or resume) to report and archive."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from exec_auto.agents.base import Agent, AgentTask
from exec_auto.agents.replay import Recorder
from exec_auto.clock import now_iso
from exec_auto.config import Config
from exec_auto.decisions.provider import Autonomous, DecisionProvider, StopRun
from exec_auto.errors import EXIT_ISSUES, EXIT_OK, ExecAutoError, Interrupted, ProgressError
from exec_auto.evidence.audit import Auditor
from exec_auto.executor.checks import record_checks
from exec_auto.executor.compact import compact_at_archive, dropped_line
from exec_auto.executor.criteria import JUDGE_PROMPT, Judge, validate
from exec_auto.executor.formats import FormatHooks, executable_plan
from exec_auto.executor.history import StepHistory, recorded_run_id
from exec_auto.executor.integrity import log_vanished
from exec_auto.executor.lock import TicketLock
from exec_auto.executor.outputs import run_logs, step_outputs
from exec_auto.executor.prompt import PromptContext
from exec_auto.executor.redgreen import prefetch_environment, start_red_green
from exec_auto.executor.snapshot import Snapshotter
from exec_auto.executor.startup import (
    check_outputs,
    check_repository,
    check_rewritable,
    startup_errors,
)
from exec_auto.executor.state import ProgressStore, fresh_progress, reconcile
from exec_auto.executor.steps import (
    StepEnv,
    check_git_state,
    gate_context,
    log_strays,
    run_step,
)
from exec_auto.executor.ui import RunUI
from exec_auto.formats.registry import format_of
from exec_auto.gates.base import GateReport, Gates
from exec_auto.gitguard import GitGuard
from exec_auto.insights.lessons import prompt_pitfalls
from exec_auto.proc import kill_all, reap_strays, sandbox_scope
from exec_auto.repo import state_dir
from exec_auto.report import Report, build_report, write_report
from exec_auto.safe_read import CONVENTIONS_LIMIT, read_limited
from exec_auto.sandbox.session import Sandbox, SandboxStatus
from exec_auto.ticket.model import (
    FINISHED_STEP_STATUSES,
    Criterion,
    Progress,
    ReadinessRecord,
    Step,
)
from exec_auto.ticket.progress import load_progress, move_to_backup
from exec_auto.ticket.resolve import TicketRef

CONVENTION_FILES = ("CLAUDE.md", "AGENTS.md")
# The run (and step) status of a ticket waiting for `exec-auto answer`.
PARKED = "needs_decision"
JUDGING_BACKENDS = frozenset({"claude", "anthropic", "openai"})


@dataclass(frozen=True)
class TicketOutcome:
    """Where a finished run left things."""

    ticket: TicketRef
    exit_code: int
    report: Report
    # report.md, report.json and (unless it could not be written) report.html.
    report_paths: tuple[Path, ...]


def load_conventions(root: Path) -> tuple[str, list[str]]:
    """CLAUDE.md and AGENTS.md concatenated; the names of missing ones."""
    texts, missing = [], []
    for name in CONVENTION_FILES:
        try:
            raw = read_limited(root / name, limit=CONVENTIONS_LIMIT, what=name)
        except (FileNotFoundError, ExecAutoError):
            # Absent, or a FIFO, device or huge file: the run goes on without it.
            missing.append(name)
            continue
        texts.append(f"### {name}\n{raw.decode('utf-8', errors='replace')}")
    return "\n\n".join(texts), missing


def default_gates(config: Config, plan_dependencies: tuple[str, ...]) -> Gates:
    """The Python gates, or none when switched off."""
    from exec_auto.gates import make_gates

    return make_gates(config.gates, plan_dependencies)


def _judge(
    agent: Agent, ticket: str, root: Path, timeout: float, sandbox: Sandbox | None = None
) -> Judge:
    def judge(criterion: Criterion) -> str | None:
        result = agent.run(
            AgentTask(
                ticket=ticket,
                step_id="criteria",
                step_title="acceptance criteria",
                prompt=JUDGE_PROMPT.format(criterion=criterion.text),
                repo_root=root,
                kind="judge",
                timeout=timeout,
                sandbox=sandbox,
            )
        )
        return result.summary if result.status == "ok" else None

    return judge


def _prepare_progress(
    ticket: TicketRef, ticket_type: str | None, restart: bool, ui: RunUI
) -> tuple[ProgressStore, bool]:
    path = ticket.progress_path
    # Formats without a progress file of their own keep it under the exec-auto state dir.
    path.parent.mkdir(parents=True, exist_ok=True)
    if restart and (path.exists() or path.is_symlink()):
        try:
            # A fresh name every time: two restarts in one second never overwrite a backup.
            backup = move_to_backup(path, "bak")
        except OSError as exc:
            raise ProgressError(
                f"--restart could not keep a backup: {exc.strerror or exc}",
                path=path,
                hint="move the file aside by hand, then rerun",
            ) from None
        ui.message(f"[AUTO] --restart: previous progress kept as {backup.name}")
    progress, warnings = load_progress(path)
    for warning in warnings:
        ui.message(f"[AUTO] {warning}")
    fresh = progress is None
    # No record but a warning: the file could not be read and was moved aside.
    moved_aside = warnings if progress is None else []
    if progress is None:
        progress = fresh_progress(ticket.name, ticket_type)
    progress.ticket.status = "in_progress"
    progress.ticket.completed_at = None
    store = ProgressStore(path, progress, ticket.root, on_issue=ui.issue_logged)
    for warning in moved_aside:
        # In the record, so the report says why every step starts again.
        store.log_issue(
            "progress_unreadable",
            warning,
            step_id=None,
            severity="medium",
            action_taken="Started a fresh record; the old file was kept beside it",
        )
    return store, fresh


def run_ticket(
    ticket: TicketRef,
    config: Config,
    agent: Agent,
    ui: RunUI,
    *,
    restart: bool = False,
    gates_factory: Callable[[Config, tuple[str, ...]], Gates] = default_gates,
    should_stop: Callable[[], str | None] | None = None,
    allow_unsandboxed: bool = False,
    readiness: ReadinessRecord | None = None,
    decisions: DecisionProvider | None = None,
) -> TicketOutcome:
    """Execute every unfinished step of the ticket, then validate, report and archive.

    should_stop (a batch budget) is asked before each step; a reason string stops the run there.
    Every command the run starts is contained by the run's sandbox (see `exec_auto.sandbox`);
    without a usable one the run is refused unless `--sandbox off` or allow_unsandboxed (the
    bundled demo) - then the start message and the report's first line say so.
    readiness (the gate's check, made by the caller) is recorded in progress.yaml.
    decisions answers pause points and problems (default: autonomous - park, log, continue).
    """
    from exec_auto.proc import become_subreaper
    from exec_auto.sandbox.session import open_sandbox

    become_subreaper()
    sandbox, status = open_sandbox(
        ticket.root, ticket.dir, config.sandbox, allow_unsandboxed=allow_unsandboxed
    )
    try:
        with sandbox_scope(sandbox.for_tools() if sandbox is not None else None):
            return _run_ticket(
                ticket,
                config,
                agent,
                ui,
                restart,
                gates_factory,
                should_stop,
                sandbox,
                status,
                readiness=readiness,
                decisions=decisions,
            )
    finally:
        if sandbox is not None:
            sandbox.close()


def _run_ticket(
    ticket: TicketRef,
    config: Config,
    agent: Agent,
    ui: RunUI,
    restart: bool,
    gates_factory: Callable[[Config, tuple[str, ...]], Gates],
    should_stop: Callable[[], str | None] | None,
    sandbox: Sandbox | None,
    status: SandboxStatus,
    *,
    readiness: ReadinessRecord | None = None,
    decisions: DecisionProvider | None = None,
) -> TicketOutcome:
    root = ticket.root
    fmt = format_of(ticket)
    loaded = fmt.load(ticket)
    scratch = state_dir(root)
    lock_name = ticket.name if ticket.format == "cdd" else f"{ticket.format}-{ticket.dir.name}"
    # Checked before anything is written: outputs the run writes later, files it rewrites.
    check_outputs(config)
    check_repository(root)
    check_rewritable(root, loaded.rewritten)
    lock = TicketLock(scratch, lock_name)
    with lock:
        with startup_errors():
            label = " (REPLAY of a recorded session)" if agent.name == "replay" else ""
            open_steps = sum(1 for s in loaded.plan.steps if not s.done)
            ui.message(
                f"[AUTO] Starting autonomous execution of {ticket.name}: {open_steps} steps, "
                f"{len(loaded.criteria)} acceptance criteria, agent '{agent.name}'{label}"
            )
            ui.message(f"[AUTO] {status.line()}")
            store, fresh = _prepare_progress(ticket, loaded.ticket_type, restart, ui)
            plan = executable_plan(loaded.plan, store.progress)
            hooks = FormatHooks(fmt, loaded, store, ui)
            hooks.announce(len(loaded.plan.steps) - len(plan.steps))
            for warning in reconcile(store.progress, plan):
                ui.message(f"[AUTO] {warning}")
            _record_readiness(store, readiness)
            attended = decisions is not None and decisions.interactive
            store.progress.ticket.execution_mode = "interactive" if attended else "autonomous"
            store.save()
            if lock.reaped:
                store.log_issue(
                    "runtime_error",
                    f"a killed earlier run left {len(lock.reaped)} process(es) running "
                    f"(pids {', '.join(map(str, lock.reaped))}); ended them before going on",
                    step_id=None,
                    severity="medium",
                    action_taken="Killed them",
                )
            for kind, severity, text in loaded.problems:
                store.log_issue(
                    kind,
                    text,
                    step_id=None,
                    severity=severity,  # type: ignore[arg-type]
                    action_taken="Ran the plan; the file was left as it is",
                    once=True,
                )
            if loaded.no_criteria_note and fresh:
                store.log_issue(
                    "warning",
                    loaded.no_criteria_note,
                    step_id=None,
                    severity="low",
                    action_taken="Continued without criteria",
                )
            conventions, missing = load_conventions(root)
            conventions = hooks.conventions(conventions)
            if fresh and "CLAUDE.md" in missing and "AGENTS.md" in missing:
                store.log_issue(
                    "warning",
                    "no CLAUDE.md or AGENTS.md: the agent works without project conventions",
                    step_id=None,
                    severity="low",
                    action_taken="Continued",
                )
            # Starting fresh, or resuming a run whose status was edited meanwhile.
            hooks.started(now_iso())
            criteria = loaded.criteria
            gates = gates_factory(config, plan.dependencies)
            prompt_dir = scratch / "prompts" / ticket.name
            prompt_dir.mkdir(parents=True, exist_ok=True)
            env = StepEnv(
                ticket=ticket.name,
                root=root,
                agent=agent,
                gates=gates,
                store=store,
                snapshots=(
                    snapshots := Snapshotter(
                        root,
                        exclude=[ticket.rel_dir],
                        ticket=ticket.history_key,
                        renames=config.evidence.integrity,
                    )
                ),
                prompts=PromptContext(
                    ticket.name,
                    plan,
                    criteria,
                    conventions,
                    pitfalls=prompt_pitfalls(root, ticket.name, config.readiness.history),
                ),
                config=config,
                ui=ui,
                prompt_dir=prompt_dir,
                plan_dependencies=plan.dependencies,
                recorder=Recorder(config.agent.record_file, ticket.name)
                if config.agent.record_file
                else None,
                history=start_history(snapshots, store.progress, plan.steps),
                sandbox=sandbox,
                sandbox_status=status,
                auditor=Auditor(snapshots.store) if config.evidence.integrity else None,
                guard=GitGuard.start(root, exclude=[ticket.rel_dir]),
                decisions=decisions or Autonomous(),
                logs=run_logs(scratch, ticket.name),
            )

        hooks.on_write = env.snapshots.wrote
        prefetch_environment(env)

        def check_lock() -> None:
            for note in lock.refresh():
                store.log_issue(
                    "runtime_error",
                    note,
                    step_id=None,
                    severity="low",
                    action_taken="Repaired",
                    once=True,
                )

        try:
            ended = _execute(env, plan.steps, fresh, should_stop, hooks, check_lock)
            if ended == PARKED:
                return _parked(ticket, env, agent)
            if ended:
                return _stopped(ticket, env, agent)
            return _finish(ticket, env, criteria, agent, hooks)
        except KeyboardInterrupt:
            _save_interrupted(store)
            raise Interrupted(
                "interrupted: progress saved; rerun the same command to resume",
                path=store.path,
            ) from None
        finally:
            env.snapshots.close()
            if env.guard is not None:
                env.guard.close()


def _save_interrupted(store: ProgressStore) -> None:
    """Kill every child, then save progress as interrupted."""
    kill_all()
    store.progress.ticket.status = "interrupted"
    store.save()


def start_history(snapshots: Snapshotter, progress: Progress, steps: Sequence[Step]) -> StepHistory:
    """The run's step history, its base recorded now (kept as it was on a resume)."""
    history = StepHistory(snapshots.store, recorded_run_id(progress.ticket), [s.id for s in steps])
    history.begin(snapshots.take())
    return history


def _preflight(env: StepEnv) -> None:
    """Problems that would fail every step: one clear issue and message each, before step 1."""
    from exec_auto.gates.preflight import preflight

    for finding in preflight(env.root):
        env.ui.message(f"[AUTO] Preflight: {finding.description}")
        env.store.log_issue(
            finding.type,
            f"before step 1: {finding.description}",
            step_id=None,
            severity=finding.severity,
            details=finding.details,
            action_taken="Reported once; the steps run anyway",
        )


def _baseline(env: StepEnv) -> None:
    """Run the baseline once; its failures become the known ones, what could not run is logged."""
    config = env.config
    record_checks(env)
    if not (config.gates.enabled and config.gates.baseline):
        return
    try:
        with step_outputs(env, None):
            report = env.gates.baseline(gate_context(env, None, ()))
    except Exception as exc:  # a baseline that cannot run is logged, not fatal
        env.store.log_issue(
            "gate_error",
            f"baseline test run failed: {type(exc).__name__}: {exc}",
            step_id=None,
            severity="high",
            action_taken="Continued without a baseline",
        )
        env.store.save()
        return
    _record_gate(env, "baseline", report)
    env.store.progress.baseline_failures = sorted(report.problem_keys)
    env.store.progress.baseline_tests = sorted({*report.passed_tests, *report.failed_tests})
    for finding in report.gate_errors:
        env.broken_before.add(finding.description)
        # Preflight: a suite that cannot run before step 1 is one clear issue, named up front.
        env.ui.message(f"[AUTO] Preflight: the gates cannot run: {finding.description}")
        env.store.log_issue(
            "gate_error",
            f"before step 1: {finding.description}",
            step_id=None,
            severity="high",
            details=finding.details,
            action_taken="Steps run anyway, each marked with a warning; not logged again",
        )
    env.store.save()


def _record_readiness(store: ProgressStore, readiness: ReadinessRecord | None) -> None:
    """Keep the start's readiness check (the report shows it; a forced start stays marked)."""
    if readiness is None:
        return
    earlier = store.progress.readiness
    if earlier is not None and earlier.forced and not readiness.forced:
        readiness = readiness.model_copy(update={"forced": True})
    store.progress.readiness = readiness


def _record_gate(env: StepEnv, name: str, report: GateReport) -> None:
    for result in report.results:
        env.store.progress.quality_gates[f"{name}: {result.name}"] = result.line()
        if result.duration:
            env.store.progress.gate_seconds[f"{name}: {result.name}"] = round(result.duration, 3)


def _record_base(env: StepEnv, steps: Sequence[Step]) -> None:
    """Keep the tree before the first step: the code red/green evidence calls "before the ticket"."""
    progress = env.store.progress
    untouched = all(env.store.step(s.id).status == "pending" for s in steps)
    # A resume of a run that kept no base cannot get it back: the tree holds earlier steps' work.
    if progress.base_tree is None and untouched:
        progress.base_tree = env.snapshots.latest().tree  # the history's base, if just taken
        env.store.save()


def _execute(
    env: StepEnv,
    steps: Sequence[Step],
    fresh: bool,
    should_stop: Callable[[], str | None] | None = None,
    hooks: FormatHooks | None = None,
    after_step: Callable[[], None] | None = None,
) -> str | None:
    """Run the unfinished steps; why the run ended early (should_stop, a stop, a park), or None.

    after_step runs after each step (the lock check: the agent may have deleted it).
    """
    if hooks is not None:
        steps = hooks.order(steps)
    batched = hooks.parallel_batches(steps, env.config.parallel_tasks) if hooks else {}
    total = len(steps)
    pending = [s for s in steps if env.store.step(s.id).status not in FINISHED_STEP_STATUSES]
    _record_base(env, steps)
    # A resume keeps the recorded known failures: the tree now holds earlier steps' work, so
    # re-running the baseline would wrongly excuse their failures as pre-existing.
    if env.store.progress.baseline_failures is None and pending:
        _preflight(env)
        _baseline(env)
    if not fresh and len(pending) < total:
        env.ui.message(f"[AUTO] Resuming: {total - len(pending)} of {total} steps already finished")
    for index, step in enumerate(steps, 1):
        record = env.store.step(step.id)
        if record.status in FINISHED_STEP_STATUSES:
            continue
        reason = should_stop() if should_stop is not None else None
        if reason:
            left = sum(
                1 for s in steps if env.store.step(s.id).status not in FINISHED_STEP_STATUSES
            )
            env.store.log_issue(
                "budget_exhausted",
                f"{reason}: stopped before step {step.id}, {left} step(s) left pending",
                step_id=step.id,
                # Low: it blocks nothing once a rerun has done the remaining steps.
                severity="low",
                action_taken="Stopped; rerun the same command to resume",
            )
            return reason
        resumed = record.status in ("in_progress", "needs_decision")
        env.ui.step_started(index, total, step.id, step.title)
        if hooks is not None and hooks.skip_blocked(step):
            env.ui.step_finished(index, total, env.store.step(step.id))
            continue
        if (
            hooks is not None
            and step.id in batched
            and hooks.run_batch(env, batched[step.id], run_step)
        ):
            env.ui.step_finished(index, total, env.store.step(step.id))
            continue
        if hooks is not None:
            hooks.step_changed(step, "in_progress")
        try:
            status = run_step(env, step, resumed=resumed)
        except StopRun as stop:
            env.store.set_step_status(step.id, "pending")
            env.store.log_issue(
                "stopped",
                str(stop),
                step_id=step.id,
                severity="low",
                action_taken="Stopped at the terminal; rerun the same command to resume",
            )
            return "stopped at the terminal"
        if hooks is not None:
            hooks.step_changed(step, env.store.step(step.id).status)
        env.ui.step_finished(index, total, env.store.step(step.id))
        if after_step is not None:
            after_step()
        if status == "needs_decision":
            # Later steps may depend on the answer: the ticket waits as a whole.
            return PARKED
    return None


def _parked(ticket: TicketRef, env: StepEnv, agent: Agent) -> TicketOutcome:
    """A step needs a human decision: report the question, keep everything, stay active."""
    env.store.set_run_status(PARKED, completed=True)
    pending = env.store.progress.pending_decisions()
    if pending:
        env.ui.message(
            f"[AUTO] Parked: step {pending[-1].step_id} needs a decision: {pending[-1].question}"
            f' — answer with: exec-auto answer {ticket.name} "..."'
        )
    report = build_report(
        env.store.progress, agent.name, EXIT_ISSUES, _shown(env.store.path, env.root)
    )
    _containment(report, env)
    return TicketOutcome(ticket, EXIT_ISSUES, report, write_report(report, ticket.dir))


def _stopped(ticket: TicketRef, env: StepEnv, agent: Agent) -> TicketOutcome:
    """A batch budget ran out: report what was done, leave the rest pending and the ticket active.

    No final gate, criteria or archive: the ticket is unfinished, and a rerun resumes it.
    """
    env.store.set_run_status("stopped", completed=True)
    report = build_report(
        env.store.progress, agent.name, EXIT_ISSUES, _shown(env.store.path, env.root)
    )
    _containment(report, env)
    return TicketOutcome(ticket, EXIT_ISSUES, report, write_report(report, ticket.dir, env.root))


def _containment(report: Report, env: StepEnv) -> None:
    """The report states how (or whether) the run was contained."""
    report.history_key = env.snapshots.store.ticket
    if env.sandbox_status is not None:
        report.sandboxed = env.sandbox_status.active
        report.sandbox = env.sandbox_status.line()


def _final_gate(env: StepEnv) -> GateReport:
    """The whole suite once at the end; what it finds that no step logged is logged now."""
    config = env.config
    if not (config.gates.enabled and config.gates.final_gate):
        return GateReport()
    if env.guard is not None:
        env.guard.baseline()
    try:
        final = env.gates.final(gate_context(env, None, ()))
    except Exception as exc:  # the report must still be written
        env.store.log_issue(
            "gate_error",
            f"final gate failed: {type(exc).__name__}: {exc}",
            step_id=None,
            severity="high",
            action_taken="Logged",
        )
        return GateReport()
    finally:
        log_strays(env, None, "the final gate (code the agent wrote)", reap_strays())
        check_git_state(env, None, "the final gate (code the agent wrote)")
    _record_gate(env, "final", final)
    # Here, not at the top: it pulls in the test runners, which a run without gates never needs.
    from exec_auto.executor.bisection import bisect_final, log_final_findings, record_bisection

    bisected = bisect_final(env, final)
    record_bisection(env, bisected)
    log_final_findings(env, final, bisected)
    summary = env.store.progress.auto_actions_summary
    summary.tests_run, summary.tests_passed = final.tests.run, final.tests.passed
    summary.tests_failed = final.tests.failed + final.tests.errors
    return final


def _shown(path: Path, root: Path) -> str:
    """path relative to the project when it is inside it (a worktree's state dir may not be)."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _finish(
    ticket: TicketRef,
    env: StepEnv,
    criteria: tuple[Criterion, ...],
    agent: Agent,
    hooks: FormatHooks | None = None,
) -> TicketOutcome:
    store, config = env.store, env.config
    with step_outputs(env, None):
        final = _final_gate(env)
    judge = None
    if config.agent.judge and agent.name in JUDGING_BACKENDS:
        judge = _judge(agent, ticket.name, env.root, config.agent.step_timeout, env.sandbox)
    if criteria:
        env.ui.message("Validating acceptance criteria")
    log_vanished(env, final)
    before = start_red_green(env, criteria, final)
    try:
        with step_outputs(env, None):
            store.progress.acceptance_criteria = validate(
                criteria,
                env.root,
                final.passed_tests,
                final.failed_tests,
                judge,
                _verify_env(env),
                before,
            )
    finally:
        if before is not None:
            store.progress.red_green = before.record
            before.close()
        store.save()
    if hooks is not None:
        hooks.finished(now_iso(), clean=_exit_code(store.progress) == EXIT_OK, agent=agent.name)
    return _report_and_archive(ticket, env, agent, hooks)


def _verify_env(env: StepEnv) -> dict[str, str] | None:
    """The project's environment for verify commands (None: no verify command to run)."""
    if not any(c.verify for c in env.prompts.criteria):
        return None
    from exec_auto.executor.redgreen import project_environment
    from exec_auto.gates import project_env_vars

    return project_env_vars(env.root, env.config.gates, project_environment(env))


def _free_attempts(env: StepEnv) -> None:
    """An archived ticket needs its steps' snapshots only: free the fix attempts' objects and the
    large files no final tree kept."""
    try:
        freed = compact_at_archive(
            env.root, env.snapshots.store.ticket, env.config.history.keep_bytes
        )
    except Exception as exc:  # disk space only; the report is written
        env.ui.message(f"[AUTO] could not free intermediate snapshots: {exc}")
        return
    if freed.dropped:
        env.ui.message(f"[AUTO] {dropped_line(freed)}")


def _exit_code(progress: Progress) -> int:
    """0 only when every step completed, every criterion is met and no real issue is open."""
    clean = (
        all(s.status == "completed" for s in progress.implementation_steps)
        and all(c.status == "met" for c in progress.acceptance_criteria)
        and not any(i.severity != "low" for i in progress.open_issues())
    )
    return EXIT_OK if clean else EXIT_ISSUES


def _report_and_archive(
    ticket: TicketRef, env: StepEnv, agent: Agent, hooks: FormatHooks | None = None
) -> TicketOutcome:
    """Write the report next to progress.yaml, then move the folder (report included) to the archive."""
    store = env.store

    def finish_report(archived: bool) -> tuple[Report, int]:
        code = _exit_code(store.progress)
        store.set_run_status(
            "completed" if code == EXIT_OK else "completed_with_issues", completed=True
        )
        shown = _shown(store.path, env.root)
        if archived and hooks is not None and not hooks.fmt.uses_state_home:
            # The report travels with the folder: it names where progress.yaml will be.
            shown = f"{hooks.fmt.archive_destination(hooks.loaded)}/{store.path.name}"
        report = build_report(store.progress, agent.name, code, shown)
        _containment(report, env)
        if archived and hooks is not None:
            report.archived_to = hooks.fmt.archive_destination(hooks.loaded)
            report.restore_command = hooks.fmt.restore_hint(hooks.loaded)
        return report, code

    archive = env.config.archive and hooks is not None and hooks.fmt.archives
    report, code = finish_report(archive)
    paths = write_report(report, ticket.dir, env.root)
    if not archive or hooks is None:
        return TicketOutcome(ticket, code, report, paths)
    try:
        moved = hooks.fmt.archive(hooks.loaded)
    except Exception as exc:  # the last step: a failure is logged, the report stays in place
        store.log_issue(
            "runtime_error",
            f"could not archive the ticket: {exc}",
            step_id=None,
            severity="medium",
            action_taken=f"Left in {ticket.rel_dir}; archive it with `exec-auto archive`",
        )
        report, code = finish_report(False)
        return TicketOutcome(ticket, code, report, write_report(report, ticket.dir, env.root))
    store.relocate(moved.progress_path)
    env.ui.message(f"[AUTO] Archived ticket to {moved.rel_dir}/")
    _free_attempts(env)
    return TicketOutcome(moved, code, report, tuple(moved.dir / p.name for p in paths))
