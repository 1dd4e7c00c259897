"""pr-body, --open-pr through a fake `gh` on PATH, and --notify-command (never fatal)."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

from exec_auto.cli import main
from tests.batch.support import agent_command
from tests.conftest import git, run_cli

FAKE_GH = """#!{python}
import json, os, sys
log = os.environ["FAKE_GH_LOG"]
with open(log, "a") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "stdin": "" if sys.argv[1:2] == ["auth"] else sys.stdin.read()}}) + "\\n")
if sys.argv[1:3] == ["auth", "status"]:
    sys.exit(int(os.environ.get("FAKE_GH_AUTH", "0")))
print("https://example.invalid/pr/1")
"""


def _fake_gh(tmp_path: Path, monkeypatch, auth: int = 0) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    gh = bindir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable))
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "gh.jsonl"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GH_LOG", str(log))
    monkeypatch.setenv("FAKE_GH_AUTH", str(auth))
    return log


def _calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_pr_body_is_markdown_with_criteria_steps_and_how_to_review(project, monkeypatch, capsys):
    agent = 'echo x > "s$EXEC_AUTO_STEP_ID.txt"; test "$EXEC_AUTO_STEP_ID" = 1 && echo a > a.txt; echo "DEVIATION: no logger"'
    run_cli(project, monkeypatch, agent, "--no-gates")
    capsys.readouterr()
    assert main(["pr-body", "feature-x"]) == 0
    body = capsys.readouterr().out
    assert body.startswith("## Summary\n")
    row = next(line for line in body.splitlines() if line.startswith("| a.txt exists |"))
    assert "| met |" in row
    assert "before the ticket: failed (exited 1); after: exited 0" in row
    assert "- unverified: Something nobody checks" in body
    assert "- [ ] deviation (step 1): no logger" in body
    assert "| 2 | Second | completed | 1 file, +1 -0 |" in body
    assert "`exec-auto diff feature-x STEP`" in body and "report.html" in body


def test_pr_body_of_a_ticket_never_run_is_a_one_line_error(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    assert main(["pr-body", "feature-x"]) == 2
    err = capsys.readouterr().err
    assert "no report.json yet" in err and "Traceback" not in err


def _parallel(make_batch, run_batch_cli, *extra: str) -> Path:
    root = make_batch(["a", "b"])
    origin = root.parent / "origin.git"
    git(root.parent, "init", "-q", "--bare", str(origin))
    git(root, "remote", "add", "origin", str(origin))
    assert run_batch_cli(root, agent_command(), "a", "b", "--parallel", "2", *extra) == 0
    return origin


def test_open_pr_pushes_each_finished_branch_and_opens_a_draft(
    make_batch, run_batch_cli, tmp_path, monkeypatch, capsys
):
    log = _fake_gh(tmp_path, monkeypatch)
    origin = _parallel(make_batch, run_batch_cli, "--open-pr")
    creates = [c for c in _calls(log) if c["argv"][:2] == ["pr", "create"]]
    assert sorted(c["argv"][c["argv"].index("--head") + 1] for c in creates) == [
        "exec-auto/a",
        "exec-auto/b",
    ]
    assert all("--draft" in c["argv"] and c["stdin"].startswith("## Summary") for c in creates)
    assert "exec-auto/a" in git(origin, "branch")
    assert "draft PR opened" in capsys.readouterr().out


def test_open_pr_is_skipped_with_a_message_when_gh_is_not_logged_in(
    make_batch, run_batch_cli, tmp_path, monkeypatch, capsys
):
    log = _fake_gh(tmp_path, monkeypatch, auth=1)
    origin = _parallel(make_batch, run_batch_cli, "--open-pr")
    assert "`gh` is not logged in" in capsys.readouterr().out
    assert [c["argv"][:2] for c in _calls(log)] == [["auth", "status"]]
    assert git(origin, "branch") == ""  # nothing pushed


def test_open_pr_without_gh_or_without_origin_says_so(project, tmp_path, monkeypatch):
    from exec_auto.review.pr import unavailable

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert "`gh` is not installed" in (unavailable(project) or "")
    monkeypatch.undo()
    _fake_gh(tmp_path, monkeypatch)
    assert "no `origin` remote" in (unavailable(project) or "")


def test_notify_runs_per_ticket_and_per_batch_and_a_failing_one_is_not_fatal(
    make_batch, run_batch_cli, tmp_path, capsys
):
    out = tmp_path / "notes.txt"
    cmd = (
        f'echo "$EXEC_AUTO_NOTIFY_KIND|$EXEC_AUTO_SUMMARY|$EXEC_AUTO_REPORT_HTML" >> {out}; exit 7'
    )
    root = make_batch(["a", "b"])
    assert run_batch_cli(root, agent_command(), "a", "b", "--notify-command", cmd) == 0
    lines = out.read_text().splitlines()
    assert [line.split("|")[0] for line in lines] == ["ticket", "ticket", "batch"]
    assert lines[0].split("|")[1].startswith("a: proven (completed, exit 0)")
    assert lines[2].split("|")[2].endswith("batch-report.html")
    assert Path(lines[2].split("|")[2]).is_file()
    assert "notify command exited 7" in capsys.readouterr().err


def test_notify_from_config_for_a_single_ticket(project, monkeypatch, tmp_path):
    out = tmp_path / "one.txt"
    (project / "pyproject.toml").write_text(
        f"[tool.exec-auto.review]\nnotify_command = 'echo \"$EXEC_AUTO_SUMMARY\" > {out}'\n"
    )
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "config")
    run_cli(project, monkeypatch, "echo a > a.txt", "--no-gates")
    assert out.read_text().startswith("feature-x: partial (completed_with_issues, exit 1)")
