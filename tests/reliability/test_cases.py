"""The cases of issue #12 that need more than one bad file: runs, kills, races, hostile agents.

Each test drives the real CLI on a real git repository (a copy of the session's template) and
fails without the fix it names. The one-file bad inputs are in the corpus (`corpus.py`).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import git
from tests.reliability.support import TICKET, cli, cli_subprocess, run_argv

FIXTURES = Path(__file__).parent.parent / "fixtures" / "reliability"


def _agent(tmp_path: Path, name: str, body: str) -> str:
    """A shell-script agent outside the repository; its path for --agent-command."""
    script = tmp_path / name
    script.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    script.chmod(0o755)
    return str(script)


def _progress(folder: Path) -> dict:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load((folder / "progress.yaml").read_text(encoding="utf-8"))


def _run(root: Path, command: str, *extra: str) -> tuple[int, str]:
    """A run with gates off (archive on unless extra says otherwise); (exit code, all output)."""
    argv = [a for a in run_argv(command, *extra) if a != "--no-archive" or "--no-archive" in extra]
    outcome = cli(root, *argv)
    return outcome.code, outcome.out + outcome.err


# -- the agent breaking exec-auto's own state --------------------------------------------------


def test_agent_deleting_the_state_dir_mid_run_is_repaired(project: Path, tmp_path: Path):
    """Without a sandbox the agent can delete .git/exec-auto: locks, snapshot store and all."""
    agent = _agent(
        tmp_path,
        "rm-state.sh",
        'rm -rf "$(git rev-parse --git-common-dir)/exec-auto"\n'
        'echo "$EXEC_AUTO_STEP_ID" >> "work-$EXEC_AUTO_STEP_ID.txt"\n',
    )
    code, text = _run(project, agent, "--sandbox", "off", "--no-archive")
    assert code == 1, text
    assert "internal error" not in text and "Traceback" not in text
    progress = _progress(project / TICKET)
    assert [s["status"] for s in progress["implementation_steps"]] == ["completed"] * 3
    # Every step's files are still attributed to it, and the loss is said, once per step.
    for i, step in enumerate(progress["implementation_steps"], 1):
        assert f"work-{i}.txt" in step["files_touched"]["created"]
    lost = [i for i in progress["issues"] if "snapshot store" in i["description"]]
    assert lost and all(i["severity"] == "medium" for i in lost)
    locks = [i for i in progress["issues"] if "lock file" in i["description"]]
    assert len(locks) == 2  # the ticket's and the work tree's, each said once
    assert (project / TICKET / "report.md").is_file()


def test_agent_breaking_the_spec_at_the_last_step_still_gets_a_report(
    project: Path, tmp_path: Path
):
    agent = _agent(
        tmp_path,
        "break-spec.sh",
        'echo "$EXEC_AUTO_STEP_ID" >> work.txt\n'
        f'[ "$EXEC_AUTO_STEP_ID" = 3 ] && printf "title: [broken\\n" > {TICKET}/spec.yaml\n'
        "exit 0\n",
    )
    code, text = _run(project, agent, "--sandbox", "off")
    assert code == 1, text
    folder = project / TICKET  # not archived: its spec cannot be updated
    assert (folder / "spec.yaml").read_text() == "title: [broken\n"  # left as the agent left it
    report = (folder / "report.md").read_text()
    assert "status_writeback_failed" in report and "3/3 completed" in report


def test_pyproject_broken_by_a_step_is_one_issue_once(project: Path, tmp_path: Path):
    """11 issues from one cause was the trial's count: one issue, naming each gate it stopped."""
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0.1"\n')
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "pyproject")
    agent = _agent(
        tmp_path,
        "break-pyproject.sh",
        'echo "x = $EXEC_AUTO_STEP_ID" >> "mod$EXEC_AUTO_STEP_ID.py"\n'
        '[ "$EXEC_AUTO_STEP_ID" = 1 ] && printf "[project\\n" > pyproject.toml\nexit 0\n',
    )
    argv = [a for a in run_argv(agent, "--fix-attempts", "0") if a != "--no-gates"]
    outcome = cli(project, *argv)
    progress = _progress(project / TICKET)
    gate_errors = [i for i in progress["issues"] if i["type"] == "gate_error"]
    descriptions = [i["description"] for i in gate_errors]
    assert gate_errors, outcome.out
    assert len(gate_errors) == 1, descriptions  # one cause, one issue (each gate it stopped named)
    assert {i["step_id"] for i in gate_errors} == {"1"}  # blamed on the step that broke it
    later = progress["implementation_steps"][2]
    assert any("still failing (logged at step 1)" in w for w in later["warnings"])


# -- names and limits ----------------------------------------------------------------------------


def test_a_ticket_name_at_the_file_name_limit_runs_and_archives(project: Path, tmp_path: Path):
    """Lock files and the atomic writes' temp files are built from the name: all stay legal."""
    name = "t" * 250
    folder = project / "specs" / "tickets" / name
    folder.mkdir()
    shutil.copy(project / TICKET / "plan.md", folder / "plan.md")
    agent = _agent(tmp_path, "a.sh", 'echo "$EXEC_AUTO_STEP_ID" >> work.txt\n')
    argv = [a if a != "feature-x" else name for a in run_argv(agent)]
    outcome = cli(project, *[a for a in argv if a != "--no-archive"])
    assert outcome.code in (0, 1), outcome.err
    assert "error" not in outcome.err.lower(), outcome.err
    assert (project / "specs" / "archive" / name / "report.md").is_file()


# -- state kept safe -----------------------------------------------------------------------------


def test_restart_twice_in_one_second_keeps_every_backup(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import exec_auto.ticket.progress as progress_module

    monkeypatch.setattr(progress_module, "now_iso", lambda: "2026-12-02T10:00:00Z")
    agent = _agent(tmp_path, "a.sh", 'echo "$EXEC_AUTO_STEP_ID" >> work.txt\n')
    assert _run(project, agent, "--no-archive")[0] in (0, 1)
    original = (project / TICKET / "progress.yaml").read_bytes()
    _run(project, agent, "--no-archive", "--restart")
    second = (project / TICKET / "progress.yaml").read_bytes()
    _run(project, agent, "--no-archive", "--restart")
    backups = sorted((project / TICKET).glob("progress.yaml.bak-*"))
    assert len(backups) == 2, backups
    assert {b.read_bytes() for b in backups} == {original, second}


def test_corrupt_progress_is_moved_aside_and_the_report_says_so(project: Path, tmp_path: Path):
    (project / TICKET / "progress.yaml").write_text("ticket: [\n")
    shown = cli(project, "show", "feature-x")
    assert "unreadable" in shown.out + shown.err and "move it aside" in shown.out + shown.err
    agent = _agent(tmp_path, "a.sh", 'echo "$EXEC_AUTO_STEP_ID" >> work.txt\n')
    code, _ = _run(project, agent, "--no-archive")
    assert code in (0, 1)
    aside = list((project / TICKET).glob("progress.yaml.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == "ticket: [\n"
    report = (project / TICKET / "report.md").read_text()
    assert "progress_unreadable" in report and aside[0].name in report


def test_a_negative_step_id_in_progress_marks_no_step_done(project: Path, tmp_path: Path):
    (project / TICKET / "progress.yaml").write_text(
        "ticket:\n  name: feature-x\nimplementation_steps:\n"
        "  - step_id: '-2'\n    description: x\n    status: completed\n"
    )
    log = tmp_path / "calls.txt"
    agent = _agent(tmp_path, "a.sh", f'echo "$EXEC_AUTO_STEP_ID" >> {log}\ntouch w$$\n')
    code, text = _run(project, agent, "--no-archive", "--sandbox", "off")
    assert code in (0, 1), text
    assert log.read_text().split() == ["1", "2", "3"]


def _point(root: Path, tmp_path: Path, wanted: str) -> int:
    """The number of the last kill point named wanted in a full run of a copy of root.

    The last one: the spec is rewritten at the start and the end too, before the move.
    """
    probe = tmp_path / "probe"
    shutil.copytree(root, probe, symlinks=True)
    count = tmp_path / "points.txt"
    cli_subprocess(probe, *_archiving_run(), env={**os.environ, "EXEC_AUTO_KILL_COUNT": str(count)})
    found = [
        int(number)
        for number, name in (line.split(" ", 1) for line in count.read_text().splitlines())
        if name == wanted
    ]
    assert found, f"no kill point {wanted!r} in {count.read_text()}"
    return found[-1]


def _archiving_run() -> list[str]:
    return [a for a in run_argv("true") if a != "--no-archive"]


@pytest.mark.parametrize(
    "moment",
    [
        "after replacing .exec-auto-move.json",  # marker written, folder not moved yet
        "after moving feature-x",  # moved, spec still says completed
        "before replacing spec.yaml",  # moved, the spec's temp file on disk
    ],
)
def test_a_kill_between_archive_move_and_spec_update_is_finished_next_time(
    project: Path, tmp_path: Path, moment: str
):
    number = _point(project, tmp_path, moment)
    killed = cli_subprocess(
        project, *_archiving_run(), env={**os.environ, "EXEC_AUTO_KILL_AT": str(number)}
    )
    assert killed.code == -9
    listed = cli(project, "list")
    assert listed.code == 0
    assert "finished archiving feature-x" in listed.err
    archived = project / "specs" / "archive" / "feature-x"
    assert not (project / TICKET).exists()
    spec = (archived / "spec.yaml").read_text()
    assert "status: archived" in spec and "archived_at" in spec
    leftovers = [p.name for p in archived.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # neither the move marker nor a partial temp file travelled along


# -- concurrency -----------------------------------------------------------------------------


def _start_blocked_run(root: Path, tmp_path: Path, ticket: str = "feature-x") -> subprocess.Popen:
    """A run whose agent waits (bounded) for tmp_path/go; returns once the agent is running."""
    started, go = tmp_path / f"started-{ticket}", tmp_path / "go"
    agent = _agent(
        tmp_path,
        f"wait-{ticket}.sh",
        f"touch {started}\ni=0\nwhile [ ! -f {go} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n"
        'echo "$EXEC_AUTO_STEP_ID" >> work.txt\n',
    )
    env = {**os.environ, "EXEC_AUTO_SANDBOX_WRITABLE": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "exec_auto", *run_argv(agent, "--no-archive", ticket=ticket)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 30
    while not started.exists():
        assert proc.poll() is None, "the run ended before its agent started"
        assert time.monotonic() < deadline, "the agent never started"
        time.sleep(0.05)
    return proc


def _finish(proc: subprocess.Popen, tmp_path: Path) -> None:
    (tmp_path / "go").touch()
    proc.wait(timeout=60)


def test_archive_during_a_run_is_refused(project: Path, tmp_path: Path):
    proc = _start_blocked_run(project, tmp_path)
    try:
        refused = cli(project, "archive", "feature-x")
        assert refused.code == 2, refused.err
        assert "is being run by pid" in refused.err and "hint:" in refused.err
        assert (project / TICKET / "plan.md").is_file()
    finally:
        _finish(proc, tmp_path)
    assert proc.returncode in (0, 1)


def test_a_second_ticket_in_the_same_work_tree_is_refused(project: Path, tmp_path: Path):
    proc = _start_blocked_run(project, tmp_path)
    try:
        before = sorted(p.name for p in (project / "specs" / "tickets" / "other").iterdir())
        refused = cli(project, *run_argv("true", ticket="other"))
        assert refused.code == 2, refused.err
        assert "'feature-x' is running in this work tree" in refused.err
        assert "--parallel" in refused.err  # the hint: separate worktrees
        after = sorted(p.name for p in (project / "specs" / "tickets" / "other").iterdir())
        assert before == after == ["plan.md"]
    finally:
        _finish(proc, tmp_path)


# -- real tickets, real project shapes -------------------------------------------------------


def test_the_real_ticket_with_an_invalid_spec_runs_its_plan(project: Path, tmp_path: Path):
    """bug-socrates-error-file-load (CDD's own repository): a criterion starts with a backtick."""
    name = "bug-socrates-error-file-load"
    folder = project / "specs" / "tickets" / name
    shutil.copytree(FIXTURES / name, folder)
    spec = (folder / "spec.yaml").read_bytes()
    shown = cli(project, "show", name, "--json")
    assert shown.code == 0, shown.err
    data = json.loads(shown.out)
    assert len(data["steps"]) == 4 and "line 26" in data["spec_problem"]
    agent = _agent(tmp_path, "a.sh", 'echo "$EXEC_AUTO_STEP_ID" >> work.txt\n')
    argv = [a if a != "feature-x" else name for a in run_argv(agent)]
    outcome = cli(project, *[a for a in argv if a != "--no-archive"])
    assert outcome.code == 1, outcome.err
    assert (folder / "spec.yaml").read_bytes() == spec  # byte-identical, and not archived
    assert (project / "work.txt").read_text().split() == ["1", "2", "3", "4"]
    report = (folder / "report.md").read_text()
    assert "spec_unreadable" in report and "criteria were not validated" in report


def test_a_project_that_gitignores_specs_runs(project: Path, tmp_path: Path):
    (project / ".gitignore").write_text("specs/\n")
    git(project, "rm", "-r", "-q", "--cached", "specs")
    git(project, "add", ".gitignore")
    git(project, "commit", "-q", "-m", "ignore specs")
    agent = _agent(tmp_path, "a.sh", 'echo "$EXEC_AUTO_STEP_ID" >> "w$EXEC_AUTO_STEP_ID.txt"\n')
    code, text = _run(project, agent, "--no-archive")
    assert code in (0, 1) and "git status" not in text
    progress = _progress(project / TICKET)
    assert [s["status"] for s in progress["implementation_steps"]] == ["completed"] * 3, text
    assert progress["implementation_steps"][0]["files_touched"]["created"] == ["w1.txt"]


# -- what the user reads -------------------------------------------------------------------


def test_terminal_escapes_from_the_agent_reach_neither_console_nor_report(
    project: Path, tmp_path: Path
):
    agent = _agent(
        tmp_path,
        "esc.sh",
        r"printf '\033]0;owned\007\033[2J\033[31mRED\033[0m \033]8;;http://x\033\\link\n'"
        "\nprintf 'err \\033[2J\\233\\n' >&2\nexit 1\n",
    )
    code, text = _run(project, agent, "--no-archive")
    assert code == 1
    assert "RED" in text and "\x1b" not in text and "\x07" not in text
    for name in ("report.md", "progress.yaml", "report.json"):
        written = (project / TICKET / name).read_text()
        assert "RED" in written and "\x1b" not in written and "\x07" not in written, name


def test_report_after_archiving_points_at_the_archived_progress(project: Path, tmp_path: Path):
    agent = _agent(tmp_path, "a.sh", 'echo "$EXEC_AUTO_STEP_ID" >> work.txt\n')
    _run(project, agent)
    report = (project / "specs" / "archive" / "feature-x" / "report.md").read_text()
    assert "Progress file: `specs/archive/feature-x/progress.yaml`" in report
    assert "specs/tickets/feature-x/progress.yaml" not in report


@pytest.mark.parametrize("umask", [0o002, 0o027])
def test_state_and_report_files_follow_the_umask(tmp_path: Path, template: Path, umask: int):
    from tests.reliability.support import copy_project

    project = copy_project(template, tmp_path / "p")
    agent = _agent(tmp_path, "a.sh", 'echo "$EXEC_AUTO_STEP_ID" >> work.txt\n')
    # A subprocess: the umask is the process's, read once.
    result = subprocess.run(
        [sys.executable, "-m", "exec_auto", *run_argv(agent, "--no-archive")],
        cwd=project,
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(umask),
        timeout=60,
    )
    assert result.returncode in (0, 1), result.stderr
    expected = 0o666 & ~umask
    for name in ("progress.yaml", "report.md", "report.json", "report.html"):
        mode = stat.S_IMODE((project / TICKET / name).stat().st_mode)
        assert mode == expected, f"{name}: {oct(mode)} != {oct(expected)}"
    # A rewritten file keeps its own mode.
    assert stat.S_IMODE((project / TICKET / "spec.yaml").stat().st_mode) == 0o644


def test_one_name_in_two_formats_keeps_two_step_histories(project: Path, tmp_path: Path):
    """A spec-kit `001-calc` and a CDD `001-calc`: each has its own snapshot store and refs."""
    kit = project / "specs" / "001-calc"
    kit.mkdir()
    (kit / "tasks.md").write_text(
        "# Tasks: Calc\n\n## Phase 1\n\n- [ ] T001 Write a\n- [ ] T002 b\n"
    )
    (kit / "spec.md").write_text("# Feature Specification: Calc\n")
    cdd = project / "specs" / "tickets" / "001-calc"
    cdd.mkdir()
    (cdd / "plan.md").write_text("# Plan\n\n## Implementation Steps\n\n### Step 1: One\n\nDo.\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "two formats")
    agent = _agent(tmp_path, "a.sh", 'echo x > "f-$EXEC_AUTO_STEP_ID.txt"\n')
    for ref in ("speckit:001-calc", "cdd:001-calc"):
        argv = [a if a != "feature-x" else ref for a in run_argv(agent, "--no-archive")]
        assert cli(project, *argv).code in (0, 1)
    stores = sorted(p.name for p in (project / ".git" / "exec-auto" / "snapshots").glob("*.git"))
    assert len([s for s in stores if "001-calc" in s]) == 2, stores
    kit_diff = cli(project, "diff", "speckit:001-calc", "--stat")
    cdd_diff = cli(project, "diff", "cdd:001-calc", "--stat")
    assert "f-T001.txt" in kit_diff.out and "f-1.txt" not in kit_diff.out, kit_diff.out
    assert "f-1.txt" in cdd_diff.out and "f-T001.txt" not in cdd_diff.out, cdd_diff.out


def test_a_killed_saves_temp_file_is_not_archived_with_the_ticket(project: Path, tmp_path: Path):
    """`.<name>.<pid>.<random>.tmp` of a dead process stays out of specs/archive."""
    # Above the default pid_max of 4194304 (2**22): no live process can have this pid.
    stale = project / TICKET / f".progress.yaml.{2**22 + 7}.abc123.tmp"
    stale.write_text("half a progress file")
    agent = _agent(tmp_path, "a.sh", 'echo "$EXEC_AUTO_STEP_ID" >> work.txt\n')
    code, _ = _run(project, agent)
    assert code in (0, 1)
    archived = project / "specs" / "archive" / "feature-x"
    assert archived.is_dir()
    assert [p.name for p in archived.iterdir() if p.name.endswith(".tmp")] == []
