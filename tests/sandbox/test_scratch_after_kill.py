"""A kill -9 of exec-auto mid-command leaves its sandbox folder in TMPDIR; the next run removes it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import cli_argv, requires_sandbox
from tests.helpers.procs import kill_at_marker

pytestmark = requires_sandbox


def test_the_next_run_removes_what_a_killed_sandboxed_run_left_in_tmpdir(
    project: Path, script_agent, tmp_path: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    marker = tmp_path / "in-step-1"
    steps = {"1": [{"write": "a.txt", "text": "a\n"}, {"marker": str(marker)}, {"sleep": 60}]}
    pid = kill_at_marker(
        cli_argv(script_agent(steps), "--no-gates", "--no-archive", "--sandbox", "on"),
        project,
        marker,
        tmp_path / "agent-behaviour.json",
        env,
    )
    left = sorted(p.name for p in tmp.iterdir())
    assert left and all(name.startswith(f"exec-auto-sandbox-{pid}-") for name in left)
    # Beside it: a live run's folder (this test's pid) and a name exec-auto did not make.
    live = tmp / f"exec-auto-sandbox-{os.getpid()}-abcdefgh"
    foreign = tmp / "exec-auto-sandbox-notmine"
    live.mkdir()
    foreign.mkdir()
    again = subprocess.run(
        cli_argv(script_agent({"*": []}), "--no-gates", "--no-archive", "--sandbox", "on"),
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode in (0, 1), again.stderr
    assert sorted(p.name for p in tmp.iterdir()) == sorted([live.name, foreign.name])
