"""End-to-end runs of `exec-auto run` in temp git repos with the scripted command agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from exec_auto.cli import main
from exec_auto.executor.prompt import STEP_MARKER
from tests.conftest import agent_calls, git, make_project, run_cli

WRITE_ALL = {
    "1": [{"write": "a.txt", "text": "a\n"}],
    "2": [{"write": "pkg/b.txt", "text": "b\n"}, {"append": "README.md", "text": "more\n"}],
    "3": [{"delete": "README.md"}, {"write": "c.txt", "text": "c\n"}],
}


def _run(project: Path, monkeypatch: pytest.MonkeyPatch, cmd: str, *extra: str) -> int:
    return run_cli(project, monkeypatch, cmd, "--no-gates", *extra)


def _progress(folder: Path) -> dict:
    return YAML(typ="safe").load((folder / "progress.yaml").read_text())


def test_full_run_records_files_reports_and_archives(
    project, script_agent, monkeypatch, tmp_path, capsys
):
    code = _run(project, monkeypatch, script_agent(WRITE_ALL))
    archived = project / "specs" / "archive" / "feature-x"
    assert not (project / "specs" / "tickets" / "feature-x").exists()
    assert archived.is_dir()
    progress = _progress(archived)
    steps = {s["step_id"]: s for s in progress["implementation_steps"]}
    assert [s["status"] for s in steps.values()] == ["completed"] * 3
    assert steps["1"]["files_touched"]["created"] == ["a.txt"]
    assert steps["2"]["files_touched"]["created"] == ["pkg/b.txt"]
    assert steps["2"]["files_touched"]["modified"] == ["README.md"]
    assert steps["3"]["files_touched"]["deleted"] == ["README.md"]
    report = json.loads((archived / "report.json").read_text())
    assert report["ticket"] == "feature-x"
    assert [s["status"] for s in report["steps"]] == ["completed"] * 3
    assert report["files_created"] == ["a.txt", "c.txt", "pkg/b.txt"]
    assert report["files_deleted"] == ["README.md"]
    crit = {c["criterion"]: c for c in report["acceptance_criteria"]}
    assert crit["a.txt exists"]["status"] == "met"
    assert crit["Something nobody checks"]["status"] == "unverified"
    assert code == 1  # an unverified criterion is not "every criterion met"
    spec_text = (archived / "spec.yaml").read_text()
    assert "status: archived" in spec_text and "# keep this comment" in spec_text
    assert "implementation_started" in spec_text and "archived_at" in spec_text
    assert "exec-auto restore feature-x" in capsys.readouterr().out
    assert (archived / "report.md").read_text().startswith("# Completion report: feature-x")


def test_clean_run_exits_zero(tmp_path, script_agent, monkeypatch):
    root = tmp_path / "p"
    root.mkdir()
    spec = 'acceptance_criteria:\n  - criterion: "a exists"\n    verify: "test -f a.txt"\nticket:\n  status: planned\n'
    make_project(root, titles=["Only"], spec=spec)
    assert _run(root, monkeypatch, script_agent({"1": [{"write": "a.txt", "text": "x"}]})) == 0


def test_failures_are_logged_and_the_run_continues(project, script_agent, monkeypatch, tmp_path):
    behaviour = {
        "1": [{"exit": 3, "message": "model exploded"}],
        "2": [{"crash": True}],
        "3": [],
    }
    code = _run(project, monkeypatch, script_agent(behaviour), "--no-archive")
    assert code == 1
    folder = project / "specs" / "tickets" / "feature-x"
    progress = _progress(folder)
    statuses = [s["status"] for s in progress["implementation_steps"]]
    assert statuses == ["failed", "failed", "completed_with_warning"]
    kinds = [(i["type"], i["step_id"]) for i in progress["issues"]]
    assert (
        ("agent_error", "1") in kinds
        and ("agent_error", "2") in kinds
        and ("no_changes", "3") in kinds
    )
    first = next(i for i in progress["issues"] if i["step_id"] == "1")
    assert "exited 3" in first["description"] and first["severity"] == "high" and first["timestamp"]
    assert len(agent_calls(tmp_path)) == 3


def test_hanging_agent_is_killed_and_logged(project, script_agent, monkeypatch, tmp_path):
    behaviour = {
        "1": [{"write": "a.txt", "text": "partial"}, {"sleep": 60}],
        "*": [{"append": "z.txt", "text": "z"}],
    }
    code = _run(
        project, monkeypatch, script_agent(behaviour), "--no-archive", "--step-timeout", "1"
    )
    assert code == 1
    progress = _progress(project / "specs" / "tickets" / "feature-x")
    step1 = progress["implementation_steps"][0]
    assert step1["status"] == "completed_with_warning"  # it changed files before hanging
    assert step1["files_touched"]["created"] == ["a.txt"]
    assert any(i["type"] == "timeout" and i["step_id"] == "1" for i in progress["issues"])
    assert [s["status"] for s in progress["implementation_steps"][1:]] == ["completed", "completed"]


def test_agent_never_gets_a_terminal_or_input(project, script_agent, monkeypatch, tmp_path):
    _run(project, monkeypatch, script_agent(WRITE_ALL), "--no-archive")
    calls = agent_calls(tmp_path)
    assert calls and all(c["stdin_isatty"] is False and c["stdin_data"] == "" for c in calls)
    assert [c["title"] for c in calls] == ["First", "Second", "Third"]


def test_prompt_prefix_is_identical_across_steps(project, script_agent, monkeypatch, tmp_path):
    _run(project, monkeypatch, script_agent(WRITE_ALL), "--no-archive")
    prompts = [c["prompt"] for c in agent_calls(tmp_path)]
    prefixes = {p.split(STEP_MARKER)[0] for p in prompts}
    assert len(prefixes) == 1
    prefix = prefixes.pop()
    assert "Use tabs nowhere." in prefix and "a.txt exists" in prefix
    assert "Do second." in prompts[1] and "Do second." not in prompts[0].split(STEP_MARKER)[1]
    assert "Step 1 (completed)" in prompts[1].split(STEP_MARKER)[1]


def test_users_uncommitted_work_survives(project, script_agent, monkeypatch, tmp_path):
    (project / "README.md").write_text("user edit, not committed\n")
    (project / "notes.txt").write_text("untracked user notes\n")
    git(project, "add", "README.md")  # staged change too
    behaviour = {"*": [{"write": "new.txt", "text": "n"}]}
    _run(project, monkeypatch, script_agent(behaviour), "--no-archive")
    assert (project / "README.md").read_text() == "user edit, not committed\n"
    assert (project / "notes.txt").read_text() == "untracked user notes\n"
    assert "README.md" in git(project, "diff", "--cached", "--name-only")
    progress = _progress(project / "specs" / "tickets" / "feature-x")
    touched = progress["implementation_steps"][0]["files_touched"]
    assert touched["created"] == ["new.txt"] and touched["modified"] == []
    assert git(project, "stash", "list") == ""


def test_missing_spec_and_conventions_are_warnings(tmp_path, script_agent, monkeypatch):
    root = tmp_path / "p"
    root.mkdir()
    make_project(root, titles=["Only"], spec=None, conventions=False)
    code = _run(
        root, monkeypatch, script_agent({"1": [{"write": "a.txt", "text": "x"}]}), "--no-archive"
    )
    progress = _progress(root / "specs" / "tickets" / "feature-x")
    descriptions = " ".join(i["description"] for i in progress["issues"])
    assert "spec.yaml not found" in descriptions and "CLAUDE.md" in descriptions
    assert progress["implementation_steps"][0]["status"] == "completed"
    assert code == 0  # low-severity warnings only


def test_restart_keeps_a_backup(project, script_agent, monkeypatch, tmp_path):
    cmd = script_agent(WRITE_ALL)
    _run(project, monkeypatch, cmd, "--no-archive")
    _run(project, monkeypatch, cmd, "--no-archive", "--restart")
    folder = project / "specs" / "tickets" / "feature-x"
    assert list(folder.glob("progress.yaml.bak-*"))
    assert len(agent_calls(tmp_path)) == 6


def test_record_then_replay_reproduces_the_changes(project, script_agent, monkeypatch, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(project), str(clone))
    recording = tmp_path / "rec.json"
    _run(project, monkeypatch, script_agent(WRITE_ALL), "--record", str(recording))
    monkeypatch.chdir(clone)
    code = main(
        [
            "run",
            "feature-x",
            "--agent",
            "replay",
            "--replay-file",
            str(recording),
            "--no-gates",
            "--force",
        ]
    )
    assert code == 1
    for path in ("a.txt", "pkg/b.txt", "c.txt"):
        assert (clone / path).read_text() == (project / path).read_text()
    assert not (clone / "README.md").exists()
    report = json.loads((clone / "specs" / "archive" / "feature-x" / "report.json").read_text())
    assert [s["status"] for s in report["steps"]] == ["completed"] * 3


def test_secrets_never_reach_progress_or_reports(project, script_agent, monkeypatch, tmp_path):
    secret = "sk-ant-api03-verysecretvalue0123456789"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    (project / ".env").write_text("DB_PASSWORD=correct-horse-battery\n")
    behaviour = {
        "1": [{"exit": 1, "message": f"auth failed with {secret} / correct-horse-battery"}]
    }
    _run(project, monkeypatch, script_agent(behaviour), "--no-archive")
    folder = project / "specs" / "tickets" / "feature-x"
    for name in ("progress.yaml", "report.md", "report.json"):
        text = (folder / name).read_text()
        assert secret not in text and "correct-horse-battery" not in text, name
    assert "[REDACTED]" in (folder / "progress.yaml").read_text()


def test_unreadable_progress_is_moved_aside_and_the_run_starts_fresh(
    project, script_agent, monkeypatch, capsys
):
    folder = project / "specs" / "tickets" / "feature-x"
    (folder / "progress.yaml").write_text("ticket: [this is not\n  valid: yaml\n")
    _run(project, monkeypatch, script_agent(WRITE_ALL), "--no-archive")
    aside = list(folder.glob("progress.yaml.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == "ticket: [this is not\n  valid: yaml\n"
    assert "corrupt" in capsys.readouterr().out
    statuses = [s["status"] for s in _progress(folder)["implementation_steps"]]
    assert statuses == ["completed"] * 3


def test_an_archive_that_cannot_happen_is_logged_and_nothing_is_lost(
    tmp_path, script_agent, monkeypatch
):
    root = tmp_path / "p"
    root.mkdir()
    spec = (
        'acceptance_criteria:\n  - criterion: "a"\n    verify: "true"\nticket:\n  status: planned\n'
    )
    make_project(root, titles=["Only"], spec=spec)
    older = root / "specs" / "archive" / "feature-x"
    older.mkdir(parents=True)
    (older / "plan.md").write_text("an older archive\n")
    code = _run(root, monkeypatch, script_agent({"1": [{"write": "a.txt", "text": "x"}]}))
    assert code == 1  # would be 0 but for the failed archive
    folder = root / "specs" / "tickets" / "feature-x"
    report = json.loads((folder / "report.json").read_text())
    assert report["archived_to"] is None and report["status"] == "completed_with_issues"
    assert [i["type"] for i in report["issues"]] == ["runtime_error"]
    assert "could not archive" in report["issues"][0]["description"]
    assert (older / "plan.md").read_text() == "an older archive\n"
