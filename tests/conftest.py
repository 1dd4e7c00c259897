"""Shared fixtures: real temp git projects holding tickets, and a scriptable CLI agent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

AGENT_SCRIPT = Path(__file__).parent / "helpers" / "script_agent.py"


def git(root: Path, *args: str) -> str:
    """Run git in root and return stdout (raises on failure)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env
    ).stdout


def init_repo(root: Path, message: str = "init") -> None:
    """Make root a git repository with everything in it committed."""
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def plan_text(titles: list[str]) -> str:
    """A plan.md with one `### Step N:` per title."""
    steps = "\n".join(f"### Step {i}: {t}\n\nDo {t.lower()}.\n" for i, t in enumerate(titles, 1))
    return f"# Implementation Plan: Demo\n\n## Executive Summary\n\nA test plan.\n\n## Implementation Steps\n\n{steps}"


def make_project(
    root: Path,
    name: str = "feature-x",
    titles: list[str] | None = None,
    *,
    spec: str | None = "default",
    conventions: bool = True,
) -> Path:
    """Create a git repo at root with specs/tickets/<name>/{plan.md,spec.yaml} and commit it."""
    ticket = root / "specs" / "tickets" / name
    ticket.mkdir(parents=True)
    (ticket / "plan.md").write_text(
        plan_text(titles or ["First", "Second", "Third"]), encoding="utf-8"
    )
    if spec == "default":
        spec = textwrap.dedent(
            """\
            title: "Feature X"  # keep this comment
            acceptance_criteria:
              - criterion: "a.txt exists"
                verify: "test -f a.txt"
              - "Something nobody checks"
            ticket:
              type: feature
              status: planned
            """
        )
    if spec is not None:
        (ticket / "spec.yaml").write_text(spec, encoding="utf-8")
    if conventions:
        (root / "CLAUDE.md").write_text("# Conventions\nUse tabs nowhere.\n", encoding="utf-8")
    (root / "README.md").write_text("project\n", encoding="utf-8")
    init_repo(root)
    return ticket


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A committed git project with a three-step ticket `feature-x`."""
    root = tmp_path / "proj"
    root.mkdir()
    make_project(root)
    return root


@pytest.fixture
def script_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[dict[str, object]], str]:
    """Configure the scripted agent's behaviour per step; returns the --agent-command to use.

    Every call is appended to $SCRIPT_AGENT_LOG as a JSON line (step, kind, attempt, prompt).
    """
    log = tmp_path / "agent-calls.jsonl"
    behaviour = tmp_path / "agent-behaviour.json"
    monkeypatch.setenv("SCRIPT_AGENT_LOG", str(log))
    monkeypatch.setenv("SCRIPT_AGENT_BEHAVIOUR", str(behaviour))
    # The sandbox passes only allowlisted variables and keeps tmp_path read-only: the command
    # names its files itself, and the test's own folder is made writable for the call log.
    monkeypatch.setenv("EXEC_AUTO_SANDBOX_WRITABLE", str(tmp_path))

    def configure(steps: dict[str, object]) -> str:
        behaviour.write_text(json.dumps(steps), encoding="utf-8")
        return (
            f"SCRIPT_AGENT_LOG={log} SCRIPT_AGENT_BEHAVIOUR={behaviour} "
            f"{sys.executable} {AGENT_SCRIPT}"
        )

    return configure


def cli_argv(agent_command: str, *extra: str) -> list[str]:
    """argv of `python -m exec_auto run feature-x` with the command backend, for a subprocess."""
    return [
        sys.executable,
        "-m",
        "exec_auto",
        "run",
        "feature-x",
        "--agent",
        "command",
        "--agent-command",
        agent_command,
        # The helper plan ("Do first.") is deliberately minimal: it scores below the readiness
        # threshold, so these runs are forced past the gate explicitly.
        "--force",
        *extra,
    ]


def run_cli(root: Path, monkeypatch: pytest.MonkeyPatch, agent_command: str, *extra: str) -> int:
    """`exec-auto run feature-x` from root with the command backend; returns the exit code."""
    from exec_auto.cli import main

    monkeypatch.chdir(root)
    return main(
        [
            "run",
            "feature-x",
            "--agent",
            "command",
            "--agent-command",
            agent_command,
            "--force",
            *extra,
        ]
    )


def agent_calls(tmp_path: Path) -> list[dict[str, str]]:
    """The scripted agent's call log."""
    log = tmp_path / "agent-calls.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _sandbox_probe() -> tuple[bool, str]:
    from exec_auto.sandbox.backend import first_usable

    backend, reasons = first_usable()
    return backend is not None, "; ".join(reasons)


SANDBOX_USABLE, SANDBOX_REASON = _sandbox_probe()
if not SANDBOX_USABLE and "EXEC_AUTO_SANDBOX" not in os.environ:
    # Runs that would refuse without a sandbox go ahead uncontained; the sandbox tests skip.
    os.environ["EXEC_AUTO_SANDBOX"] = "off"


def pytest_report_header() -> str:
    """Say at the top of every run whether the sandbox tests really run."""
    if SANDBOX_USABLE:
        return "exec-auto sandbox: usable (bubblewrap); sandbox tests run"
    return f"exec-auto sandbox: NOT usable ({SANDBOX_REASON}); sandbox tests are skipped"


requires_sandbox = pytest.mark.skipif(
    not SANDBOX_USABLE, reason=f"no usable sandbox here: {SANDBOX_REASON}"
)

# `--sandbox off` and, where bubblewrap works, `on`: the guards must hold on their own and inside it.
SANDBOX_MODES = [
    "off",
    pytest.param(
        "on", marks=pytest.mark.skipif(not SANDBOX_USABLE, reason=f"no sandbox: {SANDBOX_REASON}")
    ),
]
