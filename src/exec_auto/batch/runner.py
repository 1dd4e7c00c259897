"""`exec-auto run A B C`, `--all` and `--parallel N`: many tickets, one batch report.

Before anything runs the batch is planned (`plan.py`): predicted footprints, conflicts, a forecast
checked against the budgets; `--dry-run` prints that and stops. Serial batches run in the current
work tree, one ticket after another, exactly like single runs. Parallel batches run each ticket as
a job unit (`job.py`: own worktree and branch `exec-auto/<ticket>`, checkpoints, a result file) on
worker threads that take tickets from the conflict-aware `Scheduler`: tickets predicted to touch
the same files never run at the same time. Every agent, gate and git call is a subprocess, so the
threads only wait. Provider usage limits follow `policy.py`. A ticket that cannot start gets an
error row and the batch goes on; the exit code is the worst of the tickets' (130 when interrupted).
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.agents.base import Agent
from exec_auto.batch.budget import BatchBudget
from exec_auto.batch.interrupt import InterruptibleAgent, InterruptibleGates
from exec_auto.batch.job import JobEnv, JobSpec, keep_report, mark_parked, run_job
from exec_auto.batch.merge import MergeRequest
from exec_auto.batch.merge_tested import Candidate, merge_order, merge_with_tests, tester_for
from exec_auto.batch.plan import BatchPlan, make_plan, render_plan
from exec_auto.batch.policy import PARKED, LimitAware, LimitBoard, UsageLimitPause, iso
from exec_auto.batch.report import (
    ERROR,
    INTERRUPTED,
    META_FILE,
    NOT_READY,
    NOT_STARTED,
    BatchMeta,
    BatchReport,
    assemble,
    default_report_dir,
    render_summary,
    write_batch_report,
)
from exec_auto.batch.result import RESULTS_DIR, JobResult, result_from_report, write_result
from exec_auto.batch.schedule import Scheduler
from exec_auto.batch.view import BatchView, TicketWatch
from exec_auto.batch.worktree import Worktrees, branch_name
from exec_auto.clock import now_iso
from exec_auto.config import Config
from exec_auto.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_ISSUES,
    ExecAutoError,
    Interrupted,
    NotReadyError,
)
from exec_auto.executor.ui import use_color
from exec_auto.gates.base import Gates
from exec_auto.proc import kill_all
from exec_auto.ticket.model import ReadinessRecord
from exec_auto.ticket.resolve import TicketRef

# Statuses whose branch --merge takes: the run reached its report (not stopped or interrupted).
MERGEABLE = frozenset({"completed", "completed_with_issues"})
POLL_SECONDS = 0.25


@dataclass
class _Batch:
    """What every ticket of one batch shares."""

    root: Path
    config: Config
    restart: bool
    budget: BatchBudget
    view: BatchView
    interrupted: threading.Event
    report_dir: Path
    plan: BatchPlan
    board: LimitBoard
    backend: str
    worktrees: Worktrees | None = None
    force: bool = False
    # The readiness check of each ticket that passed it, recorded in its progress.yaml.
    readiness: dict[str, ReadinessRecord] = field(default_factory=dict)

    def result_file(self, ticket: str) -> Path:
        """Where this batch keeps a ticket's result file."""
        return self.report_dir / RESULTS_DIR / f"{ticket}.json"

    def agent(self, agent: Agent) -> Agent:
        """The backend, parking on provider limits and interruptible from the main thread."""
        return InterruptibleAgent(LimitAware(agent), self.interrupted)

    def gates(self, config: Config, dependencies: tuple[str, ...]) -> Gates:
        """The executor's gates, made interruptible from the main thread."""
        from exec_auto.executor.run import default_gates

        return InterruptibleGates(default_gates(config, dependencies), self.interrupted)


def _unique(tickets: list[TicketRef]) -> list[TicketRef]:
    by_name: dict[str, TicketRef] = {}
    for ticket in tickets:
        by_name.setdefault(ticket.name, ticket)
    return list(by_name.values())


def _skipped(ticket: str, status: str, exit_code: int, note: str | None) -> JobResult:
    return JobResult(ticket=ticket, status=status, exit_code=exit_code, note=note)


def _execute(b: _Batch, ticket: TicketRef, watch: TicketWatch) -> JobResult:
    """Run one ticket in the current tree to a result; nothing but a batch interrupt escapes."""
    from exec_auto.agents.registry import create_agent
    from exec_auto.batch.job import result_from_progress, step_seconds
    from exec_auto.executor.run import run_ticket

    watch.begin()
    started = time.monotonic()
    try:
        agent = b.agent(create_agent(b.config.agent))
        outcome = run_ticket(
            ticket,
            b.config,
            agent,
            watch,
            restart=b.restart,
            gates_factory=b.gates,
            should_stop=b.budget.exhausted,
            readiness=b.readiness.get(ticket.name),
        )
    except (Interrupted, KeyboardInterrupt):
        b.interrupted.set()
        result = result_from_progress(
            ticket, INTERRUPTED, EXIT_INTERRUPTED, "progress saved; rerun to resume"
        )
        result.timings.duration_seconds = round(time.monotonic() - started, 1)
    except UsageLimitPause as pause:
        b.board.hold(pause)
        result = mark_parked(ticket, pause)
        result.timings.duration_seconds = round(time.monotonic() - started, 1)
    except ExecAutoError as exc:
        note = exc.one_line() + (f" (hint: {exc.hint})" if exc.hint else "")
        result = _skipped(ticket.name, ERROR, exc.exit_code, note)
    except Exception as exc:  # one ticket's crash must not end the batch: record it, go on
        result = _skipped(
            ticket.name, ERROR, EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}"
        )
    else:
        result = result_from_report(outcome.report, time.monotonic() - started)
        result.timings.steps = step_seconds(outcome.ticket)
        result.report_path = keep_report(outcome.report_paths, b.report_dir / ticket.name)
    result.timings.completed_at = now_iso()
    _scored(b, result)
    _done(b, watch, result)
    write_result(result, b.result_file(ticket.name))
    return result


def _scored(b: _Batch, result: JobResult) -> None:
    checked = b.readiness.get(result.ticket)
    if checked is not None:
        result.readiness_score = checked.score


def _readiness(b: _Batch, ticket: TicketRef, watch: TicketWatch) -> JobResult | None:
    """A not_ready result when the ticket scores below the threshold (and no --force), else None."""
    from exec_auto.readiness.gate import gate

    try:
        checked = gate(ticket, b.config, force=b.force, say=lambda _: None)
    except NotReadyError as exc:
        watch.end(NOT_READY)
        result = _skipped(ticket.name, NOT_READY, exc.exit_code, exc.one_line())
        result.readiness_score = exc.score
        result.readiness_reasons = exc.reasons
        b.view.note(f"[{ticket.name}] skipped: {exc.one_line()}")
        write_result(result, b.result_file(ticket.name))
        return result
    except ExecAutoError:
        return None  # a bad plan or spec: the run itself reports it, in its own row
    if checked is not None:
        b.readiness[ticket.name] = checked
        b.view.note(f"[{ticket.name}] readiness {checked.score}/100")
    return None


def _ready_then_execute(b: _Batch, ticket: TicketRef, watch: TicketWatch) -> JobResult:
    """The readiness gate, then the run in the current tree."""
    return _readiness(b, ticket, watch) or _execute(b, ticket, watch)


def _done(b: _Batch, watch: TicketWatch, result: JobResult) -> None:
    watch.end(result.status)
    _notify_ticket(b, result)
    b.view.note(
        f"[{result.ticket}] {result.status} (exit {result.exit_code})"
        + (f": {result.note}" if result.note and result.status in (ERROR, NOT_STARTED) else "")
    )


def _gate(b: _Batch, ticket: TicketRef, watch: TicketWatch) -> JobResult | None:
    """A not_started result when the batch is interrupted, its budget spent or its backend held
    by a limit that will not clear in time, else None (after waiting for a limit that will)."""
    held = b.board.wait_for(b.backend, b.interrupted)
    if b.interrupted.is_set():
        watch.end(NOT_STARTED)
        result = _skipped(ticket.name, NOT_STARTED, EXIT_INTERRUPTED, "batch interrupted first")
    else:
        reason = held or b.budget.exhausted()
        if not reason:
            return None
        watch.end(NOT_STARTED)
        # Exit 1, not 2: nothing is wrong with the ticket, the batch just has work left.
        result = _skipped(ticket.name, NOT_STARTED, EXIT_ISSUES, reason)
    write_result(result, b.result_file(ticket.name))
    return result


def _with_policy(b: _Batch, ticket: TicketRef, run: Callable[[], JobResult]) -> JobResult:
    """Run the ticket; while a usage limit parks it and resets in time, wait and resume it."""
    watch = b.view.watches[ticket.name]
    parked: JobResult | None = None
    while True:
        gated = _gate(b, ticket, watch)
        if gated is not None:
            if parked is None:
                return gated
            # Keep the parked result: the ticket is half done and a rerun resumes it.
            parked.note = f"{parked.note}; not resumed: {gated.note}"
            write_result(parked, b.result_file(ticket.name))
            return parked
        result = run()
        if result.status != PARKED:
            if parked is not None:
                result.note = "; ".join(
                    n for n in (f"resumed after {parked.note}", result.note) if n
                )
                write_result(result, b.result_file(ticket.name))
            return result
        parked = result


def _serial(b: _Batch, tickets: list[TicketRef]) -> list[JobResult]:
    results: list[JobResult] = []
    for ticket in tickets:
        watch = b.view.watches[ticket.name]
        try:
            run = functools.partial(_ready_then_execute, b, ticket, watch)
            results.append(_with_policy(b, ticket, run))
        except KeyboardInterrupt:  # Ctrl-C outside run_ticket (between tickets)
            b.interrupted.set()
            results.append(
                _skipped(ticket.name, NOT_STARTED, EXIT_INTERRUPTED, "batch interrupted first")
            )
    return results


def _base_for(b: _Batch, blockers: list[JobResult]) -> tuple[str | None, str | None]:
    """(commit, ticket) to start from: the last finished overlapping ticket's branch, if any."""
    from exec_auto.proc import git

    done = [
        r for r in blockers if r.status in MERGEABLE and r.refs.branch and not r.refs.worktree_kept
    ]
    if not done:
        return None, None
    last = max(done, key=lambda r: r.timings.completed_at or "")
    tip = git("rev-parse", "--verify", "-q", f"refs/heads/{last.refs.branch}", cwd=b.root)
    return (tip.stdout.strip(), last.ticket) if tip.ok else (None, None)


def _in_worktree(
    b: _Batch, ticket: TicketRef, waited: str | None, blockers: list[JobResult]
) -> JobResult:
    """Run the ticket as a job unit: its own worktree and branch, checkpoints, a result file."""
    assert b.worktrees is not None
    watch = b.view.watches[ticket.name]
    gated = _readiness(b, ticket, watch)
    if gated is not None:
        return gated
    watch.begin("preparing")
    env = JobEnv(
        worktrees=b.worktrees,
        ui=watch,
        interrupted=b.interrupted,
        should_stop=b.budget.exhausted,
        wrap_agent=lambda agent: InterruptibleAgent(agent, b.interrupted),  # type: ignore[arg-type]
        gates_factory=b.gates,
        on_limit=b.board.hold,
        report_copy_dir=b.report_dir / ticket.name,
    )
    # Queued behind overlapping tickets: build on their work, so the branches merge in turn.
    base, based_on = _base_for(b, blockers)
    spec = JobSpec(
        ticket,
        branch_name(ticket.name),
        restart=b.restart,
        readiness=b.readiness.get(ticket.name),
        base=base,
        based_on=based_on,
    )
    result = run_job(spec, b.config, env)
    _scored(b, result)
    if result.status == PARKED and result.parked_until:
        b.view.note(f"[{ticket.name}] parked by a usage limit until {result.parked_until}")
    if waited:
        built = f"; started from {based_on}'s branch" if result.refs.based_on else ""
        result.note = "; ".join(n for n in (result.note, waited + built) if n)
    _done(b, watch, result)
    write_result(result, b.result_file(ticket.name))
    return result


def _safe_in_worktree(
    b: _Batch, ticket: TicketRef, waited: str | None, blockers: list[JobResult]
) -> JobResult:
    try:
        return _in_worktree(b, ticket, waited, blockers)
    except Exception as exc:  # a worker must always hand back a result
        result = _skipped(
            ticket.name, ERROR, EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}"
        )
        write_result(result, b.result_file(ticket.name))
        return result


def _parallel(b: _Batch, tickets: list[TicketRef], workers: int) -> list[JobResult]:
    by_name = {t.name: t for t in tickets}
    scheduler = Scheduler(b.plan.graph, b.plan.order)
    results: dict[str, JobResult] = {}

    def worker() -> None:
        while (name := scheduler.next()) is not None:
            ticket, waited = by_name[name], scheduler.note(name)
            blockers = [results[n] for n in sorted(scheduler.waited.get(name, ())) if n in results]
            try:
                results[name] = _with_policy(
                    b, ticket, functools.partial(_safe_in_worktree, b, ticket, waited, blockers)
                )
            finally:
                scheduler.done(name)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="exec-auto") as pool:
        futures = [pool.submit(worker) for _ in range(workers)]
        _wait_all(b, futures)
    for future in futures:
        future.result()
    return [results[t.name] for t in tickets]


def _wait_all(b: _Batch, futures: list[Future[None]]) -> None:
    """Wait for the workers; on Ctrl-C tell them to stop and kill every child they are waiting on."""
    pending = set(futures)
    while pending:
        try:
            _, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
        except KeyboardInterrupt:
            if not b.interrupted.is_set():
                b.view.note("[AUTO] Interrupted: stopping every ticket (progress is saved)")
            # Set first: a worker whose call is killed must find the flag when it returns.
            b.interrupted.set()
            kill_all()


def _merge(b: _Batch, results: list[JobResult], meta: BatchMeta) -> None:
    candidates = [
        Candidate(
            MergeRequest(r.ticket, r.refs.branch, r.status, r.refs.based_on),
            r.exit_code,
            b.plan.graph.degree(r.ticket),
            r.timings.completed_at or "",
        )
        for r in results
        if r.refs.branch and r.status in MERGEABLE and r.refs.worktree_kept is None
    ]
    requests = merge_order(candidates)
    meta.merge_order = [r.ticket for r in requests]
    for outcome in merge_with_tests(b.root, requests, tester_for(b.config)):
        meta.merged[outcome.ticket] = outcome.merged
        if outcome.note:
            meta.merge_notes[outcome.ticket] = outcome.note


def _notify_ticket(b: _Batch, result: JobResult) -> None:
    """The per-ticket notification, pointing at the batch folder's copies (worktrees go away)."""
    from exec_auto.report import Report
    from exec_auto.review.notify import notify_ticket

    if not b.config.review.notify_command or not result.report_path:
        return
    md = Path(result.report_path)
    try:
        report = Report.model_validate_json(md.with_name("report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # `branch:path` or no report: the ticket did not finish here
    paths = [md.with_name(n) for n in ("report.md", "report.json", "report.html")]
    notify_ticket(b.config.review.notify_command, report, [p for p in paths if p.is_file()], b.root)


def _open_prs(report: BatchReport, root: Path, parallel: bool) -> None:
    """--open-pr: a draft PR per finished, unmerged branch (or one line saying why not)."""
    from exec_auto.proc import git
    from exec_auto.review.pages import batch_reviews
    from exec_auto.review.pr import open_prs, unavailable

    if not parallel:
        print("[AUTO] --open-pr applies to --parallel runs: this batch made no branches")
        return
    why = unavailable(root)
    if why is not None:
        print(f"[AUTO] {why}")
        return
    unmerged = {
        r.ticket for r in report.tickets if r.branch and not r.merged and not r.worktree_kept
    }
    reviews = [r for r in batch_reviews(report, root) if r.name in unmerged]
    head = git("rev-parse", "--abbrev-ref", "HEAD", cwd=root).stdout.strip()
    for result in open_prs(root, reviews, head if head and head != "HEAD" else None):
        url = f" {result.url}" if result.url else ""
        print(f"[AUTO] PR for {result.ticket}: {result.note}{url}")


def _write_page(report: BatchReport, folder: Path, root: Path) -> Path | None:
    """batch-report.html beside the md/json; a failure is reported, never fatal."""
    from exec_auto.review.pages import write_batch_html

    try:
        return write_batch_html(report, folder, root)
    except Exception as exc:  # the md/json batch report is already written
        print(f"[AUTO] could not write batch-report.html: {type(exc).__name__}: {exc}")
        return None


def _print_summary(report: BatchReport, md: Path) -> None:
    print(render_summary(report))
    branches = [r for r in report.tickets if r.branch]
    if branches:
        print(
            "Branches: "
            + ", ".join(f"{r.branch}{' (merged)' if r.merged else ''}" for r in branches)
        )
    print(f"Batch report: {md}", flush=True)


def _backend(config: Config) -> str:
    from exec_auto.agents.registry import resolve_name

    try:
        return resolve_name(config.agent)
    except ExecAutoError:
        return config.agent.name  # each ticket reports the problem in its own row


def _announce(plan: BatchPlan, config: Config, slots: int) -> list[str]:
    from exec_auto.batch.forecast import budget_warnings

    lines = render_plan(plan, slots)
    warnings = budget_warnings(
        plan.forecast,
        plan.expected_wall(slots),
        config.batch.budget_usd,
        config.batch.budget_seconds,
    )
    return lines + [f"Budget: {w}" for w in warnings]


def run_batch(
    tickets: list[TicketRef],
    config: Config,
    *,
    restart: bool = False,
    force: bool = False,
    dry_run: bool = False,
    deadline: float | None = None,
) -> int:
    """Plan the tickets, run them (here, or in parallel worktrees), write the batch report.

    dry_run: print the forecast and schedule only. deadline (epoch seconds): a usage limit that
    resets later stops the batch instead of waiting. Returns the worst exit code.
    """
    tickets = _unique(tickets)
    root = tickets[0].root
    parallel = config.batch.parallel > 1
    slots = min(config.batch.parallel, len(tickets)) if parallel else 1
    plan = make_plan(tickets)
    announcement = _announce(plan, config, slots)
    if dry_run:
        print("\n".join(announcement))
        print("Dry run: nothing was run.")
        return 0
    report_dir = config.batch.report_dir or default_report_dir(root)
    report_dir.mkdir(parents=True, exist_ok=True)
    interrupted = threading.Event()
    started_at = now_iso()
    worktrees = Worktrees(root) if parallel else None
    base = worktrees.head() if worktrees is not None else None
    budget = BatchBudget(config.batch.budget_usd, config.batch.budget_seconds)
    color = use_color(sys.stdout)
    view = BatchView(
        [t.name for t in tickets], report_dir, interrupted, budget.add_spend, live=color
    )
    board = LimitBoard(deadline)
    b = _Batch(
        root, config, restart, budget, view, interrupted, report_dir, plan, board,
        _backend(config), worktrees, force,
    )  # fmt: skip
    how = (
        f"in parallel ({config.batch.parallel} at once, one worktree each, overlapping tickets "
        "queued)"
        if parallel
        else "one after another"
    )
    view.note(f"[AUTO] Batch of {len(tickets)} ticket(s), {how}; report folder: {report_dir}")
    for line in announcement:
        if line.startswith("Budget:") or "overlap on" in line:
            view.note(f"[AUTO] {line.strip()}")
    try:
        results = _parallel(b, tickets, slots) if parallel else _serial(b, tickets)
    finally:
        view.close()
    meta = BatchMeta(
        started_at=started_at,
        mode="parallel" if parallel else "serial",
        parallel=config.batch.parallel if parallel else 1,
        base_commit=base,
        order=[t.name for t in tickets],
        interrupted=interrupted.is_set(),
        stopped=board.stopped(),
        deadline=iso(deadline) if deadline is not None else None,
    )
    if config.batch.merge and parallel and not interrupted.is_set():
        _merge(b, results, meta)
    elif config.batch.merge and not parallel:
        print("[AUTO] --merge applies to --parallel runs: this batch worked in the current tree")
    meta.completed_at = now_iso()
    meta.wall_seconds = round(budget.elapsed(), 1)
    meta.budget = budget.as_dict()
    write_meta(meta, report_dir)
    report = assemble(results, meta)
    md, js = write_batch_report(report, report_dir)
    page = _write_page(report, report_dir, root)
    _print_summary(report, md)
    if page is not None:
        print(f"Review page: {page}", flush=True)
    if config.review.open_pr:
        _open_prs(report, root, parallel)
    from exec_auto.review.notify import notify_batch

    notify_batch(config.review.notify_command, report, [md, js, *([page] if page else [])], root)
    return report.exit_code


def write_meta(meta: BatchMeta, folder: Path) -> Path:
    """batch.json: what `batch-report --from` needs besides the result files."""
    from exec_auto.atomicio import atomic_write_text

    path = folder / META_FILE
    atomic_write_text(path, meta.model_dump_json(indent=2) + "\n")
    return path
