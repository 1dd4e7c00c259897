"""`run --interactive` through a real pseudo-terminal: every choice, pause points, and refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import init_repo

SCRIPT = Path(__file__).parent / "interactive_agent.py"
MENU = r"s\[t\]op: "
PLAN = """\
# Implementation Plan: Three notes

## Executive Summary

Three small files.

## Implementation Steps

### Step 1: Create the first file
**Outcome:** `step1.txt` exists (or `calc.py` with `add`).

### Step 2: Create the second file
**Outcome:** `step2.txt` exists.

### Step 3: Create the third file
**Outcome:** `step3.txt` exists.
"""
SPEC = """\
title: "Three notes"
acceptance_criteria:
  - criterion: "the third file exists"
    verify: "test -f step3.txt"
ticket:
  type: feature
  status: planned
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    folder = root / "specs" / "tickets" / "t"
    folder.mkdir(parents=True)
    (folder / "plan.md").write_text(PLAN)
    (folder / "spec.yaml").write_text(SPEC)
    (root / "README.md").write_text("x\n")
    init_repo(root)
    return root


def _argv(root: Path, mode: str, *extra: str) -> list[str]:
    agent = f"{sys.executable} {SCRIPT} {mode} {root.parent / 'prompts.jsonl'}"
    return [
        "-m", "exec_auto", "run", "t", "--interactive", "--agent", "command",
        "--agent-command", agent, "--no-archive", *extra,
    ]  # fmt: skip


def _spawn(root: Path, mode: str, *extra: str) -> pexpect.spawn:
    env = {**os.environ, "EXEC_AUTO_SANDBOX_WRITABLE": str(root.parent), "NO_COLOR": "1"}
    return pexpect.spawn(
        sys.executable,
        _argv(root, mode, *extra),
        cwd=str(root),
        env=env,
        encoding="utf-8",
        timeout=90,
        dimensions=(50, 200),
    )


def _finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def _progress(root: Path) -> str:
    return (root / "specs" / "tickets" / "t" / "progress.yaml").read_text()


def _prompts(root: Path) -> list[dict]:
    lines = (root.parent / "prompts.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_debug_after_a_test_failure_runs_another_fix_attempt_with_the_hint(project):
    tests = project / "tests"
    tests.mkdir()
    (tests / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    (project / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "calc"], cwd=project, check=True)
    child = _spawn(project, "bug", "--fix-attempts", "0")
    child.expect(r"Step 1 \(Create the first file\) ended with 1 problem\(s\)")
    child.expect("test_failure")
    child.expect("test_add")  # the evidence: which test, with its output
    child.expect(MENU)
    child.sendline("d")
    child.expect("hint for the agent")
    child.sendline("the sign is wrong")
    assert _finish(child) == 0
    fixes = [p for p in _prompts(project) if p["kind"] == "fix"]
    assert len(fixes) == 1 and "The developer says: the sign is wrong" in fixes[0]["prompt"]
    assert "test_add" in fixes[0]["prompt"]
    progress = _progress(project)
    assert "Debug attempt 1: gates passed" in progress
    assert "execution_mode: interactive" in progress


def test_continue_logs_the_runtime_error_and_goes_on(project):
    child = _spawn(project, "crash", "--no-gates")
    child.expect(r"Step 2 .* ended with 1 problem")
    child.expect("agent_error")
    child.expect("ConnectionError: could not reach the database")
    child.expect(MENU)
    child.sendline("c")
    assert _finish(child) == 1  # the failed step stays in the report
    assert (project / "step3.txt").exists()
    assert "status: failed" in _progress(project)


def test_skip_marks_the_step_skipped_and_goes_on(project):
    child = _spawn(project, "crash", "--no-gates")
    child.expect(MENU)
    child.sendline("s")
    assert _finish(child) == 1
    progress = _progress(project)
    assert "status: skipped" in progress and "Step skipped at the terminal" in progress
    assert (project / "step3.txt").exists()


def test_stop_ends_the_run_resumably(project):
    child = _spawn(project, "crash", "--no-gates")
    child.expect(MENU)
    child.sendline("t")
    assert _finish(child) == 1
    progress = _progress(project)
    assert "status: stopped" in progress and not (project / "step3.txt").exists()
    # A rerun picks the stopped step up again; this time the agent is fine.
    child = _spawn(project, "ok", "--no-gates")
    assert _finish(child) == 0
    assert (project / "step2.txt").exists() and (project / "step3.txt").exists()
    assert [p["step"] for p in _prompts(project)].count("1") == 1  # step 1 not redone


def test_an_unknown_key_is_asked_again(project):
    child = _spawn(project, "crash", "--no-gates")
    child.expect(MENU)
    child.sendline("x")
    child.expect("answer d, c, s or t")
    child.expect(MENU)
    child.sendline("c")
    assert _finish(child) == 1


def test_a_pause_point_is_answered_at_the_terminal(project):
    child = _spawn(project, "ask", "--no-gates")
    child.expect("Step 1 needs a decision")
    child.expect("Which queue?")
    child.expect("2. Celery")
    child.expect("Your decision")
    child.sendline("2")
    assert _finish(child) == 0
    assert (project / "step1.txt").read_text() == "step Celery\n"
    progress = _progress(project)
    assert "answer: Celery" in progress and "(interactive)" in progress


def test_refuses_without_a_terminal(project):
    result = subprocess.run(
        [sys.executable, *_argv(project, "ok")],
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--interactive needs a terminal" in result.stderr
    assert "run without --interactive" in result.stderr and "autonomous" in result.stderr
    assert not (project / "specs" / "tickets" / "t" / "progress.yaml").exists()
