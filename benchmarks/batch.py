"""Batch wall time, serial vs. parallel worktrees, and the harness's own overhead per step.

Runs the real CLI (`python -m exec_auto run ...`) in fresh temp git repos with a command agent that
sleeps a fixed time per step (a stand-in for LLM latency) and writes one file, gates off:

1. `--tickets` tickets of `--steps` steps with a `--sleep` second agent: serial vs. `--parallel N`
   (N = the number of tickets), printed with the ratio.
2. One ticket of `--long-steps` steps with a `--long-sleep` second agent: the wall time minus the
   bare sum of agent sleeps, per step (startup, snapshots, progress writes, report, archive).

    .venv/bin/python benchmarks/batch.py [--tickets 8] [--steps 3] [--sleep 1]
                                         [--long-steps 20] [--long-sleep 0.5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}


def git(root: Path, *args: str) -> None:
    """Run git quietly in root (raises on failure)."""
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=GIT_ENV)


def make_repo(root: Path, tickets: int, steps: int) -> list[str]:
    """A committed project with `tickets` tickets of `steps` steps each; returns their names."""
    names = [f"t{i:02d}" for i in range(1, tickets + 1)]
    root.mkdir(parents=True)
    (root / "README.md").write_text("bench\n")
    (root / "CLAUDE.md").write_text("# Conventions\n")
    body = "\n".join(f"### Step {i}: Step {i}\n\nWrite file {i}.\n" for i in range(1, steps + 1))
    for name in names:
        folder = root / "specs" / "tickets" / name
        folder.mkdir(parents=True)
        (folder / "plan.md").write_text(f"# Implementation Plan: {name}\n\n## Steps\n\n{body}")
        (folder / "spec.yaml").write_text(
            f"title: {name}\nacceptance_criteria:\n  - criterion: done\n"
            f'    verify: "test -f {name}-1.txt"\nticket:\n  status: planned\n'
        )
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return names


def run_cli(root: Path, names: list[str], sleep: float, *extra: str) -> float:
    """Wall seconds of one `exec-auto run` over names (exit 0 expected)."""
    agent = f'sleep {sleep}; echo x > "$EXEC_AUTO_TICKET-$EXEC_AUTO_STEP_ID.txt"'
    argv = [sys.executable, "-m", "exec_auto", "run", *names, "--agent", "command"]
    argv += ["--agent-command", agent, "--no-gates", *extra]
    start = time.monotonic()
    result = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=GIT_ENV)
    wall = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"exec-auto exited {result.returncode}:\n{result.stdout[-2000:]}{result.stderr}")
    return wall


def main() -> None:
    """Run both measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--long-steps", type=int, default=20)
    parser.add_argument("--long-sleep", type=float, default=0.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exec-auto-bench-") as tmp:
        base = Path(tmp)
        report = ["--report-dir", str(base / "reports")]
        names = make_repo(base / "serial", args.tickets, args.steps)
        serial = run_cli(base / "serial", names, args.sleep, *report)
        names = make_repo(base / "parallel", args.tickets, args.steps)
        parallel = run_cli(
            base / "parallel", names, args.sleep, "--parallel", str(args.tickets), *report
        )
        names = make_repo(base / "long", 1, args.long_steps)
        long_wall = run_cli(base / "long", names, args.long_sleep)
    agent_total = args.tickets * args.steps * args.sleep
    long_agent = args.long_steps * args.long_sleep
    print(f"batch: {args.tickets} tickets x {args.steps} steps, agent {args.sleep:g} s/step")
    print(f"{'mode':<22}{'wall s':>10}{'agent s':>10}")
    print(f"{'serial':<22}{serial:>10.1f}{agent_total:>10.1f}")
    print(f"{f'--parallel {args.tickets}':<22}{parallel:>10.1f}{agent_total:>10.1f}")
    print(f"speed-up (serial / parallel): {serial / parallel:.1f}x")
    print()
    print(
        f"overhead: 1 ticket x {args.long_steps} steps, agent {args.long_sleep:g} s/step, gates off"
    )
    print(f"{'wall s':>10}{'agent s':>10}{'overhead s':>12}{'per step s':>12}")
    over = long_wall - long_agent
    print(f"{long_wall:>10.1f}{long_agent:>10.1f}{over:>12.2f}{over / args.long_steps:>12.3f}")


if __name__ == "__main__":
    main()
