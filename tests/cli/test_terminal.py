"""On a terminal: the rich live view and report; with NO_COLOR or a pipe: plain text."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_argv, make_project


def _run_in_pty(cwd: Path, args: list[str], env: dict[str, str]) -> str:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def argv(tmp_path: Path) -> list[str]:
    """A committed three-step project in tmp_path/p, and the run's argv with an agent that writes."""
    make_project(tmp_path / "p")
    script = tmp_path / "agent.py"
    script.write_text(
        "import os\nopen(f\"s{os.environ['EXEC_AUTO_STEP_ID']}.txt\", 'w').write('x')\n"
    )
    return cli_argv(f"{sys.executable} {script}", "--no-gates", "--no-archive")


def test_terminal_gets_the_live_view_and_colour(tmp_path: Path, argv: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    out = _run_in_pty(tmp_path / "p", argv, env | {"TERM": "xterm-256color", "COLUMNS": "120"})
    assert "\x1b[" in out  # rich styling
    assert "step 3/3" in out and "issues:" in out  # the live line: step i/N, elapsed, issues so far
    assert "Completion report: feature-x" in out


def test_no_color_on_a_terminal_is_plain(tmp_path: Path, argv: list[str]) -> None:
    out = _run_in_pty(tmp_path / "p", argv, {**os.environ, "NO_COLOR": "1", "TERM": "xterm"})
    assert "\x1b[" not in out
    assert "Step 3/3 [3]: Third" in out and "# Completion report: feature-x" in out
