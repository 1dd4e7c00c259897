"""`exec-auto run A B C`, `--all` and `--parallel N`: many tickets, one batch report.

Serial batches run in the current work tree, one ticket after another, exactly like single runs.
Parallel batches run each ticket in its own git worktree on branch `exec-auto/<ticket>` (see
`worktree.py`), in a thread pool: every agent, gate and git call is a subprocess, so threads only
wait. A ticket that cannot start gets an error row and the batch goes on; the exit code is the
worst of the tickets' (130 when interrupted).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from exec_auto.batch.budget import BatchBudget
from exec_auto.batch.interrupt import InterruptibleAgent, InterruptibleGates
from exec_auto.batch.merge import MergeRequest, merge_branches
from exec_auto.batch.report import (
    ERROR,
    INTERRUPTED,
    NOT_STARTED,
    BatchReport,
    BatchRow,
    default_report_dir,
    render_summary,
    row_from_report,
    totals,
    write_batch_report,
)
from exec_auto.batch.view import BatchView, TicketWatch
from exec_auto.batch.worktree import Worktrees
from exec_auto.clock import now_iso
from exec_auto.config import Config
from exec_auto.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_ISSUES,
    ExecAutoError,
    Interrupted,
)
from exec_auto.executor.ui import use_color
from exec_auto.gates.base import Gates
from exec_auto.proc import kill_all
from exec_auto.report import Report
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


def _unique(tickets: list[TicketRef]) -> list[TicketRef]:
    by_name: dict[str, TicketRef] = {}
    for ticket in tickets:
        by_name.setdefault(ticket.name, ticket)
    return list(by_name.values())


def _row(ticket: str, status: str, exit_code: int, note: str | None) -> BatchRow:
    return BatchRow(ticket=ticket, status=status, exit_code=exit_code, note=note)


def _with_progress(row: BatchRow, ticket: TicketRef) -> BatchRow:
    """Fill steps, issues and spend from progress.yaml, for runs that ended without a report."""
    from exec_auto.report import build_report
    from exec_auto.ticket.progress import peek_progress

    # Read-only: a report row must never move or clean up the ticket's files.
    progress = peek_progress(ticket.progress_path)
    if progress is None:
        return row
    partial = row_from_report(build_report(progress, "", row.exit_code, ""), row.duration_seconds)
    return partial.model_copy(update={"status": row.status, "note": row.note})


def _keep_report(paths: tuple[Path, Path], folder: Path) -> str:
    """Copy the ticket's report into the batch folder (a worktree may be removed afterwards)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy2(path, folder / path.name)
    return str(folder / paths[0].name)


def _execute(b: _Batch, ticket: TicketRef, watch: TicketWatch, lock_root: Path | None) -> BatchRow:
    """Run one ticket to a row; nothing but a batch-wide interrupt escapes."""
    from exec_auto.agents.registry import create_agent
    from exec_auto.executor.lock import TicketLock
    from exec_auto.executor.run import default_gates, run_ticket
    from exec_auto.repo import state_dir

    def gates(config: Config, dependencies: tuple[str, ...]) -> Gates:
        return InterruptibleGates(default_gates(config, dependencies), b.interrupted)

    watch.begin()
    started = time.monotonic()
    try:
        agent = InterruptibleAgent(create_agent(b.config.agent), b.interrupted)
        with contextlib.ExitStack() as stack:
            if lock_root is not None:
                # A worktree run also holds the ticket's lock in the main tree, so a single
                # `exec-auto run` of the same ticket there cannot run alongside it.
                stack.enter_context(TicketLock(state_dir(lock_root), ticket.name))
            outcome = run_ticket(
                ticket,
                b.config,
                agent,
                watch,
                restart=b.restart,
                gates_factory=gates,
                should_stop=b.budget.exhausted,
            )
    except (Interrupted, KeyboardInterrupt):
        b.interrupted.set()
        row = _row(ticket.name, INTERRUPTED, EXIT_INTERRUPTED, "progress saved; rerun to resume")
        row.duration_seconds = round(time.monotonic() - started, 1)
        row = _with_progress(row, ticket)
    except ExecAutoError as exc:
        note = exc.one_line() + (f" (hint: {exc.hint})" if exc.hint else "")
        row = _row(ticket.name, ERROR, exc.exit_code, note)
    except Exception as exc:  # one ticket's crash must not end the batch: record it, go on
        row = _row(
            ticket.name, ERROR, EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}"
        )
    else:
        row = row_from_report(outcome.report, time.monotonic() - started)
        row.report_path = _keep_report(outcome.report_paths, b.report_dir / ticket.name)
    watch.end(row.status)
    b.view.note(f"[{ticket.name}] {row.status} (exit {row.exit_code})" + _suffix(row))
    return row


def _suffix(row: BatchRow) -> str:
    return f": {row.note}" if row.note and row.status in (ERROR, NOT_STARTED) else ""


def _gate(b: _Batch, ticket: TicketRef, watch: TicketWatch) -> BatchRow | None:
    """A not_started row when the batch is interrupted or its budget spent, else None."""
    if b.interrupted.is_set():
        watch.end(NOT_STARTED)
        return _row(ticket.name, NOT_STARTED, EXIT_INTERRUPTED, "batch interrupted first")
    reason = b.budget.exhausted()
    if reason:
        watch.end(NOT_STARTED)
        # Exit 1, not 2: nothing is wrong with the ticket, the batch just has work left.
        return _row(ticket.name, NOT_STARTED, EXIT_ISSUES, reason)
    return None


def _serial(b: _Batch, tickets: list[TicketRef]) -> list[BatchRow]:
    rows: list[BatchRow] = []
    for ticket in tickets:
        watch = b.view.watches[ticket.name]
        try:
            rows.append(_gate(b, ticket, watch) or _execute(b, ticket, watch, None))
        except KeyboardInterrupt:  # Ctrl-C outside run_ticket (between tickets)
            b.interrupted.set()
            rows.append(_row(ticket.name, NOT_STARTED, EXIT_INTERRUPTED, "batch interrupted first"))
    return rows


def _earlier_row(local: TicketRef, branch: str) -> BatchRow:
    """The row of a ticket an earlier batch already finished (and archived) on its branch."""
    path = local.moved(archived=True).dir / "report.json"
    note = f"finished by an earlier batch; git branch -D {branch} to run it again"
    try:
        row = row_from_report(Report.model_validate_json(path.read_text(encoding="utf-8")), None)
    except (OSError, ValueError):
        return _row(local.name, ERROR, 2, f"archived on {branch} without a readable report.json")
    row.note = note
    # The worktree goes away again; `git show <branch>:<path>` prints the report.
    row.report_path = f"{branch}:{local.moved(archived=True).rel_dir}/report.md"
    return row


def _in_worktree(b: _Batch, ticket: TicketRef) -> BatchRow:
    """Prepare the ticket's worktree, run it there, commit the result, clean up."""
    assert b.worktrees is not None
    watch = b.view.watches[ticket.name]
    gated = _gate(b, ticket, watch)
    if gated is not None:
        return gated
    watch.begin("preparing")
    try:
        wt = b.worktrees.prepare(ticket.name)
    except ExecAutoError as exc:
        watch.end(ERROR)
        note = exc.one_line() + (f" (hint: {exc.hint})" if exc.hint else "")
        b.view.note(f"[{ticket.name}] error: {note}")
        return _row(ticket.name, ERROR, exc.exit_code, note)
    local = TicketRef(ticket.name, wt.project_root(b.worktrees.rel))
    if not local.dir.is_dir() and local.moved(archived=True).dir.is_dir():
        row = _earlier_row(local, wt.branch)
        watch.end(row.status)
    else:
        row = _execute(b, local, watch, b.root)
    # Interrupted work stays uncommitted in its worktree: the next batch resumes it right there.
    done = b.worktrees.finish(wt, None if row.status == INTERRUPTED else row.status)
    row.branch = done.branch
    if done.kept is not None:
        row.worktree_kept = str(done.kept)
        if row.status == INTERRUPTED:
            row.note = "progress saved in its worktree; rerun the same command to resume"
        else:
            row.note = "; ".join(n for n in (row.note, f"worktree kept, {done.note}") if n)
    elif done.note:
        row.note = "; ".join(n for n in (row.note, done.note) if n)
    return row


def _safe_in_worktree(b: _Batch, ticket: TicketRef) -> BatchRow:
    try:
        return _in_worktree(b, ticket)
    except Exception as exc:  # a worker must always hand back a row
        return _row(
            ticket.name, ERROR, EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}"
        )


def _parallel(b: _Batch, tickets: list[TicketRef], workers: int) -> list[BatchRow]:
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="exec-auto") as pool:
        futures = [pool.submit(_safe_in_worktree, b, t) for t in tickets]
        _wait_all(b, futures)
    return [f.result() for f in futures]


def _wait_all(b: _Batch, futures: list[Future[BatchRow]]) -> None:
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


def _merge(b: _Batch, rows: list[BatchRow]) -> None:
    requests = [
        MergeRequest(r.ticket, r.branch, r.status)
        for r in rows
        if r.branch and r.status in MERGEABLE and r.worktree_kept is None
    ]
    by_ticket = {r.ticket: r for r in rows}
    for result in merge_branches(b.root, requests):
        row = by_ticket[result.ticket]
        row.merged = result.merged
        if result.note:
            row.note = "; ".join(n for n in (row.note, result.note) if n)
    for row in rows:
        if row.branch and row.merged is None:
            row.merged = False


def _print_summary(report: BatchReport, md: Path) -> None:
    print(render_summary(report))
    branches = [r for r in report.tickets if r.branch]
    if branches:
        print(
            "Branches: "
            + ", ".join(f"{r.branch}{' (merged)' if r.merged else ''}" for r in branches)
        )
    print(f"Batch report: {md}", flush=True)


def run_batch(tickets: list[TicketRef], config: Config, *, restart: bool = False) -> int:
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
    b = _Batch(root, config, restart, budget, view, interrupted, report_dir, worktrees)
    how = (
        f"in parallel ({config.batch.parallel} at once, one worktree each)"
        if parallel
        else "one after another"
    )
    view.note(f"[AUTO] Batch of {len(tickets)} ticket(s), {how}; report folder: {report_dir}")
    try:
        if parallel:
            rows = _parallel(b, tickets, min(config.batch.parallel, len(tickets)))
        else:
            rows = _serial(b, tickets)
    finally:
        view.close()
    if config.batch.merge and parallel and not interrupted.is_set():
        _merge(b, rows)
    elif config.batch.merge and not parallel:
        print("[AUTO] --merge applies to --parallel runs: this batch worked in the current tree")
    exit_code = EXIT_INTERRUPTED if interrupted.is_set() else max(r.exit_code for r in rows)
    report = BatchReport(
        started_at=started_at,
        completed_at=now_iso(),
        wall_seconds=round(budget.elapsed(), 1),
        mode="parallel" if parallel else "serial",
        parallel=config.batch.parallel if parallel else 1,
        base_commit=base,
        budget=budget.as_dict(),
        exit_code=exit_code,
        tickets=rows,
        totals=totals(rows),
    )
    md, _ = write_batch_report(report, report_dir)
    _print_summary(report, md)
    return exit_code
