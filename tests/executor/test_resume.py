"""Crash safety: kill -9 mid-step then resume, SIGTERM, and the one-run-per-ticket lock."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from ruamel.yaml import YAML

from exec_auto.executor.lock import TicketLock
from exec_auto.repo import state_dir
from tests.conftest import agent_calls, cli_argv, run_cli
from tests.helpers.procs import wait_gone

FOLDER = Path("specs") / "tickets" / "feature-x"
EVERY_STEP = {"*": [{"append": "x.txt", "text": "x"}]}


def _statuses(project: Path) -> list[str]:
    progress = YAML(typ="safe").load((project / FOLDER / "progress.yaml").read_text())
    return [s["status"] for s in progress["implementation_steps"]]


def _spawn(project: Path, cmd: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cli_argv(cmd, "--no-gates", "--no-archive"),
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )


def _wait_for(path: Path, proc: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "agent never reached the marker"
        time.sleep(0.05)


def _kill_agent(marker: Path) -> None:
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.kill(int(marker.read_text()), signal.SIGKILL)


def test_kill_9_mid_step_then_resume_redoes_only_that_step(
    project, script_agent, tmp_path, monkeypatch
):
    marker = tmp_path / "in-step-2"
    first = {
        "1": [{"write": "a.txt", "text": "a"}],
        "2": [{"write": "half.txt", "text": "half"}, {"marker": str(marker)}, {"sleep": 60}],
    }
    proc = _spawn(project, script_agent(first))
    _wait_for(marker, proc)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.wait()
    _kill_agent(marker)
    progress = YAML(typ="safe").load((project / FOLDER / "progress.yaml").read_text())
    assert [s["status"] for s in progress["implementation_steps"]][:2] == [
        "completed",
        "in_progress",
    ]

    second = {
        "*": [{"write": "done.txt", "text": "d"}],
        "2": [{"write": "full.txt", "text": "full"}],
    }
    run_cli(project, monkeypatch, script_agent(second), "--no-gates", "--no-archive")
    calls = [(c["step"], c["kind"]) for c in agent_calls(tmp_path)]
    assert calls == [("1", "step"), ("2", "step"), ("2", "step"), ("3", "step")]
    resumed_prompt = agent_calls(tmp_path)[2]["prompt"]
    assert "resumed step" in resumed_prompt
    progress = YAML(typ="safe").load((project / FOLDER / "progress.yaml").read_text())
    assert [s["status"] for s in progress["implementation_steps"]] == ["completed"] * 3
    assert (project / "a.txt").read_text() == "a" and (project / "half.txt").exists()


def test_sigterm_stops_cleanly_and_the_lock_is_released(
    project, script_agent, tmp_path, monkeypatch
):
    marker = tmp_path / "in-step-1"
    proc = _spawn(project, script_agent({"1": [{"marker": str(marker)}, {"sleep": 60}]}))
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err  # 128 + SIGTERM
    # The agent was killed (found by its environment: inside the sandbox its PID is another).
    assert not wait_gone("SCRIPT_AGENT_BEHAVIOUR", str(tmp_path / "agent-behaviour.json"))
    progress = YAML(typ="safe").load((project / FOLDER / "progress.yaml").read_text())
    assert progress["ticket"]["status"] == "interrupted"
    assert progress["implementation_steps"][0]["status"] == "in_progress"
    code = run_cli(project, monkeypatch, script_agent(EVERY_STEP), "--no-gates", "--no-archive")
    assert code == 1  # the lock was free: the run finished (one criterion stays unverified)
    assert _statuses(project) == ["completed"] * 3


def test_second_run_is_refused_while_the_lock_is_held(project, script_agent, monkeypatch, capsys):
    with TicketLock(state_dir(project), "feature-x"):
        code = run_cli(project, monkeypatch, script_agent(EVERY_STEP), "--no-gates")
    assert code == 2
    assert not (project / FOLDER / "progress.yaml").exists()  # nothing was started
    err = capsys.readouterr().err
    assert "is being run by pid" in err and str(os.getpid()) in err


def test_lock_left_by_a_dead_process_is_taken_over(project, script_agent, monkeypatch):
    locks = state_dir(project) / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "feature-x.lock").write_text("")
    (locks / "feature-x.holder.json").write_text(
        json.dumps({"pid": 999999, "host": "h", "since": "x"})
    )
    code = run_cli(project, monkeypatch, script_agent(EVERY_STEP), "--no-gates", "--no-archive")
    assert code == 1
    assert _statuses(project) == ["completed"] * 3
