"""The job unit end to end: a fresh clone per job, a local bare repository as the remote.

The project generates its workflow (`exec-auto ci github`) and commits it; each test reads the
per-ticket command from that workflow file in a fresh clone of the bare remote and runs it
through bash, as a GitHub runner would, with the agent configured in the project's pyproject.toml.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from exec_auto.batch.result import JobResult, load_results
from exec_auto.ci.command import RESULT_DIR, TICKET_VAR, job_script
from exec_auto.cli import main
from exec_auto.executor.history import diff, runs
from tests.batch.support import agent_command, commit_all
from tests.conftest import git

BIN = Path(sys.executable).parent


def _configure(root: Path, agent: str) -> None:
    """The agent and gates the CI job uses, as a project would configure them."""
    (root / "pyproject.toml").write_text(
        "[tool.exec-auto.agent]\n"
        'name = "command"\n'
        f"command = {json.dumps(agent)}\n"
        "[tool.exec-auto.gates]\n"
        "enabled = false\n"
        # The helper plans are minimal ("Do one."): the project lowers its readiness threshold,
        # so the workflow's command runs exactly as generated.
        "[tool.exec-auto.readiness]\n"
        "threshold = 0\n",
        encoding="utf-8",
    )
    commit_all(root, "configure exec-auto")


@pytest.fixture
def remote(make_batch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A bare repository holding the committed project (main), as a CI remote."""

    def build(names: list[str], agent: str) -> Path:
        root = make_batch(names)
        _configure(root, agent)
        monkeypatch.chdir(root)
        assert main(["ci", "github", "--all"]) == 0
        commit_all(root, "exec-auto workflow")
        bare = tmp_path / "remote.git"
        git(tmp_path, "init", "-q", "--bare", str(bare))
        git(root, "remote", "add", "origin", str(bare))
        git(root, "push", "-q", "origin", "HEAD:refs/heads/main")
        return bare

    return build


def _clone(bare: Path, where: Path) -> Path:
    git(where.parent, "clone", "-q", "--branch", "main", str(bare), str(where))
    return where


def _workflow_command(clone: Path) -> str:
    """The `run` line of the workflow's per-ticket step, as committed to the repository."""
    flow = YAML(typ="safe").load((clone / ".github/workflows/exec-auto.yml").read_text())
    steps = flow["jobs"]["ticket-w0s0"]["steps"]
    command = next(s["run"] for s in steps if s.get("name") == "Run the ticket")
    assert command == job_script()
    return command


def _job(clone: Path, ticket: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        TICKET_VAR: ticket,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "GIT_AUTHOR_NAME": "ci",
        "GIT_AUTHOR_EMAIL": "ci@ci",
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@ci",
    }
    return subprocess.Popen(
        ["bash", "-c", _workflow_command(clone)],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=120)
    return proc.returncode, out


def _subjects(bare: Path, branch: str) -> list[str]:
    return git(bare, "log", "--format=%s", branch, "--not", "main").split("\n")[:-1][::-1]


def test_a_job_pushes_its_branch_step_refs_and_writes_its_result(remote, tmp_path):
    bare = remote(["a"], agent_command())
    clone = _clone(bare, tmp_path / "runner")
    code, out = _finish(_job(clone, "a"))
    assert code == 0, out
    assert _subjects(bare, "exec-auto/a") == [
        "exec-auto: a (step 1 completed)",
        "exec-auto: a (step 2 completed)",
        "exec-auto: a (step 3 completed)",
        "exec-auto: a (completed)",
    ]
    tip = git(bare, "rev-parse", "exec-auto/a").strip()
    # The executor's step refs (from the ticket's snapshot store) are on the remote too.
    step_refs = git(bare, "for-each-ref", "--format=%(refname)", "refs/exec-auto/a/").split()
    assert sorted(r.rsplit("/", 1)[1] for r in step_refs) == ["base", "step-1", "step-2", "step-3"]
    assert git(bare, "cat-file", "-e", "exec-auto/a:specs/archive/a/report.json") == ""
    result = JobResult.model_validate_json((clone / RESULT_DIR / "a.json").read_text())
    assert result.status == "completed" and result.exit_code == 0
    assert (result.steps_done, result.steps_total) == (3, 3)
    assert [(c.criterion, c.status) for c in result.criteria] == [("a-1.txt exists", "met")]
    assert result.refs.pushed and result.refs.head_commit == tip and result.refs.remote == "origin"
    assert set(result.refs.step_refs) == set(step_refs)
    assert result.report_path == "exec-auto/a:specs/archive/a/report.md"
    assert set(result.timings.steps) == {"1", "2", "3"}
    assert {"a-1.txt", "a-2.txt", "a-3.txt"} <= set(result.files_touched)
    # The runner's own checkout is left as it was: the job worked in a worktree.
    assert git(clone, "status", "--porcelain", "--untracked-files=no") == ""
    assert not (clone / "a-1.txt").exists()
    # Idempotent: the same job again reruns nothing and reports the same outcome.
    again_code, out = _finish(_job(clone, "a"))
    assert again_code == 0, out
    again = JobResult.model_validate_json((clone / RESULT_DIR / "a.json").read_text())
    assert again.status == "completed" and "earlier batch or job" in (again.note or "")
    assert git(bare, "rev-parse", "exec-auto/a").strip() == tip


def _wait_for_ref(bare: Path, ref: str, proc: subprocess.Popen[str], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while subprocess.run(
        ["git", "rev-parse", "-q", "--verify", ref], cwd=bare, capture_output=True
    ).returncode:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{ref} never appeared on the remote"
        time.sleep(0.05)


def test_a_killed_job_resumes_from_the_remote_on_a_fresh_runner(remote, tmp_path):
    calls, hold = tmp_path / "calls.log", tmp_path / "hold"
    hold.touch()
    agent = agent_command(
        pre=f'echo "$T $S" >> {calls}; if [ "$S" = 2 ] && [ -f {hold} ]; then sleep 60; fi'
    )
    bare = remote(["a"], agent)
    first = _clone(bare, tmp_path / "runner-1")
    proc = _job(first, "a")
    # Step 1's checkpoint reaches the remote; then the runner dies mid-step 2 (no cleanup).
    _wait_for_ref(bare, "refs/heads/exec-auto/a", proc)
    deadline = time.monotonic() + 60
    while "a 2" not in calls.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, "step 2 never started"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    shutil.rmtree(first)
    assert _subjects(bare, "exec-auto/a") == ["exec-auto: a (step 1 completed)"]

    hold.unlink()
    second = _clone(bare, tmp_path / "runner-2")
    code, out = _finish(_job(second, "a"))
    assert code == 0, out
    assert "Resuming from origin/exec-auto/a" in out
    # Step 1 ran once; step 2 was cut off and redone; step 3 ran once.
    assert calls.read_text().split("\n")[:-1] == ["a 1", "a 2", "a 2", "a 3"]
    assert _subjects(bare, "exec-auto/a")[-1] == "exec-auto: a (completed)"
    result = JobResult.model_validate_json((second / RESULT_DIR / "a.json").read_text())
    assert result.status == "completed" and (result.steps_done, result.steps_total) == (3, 3)
    assert result.refs.pushed
    # The step history continues the first runner's chain: step 1 was recorded over there.
    (run,) = runs(second, "a")
    assert [s.step_id for s in run.steps] == ["1", "2", "3"]
    assert "a-1.txt" in diff(second, "a", "1", stat=True)


def test_result_files_of_jobs_match_the_batch_report(remote, tmp_path, monkeypatch, capsys):
    agent = agent_command(fail=("b",))
    bare = remote(["a", "b"], agent)
    artefacts = tmp_path / "artefacts"
    for name in ("a", "b"):
        clone = _clone(bare, tmp_path / f"runner-{name}")
        _finish(_job(clone, name))
        # CI uploads each job's result folder as its own artefact.
        shutil.copytree(clone / RESULT_DIR, artefacts / f"exec-auto-result-{name}")
    monkeypatch.chdir(tmp_path)
    assert main(["batch-report", "--from", str(artefacts), "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "batch-report.json").read_text())
    results = {r.ticket: r for r in load_results(artefacts)}
    assert [row["ticket"] for row in report["tickets"]] == ["a", "b"]
    for row in report["tickets"]:
        result = results[row["ticket"]]
        assert row["status"] == result.status and row["exit_code"] == result.exit_code
        assert row["steps_done"] == result.steps_done
        assert row["branch"] == result.refs.branch
        assert row["usage"] == result.usage.model_dump()
    assert results["a"].exit_code == 0 and results["b"].exit_code == 1
    assert report["exit_code"] == 1 and report["totals"]["tickets"] == 2
    assert "| a | completed | 0 | 3/3 |" in (tmp_path / "out" / "batch-report.md").read_text()


def test_a_diverged_remote_branch_stops_the_job_before_it_runs(remote, tmp_path):
    bare = remote(["a"], agent_command())
    clone = _clone(bare, tmp_path / "runner")
    tree = git(clone, "rev-parse", "HEAD^{tree}").strip()
    mine, theirs = (
        git(clone, "commit-tree", tree, "-p", "HEAD", "-m", message).strip()
        for message in ("local", "remote")
    )
    git(clone, "branch", "exec-auto/a", mine)
    git(clone, "push", "-q", "origin", f"{theirs}:refs/heads/exec-auto/a")
    code, out = _finish(_job(clone, "a"))
    assert code == 2, out
    assert "error: " in out and "has diverged from origin/exec-auto/a" in out
    result = JobResult.model_validate_json((clone / RESULT_DIR / "a.json").read_text())
    assert result.status == "error" and result.exit_code == 2


def test_job_flags_take_one_ticket_and_a_valid_branch(make_batch, monkeypatch, capsys):
    root = make_batch(["a", "b"])
    monkeypatch.chdir(root)
    assert main(["run", "a", "b", "--result-file", "r.json"]) == 2
    assert "run exactly one ticket" in capsys.readouterr().err
    assert main(["run", "a", "--branch", "bad..name"]) == 2
    assert "not a valid branch name" in capsys.readouterr().err
    assert (
        main(["run", "a", "--push", "nowhere", "--agent", "command", "--agent-command", "true"])
        == 2
    )
    assert "not a remote of this repository" in capsys.readouterr().err
    assert not (root / "r.json").exists()
