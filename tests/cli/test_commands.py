"""list, show, the TICKET shorthand, ticket paths, `--agent auto` with nothing configured, and the demo."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from exec_auto.cli import main
from tests.conftest import make_project


def test_list_shows_active_and_archived_tickets(tmp_path, monkeypatch, capsys):
    root = tmp_path / "p"
    root.mkdir()
    make_project(root, "feature-a")
    other = root / "specs" / "tickets" / "bug-b"
    other.mkdir()
    (other / "plan.md").write_text("# P\n\n## Implementation Steps\n\n### Step 1: A\n\nx\n")
    monkeypatch.chdir(root)
    assert main(["archive", "bug-b"]) == 0
    capsys.readouterr()
    assert main(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["TICKET", "FORMAT", "WHERE", "STATUS", "STEPS", "OPEN", "ISSUES"]
    rows = {line.split()[0]: line.split()[2:] for line in out[1:]}
    assert {line.split()[1] for line in out[1:]} == {"cdd"}
    assert rows["feature-a"] == ["tickets", "planned", "3", "-"]
    assert rows["bug-b"][:3] == ["archive", "no", "spec"]


@pytest.mark.parametrize(
    "ref",
    [
        "feature-x",
        "specs/tickets/feature-x",
        "specs/tickets/feature-x/plan.md",
        "specs/tickets/feature-x/spec.yaml",
        "specs/tickets/feature-x/",
    ],
)
def test_show_json_resolves_names_and_paths(project, monkeypatch, capsys, ref):
    monkeypatch.chdir(project)
    assert main(["show", ref, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "feature-x" and data["status"] == "planned"
    assert data["format"] == "cdd"
    assert [{k: s[k] for k in ("id", "title", "phase", "status")} for s in data["steps"]] == [
        {"id": "1", "title": "First", "phase": None, "status": "pending"},
        {"id": "2", "title": "Second", "phase": None, "status": "pending"},
        {"id": "3", "title": "Third", "phase": None, "status": "pending"},
    ]
    assert data["acceptance_criteria"] == ["a.txt exists", "Something nobody checks"]
    assert data["issues"] == [] and data["progress"] is None


def test_absolute_path_from_elsewhere(project, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(project / "specs")
    assert (
        main(["show", str(project / "specs" / "tickets" / "feature-x" / "plan.md"), "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["name"] == "feature-x"


def test_shorthand_runs_the_ticket(project, script_agent, monkeypatch):
    monkeypatch.chdir(project)
    cmd = script_agent({"*": [{"append": "log.txt", "text": "x"}]})
    assert (
        main(["feature-x", "--agent", "command", "--agent-command", cmd, "--no-gates", "--force"])
        == 1
    )
    assert (project / "specs" / "archive" / "feature-x" / "report.json").exists()


def test_auto_without_any_backend_exits_2_with_how_to(project, tmp_path, monkeypatch, capsys):
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "no-claude"))
    monkeypatch.chdir(project)
    assert main(["run", "feature-x", "--no-gates"]) == 2
    err = capsys.readouterr().err
    assert "no agent backend is available" in err and "--agent claude" in err
    assert (
        "status: planned" in (project / "specs" / "tickets" / "feature-x" / "spec.yaml").read_text()
    )


def test_help_is_quick_to_import():
    """--help must not import the heavy libraries (rich, pydantic_ai, anthropic, ruamel)."""
    code = (
        "import sys; from exec_auto.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('rich', 'pydantic_ai', 'anthropic', 'openai', 'ruamel', 'markdown_it', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_demo_runs_offline_and_reports_the_planted_issue(tmp_path):
    target = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "exec_auto", "demo", str(target)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        env={**__import__("os").environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "REPLAY" in result.stdout
    report = json.loads(
        (target / "specs" / "archive" / "feature-word-stats" / "report.json").read_text()
    )
    assert [s["status"] for s in report["steps"]] == [
        "completed",
        "completed",
        "completed_with_warning",
        "completed",
    ]
    assert [i["type"] for i in report["issues"]] == ["test_failure"]
    crit = [(c["status"], c["proof"]) for c in report["acceptance_criteria"]]
    assert crit == [
        ("met", "red_green"),
        ("met", "red_green"),
        ("not_met", "none"),
        ("unverified", "passing"),
        ("unverified", "none"),
    ]
    # Both runs are the evidence: the new module did not exist before the ticket.
    first = report["acceptance_criteria"][0]["evidence"][0]
    assert "before the ticket: error" in first and first.endswith("after: passed")
    assert "passes without this ticket's change" in report["acceptance_criteria"][3]["evidence"][-1]
    added = {t["test_id"]: t["origin"] for t in report["red_green"]["tests"]}
    assert added["tests/test_stats.py::test_top_words_most_frequent_first"] == "added in step 2"
    assert "## Evidence (4 proven, 1 only passing, 1 unverified)" in result.stdout
    assert (
        report["auto_actions"]["formatting_applied"] >= 1
        and report["auto_actions"]["fix_attempts"] == 1
    )
    # The review page's Red/green column says the same as the report: proof in words, then the pair.
    page = (target / "specs" / "archive" / "feature-word-stats" / "report.html").read_text()
    table = page[page.index("<th>Red/green</th>") :]
    assert table.count("proven: fails before the ticket, passes after") == 2
    assert "only passing: not shown to fail before the ticket" in table
    assert "red/green: test" in table and "before the ticket: error" in table
    assert (target / "wordtools" / "stats.py").exists()
    assert (
        "status: archived"
        in (target / "specs" / "archive" / "feature-word-stats" / "spec.yaml").read_text()
    )


def test_list_json(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    assert main(["list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == "feature-x" and row["steps"] == 3 and row["open_issues"] is None
    assert row["status"] == "planned" and row["archived"] is False
