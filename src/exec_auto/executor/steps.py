"""One step: hand it to the agent, record what changed, run the gates, fix, log what is left."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from exec_auto.agents.base import Agent, AgentResult, AgentTask
from exec_auto.agents.replay import Recorder
from exec_auto.clock import now_iso
from exec_auto.config import Config
from exec_auto.decisions.markers import parse_agent_request
from exec_auto.decisions.provider import Autonomous, DecisionProvider, Problem, StopRun
from exec_auto.errors import ExecAutoError
from exec_auto.evidence.audit import Auditor
from exec_auto.evidence.finding import IntegrityFinding
from exec_auto.evidence.finding import feedback as integrity_feedback
from exec_auto.executor.decisions import parse_decisions
from exec_auto.executor.history import StepHistory
from exec_auto.executor.integrity import audit_step, blocking, log_integrity
from exec_auto.executor.outputs import step_outputs
from exec_auto.executor.pauses import consult_pause, pause_before, with_decisions
from exec_auto.executor.prompt import PromptContext, fix_prompt, step_prompt
from exec_auto.executor.snapshot import Snapshot, Snapshotter
from exec_auto.executor.state import ProgressStore
from exec_auto.executor.ui import RunUI
from exec_auto.gates.base import Finding, GateContext, GateReport, Gates
from exec_auto.gitguard import GitGuard
from exec_auto.names import file_name
from exec_auto.proc import reap_strays
from exec_auto.redact import redact
from exec_auto.sandbox.links import split_escaping
from exec_auto.sandbox.session import Sandbox, SandboxStatus
from exec_auto.textsafe import clean_text
from exec_auto.ticket.model import (
    FilesTouched,
    ProgressIssue,
    Severity,
    Step,
    StepProgress,
    StepStatus,
)

if TYPE_CHECKING:
    from exec_auto.executor.redgreen import PendingEnvironment

AGENT_ISSUE = {"error": "agent_error", "timeout": "timeout", "limit": "agent_limit"}
# An agent may ask, be answered at the terminal and ask again; past this the step parks.
MAX_DECISION_ROUNDS = 3
# Issue severity and action for each kind of agent event.
EVENT_LOGGING: dict[str, tuple[Severity, str]] = {
    "agent_retry": ("low", "Retried the model request"),
    "agent_loop": ("medium", "Stopped the agent: it repeated the same call"),
    "sandbox_denied": ("medium", "Refused by the sandbox (kernel); nothing outside was changed"),
}


@dataclass
class StepEnv:
    """Everything a step needs that is the same for all steps of the run."""

    ticket: str
    root: Path
    agent: Agent
    gates: Gates
    store: ProgressStore
    snapshots: Snapshotter
    prompts: PromptContext
    config: Config
    ui: RunUI
    prompt_dir: Path
    plan_dependencies: tuple[str, ...] = ()
    recorder: Recorder | None = None
    # Keeps every finished step's tree on a private ref (None: not recorded, e.g. unit tests).
    history: StepHistory | None = None
    # The run's containment (None with --sandbox off); agent processes run inside it.
    sandbox: Sandbox | None = None
    sandbox_status: SandboxStatus | None = None
    # Gate errors the baseline already had: still reported for every step, not fed to the agent.
    broken_before: set[str] = field(default_factory=set)
    # The integrity audit of each step's diff (None: switched off).
    auditor: Auditor | None = None
    # Who decides pause points and problems (autonomous unless --interactive).
    decisions: DecisionProvider = field(default_factory=Autonomous)
    # The second layer: git state and the user's uncommitted work, checked around every call.
    guard: GitGuard | None = None
    # The run's output log folder (commands' stdout/stderr, capped); None: no logs kept.
    logs: Path | None = None
    # The project's environment when the gates keep none (probed once per run: ~0.1 s a probe).
    environment: PendingEnvironment | None = None


def call_agent(env: StepEnv, task: AgentTask) -> tuple[AgentResult, Snapshot, Snapshot]:
    """Run one agent call (never raises for agent failures) and snapshot around it."""
    prompt_file = env.prompt_dir / file_name(
        task.kind, task.step_id, str(task.attempt), suffix=".md"
    )
    # The agent may have deleted .git/exec-auto (or part of it) during an earlier call.
    env.prompt_dir.mkdir(parents=True, exist_ok=True)
    prompt_file.write_text(task.prompt, encoding="utf-8")
    task = replace(task, prompt_file=prompt_file, sandbox=env.sandbox)
    # The previous step's end (or the gates' last) snapshot when nothing ran since; a person
    # at the terminal may have edited files in between.
    before = env.snapshots.take() if env.decisions.interactive else env.snapshots.latest()
    if env.guard is not None:
        env.guard.baseline()
    try:
        with step_outputs(env, task.step_id):
            result = env.agent.run(task)
    except Exception as exc:  # the product promise: an agent crash is logged, the run goes on
        result = AgentResult("error", error=f"agent crashed: {type(exc).__name__}: {exc}")
    # Nothing the agent started outlives its call (a sandbox's PID namespace already did this).
    log_strays(env, task.step_id, "the agent", reap_strays())
    check_git_state(env, task.step_id, "the agent" if task.kind != "fix" else "a fix attempt")
    after = env.snapshots.take()
    if env.recorder is not None:
        env.recorder.add(task, result, env.snapshots.patch(before, after))
    return result, before, after


def log_strays(env: StepEnv, step_id: str | None, who: str, reaped: list[int]) -> None:
    """One issue when processes outlived the command that started them (all are killed by now)."""
    left = env.sandbox.left_running() if env.sandbox is not None else []
    if env.sandbox is None:
        # In the sandbox, what the namespace listing saw is the answer: a process reaped out here
        # is bwrap's own teardown (its inner init re-parented for a moment), not the agent's.
        left += [f"pid {pid}" for pid in reaped]
    if not left:
        return
    shown = ", ".join(dict.fromkeys(left[:10])) + (
        f" and {len(left) - 10} more" if len(left) > 10 else ""
    )
    env.store.log_issue(
        "stray_process",
        f"{who} left {len(left)} process(es) running after its command ended: {shown}",
        step_id=step_id,
        severity="medium",
        action_taken="Killed (the sandbox's PID namespace, or exec-auto as their subreaper)",
    )


def check_git_state(env: StepEnv, step_id: str | None, who: str) -> None:
    """Compare the repository with the last check; log each change (already put back) as an issue.

    In the sandbox, git-state writes the kernel refused (`.git/` is read-only) are logged too:
    nothing changed, but the attempt is misbehaviour worth a line (`git stash -u` fails silently).
    """
    for attempt in env.sandbox.git_attempts() if env.sandbox is not None else ():
        env.store.log_issue(
            "sandbox_denied",
            f"{who}: {attempt.line()}",
            step_id=step_id,
            severity="medium",
            details=attempt.error,
            action_taken="Refused by the sandbox (kernel); nothing was changed",
        )
    if env.guard is None:
        return
    earlier_work = {
        path
        for s in env.store.progress.implementation_steps
        for path in (*s.files_touched.created, *s.files_touched.modified)
    }
    for change in env.guard.check(earlier_work):
        env.store.log_issue(
            "git_state_changed",
            f"{who} changed the repository: {change.what}",
            step_id=step_id,
            severity="high",
            details=change.details,
            action_taken=change.action,
        )


def _account(record: StepProgress, result: AgentResult) -> None:
    record.agent = record.agent.plus(result.usage, result.subtype or result.status)


def _log_agent_problems(env: StepEnv, step: Step, result: AgentResult, what: str) -> bool:
    """Log a failed call and any refused actions; True when the call itself failed."""
    for incident in result.incidents:
        env.store.log_issue(
            "refused_action",
            incident,
            step_id=step.id,
            severity="medium",
            action_taken="Refused by exec-auto's guard; the agent went on",
        )
    # git's own refusals were logged from its trace (check_git_state): not a second time here.
    traced = {
        i.details
        for i in env.store.progress.issues
        if i.type == "sandbox_denied" and i.step_id == step.id and i.details
    }
    for event in result.events:
        if event.kind == "sandbox_denied" and any(t in event.text for t in traced):
            continue
        severity, action = EVENT_LOGGING[event.kind]
        env.store.log_issue(
            event.kind, event.text, step_id=step.id, severity=severity, action_taken=action
        )
    if result.status == "ok":
        return False
    env.store.log_issue(
        AGENT_ISSUE.get(result.status, "agent_error"),
        f"{what} failed: {result.error or result.status}",
        step_id=step.id,
        severity="high",
        details=result.summary,
        action_taken="Logged, continued",
    )
    return True


def gate_context(
    env: StepEnv, step_id: str | None, touched: tuple[str, ...], before_tree: str | None = None
) -> GateContext:
    """The gates' view of the run: known failures come from the progress store, nowhere else."""
    return GateContext(
        repo_root=env.root,
        touched_files=touched,
        step_id=step_id,
        config=env.config.gates,
        plan_dependencies=env.plan_dependencies,
        before_tree=before_tree,
        known_failures=frozenset(env.store.progress.baseline_failures or ()),
        broken_before=frozenset(env.broken_before),
    )


def _run_gates(
    env: StepEnv, step: Step, touched: FilesTouched, start: Snapshot
) -> GateReport | None:
    inside, escaping = split_escaping(env.root, touched.all())
    for rel in escaping:
        description = f"{rel} is a symlink out of the repository: the gates left it alone"
        if not any(i.description == description for i in env.store.progress.issues):
            env.store.log_issue(
                "symlink_outside",
                description,
                step_id=step.id,
                severity="high",
                details=f"{rel} -> {os.path.realpath(env.root / rel)}",
                action_taken="Not formatted, linted or tested; remove the link or point it inside",
            )
    ctx = gate_context(env, step.id, (*inside, *touched.deleted), start.tree)
    if not _gates_run_commands(env):
        # Nothing runs the agent's code (gates off): no git state or process to watch.
        return env.gates.after_step(ctx)
    if env.guard is not None:
        env.guard.baseline()
    try:
        with step_outputs(env, step.id):
            return env.gates.after_step(ctx)
    except Exception as exc:  # a crashing gate is logged like any other problem
        env.store.log_issue(
            "gate_error",
            f"quality gates crashed: {type(exc).__name__}: {exc}",
            step_id=step.id,
            severity="high",
            action_taken="Gates skipped for this step",
        )
        return None
    finally:
        log_strays(env, step.id, "the gates (code the agent wrote)", reap_strays())
        # The tests the gates ran are the agent's code too.
        check_git_state(env, step.id, "the gates (code the agent wrote)")


def _absorb(env: StepEnv, record: StepProgress, report: GateReport) -> None:
    summary = env.store.progress.auto_actions_summary
    summary.formatting_applied += report.formatted_files
    summary.linting_fixed += report.lint_fixed
    for dist in report.dependencies_installed:
        if dist not in summary.dependencies_installed:
            summary.dependencies_installed.append(dist)
    for result in report.results:
        record.auto_actions.extend(result.auto_actions)


def _interrupted_start(env: StepEnv, step: Step) -> Snapshot | None:
    """The tree an interrupted step builds on (the previous step's, or the run's base); None if unknown."""
    if env.history is None:
        return None
    try:
        commit = env.history.parent_of(step.id)
    except ExecAutoError:
        return None
    found = env.history.store.try_git("rev-parse", "--verify", "-q", f"{commit}^{{tree}}")
    return Snapshot(found.stdout.strip()) if found.ok and found.stdout.strip() else None


def run_step(env: StepEnv, step: Step, *, resumed: bool) -> StepStatus:
    """Execute one step to a final status; every problem ends up in progress.yaml."""
    store = env.store
    record = store.step(step.id)
    record.warnings = []
    record.quality_gates = []
    record.gate_seconds = {}
    first_issue = len(store.progress.issues)
    known_at_start = list(store.progress.baseline_failures or ())
    if pause_before(env.decisions, store.progress, step):
        store.set_step_status(step.id, "needs_decision")
        return "needs_decision"
    store.set_step_status(step.id, "in_progress")
    timeout = env.config.agent.step_timeout
    # A step cut short (kill -9 after its agent call) began at its parent's tree, not at what the
    # cut attempt left: else that attempt's changes would count as none, and skip the gates.
    start: Snapshot | None = _interrupted_start(env, step) if resumed else None
    record.decisions = []
    for _ in range(MAX_DECISION_ROUNDS):
        prompt = step_prompt(
            env.prompts, step, store.progress.implementation_steps, resumed=resumed
        )
        task = AgentTask(
            ticket=env.ticket,
            step_id=step.id,
            step_title=step.title,
            prompt=with_decisions(prompt, store.progress, step.id),
            repo_root=env.root,
            attempt=record.attempts + 1,
            timeout=timeout,
        )
        record.attempts += 1
        result, before, after = call_agent(env, task)
        start = start or before
        _account(record, result)
        record.decisions += parse_decisions(result.summary, "step", env.root)
        agent_failed = _log_agent_problems(env, step, result, "agent")
        request = parse_agent_request(result.summary, step.id)
        if request is not None or _gates_run_commands(env):
            # The call's usage is on disk before anything slow (gates, a question, a fix
            # attempt saves too); otherwise the step's final save follows within milliseconds.
            store.save()
        if request is None:
            break
        if not consult_pause(env.decisions, store.progress, request):
            # Parked: what the agent did so far stays in the tree and is recorded; the step
            # runs again, with the answer in its prompt, after `exec-auto answer`.
            record.files_touched = env.snapshots.changes(start, after)
            store.set_step_status(step.id, "needs_decision")
            return "needs_decision"
        resumed = True  # answered at the terminal: run the step again with the decision
    assert start is not None  # the loop ran at least once
    touched = env.snapshots.changes(start, after)

    changed = bool(touched.all() or touched.deleted)
    # A step that only deletes files can still break tests: the gates run for any change.
    report, integrity, fixes, end = (
        _gates_with_fixes(env, step, record, touched, start, after)
        if changed
        else (None, None, 0, after)
    )
    # Gates and fix attempts change files too; without them the agent's snapshot is the answer.
    if report is None:
        end = after
    record.files_touched = env.snapshots.changes(start, end) if report is not None else touched
    if report is None and changed:
        status: StepStatus = "completed_with_warning"  # the gates crashed: logged above
    elif report is not None:
        status = _log_findings(env, step, record, report)
    else:
        status = "completed"
    if changed and env.auditor is not None:
        status = log_integrity(store, step, record, integrity, status, fixes)
    if not (record.files_touched.all() or record.files_touched.deleted):
        if agent_failed:
            status = "failed"
        else:
            record.warnings.append("the agent made no changes for this step")
            store.log_issue(
                "no_changes",
                "the agent reported success but changed no files",
                step_id=step.id,
                severity="low",
                details=result.summary[-1000:],
                action_taken="Marked completed with warning; review whether the step needed changes",
            )
            status = "completed_with_warning"
    elif agent_failed and status == "completed":
        status = "completed_with_warning"
    if env.decisions.interactive:
        status, end = _consult(env, step, record, start, first_issue, known_at_start, status, end)
    log_snapshot_notes(env, step.id)
    # On its ref before the status says finished: a kill in between redoes the step, loses nothing.
    keep_step(env, step, status, end)
    store.set_step_status(step.id, status)
    return status


def _open_step_issues(env: StepEnv, step: Step, first: int) -> list[ProgressIssue]:
    """What this step logged (medium or high) that is still open."""
    return [
        i
        for i in env.store.progress.issues[first:]
        if i.step_id == step.id and i.resolution is None and i.severity != "low"
    ]


def _consult(
    env: StepEnv,
    step: Step,
    record: StepProgress,
    start: Snapshot,
    first: int,
    known_at_start: list[str],
    status: StepStatus,
    end: Snapshot,
) -> tuple[StepStatus, Snapshot]:
    """Interactive runs: show the step's problems and do what the person chooses."""
    debug = 0
    while issues := _open_step_issues(env, step, first):
        verdict = env.decisions.problem(Problem(step.id, step.title, tuple(issues), debug))
        if verdict.choice == "continue":
            break
        if verdict.choice == "stop":
            # The step runs again from the start on resume: these describe an attempt now gone.
            for issue in issues:
                issue.resolution = "stopped at the terminal; the step runs again on resume"
                issue.resolved_at = now_iso()
            env.store.save()
            raise StopRun(f"stopped at the terminal during step {step.id}")
        if verdict.choice == "skip":
            for issue in issues:
                issue.action_taken = "Step skipped at the terminal"
            env.store.save()
            return "skipped", end
        debug += 1
        # The step's own failures are the step's again: the gates report what still fails.
        env.store.progress.baseline_failures = list(known_at_start)
        status, end = _debug_attempt(env, step, record, start, issues, verdict.note, debug)
    return status, end


def _debug_attempt(
    env: StepEnv,
    step: Step,
    record: StepProgress,
    start: Snapshot,
    issues: list[ProgressIssue],
    note: str,
    number: int,
) -> tuple[StepStatus, Snapshot]:
    """One more fix attempt the person asked for, with the evidence; then gates and audit again."""
    store = env.store
    evidence = "\n\n".join(f"{i.type}: {i.description}\n{i.details}".strip() for i in issues)
    if note:
        evidence = f"The developer says: {note}\n\n{evidence}"
    fix = AgentTask(
        ticket=env.ticket,
        step_id=step.id,
        step_title=step.title,
        prompt=fix_prompt(env.prompts, step, evidence, number, number),
        repo_root=env.root,
        attempt=env.config.gates.fix_attempts + number,
        kind="fix",
        timeout=env.config.agent.step_timeout,
    )
    store.progress.auto_actions_summary.fix_attempts += 1
    result, _, _ = call_agent(env, fix)
    _account(record, result)
    _log_agent_problems(env, step, result, f"debug attempt {number}")
    for issue in issues:
        issue.resolution = f"re-checked after debug attempt {number} (see later issues)"
        issue.resolved_at = now_iso()
    record.warnings = []  # what is still wrong is logged again below
    end = env.snapshots.take()
    record.files_touched = env.snapshots.changes(start, end)
    report = _run_gates(env, step, record.files_touched, start)
    status: StepStatus = (
        _log_findings(env, step, record, report) if report is not None else "completed_with_warning"
    )
    if env.auditor is not None:
        integrity = audit_step(env.auditor, store, step, start.tree, end.tree)
        status = log_integrity(store, step, record, integrity, status, 0)
    if report is not None:
        record.quality_gates = [r.summary for r in report.results]
    record.auto_actions.append(
        f"Debug attempt {number}: gates {'passed' if status == 'completed' else 'still failing'}"
    )
    store.save()
    return status, end


def log_snapshot_notes(env: StepEnv, step_id: str | None) -> None:
    """Log what went wrong with the step's snapshots (e.g. a store deleted by the agent)."""
    for note in env.snapshots.drain_notes():
        env.store.log_issue(
            "runtime_error",
            note,
            step_id=step_id,
            severity="medium",
            action_taken="Re-created it; review the step's files by hand",
            once=True,
        )


def keep_step(env: StepEnv, step: Step, status: str, end: Snapshot) -> None:
    """Record the step's tree on its private ref; a failure is logged, never fatal."""
    if env.history is None:
        return
    try:
        env.history.record_step(step.id, step.title, status, end)
    except Exception as exc:  # the work is still in the tree; only its separate copy is missing
        env.store.log_issue(
            "runtime_error",
            f"could not keep step {step.id}'s snapshot: {type(exc).__name__}: {exc}",
            step_id=step.id,
            severity="medium",
            action_taken="Continued; `exec-auto diff` has no entry for this step",
        )


def _keep_attempt(env: StepEnv, step: Step, label: str, snap: Snapshot) -> None:
    if env.history is None:
        return
    try:
        env.history.record_attempt(step.id, label, snap)
    except Exception as exc:  # an intermediate copy only: log and go on
        env.store.log_issue(
            "runtime_error",
            f"could not keep the {label} snapshot of step {step.id}: {exc}",
            step_id=step.id,
            severity="low",
            action_taken="Continued",
        )


def _gates_run_commands(env: StepEnv) -> bool:
    """Whether the gates start any command (False for `--no-gates`: nothing can change a file)."""
    return bool(getattr(env.gates, "runs_commands", True))


def _after_gates(env: StepEnv, snap: Snapshot) -> Snapshot:
    """The tree after the gates ran on snap: snap itself when the gates run no command."""
    if not _gates_run_commands(env):
        return snap  # nothing ran that could change a file (gates off)
    return env.snapshots.take()


def _gates_with_fixes(
    env: StepEnv,
    step: Step,
    record: StepProgress,
    touched: FilesTouched,
    start: Snapshot,
    after: Snapshot,
) -> tuple[GateReport | None, list[IntegrityFinding] | None, int, Snapshot]:
    """Run the gates and the integrity audit; hand what they find back to the agent.

    after is the snapshot the agent's call left. Returns the last gate report, the last audit's
    findings, how many fix attempts were made and the snapshot of the tree the gates left.
    """
    store, attempts = env.store, env.config.gates.fix_attempts
    report = _run_gates(env, step, touched, start)
    end = _after_gates(env, after)
    integrity = audit_step(env.auditor, store, step, start.tree, end.tree)
    attempt = 0
    while attempt < attempts:
        feedback = _feedback(report, integrity)
        if not feedback or (report is not None and any(f.skip_step for f in report.new_findings)):
            break
        if attempt == 0 and report is not None:
            # Kept per attempt: the review's timeline shows what each fix attempt changed.
            record.auto_actions.append(f"Gates after the step: {_summaries(report)}")
        attempt += 1
        fix = AgentTask(
            ticket=env.ticket,
            step_id=step.id,
            step_title=step.title,
            prompt=fix_prompt(env.prompts, step, feedback, attempt, attempts),
            repo_root=env.root,
            attempt=attempt,
            kind="fix",
            timeout=env.config.agent.step_timeout,
        )
        store.progress.auto_actions_summary.fix_attempts += 1
        store.save()  # what came before (the step's own call too) is on disk before the next call
        fix_result, _, fixed = call_agent(env, fix)
        _account(record, fix_result)
        record.decisions += parse_decisions(fix_result.summary, f"fix {attempt}", env.root)
        _log_agent_problems(env, step, fix_result, f"fix attempt {attempt}")
        if report is not None:
            _absorb(env, record, report)
        _keep_attempt(env, step, f"fix-{attempt}", fixed)
        touched = env.snapshots.changes(start, fixed)
        report = _run_gates(env, step, touched, start)
        end = _after_gates(env, fixed)
        integrity = audit_step(env.auditor, store, step, start.tree, end.tree)
        passed = report is not None and report.passed and not blocking(integrity)
        detail = f" ({_summaries(report)})" if report is not None else ""
        record.auto_actions.append(
            f"Fix attempt {attempt}: gates {'passed' if passed else 'still failing'}{detail}"
        )
        store.save()
    if report is not None:
        _absorb(env, record, report)
        record.quality_gates = [r.line() for r in report.results]
        record.gate_seconds = {r.name: round(r.duration, 3) for r in report.results if r.duration}
    return report, integrity, attempt, end


def _feedback(report: GateReport | None, integrity: list[IntegrityFinding] | None) -> str:
    """What a fix attempt is told: the gates' failures, then the checks it must restore."""
    gates = report.feedback() if report is not None and report.blamed_findings else ""
    return "\n\n".join(p for p in (gates, integrity_feedback(integrity or [])) if p)


def _summaries(report: GateReport) -> str:
    return "; ".join(r.summary for r in report.results)


def open_gate_error(env: StepEnv, kind: str, description: str) -> ProgressIssue | None:
    """An open gate_error an earlier step logged with this description, if any."""
    if kind != "gate_error":
        return None
    text = clean_text(redact(description, repo_root=env.root))[:500]
    # The preflight logs a gate that cannot run before step 1 with this prefix (run._baseline).
    before = clean_text(redact(f"before step 1: {description}", repo_root=env.root))[:500]
    return next(
        (
            i
            for i in env.store.progress.open_issues()
            if i.type == kind
            # ... or one issue standing for several gates (a pyproject.toml that does not parse).
            and (i.description in (text, before) or text in (i.details or "").splitlines())
        ),
        None,
    )


def _one_cause(env: StepEnv, findings: Sequence[Finding]) -> tuple[list[Finding], list[str]]:
    """Gate errors a pyproject.toml that no longer parses explains become one issue naming each.

    Returns the findings to log and the descriptions the merged issue stands for.
    """
    fresh = [
        f
        for f in findings
        if f.type == "gate_error" and open_gate_error(env, f.type, f.description) is None
    ]
    if len(fresh) < 2:
        return list(findings), []
    from exec_auto.gates.preflight import preflight

    cause = next((f for f in preflight(env.root) if "cannot be parsed" in f.description), None)
    if cause is None:
        return list(findings), []
    merged = replace(
        cause,
        description=f"{cause.description} (so {len(fresh)} gates could not run)",
        details="\n".join([*(f.description for f in fresh), cause.details]),
        agent_fixable=True,
    )
    return [f for f in findings if f not in fresh] + [merged], [f.description for f in fresh]


def _log_findings(env: StepEnv, step: Step, record: StepProgress, report: GateReport) -> StepStatus:
    """Log what the gates left as issues; the step's status as far as the gates decide it."""
    findings, covered = _one_cause(env, report.new_findings)
    env.broken_before.update(covered)
    for finding in findings:
        earlier = open_gate_error(env, finding.type, finding.description)
        if earlier is not None:
            # One cause (a broken pyproject.toml), one issue: a gate that still cannot run is
            # not blamed on every later step again.
            where = f"at step {earlier.step_id}" if earlier.step_id else "before step 1"
            record.warnings.append(
                f"{finding.type}: {finding.description} - still failing (logged {where})"
            )
            continue
        if finding.type == "gate_error":
            # Later steps neither spend fix attempts on it nor log it again.
            env.broken_before.add(finding.description)
        action = (
            "Skipped step, continued to next"
            if finding.skip_step
            else "Logged, continued to next step"
        )
        env.store.log_issue(
            finding.type,
            finding.description,
            step_id=step.id,
            severity=finding.severity,
            details=finding.details,
            action_taken=action,
        )
        warning = f"{finding.type}: {finding.description} - requires manual review"
        record.warnings.append(redact(warning, repo_root=env.root))
    if report.blamed_findings and report.problem_keys:
        # Logged once, here: later steps and the final gate neither blame nor re-log these
        # test ids. Only real test outcomes: a run that could not start is never "known".
        known = set(env.store.progress.baseline_failures or ())
        env.store.progress.baseline_failures = sorted(known | set(report.problem_keys))
    if any(f.skip_step for f in report.new_findings):
        return "skipped"
    return "completed_with_warning" if report.blamed_findings else "completed"
