"""Ctrl-C during a parallel batch: every ticket stops, progress is kept, a rerun resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ruamel.yaml import YAML

from tests.batch.support import agent_command, rows
from tests.conftest import git

MARKER_DEADLINE_SECONDS = 60


def _wait_for(paths: list[Path], proc: subprocess.Popen) -> None:
    """Wait until every marker file exists (the agents are mid-step), or fail if the run ended."""
    deadline = time.monotonic() + MARKER_DEADLINE_SECONDS
    while not all(p.exists() for p in paths):
        assert proc.poll() is None, "the batch ended before the agents got to step 2"
        assert time.monotonic() < deadline, "the agents never reached step 2"
        time.sleep(0.05)


def test_ctrl_c_keeps_progress_and_a_rerun_resumes(make_batch, run_batch_cli, report_dir, tmp_path):
    root = make_batch(["a", "b"])
    marks, calls, hang = tmp_path / "marks", tmp_path / "calls.log", tmp_path / "hang"
    marks.mkdir()
    hang.touch()
    agent = agent_command(
        pre=f'echo "$T $S" >> {calls}; '
        f'if [ "$S" = 2 ] && [ -f {hang} ]; then touch {marks}/$T; sleep 60; fi'
    )
    argv = [sys.executable, "-m", "exec_auto", "run", "a", "b", "--parallel", "2", "--force"]
    argv += ["--agent", "command", "--agent-command", agent, "--no-gates"]
    argv += ["--report-dir", str(report_dir)]
    log = (tmp_path / "batch.out").open("w")
    proc = subprocess.Popen(argv, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for([marks / "a", marks / "b"], proc)
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    by = rows(report_dir)
    for name in "ab":
        row = by[name]
        assert row["status"] == "interrupted" and row["exit_code"] == 130
        kept = Path(row["worktree_kept"])
        progress = YAML(typ="safe").load(
            (kept / "specs/tickets" / name / "progress.yaml").read_text()
        )
        steps = [s["status"] for s in progress["implementation_steps"]]
        assert steps == ["completed", "in_progress", "pending"]
        assert progress["ticket"]["status"] == "interrupted"
        assert progress["issues"] == []  # the killed call is not blamed on the agent
    assert git(root, "status", "--porcelain") == ""
    hang.unlink()
    assert run_batch_cli(root, agent, "a", "b", "--parallel", "2") == 0
    by = rows(report_dir)
    assert by["a"]["status"] == by["b"]["status"] == "completed"
    assert sorted(calls.read_text().split("\n")[:-1]) == sorted(
        [f"{t} {s}" for t in "ab" for s in ("1", "2", "2", "3")]
    )
    assert by["a"]["worktree_kept"] is None and by["b"]["worktree_kept"] is None
