"""kill -9 at spread-out moments of a gated two-step run, each followed by a rerun.

Exact points (`exec_auto.faults`: durable writes before and after their rename, and the archive
move, which a kill between it and the spec update used to leave half done) and timed kills of the
whole process group while the agent or a pytest gate runs. Each kill is its own test so xdist
spreads them over the cores. The larger sweep is `benchmarks/reliability.py`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exec_auto.formats.cdd.archive import MARKER
from tests.reliability.support import cli_subprocess
from tests.reliability.sweep import (
    ARCHIVED,
    COMMENT,
    Reference,
    check_kill,
    plan_kills,
    run,
    shared_reference,
)

# Bounded for CI: 4 exact points (plus the two archive-move points) and 2 timed kills.
POINTS = 4
TIMED = 2


@pytest.fixture(scope="session")
def sweep(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> tuple[Path, Path, Reference]:
    """The template project and one uninterrupted reference run, shared by the xdist workers."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist every worker's basetemp sits in the one folder of this test session.
    work = (base.parent if worker_id != "master" else base) / "kill-sweep"
    template, ref = shared_reference(work / "template", work)
    return template, work, ref


@pytest.mark.timeout(300)
def test_the_run_has_kill_points_in_every_phase(sweep: tuple[Path, Path, Reference]) -> None:
    _, _, ref = sweep
    names = " ".join(ref.points)
    for what in ("progress.yaml", "spec.yaml", "report.md", "moving feature-x"):
        assert what in names
    assert len(ref.points) > 20


@pytest.mark.timeout(300)
@pytest.mark.parametrize("index", range(POINTS + 2 + TIMED))
def test_kill_then_rerun(sweep: tuple[Path, Path, Reference], index: int) -> None:
    template, work, ref = sweep
    kills = plan_kills(ref, POINTS, TIMED)
    if index >= len(kills):
        pytest.skip("fewer distinct points than slots")
    assert check_kill(template, work, kills[index], ref) == []


@pytest.mark.timeout(300)
def test_a_kill_between_the_archive_move_and_the_spec_update_is_repaired(
    sweep: tuple[Path, Path, Reference],
) -> None:
    # Killed right after the folder moved: the next command of any kind finishes the move.
    template, work, ref = sweep
    after_move = next(i for i, line in enumerate(ref.points, 1) if "after moving" in line)
    root = work / "repair"
    shutil.copytree(template, root, symlinks=True)
    (work / "repair-log").mkdir()
    assert run(root, work / "repair-log", kill_at=after_move).code == -9
    spec = root / ARCHIVED / "spec.yaml"
    assert "status: archived" not in spec.read_text()  # the half-done state the issue saw
    listed = cli_subprocess(root, "list")
    assert listed.code == 0 and "finished archiving feature-x" in listed.err
    assert "status: archived" in spec.read_text() and COMMENT in spec.read_text()
    assert not (root / ARCHIVED / MARKER).exists()


@pytest.mark.timeout(300)
def test_after_a_kill_9_without_the_sandbox_the_rerun_ends_the_orphaned_agent(
    tmp_path: Path,
) -> None:
    # No sandbox: nothing ends the agent (a session of its own) with its killed parent. The
    # run that takes over the dead run's lock ends it before step 1, and says so.
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from ruamel.yaml import YAML

    from tests.reliability.support import build_template
    from tests.reliability.sweep import AGENT, processes_in

    root = build_template(tmp_path / "p")
    work = tmp_path / "work"
    work.mkdir()
    hold = [{"marker": str(work / "started")}, {"wait_for": str(work / "never"), "timeout": 120}]
    late = {"write": "late.txt", "text": "written by the orphan\n"}
    (work / "b.json").write_text(json.dumps({"1": [*hold, late], "*": []}))
    agent = f"SCRIPT_AGENT_LOG={work / 'log'} SCRIPT_AGENT_BEHAVIOUR={work / 'b.json'} "
    argv = [sys.executable, "-m", "exec_auto", "run", "feature-x", "--agent", "command"]
    argv += ["--agent-command", agent + f"{sys.executable} {AGENT}", "--force", "--no-gates"]
    argv += ["--no-archive", "--sandbox", "off"]
    killed = subprocess.Popen(argv, cwd=root, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (work / "started").exists():
        assert killed.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    orphan = int((work / "started").read_text())
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert orphan in processes_in(root)  # the precondition: the agent outlived exec-auto
    (work / "b.json").write_text(json.dumps({"*": []}))
    rerun = subprocess.run(argv, cwd=root, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert rerun.returncode in (0, 1), rerun.stderr
    assert orphan not in processes_in(root)
    (work / "never").touch()  # had the orphan lived, it would write late.txt now
    time.sleep(0.5)
    assert not (root / "late.txt").exists()
    progress = YAML(typ="safe").load((root / "specs/tickets/feature-x/progress.yaml").read_text())
    notes = [
        i["description"] for i in progress["issues"] if "killed earlier run" in i["description"]
    ]
    assert notes and str(orphan) in notes[0]
