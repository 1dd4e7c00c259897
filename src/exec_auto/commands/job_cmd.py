"""`exec-auto run TICKET --branch B --push REMOTE --result-file F`: one ticket as a job unit.

Everything is checked before anything is written: one ticket, a valid branch name, a writable
result file. The job itself lives in `batch/job.py`, shared with local `--parallel` batches.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from exec_auto.config import Config
from exec_auto.errors import ExecAutoError, NotReadyError
from exec_auto.proc import git
from exec_auto.ticket.resolve import TicketRef


def _check_branch(root: Path, branch: str) -> None:
    if not git("check-ref-format", "--branch", branch, cwd=root).ok:
        raise ExecAutoError(
            f"--branch {branch!r} is not a valid branch name",
            hint="use something like exec-auto/<ticket>",
        )


def _check_result_file(path: Path) -> None:
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if path.is_dir() or not os.access(parent, os.W_OK):
        raise ExecAutoError(
            "--result-file cannot be written here",
            path=path,
            hint="name a file in a writable folder (it is created, with its folders)",
        )


def run_job_command(args: argparse.Namespace, tickets: list[TicketRef], config: Config) -> int:
    """Run the one ticket as a job; print where its work and result went; its exit code."""
    from exec_auto.batch.job import JobEnv, JobSpec, run_job
    from exec_auto.batch.result import ERROR
    from exec_auto.batch.worktree import Worktrees, branch_name
    from exec_auto.executor.ui import make_ui

    if len(tickets) != 1 or args.all:
        raise ExecAutoError(
            "--branch/--push/--result-file run exactly one ticket",
            hint="start one job per ticket (see `exec-auto ci github`), or use --parallel",
        )
    if config.batch.parallel > 1 or config.batch.merge:
        raise ExecAutoError(
            "--parallel/--merge do not apply to a single job", hint="drop them, or drop --branch"
        )
    ticket = tickets[0]
    branch = args.branch or branch_name(ticket.name)
    _check_branch(ticket.root, branch)
    result_file = Path(args.result_file).resolve() if args.result_file else None
    if result_file is not None:
        _check_result_file(result_file)
    if args.push:
        from exec_auto.batch.remote import Remote

        Remote(ticket.root, args.push, branch, ticket.name).check()
    from exec_auto.readiness.gate import gate

    # A job unit is an unattended run like any other: the readiness gate applies. A refused job
    # still leaves its result file, so the fan-in report lists the ticket as not_ready.
    try:
        readiness = gate(ticket, config, force=args.force)
    except NotReadyError as exc:
        if result_file is not None:
            from exec_auto.batch.result import NOT_READY, JobResult, write_result

            refused = JobResult(
                ticket=ticket.name,
                status=NOT_READY,
                exit_code=exc.exit_code,
                note=exc.one_line(),
                readiness_score=exc.score,
                readiness_reasons=exc.reasons,
            )
            write_result(refused, result_file)
        raise
    worktrees = Worktrees(ticket.root)
    ui = make_ui(ticket.name)
    spec = JobSpec(
        ticket, branch, args.push, result_file, restart=args.restart, readiness=readiness
    )
    try:
        result = run_job(spec, config, JobEnv(worktrees=worktrees, ui=ui))
    finally:
        ui.close()
    refs = result.refs
    print(f"Job {ticket.name}: {result.status} (exit {result.exit_code})")
    if result.status == ERROR:
        print(f"exec-auto: error: {result.note}", file=sys.stderr)
    elif result.note:
        print(f"  note: {result.note}")
    if refs.branch:
        pushed = (
            f", pushed to {refs.remote}"
            if refs.pushed
            else (f", NOT pushed: {refs.push_error}" if refs.remote else "")
        )
        print(f"  branch: {refs.branch} at {(refs.head_commit or '?')[:12]}{pushed}")
    if refs.step_refs:
        print(f"  step refs: {len(refs.step_refs)}")
    if result.report_path:
        print(f"  report: {result.report_path}")
    if result_file is not None:
        print(f"  result: {result_file}")
    return result.exit_code
