"""Command line: argument parsing only; each subcommand lives in `exec_auto.commands`.

Imports stay light here so `exec-auto --help` is quick; subcommands import their work lazily.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence

from exec_auto import __version__
from exec_auto.error_handler import run_guarded

COMMANDS = {
    "run": "exec_auto.commands.run_cmd",
    "list": "exec_auto.commands.list_cmd",
    "show": "exec_auto.commands.show_cmd",
    "archive": "exec_auto.commands.archive_cmd",
    "restore": "exec_auto.commands.archive_cmd",
    "demo": "exec_auto.commands.demo_cmd",
    "diff": "exec_auto.commands.diff_cmd",
    "prune": "exec_auto.commands.prune_cmd",
    "batch-report": "exec_auto.commands.batch_report_cmd",
    "plan-batch": "exec_auto.commands.plan_batch_cmd",
    "ci": "exec_auto.commands.ci_cmd",
    "check": "exec_auto.commands.check_cmd",
    "answer": "exec_auto.commands.answer_cmd",
    "insights": "exec_auto.commands.insights_cmd",
    "pr-body": "exec_auto.commands.pr_body_cmd",
    "serve": "exec_auto.commands.serve_cmd",
}


FORMAT_HELP = "read tickets as this format only: cdd, speckit, kiro, openspec, taskmaster, bmad"


def _add_run_options(p: argparse.ArgumentParser, *, selection: bool = True) -> None:
    if selection:
        p.add_argument(
            "tickets",
            nargs="*",
            metavar="TICKET",
            help="ticket names or paths to plan.md/spec.yaml/folder",
        )
        p.add_argument(
            "--all",
            action="store_true",
            help="every active ticket with a plan that is not completed",
        )
    p.add_argument("--format", metavar="NAME", help=FORMAT_HELP)
    a = p.add_argument_group("agent")
    a.add_argument(
        "--agent",
        metavar="NAME",
        help="auto (default), claude, anthropic, openai, command, replay",
    )
    a.add_argument(
        "--agent-command",
        dest="agent_command",
        metavar="CMD",
        help="shell command run once per step for --agent command",
    )
    a.add_argument(
        "--replay-file", dest="replay_file", metavar="FILE", help="recording for --agent replay"
    )
    a.add_argument("--record", metavar="FILE", help="save each step's changes to FILE (replayable)")
    a.add_argument("--model", metavar="NAME", help="model for claude/anthropic/openai")
    a.add_argument(
        "--base-url",
        dest="base_url",
        metavar="URL",
        help="API endpoint: an OpenAI-compatible server, or an Anthropic proxy",
    )
    a.add_argument(
        "--step-timeout", dest="step_timeout", type=float, metavar="SECONDS", help="per agent call"
    )
    a.add_argument(
        "--max-turns", dest="max_turns", type=int, metavar="N", help="agent turns per call"
    )
    a.add_argument(
        "--max-budget-usd", dest="max_budget_usd", type=float, metavar="USD", help="per agent call"
    )
    a.add_argument(
        "--no-judge",
        dest="no_judge",
        action="store_true",
        help="never ask the agent to judge criteria",
    )
    g = p.add_argument_group("quality gates")
    g.add_argument(
        "--no-gates", dest="no_gates", action="store_true", help="run steps without gates"
    )
    g.add_argument(
        "--no-install",
        dest="no_install",
        action="store_true",
        help="never install missing dependencies",
    )
    g.add_argument(
        "--fix-attempts",
        dest="fix_attempts",
        type=int,
        metavar="N",
        help="agent fix attempts per step (default 2)",
    )
    g.add_argument("--runner", metavar="NAME", help="auto, poetry, uv, pdm, hatch, venv, plain")
    s = p.add_argument_group("containment")
    s.add_argument(
        "--sandbox",
        choices=("auto", "on", "off"),
        help="run agents and gates in a kernel sandbox (bubblewrap); auto/on refuse to run "
        "without one, off runs with your full user rights",
    )
    s.add_argument(
        "--network",
        choices=("on", "off"),
        help="network for agent CLIs inside the sandbox (default on; gates and shell tools: off)",
    )
    r = p.add_argument_group("run")
    r.add_argument(
        "--no-archive",
        dest="no_archive",
        action="store_true",
        help="keep the ticket in specs/tickets",
    )
    r.add_argument(
        "--restart", action="store_true", help="start over (old progress.yaml kept as a backup)"
    )
    r.add_argument(
        "--parallel-tasks",
        dest="parallel_tasks",
        action="store_true",
        help="let consecutive [P]/(P) steps share one agent task, gate run and fix loop",
    )
    j = p.add_argument_group("job unit (one ticket on its own branch, for CI)")
    j.add_argument(
        "--branch",
        metavar="BRANCH",
        help="work on this branch in a worktree (default exec-auto/<ticket>)",
    )
    j.add_argument(
        "--push",
        metavar="REMOTE",
        help="fetch the branch from REMOTE first (resume), push it and its step refs after each step",
    )
    j.add_argument(
        "--result-file", dest="result_file", metavar="FILE", help="write the job's result JSON here"
    )
    r.add_argument(
        "--interactive",
        action="store_true",
        help="the `exec` mode: on problems and pause points stop and ask at the terminal",
    )
    r.add_argument(
        "--force",
        action="store_true",
        help="run tickets below the readiness threshold unattended anyway",
    )
    b = p.add_argument_group("batch")
    b.add_argument(
        "--parallel", type=int, metavar="N", help="tickets at once, each in its own git worktree"
    )
    b.add_argument(
        "--merge", action="store_true", help="merge finished branches into the current branch"
    )
    b.add_argument(
        "--report-dir", dest="report_dir", metavar="DIR", help="where batch-report.md/json go"
    )
    b.add_argument(
        "--budget-usd", dest="budget_usd", type=float, metavar="USD", help="total for the batch"
    )
    b.add_argument(
        "--merge-test",
        dest="merge_test",
        metavar="CMD",
        help="test command run after each --merge (default: the gates' test run)",
    )
    b.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="print the forecast and schedule, run nothing",
    )
    b.add_argument(
        "--deadline",
        metavar="TIME",
        help="ISO time: a usage limit resetting later stops the batch cleanly instead of waiting",
    )
    b.add_argument(
        "--budget-seconds",
        dest="budget_seconds",
        type=float,
        metavar="SECONDS",
        help="total wall time for the batch",
    )
    v = p.add_argument_group("review")
    v.add_argument(
        "--notify-command",
        dest="notify_command",
        metavar="CMD",
        help="shell command run per finished ticket and per batch (report paths, summary in env)",
    )
    v.add_argument(
        "--open-pr",
        dest="open_pr",
        action="store_true",
        help="--parallel: push each finished branch to origin and open a draft PR with gh",
    )


def _add_review_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """diff, prune, pr-body, serve: the morning review."""
    diff = sub.add_parser(
        "diff", help="a step's changes (or the whole run's) from the step history"
    )
    diff.add_argument("ticket", metavar="TICKET")
    diff.add_argument("step", nargs="?", metavar="STEP", help="step id (default: the whole run)")
    diff.add_argument("--run", metavar="RUN", help="an earlier run (default: the latest)")
    diff.add_argument("--stat", action="store_true", help="files and line counts only")
    prune = sub.add_parser("prune", help="remove the step history of archived tickets")
    prune.add_argument(
        "--dry-run", dest="dry_run", action="store_true", help="list what would go, remove nothing"
    )
    body = sub.add_parser("pr-body", help="pull-request text of a finished ticket (Markdown)")
    body.add_argument("ticket", metavar="TICKET")
    serve = sub.add_parser("serve", help="browse every report on http://127.0.0.1 (refreshes)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="exec-auto",
        description="Execute planned tickets (specs/tickets/NAME/plan.md) through a coding agent, "
        "unattended: quality gates, resume, an honest report, archive.",
        epilog="`exec-auto TICKET` is short for `exec-auto run TICKET`. Exit codes: 0 all done and "
        "met, 1 finished with issues, 2 could not start, 3 internal error, 130 interrupted (Ctrl-C; "
        "143 SIGTERM, 129 SIGHUP).",
    )
    parser.add_argument("--version", action="version", version=f"exec-auto {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run_options(sub.add_parser("run", help="execute tickets (the main job)"))
    listing = sub.add_parser(
        "list", help="active and archived tickets with status, steps and open issues"
    )
    listing.add_argument("--json", action="store_true", help="one JSON array for other tools")
    listing.add_argument("--format", metavar="NAME", help=FORMAT_HELP)
    show = sub.add_parser("show", help="a ticket's paths, status, steps, criteria and progress")
    show.add_argument("ticket", metavar="TICKET")
    show.add_argument("--json", action="store_true", help="one JSON object for other tools")
    show.add_argument("--format", metavar="NAME", help=FORMAT_HELP)
    for name, text in (
        ("archive", "archive a finished ticket as its format does (CDD: specs/archive)"),
        ("restore", "move an archived ticket back"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("ticket", metavar="TICKET")
    _add_review_commands(sub)
    answer = sub.add_parser(
        "answer",
        help="answer a parked ticket's question (recorded with who and when), then resume it",
    )
    answer.add_argument("ticket", metavar="TICKET")
    answer.add_argument("text", metavar="ANSWER", help="the decision, in words the agent will read")
    answer.add_argument(
        "--step", metavar="ID", help="which step's question (default: the open one)"
    )
    answer.add_argument("--by", metavar="NAME", help="who decides (default: git user.name)")
    answer.add_argument(
        "--no-resume", dest="no_resume", action="store_true", help="record only, run it later"
    )
    _add_run_options(answer, selection=False)
    insights = sub.add_parser(
        "insights", help="what keeps failing here, from the progress files of past tickets"
    )
    insights.add_argument("--json", action="store_true", help="one JSON object for other tools")
    check = sub.add_parser(
        "check", help="readiness score 0-100 of a ticket for an unattended run, with reasons"
    )
    check.add_argument("ticket", metavar="TICKET")
    check.add_argument("--json", action="store_true", help="one JSON object for other tools")
    check.add_argument("--format", metavar="NAME", help=FORMAT_HELP)
    check.add_argument(
        "--threshold", type=int, metavar="N", help="compare with N instead of the configured 60"
    )
    demo = sub.add_parser("demo", help="run a bundled example ticket offline (a recorded session)")
    demo.add_argument(
        "directory", nargs="?", help="where to create the example (default: a new temp dir)"
    )
    _add_batch_report(sub)
    _add_plan_batch(sub)
    _add_ci(sub)
    return parser


def _add_tickets(p: argparse.ArgumentParser) -> None:
    p.add_argument("tickets", nargs="*", metavar="TICKET", help="ticket names or paths")
    p.add_argument("--all", action="store_true", help="every runnable active ticket")


def _add_plan_batch(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = sub.add_parser(
        "plan-batch", help="forecast, conflicts and waves of a batch; --json for a CI matrix"
    )
    _add_tickets(plan)
    plan.add_argument("--json", action="store_true", help="the plan as JSON (matrix per shard)")
    plan.add_argument("--parallel", type=int, default=4, metavar="N", help="slots to plan for")
    plan.add_argument(
        "--shard-size", dest="shard_size", type=int, default=250, metavar="N",
        help="tickets per matrix job (at most 256)",
    )  # fmt: skip
    plan.add_argument(
        "--github-output", dest="github_output", metavar="FILE",
        help="append w<wave>s<shard>=[...] lines for a generated workflow",
    )  # fmt: skip
    plan.add_argument("--waves", type=int, default=1, metavar="N", help="with --github-output")
    plan.add_argument("--shards", type=int, default=1, metavar="N", help="with --github-output")


def _add_ci(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ci = sub.add_parser("ci", help="generate CI that runs the batch (github, kubernetes)")
    engines = ci.add_subparsers(dest="engine", metavar="ENGINE", required=True)
    for name, text in (
        ("github", "write .github/workflows/exec-auto.yml"),
        ("kubernetes", "write an Indexed Job manifest and its fan-in"),
    ):
        e = engines.add_parser(name, help=text)
        _add_tickets(e)
        e.add_argument(
            "--max-parallel", dest="max_parallel", type=int, default=4, metavar="N",
            help="tickets running at once",
        )  # fmt: skip
        e.add_argument("--output", metavar="PATH", help="where to write (default per engine)")
        e.add_argument(
            "--timeout-minutes", dest="timeout_minutes", type=int, default=180, metavar="N",
            help="per ticket job",
        )  # fmt: skip
        e.add_argument(
            "--run-args", dest="run_args", default="", metavar="ARGS",
            help="extra flags for every ticket's exec-auto run (e.g. '--agent claude')",
        )  # fmt: skip
        e.add_argument(
            "--shard-size", dest="shard_size", type=int, default=250, metavar="N",
            help="tickets per matrix job (at most 256)",
        )  # fmt: skip
        if name == "kubernetes":
            e.add_argument("--image", default="python:3.12-slim", help="container image")
            e.add_argument("--repo-url", dest="repo_url", metavar="URL", help="git URL to clone")
            e.add_argument("--namespace", default="default")


def _add_batch_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "batch-report", help="build the batch report from job result files (a CI fan-in)"
    )
    report.add_argument(
        "--from", dest="source", required=True, metavar="DIR", help="folder with result files"
    )
    report.add_argument("--out", metavar="DIR", help="where to write it (default: DIR)")
    report.add_argument(
        "--format",
        default="md,json,html",
        metavar="LIST",
        help="md,json,html (default all three)",
    )
    report.add_argument(
        "--strict", action="store_true", help="exit with the batch's code instead of 0"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the subcommand; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and not args_list[0].startswith("-") and args_list[0] not in COMMANDS:
        args_list.insert(0, "run")
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command])
    return run_guarded(module.main, args)


def entry() -> None:
    """Console-script entry point."""
    code = main()
    # The exit code is decided and every child is gone: a Ctrl-C or SIGTERM arriving while the
    # interpreter shuts down (its last garbage collection can take a few hundred ms) must not
    # turn the exit code (130 after an interrupt) into a death by signal.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    _leave(code)


def _leave(code: int) -> None:
    """Exit with code, skipping the interpreter's teardown when nothing else is running.

    Clearing ~550 modules and a last garbage collection cost ~80 ms of every run and achieve
    nothing here: files are written through `with` or atomically and every child has been
    reaped. The streams are flushed and the atexit handlers (coverage's, tempfile's finalizers)
    run as they would; with another thread alive the normal exit waits for it instead.
    """
    if threading.active_count() > 1:
        raise SystemExit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
