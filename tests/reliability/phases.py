"""Signals in every phase of a run, shared by tests/reliability/test_signals.py and the benchmark.

A gated two-step ticket whose parts are slow on purpose, so a signal can be sent while each phase
is under way, and hostile where it counts: the agent ignores SIGTERM, and the project's test
ignores SIGTERM too (pytest, like every child, runs in a session of its own, so a terminal's
Ctrl-C never reaches it: exec-auto must stop it).

Phases and how a case knows it is in one:
- `startup`: the baseline pytest run before step 1 (a pytest in the project, no agent call yet);
- `agent`: step 1's agent call (the agent wrote its start marker and sleeps);
- `gate`: pytest run as the gate after step 1's agent call;
- `fix`: the fix attempt step 1's failing test asks for (the fix call's start marker);
- `criteria`: the criterion's verify command (`sleep 1.7 && ...`) is running;
- `report`: the report is being written (an exact fault point, `EXEC_AUTO_KILL_SIGNAL`).

Signals, as a terminal or a supervisor sends them to exec-auto's process group: `INT`, `INT2`
(a second Ctrl-C 0.3 s later, inside the kill grace period), `TERM`, `HUP`. Every case must end
with exit 128 + the signal (130, 143, 129), no process of the run alive, progress.yaml saved and
parseable (status `interrupted` once a record exists), and a rerun that finishes the ticket
without redoing a finished step.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import init_repo, plan_text
from tests.reliability.sweep import (
    AGENT,
    ARCHIVED,
    TICKET,
    is_pytest,
    processes_in,
    wait_no_processes,
)

PHASES = ("startup", "agent", "gate", "fix", "criteria", "report")
SIGNALS = ("INT", "INT2", "TERM", "HUP")
EXIT = {"INT": 130, "INT2": 130, "TERM": 143, "HUP": 129}
SLOW = 1.5
VERIFY_SLEEP = "1.7"


def behaviour(work: Path) -> dict[str, list[dict[str, object]]]:
    """Step 1 writes a failing test (so a fix attempt follows); every call is slow and hostile."""
    wrong = "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 6\n"
    right = wrong.replace("== 6", "== 5")
    return {
        "1": [
            {"ignore_term": True},
            {"marker": str(work / "agent-1")},
            {"sleep": SLOW},
            {"write": "calc/ops.py", "text": "def add(a, b):\n    return a + b\n"},
            {"write": "tests/test_ops.py", "text": wrong},
            {"marker": str(work / "agent-1-done")},
        ],
        "fix:1": [
            {"ignore_term": True},
            {"marker": str(work / "fix-1")},
            {"sleep": SLOW},
            {"write": "tests/test_ops.py", "text": right},
        ],
        "2": [{"write": "calc/more.py", "text": "def mul(a, b):\n    return a * b\n"}],
    }


def build_project(root: Path) -> Path:
    """A committed project: two steps, a criterion with a slow verify command, a stubborn test."""
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "tests" / "test_base.py").write_text(
        textwrap.dedent(
            """\
            import signal
            import time


            def test_base():
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                time.sleep(1.0)
            """
        )
    )
    (root / "pyproject.toml").write_text(
        '[project]\nname = "calc"\nversion = "0"\n'
        '[tool.ruff.lint]\nselect = ["E", "F"]\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
    )
    (root / ".gitignore").write_text(".pytest_cache/\n__pycache__/\n.ruff_cache/\n")
    ticket = root / TICKET
    ticket.mkdir(parents=True)
    (ticket / "plan.md").write_text(plan_text(["Add", "Multiply"]))
    (ticket / "spec.yaml").write_text(
        'title: "Calc"  # keep\nacceptance_criteria:\n'
        f'  - criterion: mul exists\n    verify: "sleep {VERIFY_SLEEP} && test -f calc/more.py"\n'
        "ticket:\n  type: feature\n  status: planned\n"
    )
    init_repo(root)
    return root


def shared_template(work: Path) -> Path:
    """The template project, built once per work dir even by several processes (xdist)."""
    from filelock import FileLock

    work.mkdir(parents=True, exist_ok=True)
    template = work / "template"
    with FileLock(str(work / "template.lock")):
        if not (template / ".git").is_dir():
            build_project(template)
    return template


def _argv(work: Path) -> list[str]:
    agent = (
        f"SCRIPT_AGENT_LOG={work / 'calls.jsonl'} "
        f"SCRIPT_AGENT_BEHAVIOUR={work / 'behaviour.json'} {sys.executable} {AGENT}"
    )
    argv = [sys.executable, "-m", "exec_auto", "run", "feature-x", "--agent", "command"]
    return [*argv, "--agent-command", agent, "--force", "--no-install"]


def _env(work: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    (work / "behaviour.json").write_text(json.dumps(behaviour(work)))
    env = {**os.environ, "EXEC_AUTO_SANDBOX_WRITABLE": str(work)}
    for name in ("EXEC_AUTO_KILL_AT", "EXEC_AUTO_KILL_COUNT", "EXEC_AUTO_KILL_SIGNAL"):
        env.pop(name, None)
    env.update(extra or {})
    return env


def _cmdlines(root: Path) -> list[str]:
    out = []
    for pid in processes_in(root):
        try:
            out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return out


def in_phase(phase: str, root: Path, work: Path) -> bool:
    """Whether the run in root is now in phase (timed phases only)."""
    if phase == "agent":
        return (work / "agent-1").exists()
    if phase == "fix":
        return (work / "fix-1").exists()
    lines = _cmdlines(root)
    if phase == "criteria":
        return any(f"sleep {VERIFY_SLEEP}" in line for line in lines)
    pytest = any(is_pytest(line) for line in lines)
    if phase == "startup":
        return pytest and not (work / "agent-1").exists()
    if phase == "gate":
        return pytest and (work / "agent-1-done").exists() and not (work / "fix-1").exists()
    raise ValueError(phase)


@dataclass
class Result:
    """What one interrupted run and its rerun did."""

    code: int
    out: str
    problems: list[str]


def _report_point(work: Path, template: Path) -> int:
    """The fault point just before report.md is written, counted once per template."""
    from filelock import FileLock

    cache = template.parent / "report-point.txt"
    with FileLock(str(template.parent / "report-point.lock")):
        if not cache.exists():
            cache.write_text(str(_count_report_point(work, template)))
    return int(cache.read_text())


def _count_report_point(work: Path, template: Path) -> int:
    import shutil

    root = work / "count"
    shutil.copytree(template, root, symlinks=True)
    counts = work / "points.txt"
    subprocess.run(
        _argv(work),
        cwd=root,
        env=_env(work, {"EXEC_AUTO_KILL_COUNT": str(counts)}),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    lines = counts.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if "before replacing report.md" in line)


def interrupt(template: Path, work: Path, phase: str, sig: str) -> Result:
    """Run a copy of the template, send sig in phase, then check the end state and a rerun."""
    import shutil

    root = work / "project"
    shutil.copytree(template, root, symlinks=True)
    logs = work / "logs"
    logs.mkdir()
    extra = {}
    if phase == "report":
        names = "INT,INT" if sig == "INT2" else sig
        extra = {
            "EXEC_AUTO_KILL_AT": str(_report_point(work, template)),
            "EXEC_AUTO_KILL_SIGNAL": names,
        }
    proc = subprocess.Popen(
        _argv(logs),
        cwd=root,
        env=_env(logs, extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        # Its own process group, as a shell starts it: signals go to the whole group.
        start_new_session=True,
    )
    problems: list[str] = []
    try:
        if phase != "report":
            deadline = time.monotonic() + 240
            while not in_phase(phase, root, logs):
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    return Result(proc.returncode or 0, out, [f"never reached {phase}: {out}"])
                time.sleep(0.02)
            _send(proc.pid, sig)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out = proc.stdout.read().decode() if proc.stdout else ""
    label = f"{phase}/{sig}"
    if proc.returncode != EXIT[sig]:
        problems.append(f"{label}: exit {proc.returncode}, expected {EXIT[sig]}: {out[-600:]}")
    if "Traceback" in out or "internal error" in out:
        problems.append(f"{label}: traceback or internal error: {out[-600:]}")
    survivors = wait_no_processes(root)
    if survivors:
        problems.append(f"{label}: still alive after exit: {_cmdlines(root)}")
        for pid in survivors:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    problems += _progress_saved(root, label)
    finished = _finished(root)
    problems += _rerun(root, logs, label, finished)
    return Result(proc.returncode, out, problems)


def _send(pid: int, sig: str) -> None:
    if sig == "INT2":
        os.killpg(pid, signal.SIGINT)
        time.sleep(0.3)  # inside the kill grace period
        os.killpg(pid, signal.SIGINT)
        return
    os.killpg(pid, signal.Signals[f"SIG{sig}"])


def _progress(root: Path) -> dict[str, object] | None:
    from ruamel.yaml import YAML

    for folder in (root / TICKET, root / ARCHIVED):
        path = folder / "progress.yaml"
        if path.is_file():
            data = YAML(typ="safe").load(path.read_text())
            return data if isinstance(data, dict) else {"unparsed": True}
    return None


def _progress_saved(root: Path, label: str) -> list[str]:
    try:
        data = _progress(root)
    except Exception as exc:  # a progress file that does not parse is the finding
        return [f"{label}: progress.yaml does not parse: {exc}"]
    if data is None:
        return [f"{label}: no progress.yaml was saved"]
    ticket = data.get("ticket")
    status = ticket.get("status") if isinstance(ticket, dict) else None
    if status != "interrupted":
        return [f"{label}: progress status is {status!r}, not 'interrupted'"]
    return []


def _finished(root: Path) -> set[str]:
    data = _progress(root) or {}
    steps = data.get("implementation_steps")
    if not isinstance(steps, list):
        return set()
    return {
        str(s.get("step_id"))
        for s in steps
        if isinstance(s, dict)
        and s.get("status") in {"completed", "completed_with_warning", "failed", "skipped"}
    }


def _rerun(root: Path, logs: Path, label: str, finished: set[str]) -> list[str]:
    log = logs / "calls.jsonl"
    before = len(log.read_text().splitlines()) if log.exists() else 0
    done = subprocess.run(
        _argv(logs),
        cwd=root,
        env=_env(logs),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    problems = []
    if done.returncode not in (0, 1):
        problems.append(f"{label}: the rerun exited {done.returncode}: {done.stderr[-600:]}")
    calls = [json.loads(x) for x in (logs / "calls.jsonl").read_text().splitlines()[before:]]
    redone = sorted({c["step"] for c in calls if c["kind"] == "step" and c["step"] in finished})
    if redone:
        problems.append(f"{label}: the rerun redid finished step(s) {redone}")
    if not (root / ARCHIVED).is_dir():
        problems.append(f"{label}: the rerun did not finish the ticket: {done.stdout[-400:]}")
    if wait_no_processes(root):
        problems.append(f"{label}: the rerun left processes behind")
    return problems
