"""`exec-auto demo`: run the bundled example ticket offline with a recorded session (replay)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.proc import git


def _target(directory: str | None) -> Path:
    if directory:
        path = Path(directory).resolve()
        if path.exists() and any(path.iterdir()):
            raise ExecAutoError(f"{path} is not empty", hint="give a new or empty directory")
        return path
    base = Path.cwd() / "exec-auto-demo"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"exec-auto-demo-{n}")
    return path


def create_demo_repo(target: Path) -> None:
    """Copy the example project to target and make it a git repository with one commit."""
    from exec_auto.demo import PROJECT_DIR

    shutil.copytree(
        PROJECT_DIR, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    ident = ["-c", "user.name=exec-auto demo", "-c", "user.email=demo@exec-auto.invalid"]
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        [*ident, "commit", "-q", "-m", "wordtools before the ticket"],
    ):
        result = git(*args, cwd=target)
        if not result.ok:
            raise ExecAutoError(f"git {args[0]} failed: {result.stderr.strip()}", path=target)


def main(args: argparse.Namespace) -> int:
    """Create the example, run its ticket from the recording, and say where everything is."""
    from exec_auto.agents.replay import ReplayAgent, load_recording
    from exec_auto.config import build_config
    from exec_auto.demo import SESSION_FILE, TICKET
    from exec_auto.executor.run import run_ticket
    from exec_auto.executor.ui import make_ui, use_color
    from exec_auto.readiness.gate import gate
    from exec_auto.report import print_report
    from exec_auto.ticket.resolve import resolve_ticket

    target = _target(args.directory)
    create_demo_repo(target)
    print(f"exec-auto demo: example project created in {target}")
    print(
        "This is a REPLAY of a recorded agent session: no model is called, nothing leaves this machine."
    )
    print("Step 3 leaves a failing test on purpose, so the report shows how a problem is logged.\n")
    config = build_config(
        target,
        {
            "agent": {"name": "replay", "replay_file": SESSION_FILE, "judge": False},
            "gates": {"fix_attempts": 1},
        },
    )
    ticket = resolve_ticket(TICKET, target)
    readiness = gate(ticket, config, force=False)
    ui = make_ui(TICKET)
    try:
        # The project and the recorded session are exec-auto's own: without a usable sandbox the
        # demo still runs (and says so plainly), instead of refusing like a real unattended run.
        outcome = run_ticket(
            ticket,
            config,
            ReplayAgent(load_recording(SESSION_FILE)),
            ui,
            allow_unsandboxed=True,
            readiness=readiness,
        )
    finally:
        ui.close()
    print_report(outcome.report, use_color(sys.stdout))
    print(
        f"Demo finished (run exit code {outcome.exit_code}: "
        f"{'all done' if outcome.exit_code == 0 else 'finished with logged issues, as designed'})."
    )
    print(f"  project:  {target}")
    print(f"  report:   {outcome.report_paths[0]}")
    html_pages = [p for p in outcome.report_paths if p.suffix == ".html"]
    if html_pages:
        print(f"  review:   {html_pages[0]}  (open it in a browser: one file, no network)")
    print(f"  progress: {outcome.ticket.progress_path}")
    print(
        f"  archived: {outcome.ticket.rel_dir}/  (restore: cd {target} && exec-auto restore {TICKET})"
    )
    return 0
