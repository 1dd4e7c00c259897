"""The readiness gate: `check`, an unattended run refusing a weak ticket, --force, and batches."""

from __future__ import annotations

import json
import subprocess
import sys

from exec_auto.cli import main
from tests.batch.support import batch_json
from tests.conftest import git
from tests.readiness.support import READINESS, make_ticket

READY_PLAN = """\
# Implementation Plan: Notes

## Executive Summary

Write two note files the tests check.

## Implementation Steps

### Step 1: Create the first note
**Outcome:** `notes/one.txt` exists and holds the word one.

### Step 2: Create the second note
**Outcome:** `notes/two.txt` exists and holds the word two.
"""
READY_SPEC = """\
title: "Notes"
acceptance_criteria:
  - criterion: "notes/one.txt exists"
    verify: "test -f notes/one.txt"
  - criterion: "notes/two.txt exists"
    verify: "test -f notes/two.txt"
ticket:
  type: feature
  status: planned
"""
VAGUE_PLAN = (READINESS / "vague-en.md").read_text(encoding="utf-8")
VAGUE_SPEC = (READINESS / "vague-spec.yaml").read_text(encoding="utf-8")
# Writes notes/<step>.txt for the ready plan, and a file per step for the vague one.
AGENT = (
    f"{sys.executable} -c \"import os,pathlib; s=os.environ['EXEC_AUTO_STEP_ID'];"
    " p=pathlib.Path('notes'); p.mkdir(exist_ok=True);"
    " (p/({'1':'one','2':'two'}.get(s,s)+'.txt')).write_text(s)\""
)


def _run(root, monkeypatch, *args: str) -> int:
    monkeypatch.chdir(root)
    return main(["run", *args, "--agent", "command", "--agent-command", AGENT, "--no-gates"])


def test_a_low_score_refuses_to_start_and_writes_nothing(tmp_path):
    root = tmp_path / "p"
    ticket = make_ticket(root, "vague", VAGUE_PLAN, VAGUE_SPEC)
    result = subprocess.run(
        [sys.executable, "-m", "exec_auto", "run", "vague", "--agent", "command",
         "--agent-command", AGENT],
        cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "below the threshold 60 for an unattended run" in result.stderr
    assert "--force" in result.stderr and "--interactive" in result.stderr
    assert "exec-auto check vague" in result.stderr
    assert "Traceback" not in result.stderr
    # What to improve is shown with the score before the refusal.
    assert "To improve:" in result.stdout and "has no concrete outcome" in result.stdout
    assert not ticket.progress_path.exists()
    assert ticket.spec_path.read_text(encoding="utf-8") == VAGUE_SPEC
    assert git(root, "status", "--porcelain") == ""


def test_force_runs_it_and_the_report_says_so(tmp_path, monkeypatch):
    root = tmp_path / "p"
    make_ticket(root, "vague", VAGUE_PLAN, VAGUE_SPEC)
    assert _run(root, monkeypatch, "vague", "--force", "--no-archive") == 1
    folder = root / "specs" / "tickets" / "vague"
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["readiness"]["forced"] is True and report["readiness"]["score"] < 60
    assert "has no concrete outcome" in "\n".join(report["readiness"]["reasons"])
    assert "**Readiness:**" in (folder / "report.md").read_text(encoding="utf-8")
    assert all(s["status"] == "completed" for s in report["steps"])


def test_a_forced_ticket_resumes_without_force(tmp_path, monkeypatch):
    root = tmp_path / "p"
    ticket = make_ticket(root, "vague", VAGUE_PLAN, VAGUE_SPEC)
    agent = f'{AGENT}; test "$EXEC_AUTO_STEP_ID" != 3'  # step 3 fails once
    monkeypatch.chdir(root)
    args = ["run", "vague", "--agent", "command", "--no-gates", "--no-archive"]
    assert main([*args, "--agent-command", agent, "--force"]) == 1
    progress = ticket.progress_path.read_text(encoding="utf-8")
    assert "forced: true" in progress
    assert main([*args, "--agent-command", AGENT]) == 1  # resumes; no --force needed


def test_a_ready_ticket_runs_and_records_its_score(tmp_path, monkeypatch, capsys):
    root = tmp_path / "p"
    make_ticket(root, "notes", READY_PLAN, READY_SPEC)
    assert _run(root, monkeypatch, "notes") == 0
    out = capsys.readouterr().out
    assert "readiness 100/100 (threshold 60): ready for an unattended run" in out
    report = json.loads(
        (root / "specs" / "archive" / "notes" / "report.json").read_text(encoding="utf-8")
    )
    assert report["readiness"]["score"] == 100 and report["readiness"]["forced"] is False


def test_the_threshold_comes_from_pyproject(tmp_path, monkeypatch):
    root = tmp_path / "p"
    make_ticket(root, "vague", VAGUE_PLAN, VAGUE_SPEC)
    (root / "pyproject.toml").write_text("[tool.exec-auto.readiness]\nthreshold = 0\n")
    assert _run(root, monkeypatch, "vague", "--no-archive") == 1  # ran: criteria unverified
    (root / "pyproject.toml").write_text("[tool.exec-auto.readiness]\nthreshold = 101\n")
    assert _run(root, monkeypatch, "vague") == 2  # invalid: names the key


def test_check_prints_reasons_and_json(tmp_path, monkeypatch, capsys):
    root = tmp_path / "p"
    make_ticket(root, "vague", VAGUE_PLAN, VAGUE_SPEC)
    monkeypatch.chdir(root)
    assert main(["check", "vague"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("vague: readiness ") and "To improve:" in out
    assert main(["check", "vague", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ready"] is False and data["threshold"] == 60 and data["score"] < 60
    assert {f["kind"] for f in data["findings"]} >= {"vague_step", "open_question"}
    assert all(
        {"kind", "message", "step_id", "penalty", "hint"} <= set(f) for f in data["findings"]
    )
    assert data["improvements"]
    assert main(["check", "vague", "--threshold", "0"]) == 0


def test_a_batch_skips_a_weak_ticket_and_lists_it(tmp_path, monkeypatch):
    root = tmp_path / "p"
    make_ticket(root, "notes", READY_PLAN, READY_SPEC)
    folder = root / "specs" / "tickets" / "vague"
    folder.mkdir()
    (folder / "plan.md").write_text(VAGUE_PLAN)
    (folder / "spec.yaml").write_text(VAGUE_SPEC)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "vague")
    out = tmp_path / "batch"
    code = _run(root, monkeypatch, "vague", "notes", "--report-dir", str(out))
    assert code == 2  # the worst row: a ticket that could not start
    rows = {r["ticket"]: r for r in batch_json(out)["tickets"]}
    assert rows["notes"]["status"] == "completed" and rows["notes"]["readiness_score"] == 100
    assert rows["vague"]["status"] == "not_ready" and rows["vague"]["readiness_score"] < 60
    assert any("no concrete outcome" in r for r in rows["vague"]["readiness_reasons"])
    md = (out / "batch-report.md").read_text(encoding="utf-8")
    assert "## Skipped: not ready for an unattended run" in md and "**vague**" in md
    assert not (folder / "progress.yaml").exists()
