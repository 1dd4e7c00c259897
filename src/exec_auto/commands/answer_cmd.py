"""`exec-auto answer TICKET "text"`: record a human decision in progress.yaml, then resume the run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from exec_auto.errors import EXIT_OK, ExecAutoError
from exec_auto.ticket.model import Decision
from exec_auto.ticket.resolve import TicketRef


def main(args: argparse.Namespace) -> int:
    """Answer the ticket's open question (who and when recorded); resume unless --no-resume."""
    from exec_auto.commands.run_cmd import overrides_from_args, run_one
    from exec_auto.config import build_config
    from exec_auto.executor.lock import TicketLock
    from exec_auto.formats.registry import resolve
    from exec_auto.repo import state_dir

    interactive = bool(args.interactive)
    if interactive:
        from exec_auto.decisions.terminal import require_terminal

        require_terminal(sys.stdin, sys.stdout)
    ticket = resolve(args.ticket, Path.cwd(), only=args.format)
    text = args.text.strip()
    if not text:
        raise ExecAutoError("the answer is empty", hint='exec-auto answer TICKET "your decision"')
    # Under the ticket's lock: a run in progress is never written under.
    with TicketLock(state_dir(ticket.root), ticket.name):
        decision = _record(ticket, args, text)
    print(
        f"Recorded the decision for step {decision.step_id} "
        f"(by {decision.answered_by}, {decision.answered_at}): {text}"
    )
    if args.no_resume:
        print(f"Resume with: exec-auto run {ticket.name}")
        return EXIT_OK
    config = build_config(ticket.root, overrides_from_args(args))
    return run_one(ticket, config, restart=False, force=args.force, interactive=interactive)


def _record(ticket: TicketRef, args: argparse.Namespace, text: str) -> Decision:
    """Read progress.yaml, answer its open question, write it back (atomically)."""
    from exec_auto.decisions.record import answer, who
    from exec_auto.ticket.progress import peek_progress, save_progress

    progress = peek_progress(ticket.progress_path)
    if progress is None:
        raise ExecAutoError(
            "no progress.yaml (or an unreadable one): the ticket has not asked anything",
            path=ticket.progress_path,
            hint=f"run it first: exec-auto run {ticket.name}",
        )
    pending = [d for d in progress.pending_decisions() if args.step in (None, d.step_id)]
    if not pending:
        asked = ", ".join(f"step {d.step_id}" for d in progress.pending_decisions())
        raise ExecAutoError(
            "no open question" + (f" for step {args.step} (open: {asked})" if asked else ""),
            path=ticket.progress_path,
            hint=f"`exec-auto show {ticket.name}` lists the ticket's state",
        )
    if len(pending) > 1 and args.step is None:
        raise ExecAutoError(
            "more than one open question: "
            + "; ".join(f"step {d.step_id}: {d.question}" for d in pending),
            hint="pick one with --step ID",
        )
    decision = answer(progress, pending[-1], text, args.by or who(ticket.root))
    save_progress(ticket.progress_path, progress)
    return decision
