"""Gate time per step on a real open-source project, selection on, against its full-suite time.

Takes pallets/click (about 2,000 tests; `click/__init__.py` imports every module, so the static
import graph selects the whole suite for any change), copies it into a temp dir, makes the project's
own venv (`pip install -e . pytest`, nothing of exec-auto's), and runs one ticket through the real
CLI with a scripted command agent: each step makes a small body edit to one function of one module
(the edits keep behaviour, so no fix loop runs). Then it prints, per step, the test gate's time (from
progress.yaml), the selection it used, and the ratio to the project's full suite run directly.

Where the project comes from (nothing of it is committed here):

- default: `pip download --no-deps --no-binary :all: click==8.5.1` (the sdist ships the tests);
- `--source PATH`: a git repository or directory, e.g. a mirror made with
  `git clone https://github.com/pallets/click`.

    .venv/bin/python benchmarks/gates_real.py [--source PATH] [--keep] [--sandbox auto|on|off]

The project's environment has no `coverage`, so the baseline records with exec-auto's own (lent to
the run); `--project-coverage` installs coverage into the project's venv instead.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from exec_auto.config import GatesConfig
from exec_auto.gates.base import GateContext
from exec_auto.gates.python import PythonGates

CLICK = "click==8.5.1"
# One function per step: (module, qualified name). Chosen across the package, from functions few
# tests reach to ones nearly every test runs; each step's edit is a no-op statement in the body.
EDITS = [
    ("src/click/termui.py", "style"),
    ("src/click/formatting.py", "HelpFormatter.write_usage"),
    ("src/click/shell_completion.py", "_resolve_context"),
    ("src/click/core.py", "Context.ensure_object"),
    ("src/click/parser.py", "_split_opt"),
    ("src/click/types.py", "IntRange._clamp"),
    ("src/click/utils.py", "echo"),
    ("src/click/exceptions.py", "UsageError.show"),
    ("src/click/_termui_impl.py", "ProgressBar.render_progress"),
    ("src/click/core.py", "Command.parse_args"),
]

AGENT = r"""
import ast, os, sys
edits = {EDITS!r}
step = int(os.environ["EXEC_AUTO_STEP_ID"])
rel, qualname = edits[step - 1]
text = open(rel, encoding="utf-8").read()
tree = ast.parse(text)
node = tree
for part in qualname.split("."):
    node = next(n for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                and n.name == part and n is not node)
body = node.body
first = body[1] if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(
    getattr(body[0], "value", None), ast.Constant) else body[0]
lines = text.splitlines(keepends=True)
indent = " " * first.col_offset
lines.insert(first.lineno - 1, f"{{indent}}_step_{{step}} = {{step}}  # exec-auto benchmark edit\n")
open(rel, "w", encoding="utf-8").write("".join(lines))
"""

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}


def sh(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command, failing loudly with its output."""
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env or GIT_ENV)
    if result.returncode != 0:
        sys.exit(
            f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result


def fetch(source: str | None, into: Path) -> str:
    """Copy the project into `into`; returns where it came from."""
    if source:
        origin = Path(source)
        if (origin / "HEAD").is_file() or (origin / ".git").exists():
            sh(["git", "clone", "-q", str(origin), str(into)], cwd=into.parent)
            commit = sh(["git", "rev-parse", "HEAD"], cwd=into).stdout.strip()
            shutil.rmtree(into / ".git")
            return f"{source} at {commit[:12]}"
        shutil.copytree(origin, into)
        return source
    download = into.parent / "sdist"
    download.mkdir()
    sh(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", CLICK],
        cwd=download,
    )
    (archive,) = download.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(download, filter="data")
    (unpacked,) = (p for p in download.iterdir() if p.is_dir())
    unpacked.rename(into)
    return f"PyPI sdist {archive.name}"


def prepare(root: Path, project_coverage: bool) -> None:
    """The project's own venv, a committed repo, and a one-ticket plan with one step per edit."""
    sh([sys.executable, "-m", "venv", str(root / ".venv")], cwd=root)
    packages = ["-e", ".", "pytest", *(["coverage"] if project_coverage else [])]
    sh([str(root / ".venv/bin/python"), "-m", "pip", "install", "-q", *packages], cwd=root)
    with (root / "pyproject.toml").open("a", encoding="utf-8") as handle:
        # Only the test gate: the project's ruff/pre-commit hooks need network or tools not in
        # its venv, which is not what this benchmark measures.
        handle.write('\n[tool.exec-auto.gates]\nformat = false\nlint = false\nrunner = "venv"\n')
    (root / ".gitignore").open("a", encoding="utf-8").write("\n.venv/\n")
    ticket = root / "specs" / "tickets" / "bench"
    ticket.mkdir(parents=True)
    steps = "\n".join(
        f"### Step {i}: Adjust {name} in {rel}\n\nAdd a local marker statement to `{name}` in"
        f" `{rel}`; keep its behaviour.\n"
        for i, (rel, name) in enumerate(EDITS, 1)
    )
    (ticket / "plan.md").write_text(
        "# Implementation Plan: bench\n\n## Executive Summary\n\nSmall edits, one module per"
        f" step.\n\n## Implementation Steps\n\n{steps}",
        encoding="utf-8",
    )
    (ticket / "spec.yaml").write_text(
        "title: bench\nacceptance_criteria:\n  - criterion: the suite passes\n"
        "    verify: \".venv/bin/python -c 'import click'\"\nticket:\n  status: planned\n",
        encoding="utf-8",
    )
    (root / "agent.py").write_text(AGENT.format(EDITS=EDITS), encoding="utf-8")
    (root / "CLAUDE.md").write_text(
        "# Conventions\nKeep behaviour; small edits.\n", encoding="utf-8"
    )
    sh(["git", "init", "-q"], cwd=root)
    sh(["git", "add", "-A"], cwd=root)
    sh(["git", "commit", "-q", "-m", "bench"], cwd=root)


def full_suite(root: Path) -> tuple[float, str]:
    """Seconds of the project's own full suite, run directly, and pytest's last line."""
    start = time.perf_counter()
    result = subprocess.run(
        [str(root / ".venv/bin/python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start, (result.stdout.strip().splitlines() or [""])[-1]


_DURATION = re.compile(r"\[(\d+(?:\.\d+)?) s[;\]]")


def pytest_line(lines: list[str]) -> str:
    """The test gate's line among a step's quality_gates."""
    return next((line for line in lines if line.startswith(("Pytest", "Unittest"))), "")


def seconds(line: str) -> float:
    """The gate duration in a line ('... [3.2 s; pytest 8.3 ...]')."""
    match = _DURATION.search(line)
    return float(match.group(1)) if match else 0.0


def run_ticket(root: Path, sandbox: str) -> tuple[float, dict[str, Any]]:
    """Run the ticket through the real CLI; wall seconds and the progress document."""
    argv = [sys.executable, "-m", "exec_auto", "run", "bench", "--agent", "command"]
    argv += ["--agent-command", f"{sys.executable} agent.py", "--force", "--no-archive"]
    argv += ["--sandbox", sandbox, "--fix-attempts", "0"]
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=GIT_ENV)
    wall = time.perf_counter() - start
    progress = root / "specs" / "tickets" / "bench" / "progress.yaml"
    if not progress.is_file():
        sys.exit(f"exec-auto exited {result.returncode} without progress:\n{result.stdout[-3000:]}")
    document: dict[str, Any] = YAML(typ="safe").load(progress.read_text(encoding="utf-8"))
    return wall, document


def main() -> int:
    """Fetch, prepare, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", help="git repository or directory of click (default: PyPI sdist)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp project")
    parser.add_argument("--sandbox", default="auto", choices=("auto", "on", "off"))
    parser.add_argument("--project-coverage", action="store_true")
    parser.add_argument("--full-runs", type=int, default=2, help="direct full-suite runs (median)")
    parser.add_argument(
        "--no-cpu", action="store_true", help="skip the CPU-seconds replay of the same steps"
    )
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="exec-auto-real-"))
    root = base / "click"
    try:
        origin = fetch(args.source, root)
        prepare(root, args.project_coverage)
        # Before and after the ticket, so a machine whose load drifts is measured on both sides.
        runs = [full_suite(root) for _ in range(max(1, args.full_runs // 2))]
        wall, progress = run_ticket(root, args.sandbox)
        sh(["git", "checkout", "-q", "HEAD", "--", "src"], cwd=root)
        runs += [full_suite(root) for _ in range(max(1, args.full_runs - len(runs)))]
        full = statistics.median(r[0] for r in runs)
        report(origin, runs[-1][1], [r[0] for r in runs], full, wall, progress)
        if not args.no_cpu:
            cpu_table(root)
    finally:
        if args.keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_table(root: Path) -> None:
    """The same steps again in-process, in CPU seconds of the gates' child processes.

    Wall time on a shared machine moves with other people's load; the CPU the test runs consume
    does not, so this table is the like-for-like comparison. Same gates, same edits, same order.
    """
    config = GatesConfig(runner="venv", format=False, lint=False, gate_timeout=1800)
    gates = PythonGates(config)
    start = _child_cpu()
    gates.baseline(GateContext(root, (), None, config))
    baseline = _child_cpu() - start
    start = _child_cpu()
    gates.final(GateContext(root, (), None, config))
    full = _child_cpu() - start
    print(f"CPU seconds: full suite {full:.1f}; baseline recording the map {baseline:.1f}")
    print(f"{'step':>4} {'module':<30} {'cpu s':>7} {'ratio':>6} {'tests':>6}")
    ratios = []
    for step, (rel, _name) in enumerate(EDITS, 1):
        sh([sys.executable, "agent.py"], cwd=root, env={**GIT_ENV, "EXEC_AUTO_STEP_ID": str(step)})
        start = _child_cpu()
        gate = gates.after_step(GateContext(root, (rel,), str(step), config))
        used = _child_cpu() - start
        ratios.append(used / full)
        print(f"{step:>4} {rel:<30} {used:>7.1f} {used / full:>6.2f} {gate.tests.run:>6}")
    print(f"median CPU gate / full suite: {statistics.median(ratios):.2f} (goal <= 0.30)")
    sh(["git", "checkout", "-q", "HEAD", "--", "src"], cwd=root)


def report(
    origin: str,
    summary: str,
    fulls: list[float],
    full: float,
    wall: float,
    progress: dict[str, Any],
) -> None:
    """The per-step table and the median ratio."""
    gates: dict[str, str] = dict(progress.get("quality_gates") or {})
    baseline = next((v for k, v in gates.items() if k.startswith("baseline: pytest")), "")
    final = next((v for k, v in gates.items() if k.startswith("final: pytest")), "")
    shown = ", ".join(f"{f:.1f}" for f in fulls)
    print(f"Project: click ({origin}); {summary}")
    print(f"Full suite run directly: {full:.1f} s (median of {shown})")
    print(f"Baseline through exec-auto (recording the map): {seconds(baseline):.1f} s")
    print(f"Final gate (whole suite through exec-auto, not recording): {seconds(final):.1f} s")
    print(f"{'step':>4} {'module':<30} {'gate s':>7} {'ratio':>6} {'tests':>6}  selection")
    ratios = []
    for step in progress.get("implementation_steps") or []:
        line = pytest_line(list(step.get("quality_gates") or []))
        index = int(step["step_id"]) - 1
        rel = EDITS[index][0] if 0 <= index < len(EDITS) else "?"
        gate = seconds(line)
        ratio = gate / full if full else 0.0
        ratios.append(ratio)
        ran = re.search(r": (\d+)/(\d+) tests passed", line)
        count = ran.group(2) if ran else ("0" if "Not applicable" in line else "?")
        scope = line.split(" (", 1)[1].rsplit(" [", 1)[0].rstrip(")") if " (" in line else line
        status = "" if step.get("status") == "completed" else f" [{step.get('status')}]"
        print(
            f"{step['step_id']:>4} {rel:<30} {gate:>7.1f} {ratio:>6.2f} {count:>6}  {scope[:80]}{status}"
        )
    if ratios:
        print(f"median gate / full suite: {statistics.median(ratios):.2f} (goal <= 0.30)")
        if seconds(final):
            per_final = statistics.median(
                seconds(pytest_line(list(s.get("quality_gates") or []))) / seconds(final)
                for s in progress.get("implementation_steps") or []
            )
            print(f"median gate / final gate (same path, same minute): {per_final:.2f}")
    print(f"whole ticket wall time: {wall:.1f} s")


if __name__ == "__main__":
    raise SystemExit(main())
