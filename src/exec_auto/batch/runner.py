"""`exec-auto run A B C`, `--all` and `--parallel N`: many tickets, one batch report.

Serial batches run in the current work tree, one ticket after another, exactly like single runs.
Parallel batches run each ticket in its own git worktree on branch `exec-auto/<ticket>` (see
`worktree.py`), in a thread pool: every agent, gate and git call is a subprocess, so threads only
wait. A ticket that cannot start gets an error row and the batch goes on; the exit code is the
worst of the tickets' (130 when interrupted).
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.batch.budget import BatchBudget
from exec_auto.batch.interrupt import InterruptibleAgent, InterruptibleGates
from exec_auto.batch.job import JobEnv, JobSpec, keep_report, run_job
from exec_auto.batch.merge import MergeRequest, merge_branches
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
    worktrees: Worktrees | None = None
    force: bool = False
    # The readiness check of each ticket that passed it, recorded in its progress.yaml.
    readiness: dict[str, ReadinessRecord] = field(default_factory=dict)

    def result_file(self, ticket: str) -> Path:
        """Where this batch keeps a ticket's result file."""
        return self.report_dir / RESULTS_DIR / f"{ticket}.json"

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
        agent = InterruptibleAgent(create_agent(b.config.agent), b.interrupted)
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


def _done(b: _Batch, watch: TicketWatch, result: JobResult) -> None:
    watch.end(result.status)
    _notify_ticket(b, result)
    b.view.note(
        f"[{result.ticket}] {result.status} (exit {result.exit_code})"
        + (f": {result.note}" if result.note and result.status in (ERROR, NOT_STARTED) else "")
    )


def _gate(b: _Batch, ticket: TicketRef, watch: TicketWatch) -> JobResult | None:
    """A not_started result when the batch is interrupted or its budget spent, else None."""
    if b.interrupted.is_set():
        watch.end(NOT_STARTED)
        result = _skipped(ticket.name, NOT_STARTED, EXIT_INTERRUPTED, "batch interrupted first")
    else:
        reason = b.budget.exhausted()
        if not reason:
            return None
        watch.end(NOT_STARTED)
        # Exit 1, not 2: nothing is wrong with the ticket, the batch just has work left.
        result = _skipped(ticket.name, NOT_STARTED, EXIT_ISSUES, reason)
    write_result(result, b.result_file(ticket.name))
    return result


def _serial(b: _Batch, tickets: list[TicketRef]) -> list[JobResult]:
    results: list[JobResult] = []
    for ticket in tickets:
        watch = b.view.watches[ticket.name]
        try:
            results.append(
                _gate(b, ticket, watch)
                or _readiness(b, ticket, watch)
                or _execute(b, ticket, watch)
            )
        except KeyboardInterrupt:  # Ctrl-C outside run_ticket (between tickets)
            b.interrupted.set()
            results.append(
                _skipped(ticket.name, NOT_STARTED, EXIT_INTERRUPTED, "batch interrupted first")
            )
    return results


def _in_worktree(b: _Batch, ticket: TicketRef) -> JobResult:
    """Run the ticket as a job unit: its own worktree and branch, checkpoints, a result file."""
    assert b.worktrees is not None
    watch = b.view.watches[ticket.name]
    gated = _gate(b, ticket, watch) or _readiness(b, ticket, watch)
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
        report_copy_dir=b.report_dir / ticket.name,
    )
    spec = JobSpec(
        ticket,
        branch_name(ticket.name),
        result_file=None,
        restart=b.restart,
        readiness=b.readiness.get(ticket.name),
    )
    result = run_job(spec, b.config, env)
    _scored(b, result)
    _done(b, watch, result)
    write_result(result, b.result_file(ticket.name))
    return result


def _safe_in_worktree(b: _Batch, ticket: TicketRef) -> JobResult:
    try:
        return _in_worktree(b, ticket)
    except Exception as exc:  # a worker must always hand back a result
        result = _skipped(
            ticket.name, ERROR, EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}"
        )
        write_result(result, b.result_file(ticket.name))
        return result


def _parallel(b: _Batch, tickets: list[TicketRef], workers: int) -> list[JobResult]:
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="exec-auto") as pool:
        futures = [pool.submit(_safe_in_worktree, b, t) for t in tickets]
        _wait_all(b, futures)
    return [f.result() for f in futures]


def _wait_all(b: _Batch, futures: list[Future[JobResult]]) -> None:
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
    requests = [
        MergeRequest(r.ticket, r.refs.branch, r.status)
        for r in results
        if r.refs.branch and r.status in MERGEABLE and r.refs.worktree_kept is None
    ]
    for outcome in merge_branches(b.root, requests):
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


def run_batch(
    tickets: list[TicketRef], config: Config, *, restart: bool = False, force: bool = False
) -> int:
    """Run the tickets (here, or in parallel worktrees), write the batch report; the worst exit."""
    tickets = _unique(tickets)
    root = tickets[0].root
    parallel = config.batch.parallel > 1
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
    b = _Batch(root, config, restart, budget, view, interrupted, report_dir, worktrees, force)
    how = (
        f"in parallel ({config.batch.parallel} at once, one worktree each)"
        if parallel
        else "one after another"
    )
    view.note(f"[AUTO] Batch of {len(tickets)} ticket(s), {how}; report folder: {report_dir}")
    try:
        if parallel:
            results = _parallel(b, tickets, min(config.batch.parallel, len(tickets)))
        else:
            results = _serial(b, tickets)
    finally:
        view.close()
    meta = BatchMeta(
        started_at=started_at,
        mode="parallel" if parallel else "serial",
        parallel=config.batch.parallel if parallel else 1,
        base_commit=base,
        order=[t.name for t in tickets],
        interrupted=interrupted.is_set(),
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
