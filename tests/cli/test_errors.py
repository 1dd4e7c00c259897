"""Bad input: one line naming the problem, a hint, exit 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exec_auto.cli import main
from tests.conftest import make_project


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exec_auto", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_typo_gets_suggestions(project):
    result = _cli(project, "run", "featur-x", "--agent", "command", "--agent-command", "true")
    assert result.returncode == 2
    assert "no ticket 'featur-x'" in result.stderr and "did you mean: feature-x" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("ref", ["../x", "/etc", "specs/../../x", ".."])
def test_names_escaping_the_tickets_folder_are_refused(project, ref, monkeypatch, capsys):
    monkeypatch.chdir(project)
    assert main(["show", ref]) == 2
    assert "not a ticket folder" in capsys.readouterr().err


def test_archived_ticket_points_to_restore(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    assert main(["archive", "feature-x"]) == 0
    assert main(["run", "feature-x", "--agent", "command", "--agent-command", "true"]) == 2
    err = capsys.readouterr().err
    assert "archived" in err and "exec-auto restore feature-x" in err
    assert main(["restore", "feature-x"]) == 0
    assert (project / "specs" / "tickets" / "feature-x" / "plan.md").exists()


def test_plan_without_steps_exits_2_listing_headings(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    ticket = make_project(root)
    (ticket / "plan.md").write_text("# Plan\n\n## Background\n\nNothing to do.\n")
    result = _cli(
        root, "run", "feature-x", "--agent", "command", "--agent-command", "true", "--no-gates"
    )
    assert result.returncode == 2
    assert "Background" in result.stderr and "Traceback" not in result.stderr


def test_invalid_spec_is_reported_and_never_rewritten(tmp_path):
    # The plan is fine: it runs; the spec is left byte-identical and the report says why.
    root = tmp_path / "p"
    root.mkdir()
    ticket = make_project(root)
    bad = "title: [unclosed\nticket:\n  status: planned\n"
    (ticket / "spec.yaml").write_text(bad)
    result = _cli(
        root,
        "run",
        "feature-x",
        "--agent",
        "command",
        "--agent-command",
        "true",
        "--no-gates",
        "--force",
    )
    assert result.returncode == 1
    assert "spec_unreadable" in result.stdout and "Traceback" not in result.stderr
    assert (ticket / "spec.yaml").read_text() == bad
    assert "could not be read" in (ticket / "report.md").read_text()


def test_no_agent_configured_exits_2_with_hint(project):
    env_free = _cli(project, "run", "feature-x", "--agent", "command")
    assert env_free.returncode == 2 and "--agent-command" in env_free.stderr


def test_works_from_a_subdirectory(project, monkeypatch, capsys):
    sub = project / "specs" / "tickets"
    monkeypatch.chdir(sub)
    assert main(["show", "feature-x", "--json"]) == 0
    assert '"name": "feature-x"' in capsys.readouterr().out


def test_not_a_git_repo(tmp_path):
    root = tmp_path / "p"
    (root / "specs" / "tickets" / "t").mkdir(parents=True)
    (root / "specs" / "tickets" / "t" / "plan.md").write_text(
        "# P\n\n## Implementation Steps\n\n### Step 1: A\n\nx\n"
    )
    result = _cli(
        root, "run", "t", "--agent", "command", "--agent-command", "true", "--no-gates", "--force"
    )
    assert result.returncode == 2 and "git init" in result.stderr


def test_invalid_configuration_names_the_key(project):
    (project / "pyproject.toml").write_text('[tool.exec-auto.gates]\nfix_attempts = "many"\n')
    result = _cli(project, "run", "feature-x", "--agent", "command", "--agent-command", "true")
    assert result.returncode == 2
    assert "gates.fix_attempts" in result.stderr and "pyproject.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_configuration_from_pyproject_is_used(project, script_agent, monkeypatch):
    cmd = script_agent({"*": [{"append": "x.txt", "text": "x"}]})
    (project / "pyproject.toml").write_text(
        f'[tool.exec-auto]\narchive = false\n[tool.exec-auto.agent]\nname = "command"\ncommand = "{cmd}"\n'
        "[tool.exec-auto.gates]\nenabled = false\n"
    )
    monkeypatch.chdir(project)
    # The helper plan scores below the readiness threshold: forced explicitly.
    assert main(["run", "feature-x", "--force"]) == 1  # one criterion stays unverified
    report = json.loads((project / "specs" / "tickets" / "feature-x" / "report.json").read_text())
    assert report["agent"] == "command"  # [tool.exec-auto.agent]
    assert report["quality_gates"] == {}  # gates.enabled = false
    assert [s["status"] for s in report["steps"]] == [
        "completed"
    ] * 3  # archive = false kept it here
