"""Batch wall time, serial vs. parallel worktrees, and the harness's own overhead per step.

Runs the real CLI (`python -m exec_auto run ...`) in fresh temp git repos with a command agent that
sleeps a fixed time per step (a stand-in for LLM latency) and writes one file, gates off:

1. `--tickets` tickets of `--steps` steps with a `--sleep` second agent: serial vs. `--parallel N`
   (N = the number of tickets), printed with the ratio.
2. Harness overhead: one ticket of `--long-steps` steps with a `--long-sleep` second agent, gates
   off, default config otherwise (snapshots, git guard, step history, readiness gate, red/green,
   report, archive). Side by side in one run: the bare agent (the same command run that many times
   by `sh -c`, no exec-auto), exec-auto with the sandbox on (bubblewrap, when usable) and with it
   off; each `--repeat` times, interleaved, the median shown. The goal is ratio <= 1.10.

    .venv/bin/python benchmarks/batch.py [--tickets 8] [--steps 3] [--sleep 1]
                                         [--long-steps 20] [--long-sleep 0.5] [--repeat 3]
                                         [--overhead-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# As installed by pip (byte-compiled): this machine's PYTHONDONTWRITEBYTECODE would make every
# run compile exec-auto's ~300 modules from source again (~0.5 s of CPU per run).
GIT_ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
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


def agent_command(sleep: float) -> str:
    """The stand-in agent: sleep, then write one file named after the ticket and step."""
    return f'sleep {sleep}; echo x > "$EXEC_AUTO_TICKET-$EXEC_AUTO_STEP_ID.txt"'


def run_bare(root: Path, steps: int, sleep: float) -> float:
    """Wall seconds of the agent command run `steps` times by `sh -c`, without exec-auto."""
    start = time.monotonic()
    for i in range(1, steps + 1):
        env = {**GIT_ENV, "EXEC_AUTO_TICKET": "bare", "EXEC_AUTO_STEP_ID": str(i)}
        subprocess.run(["sh", "-c", agent_command(sleep)], cwd=root, check=True, env=env)
    return time.monotonic() - start


def run_cli(root: Path, names: list[str], sleep: float, *extra: str) -> float:
    """Wall seconds of one `exec-auto run` over names (exit 0 expected)."""
    agent = agent_command(sleep)
    argv = [sys.executable, "-m", "exec_auto", "run", *names, "--agent", "command"]
    argv += ["--agent-command", agent, "--no-gates", *extra]
    start = time.monotonic()
    result = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=GIT_ENV)
    wall = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"exec-auto exited {result.returncode}:\n{result.stdout[-2000:]}{result.stderr}")
    return wall


def batch_table(base: Path, tickets: int, steps: int, sleep: float) -> None:
    """Serial vs. --parallel over the same tickets, printed with the speed-up."""
    report = ["--report-dir", str(base / "reports")]
    names = make_repo(base / "serial", tickets, steps)
    serial = run_cli(base / "serial", names, sleep, *report)
    names = make_repo(base / "parallel", tickets, steps)
    parallel = run_cli(base / "parallel", names, sleep, "--parallel", str(tickets), *report)
    agent_total = tickets * steps * sleep
    print(f"batch: {tickets} tickets x {steps} steps, agent {sleep:g} s/step")
    print(f"{'mode':<22}{'wall s':>10}{'agent s':>10}")
    print(f"{'serial':<22}{serial:>10.1f}{agent_total:>10.1f}")
    print(f"{f'--parallel {tickets}':<22}{parallel:>10.1f}{agent_total:>10.1f}")
    print(f"speed-up (serial / parallel): {serial / parallel:.1f}x")
    print()


def overhead_table(base: Path, steps: int, sleep: float, repeat: int) -> None:
    """Bare agent vs. exec-auto (sandbox on and off), interleaved, medians and ratios."""
    modes = {"bare agent (sh -c)": None, "exec-auto, sandbox on": "on"}
    modes["exec-auto, sandbox off"] = "off"
    walls: dict[str, list[float]] = {mode: [] for mode in modes}
    warm = make_repo(base / "warm-up", 1, 1)
    run_cli(base / "warm-up", warm, 0, "--force")  # byte-compiles, fills the OS caches
    for n in range(repeat):
        for mode, sandbox in modes.items():
            root = base / f"long-{n}-{sandbox or 'bare'}"
            names = make_repo(root, 1, steps)
            if sandbox is None:
                walls[mode].append(run_bare(root, steps, sleep))
            else:
                walls[mode].append(run_cli(root, names, sleep, "--sandbox", sandbox))
    bare = statistics.median(walls["bare agent (sh -c)"])
    print(
        f"overhead: 1 ticket x {steps} steps, agent {sleep:g} s/step, gates off "
        f"(median of {repeat}; goal: ratio <= 1.10)"
    )
    print(f"{'mode':<26}{'wall s':>9}{'ratio':>8}{'overhead s':>12}{'per step ms':>13}")
    for mode in modes:
        wall = statistics.median(walls[mode])
        over = wall - bare
        print(f"{mode:<26}{wall:>9.2f}{wall / bare:>8.3f}{over:>12.2f}{over / steps * 1000:>13.0f}")


def main() -> None:
    """Run the measurements and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--long-steps", type=int, default=20)
    parser.add_argument("--long-sleep", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=3, help="overhead runs per mode (median)")
    parser.add_argument("--overhead-only", action="store_true", help="skip the batch table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exec-auto-bench-") as tmp:
        base = Path(tmp)
        if not args.overhead_only:
            batch_table(base, args.tickets, args.steps, args.sleep)
        overhead_table(base, args.long_steps, args.long_sleep, max(args.repeat, 1))


if __name__ == "__main__":
    main()
