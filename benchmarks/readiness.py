"""What the readiness check costs as archived tickets pile up: `exec-auto check` with 0, 20, 100 past runs.

Generates one repository of `--files` files with a `--steps`-step ticket, then adds archived tickets
whose progress files look like real ones (failing steps, fix attempts, issues, a decision) and
times, side by side in one run, the real CLI (`python -m exec_auto check <ticket>`) and the
in-process pieces: the check (score + history), the history read alone, and the prompt's pitfalls
(both read at every run's start). Each figure is the median of `--repeat` runs; the first run after
archived tickets were added ("cold") reads every progress file, later ones use the parsed-history
cache in `.git/exec-auto`.

    .venv/bin/python benchmarks/readiness.py [--files 2000] [--archived 0,20,100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from exec_auto.config import build_config
from exec_auto.insights.collect import collect
from exec_auto.insights.lessons import prompt_pitfalls
from exec_auto.readiness.gate import check_ticket
from exec_auto.ticket.model import Decision, Progress, ProgressIssue, StepProgress, TicketProgress
from exec_auto.ticket.progress import save_progress
from exec_auto.ticket.resolve import TicketRef

TITLES = ("Create the module", "Write tests for it", "Install the client", "Document it")
# As installed by pip (byte-compiled), whatever this machine's environment says.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _git(root: Path, *args: str) -> None:
    ident = ["-c", "user.name=b", "-c", "user.email=b@b"]
    subprocess.run(["git", *ident, *args], cwd=root, check=True, capture_output=True)


def _plan(steps: int) -> str:
    body = "\n".join(
        f"### Step {i}: {TITLES[i % 4]} {i}\n**Outcome:** `pkg{i}/mod{i}.py` exists with `f{i}()`.\n"
        for i in range(1, steps + 1)
    )
    return f"# Implementation Plan: Bench\n\n## Implementation Steps\n\n{body}"


def _progress(name: str, n: int, steps: int = 12) -> Progress:
    """A finished run's record: every other step troubled, fix attempts, issues, one decision."""
    records = [
        StepProgress(
            step_id=str(i),
            description=f"{TITLES[i % 4]} {i}",
            status="completed_with_warning" if i % 2 else "completed",
            attempts=1 + i % 2,
            auto_actions=[
                "Gates after the step: ruff: 1 issue",
                "Fix attempt 1: gates still failing",
            ]
            if i % 2
            else ["Formatted 2 files"],
            quality_gates=["ruff: passed", "pytest: 12 passed"],
        )
        for i in range(1, steps + 1)
    ]
    issues = [
        ProgressIssue(
            timestamp="2026-01-01T00:00:00Z",
            type="test_failure" if i % 4 == 1 else "dependency_error",
            step_id=str(i),
            description="Failed to install some-client" if i % 4 == 3 else f"test_{i} failed",
            details="Traceback (most recent call last):\n" + "  line\n" * 30,
            severity="high",
            action_taken="Logged, continued to next step",
        )
        for i in range(1, steps + 1, 2)
    ]
    decision = Decision(step_id="4", question=f"q{n}?", asked_at="2026-01-01T00:00:00Z")
    return Progress(
        ticket=TicketProgress(name=name, status="completed_with_issues"),
        implementation_steps=records,
        issues=issues,
        decisions=[decision],
    )


def _time(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(first run, median of the next `repeat`)."""
    start = time.perf_counter()
    func()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm)


def _cli_check(root: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "exec_auto", "check", "bench"],
        cwd=root,
        env=ENV,
        capture_output=True,
        check=False,
    )


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--archived", default="0,20,100", help="comma-separated counts")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    counts = sorted({int(c) for c in args.archived.split(",")})
    rows = []
    with tempfile.TemporaryDirectory(prefix="exec-auto-bench-") as tmp:
        root = Path(tmp)
        for i in range(args.files):
            folder = root / f"pkg{i // 500}"
            folder.mkdir(exist_ok=True)
            (folder / f"mod{i}.py").write_text(f"VALUE = {i}\n")
        ticket = root / "specs" / "tickets" / "bench"
        ticket.mkdir(parents=True)
        (ticket / "plan.md").write_text(_plan(args.steps))
        _git(root, "init", "-q")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "init")
        _cli_check(root)  # byte-compiles exec-auto, fills the OS caches
        ref = TicketRef("bench", root)
        config = build_config(root)
        made = 0
        for count in counts:
            for n in range(made, count):
                folder = root / "specs" / "archive" / f"t{n}"
                folder.mkdir(parents=True)
                (folder / "plan.md").write_text(_plan(2))
                save_progress(folder / "progress.yaml", _progress(f"t{n}", n))
            made = max(made, count)
            # Cold = the first read after these tickets were archived (what a new run meets once).
            cli = _time(lambda: _cli_check(root), args.repeat)
            check = _time(lambda: check_ticket(ref, config), args.repeat)
            history = _time(lambda: collect(root, exclude=["bench"]), args.repeat)
            pitfalls = _time(lambda: prompt_pitfalls(root, "bench"), args.repeat)
            rows.append((count, cli, check, history, pitfalls))
    print(f"{args.files} files, {args.steps}-step plan; seconds, first run / median of next")
    print(
        f"{'archived':>8}  {'exec-auto check':>17}  {'check()':>15}  {'history':>15}  {'pitfalls':>15}"
    )
    for count, *cells in rows:
        shown = "  ".join(f"{cold:>7.3f} /{warm:>7.3f}" for cold, warm in cells)
        print(f"{count:>8}  {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
