"""`exec-auto run TICKET...`: execute tickets, one after another (or in parallel worktrees)."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import Any

from exec_auto import signals
from exec_auto.commands.housekeeping import finish_interrupted_moves
from exec_auto.config import Config, build_config
from exec_auto.errors import ExecAutoError
from exec_auto.executor.ui import RunUI
from exec_auto.repo import find_root
from exec_auto.ticket.resolve import TicketRef


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Flags as a partial config (None means 'not given')."""
    record = getattr(args, "record", None)
    replay = getattr(args, "replay_file", None)
    return {
        "archive": False if getattr(args, "no_archive", False) else None,
        "parallel_tasks": True if getattr(args, "parallel_tasks", False) else None,
        "agent": {
            "name": getattr(args, "agent", None),
            "command": getattr(args, "agent_command", None),
            "replay_file": Path(replay).resolve() if replay else None,
            "record_file": Path(record).resolve() if record else None,
            "model": getattr(args, "model", None),
            "base_url": getattr(args, "base_url", None),
            "step_timeout": getattr(args, "step_timeout", None),
            "max_turns": getattr(args, "max_turns", None),
            "max_budget_usd": getattr(args, "max_budget_usd", None),
            "judge": False if getattr(args, "no_judge", False) else None,
        },
        "gates": {
            "enabled": False if getattr(args, "no_gates", False) else None,
            "install": False if getattr(args, "no_install", False) else None,
            "fix_attempts": getattr(args, "fix_attempts", None),
            "runner": getattr(args, "runner", None),
        },
        "sandbox": {
            "mode": getattr(args, "sandbox", None),
            "network": {"on": True, "off": False}.get(getattr(args, "network", None) or ""),
        },
        "batch": {
            "parallel": getattr(args, "parallel", None),
            "merge": True if getattr(args, "merge", False) else None,
            "report_dir": Path(args.report_dir).resolve()
            if getattr(args, "report_dir", None)
            else None,
            "budget_usd": getattr(args, "budget_usd", None),
            "budget_seconds": getattr(args, "budget_seconds", None),
            "merge_test": getattr(args, "merge_test", None),
        },
        "review": {
            "notify_command": getattr(args, "notify_command", None),
            "open_pr": True if getattr(args, "open_pr", False) else None,
        },
    }


def select_tickets(args: argparse.Namespace, cwd: Path) -> list[TicketRef]:
    """The tickets named on the command line, or every runnable active ticket with --all."""
    if args.all:
        from exec_auto.batch.select import runnable_tickets

        return runnable_tickets(find_root(cwd))
    if not args.tickets:
        raise ExecAutoError("no ticket given", hint="exec-auto run TICKET [TICKET...] or --all")
    from exec_auto.formats.registry import resolve

    return [resolve(t, cwd, only=getattr(args, "format", None)) for t in args.tickets]


def run_one(
    ticket: TicketRef,
    config: Config,
    *,
    restart: bool = False,
    force: bool = False,
    interactive: bool = False,
) -> int:
    """Run a single ticket in the foreground with the live view and the printed report.

    interactive: the `exec` mode - a person at this terminal decides problems and pause points.
    """
    from exec_auto.agents.registry import create_agent
    from exec_auto.executor.run import run_ticket
    from exec_auto.executor.ui import make_ui, use_color
    from exec_auto.readiness.gate import gate
    from exec_auto.report import print_report

    # The ~40,000 objects of the modules loaded so far live until exit: out of the collector's
    # way, each of the run's ~100 collections has less to walk.
    gc.freeze()
    agent = create_agent(config.agent)
    readiness = gate(ticket, config, force=force, attended=interactive)
    decisions = None
    if interactive:
        from exec_auto.decisions.terminal import TerminalProvider
        from exec_auto.executor.ui import PlainUI

        decisions = TerminalProvider(ticket.root)
        # Plain lines: the questions are asked on the same terminal as the progress.
        ui: RunUI = PlainUI()
    else:
        ui = make_ui(ticket.name)
    try:
        outcome = run_ticket(
            ticket,
            config,
            agent,
            ui,
            restart=restart,
            readiness=readiness,
            decisions=decisions,
        )
    finally:
        ui.close()
    print_report(outcome.report, use_color(sys.stdout))
    print(f"Report: {outcome.report_paths[0]}")
    pages = [p for p in outcome.report_paths if p.suffix == ".html"]
    if pages:
        print(f"Review page: {pages[0]}")
    from exec_auto.review.notify import notify_ticket

    notify_ticket(config.review.notify_command, outcome.report, outcome.report_paths, ticket.root)
    if outcome.report.restore_command:
        print(
            f"Archived to {outcome.ticket.rel_dir}/ — restore with: {outcome.report.restore_command}"
        )
    return outcome.exit_code


def _job_mode(args: argparse.Namespace) -> bool:
    """True when a job-unit flag (--branch, --push, --result-file) was given."""
    return any(getattr(args, k, None) for k in ("branch", "push", "result_file"))


def main(args: argparse.Namespace) -> int:
    """Run the selected tickets; the exit code is the worst of theirs."""
    # SIGTERM and SIGHUP take Ctrl-C's path: children killed, progress saved, lock released.
    signals.install()
    finish_interrupted_moves(Path.cwd())
    interactive = bool(getattr(args, "interactive", False))
    if interactive:
        from exec_auto.decisions.terminal import require_terminal

        # Checked before anything else: without a terminal nobody could answer.
        require_terminal(sys.stdin, sys.stdout)
    cwd = Path.cwd()
    tickets = select_tickets(args, cwd)
    if not tickets:
        print("No runnable tickets.")
        return 0
    config = build_config(tickets[0].root, overrides_from_args(args))
    from exec_auto.executor.startup import check_outputs

    check_outputs(config)
    if config.agent.record_file and len(tickets) > 1:
        raise ExecAutoError(
            "--record takes one ticket at a time", hint="run the tickets separately"
        )
    if interactive and _job_mode(args):
        raise ExecAutoError(
            "--interactive does not apply to a job unit (--branch/--push/--result-file)",
            hint="job units run unattended; drop --interactive",
        )
    if _job_mode(args):
        from exec_auto.commands.job_cmd import run_job_command

        return run_job_command(args, tickets, config)
    if interactive and (len(tickets) > 1 or args.all or config.batch.parallel > 1):
        raise ExecAutoError(
            "--interactive runs one ticket at a time",
            hint="run the tickets one by one, or without --interactive as a batch",
        )
    from exec_auto.batch.policy import parse_deadline

    deadline = parse_deadline(getattr(args, "deadline", None))
    dry_run = bool(getattr(args, "dry_run", False))
    single = len(tickets) == 1 and config.batch.parallel <= 1 and not args.all
    if single and not dry_run and deadline is None:
        return run_one(
            tickets[0], config, restart=args.restart, force=args.force, interactive=interactive
        )
    from exec_auto.batch.runner import run_batch

    return run_batch(
        tickets,
        config,
        restart=args.restart,
        force=args.force,
        dry_run=dry_run,
        deadline=deadline,
    )
