"""The sandbox's cost, and exec-auto's memory under a flood of output.

Runs the real CLI (`python -m exec_auto run ...`) in fresh temp git repos with a command agent, gates
on (ruff and pytest really run, inside the sandbox when it is on):

1. One ticket of `--steps` steps with a `--sleep` second agent that writes one module and its test:
   `--sandbox on` vs `--sandbox off`, wall time and ratio (goal <= 1.05). Repeated `--rounds` times,
   alternating, best of each reported, so machine noise hits both sides alike.
2. What one contained command costs: `bwrap <the run's policy> true` vs `true`, median of 50 each.
3. An agent printing `--flood-mb` MB to stdout, and separately a test suite whose pytest run prints
   `--flood-mb` MB (the gates run it): exec-auto's own peak resident memory, ru_maxrss of the
   `exec-auto run` process (goal < 200 MB), and the size of the biggest output log it wrote.

    .venv/bin/python benchmarks/sandbox.py [--steps 20] [--sleep 0.5] [--rounds 3] [--flood-mb 500]
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

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}
# Peak RSS of exec-auto itself, printed by this wrapper when the run ends.
_MEASURE = (
    "import resource, sys\n"
    "from exec_auto.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def git(root: Path, *args: str) -> None:
    """Run git quietly in root (raises on failure)."""
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=GIT_ENV)


def make_repo(root: Path, steps: int) -> None:
    """A committed Python project with one ticket of `steps` steps."""
    root.mkdir(parents=True)
    (root / "README.md").write_text("bench\n")
    (root / "CLAUDE.md").write_text("# Conventions\n")
    (root / "pyproject.toml").write_text('[project]\nname = "bench"\nversion = "0"\n')
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "tests").mkdir()
    body = "\n".join(f"### Step {i}: Step {i}\n\nWrite module {i}.\n" for i in range(1, steps + 1))
    folder = root / "specs" / "tickets" / "bench"
    folder.mkdir(parents=True)
    (folder / "plan.md").write_text(f"# Implementation Plan: bench\n\n## Steps\n\n{body}")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")


def run_cli(root: Path, agent: str, *extra: str) -> tuple[float, int, str]:
    """Wall seconds, exec-auto's peak RSS in KB, and the output tail of one run."""
    argv = [sys.executable, "-c", _MEASURE, "run", "bench", "--agent", "command"]
    argv += ["--agent-command", agent, "--no-archive", "--force", *extra]
    start = time.monotonic()
    result = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=GIT_ENV)
    wall = time.monotonic() - start
    if result.returncode not in (0, 1):
        sys.exit(f"exec-auto exited {result.returncode}:\n{result.stdout[-2000:]}{result.stderr}")
    rss = next(
        (
            int(line.split()[1])
            for line in result.stderr.splitlines()
            if line.startswith("MAXRSS_KB")
        ),
        0,
    )
    return wall, rss, result.stdout[-500:]


def steps_agent(sleep: float) -> str:
    """A shell agent: sleeps, then writes app/m<step>.py and its test."""
    return (
        f"sleep {sleep}; "
        'printf "def f():\\n    return $EXEC_AUTO_STEP_ID\\n" > app/m$EXEC_AUTO_STEP_ID.py; '
        'printf "from app.m$EXEC_AUTO_STEP_ID import f\\n\\n\\ndef test_f():\\n'
        '    assert f() == $EXEC_AUTO_STEP_ID\\n" > tests/test_m$EXEC_AUTO_STEP_ID.py'
    )


def command_cost(root: Path, count: int = 50) -> tuple[float, float]:
    """Median ms of `true` inside the run's sandbox (the tools' variant) and outside it."""
    from exec_auto import proc
    from exec_auto.config import SandboxConfig
    from exec_auto.sandbox.session import open_sandbox

    box, _ = open_sandbox(root, root / "specs" / "tickets" / "bench", SandboxConfig(mode="on"))
    assert box is not None
    inside, outside = [], []
    try:
        for _ in range(count):
            start = time.perf_counter()
            proc.run(["true"], cwd=root, sandbox=box.for_tools())
            inside.append(time.perf_counter() - start)
            start = time.perf_counter()
            proc.run(["true"], cwd=root, sandbox=None)
            outside.append(time.perf_counter() - start)
    finally:
        box.close()
    return statistics.median(inside) * 1000, statistics.median(outside) * 1000


def biggest_log(root: Path) -> int:
    """Bytes of the largest output log the run left under .git/exec-auto/logs."""
    logs = root / ".git" / "exec-auto" / "logs"
    return max((p.stat().st_size for p in logs.rglob("*.log")), default=0)


def gate_flood_repo(root: Path, mb: int) -> None:
    """A project whose test run prints `mb` MB once pytest is done (past its own capture)."""
    make_repo(root, 1)
    (root / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    (root / "tests" / "conftest.py").write_text(
        "import os\n\n\n"
        "def pytest_unconfigure(config):\n"
        "    chunk = b'y' * 1048575 + b'\\n'\n"
        f"    for _ in range({mb}):\n"
        "        os.write(1, chunk)\n"
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "flooding tests")


def main() -> None:
    """Run both measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--sleep", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flood-mb", type=int, default=500)
    args = parser.parse_args()
    from exec_auto.sandbox.backend import first_usable

    backend, reasons = first_usable()
    if backend is None:
        sys.exit(f"no usable sandbox here: {'; '.join(reasons)}")
    best = {"on": float("inf"), "off": float("inf")}
    with tempfile.TemporaryDirectory(prefix="exec-auto-bench-sandbox-") as tmp:
        for n in range(args.rounds):
            for mode in ("on", "off") if n % 2 == 0 else ("off", "on"):
                root = Path(tmp) / f"r{n}-{mode}"
                make_repo(root, args.steps)
                wall, _, _ = run_cli(root, steps_agent(args.sleep), "--sandbox", mode)
                best[mode] = min(best[mode], wall)
        cost_root = Path(tmp) / "cost"
        make_repo(cost_root, 1)
        cost_on, cost_off = command_cost(cost_root)
        flood_root = Path(tmp) / "flood"
        make_repo(flood_root, 1)
        flood = (
            f"{sys.executable} -c \"import sys; c = b'x' * 1048575 + b'\\n'; "
            f'[sys.stdout.buffer.write(c) for _ in range({args.flood_mb})]"; echo ok > a.txt'
        )
        agent_wall, rss, _ = run_cli(flood_root, flood, "--no-gates", "--sandbox", "on")
        agent_log = biggest_log(flood_root)
        gate_root = Path(tmp) / "gate-flood"
        gate_flood_repo(gate_root, args.flood_mb)
        gate_wall, gate_rss, _ = run_cli(gate_root, "echo ok > a.txt", "--sandbox", "on")
        gate_log = biggest_log(gate_root)
    bare = args.steps * args.sleep
    print(f"\n{args.steps} steps, {args.sleep:g} s agent, gates on ({args.rounds} rounds, best):\n")
    print("| measurement | value |")
    print("|---|---|")
    print(f"| bare agent time | {bare:.1f} s |")
    print(f"| sandbox off | {best['off']:.1f} s |")
    print(f"| sandbox on ({backend.name}) | {best['on']:.1f} s |")
    print(f"| ratio on/off (goal <= 1.05) | {best['on'] / best['off']:.3f} |")
    print(
        f"| one contained command (`true`), median of 50 | {cost_on:.1f} ms vs {cost_off:.1f} ms |"
    )
    print(
        f"| exec-auto peak RSS, agent printing {args.flood_mb} MB (goal < 200 MB) | "
        f"{rss / 1024:.0f} MB ({agent_wall:.0f} s; largest log {agent_log / 1e6:.1f} MB) |"
    )
    print(
        f"| exec-auto peak RSS, each pytest run printing {args.flood_mb} MB (goal < 200 MB) | "
        f"{gate_rss / 1024:.0f} MB ({gate_wall:.0f} s; largest log {gate_log / 1e6:.1f} MB) |"
    )


if __name__ == "__main__":
    main()
