"""`exec-auto insights` on past progress files, and what it feeds back: the score and the prompt."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from exec_auto.cli import main
from tests.conftest import git
from tests.readiness.support import FIXTURES, make_ticket, score

HISTORY = FIXTURES / "progress-history"
PLAN = """\
# Implementation Plan: Parser

## Executive Summary

A parser and its tests.

## Implementation Steps

### Step 1: Create the parser module
**Outcome:** `parser.py` exists with `parse(text) -> list[str]`.

### Step 2: Write tests for the parser
**Outcome:** `tests/test_parser.py` covers empty input and two words.
"""
SPEC = """\
title: "Parser"
acceptance_criteria:
  - criterion: "parse splits words"
    verify: "python -c 'import parser'"
ticket:
  type: feature
  status: planned
"""


def _archive_history(root: Path) -> None:
    """The fixture progress files as archived tickets of the project."""
    for path in sorted(HISTORY.glob("*.yaml")):
        folder = root / "specs" / "archive" / path.stem
        folder.mkdir(parents=True)
        shutil.copy(path, folder / "progress.yaml")
        (folder / "plan.md").write_text("# P\n\n## Implementation Steps\n\n### Step 1: A\n\nx\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "history")


def test_insights_reports_what_keeps_failing(tmp_path, monkeypatch, capsys):
    root = tmp_path / "p"
    make_ticket(root, "parser", PLAN, SPEC)
    _archive_history(root)
    monkeypatch.chdir(root)
    assert main(["insights", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # The real CDD progress file (an older shape) is read too: three tickets.
    assert data["tickets"] == 3 and data["archived"] == 3
    tests = next(k for k in data["by_kind"] if k["kind"] == "tests")
    assert (tests["troubled"], tests["issue_types"]) == (2, {"test_failure": 2})
    assert (tests["fix_attempts"], tests["fixes_that_helped"]) == (3, 0)
    assert data["fixes_that_never_helped"] == ["tests"]
    assert data["failed_installs"] == {"python-jose": 2}
    assert {c["criterion"] for c in data["unverified_criteria"]} == {
        "Login errors are user-friendly",
        "Totals look right",
    }
    (decision,) = data["decisions"]
    assert decision["question"].startswith("Should totals use the customer's currency")
    assert "python-jose` failed to install in 2 earlier runs" in data["prompt_pitfalls"]
    assert main(["insights"]) == 0
    text = capsys.readouterr().out
    assert "Fix attempts that never helped:\n  tests: 3 attempt(s), none passed" in text
    assert "python-jose: 2 ticket(s)" in text


def test_insights_without_history(tmp_path, monkeypatch, capsys):
    root = tmp_path / "p"
    make_ticket(root, "parser", PLAN, SPEC)
    monkeypatch.chdir(root)
    assert main(["insights"]) == 0
    assert "no progress files yet" in capsys.readouterr().out


def test_history_lowers_the_score_of_a_kind_that_failed_before(tmp_path):
    root = tmp_path / "p"
    ticket = make_ticket(root, "parser", PLAN, SPEC)
    before = score(ticket)
    assert before.score == 100
    _archive_history(root)
    after = score(ticket)
    (finding,) = [f for f in after.findings if f.kind == "history"]
    assert finding.step_id == "2" and after.score == 100 - finding.penalty < before.score
    assert "'tests' step; 2 of 3 such steps had problems in earlier runs (test_failure)" in (
        finding.message
    )


def test_history_reaches_the_step_prompt_bounded_and_identical_for_every_step(
    tmp_path, monkeypatch
):
    root = tmp_path / "p"
    make_ticket(root, "parser", PLAN, SPEC)
    _archive_history(root)
    log = tmp_path / "prompts"
    log.mkdir()
    monkeypatch.setenv("EXEC_AUTO_SANDBOX_WRITABLE", str(tmp_path))
    agent = (
        f"{sys.executable} -c \"import os,shutil; s=os.environ['EXEC_AUTO_STEP_ID'];"
        f" shutil.copy(os.environ['EXEC_AUTO_PROMPT_FILE'], '{log}/' + s);"
        " open('parser.py' if s == '1' else 'notes.txt', 'w').write('x = 1\\n')\""
    )
    monkeypatch.chdir(root)
    code = main(["run", "parser", "--agent", "command", "--agent-command", agent, "--no-gates"])
    assert code in (0, 1)
    first, second = (log / "1").read_text(), (log / "2").read_text()
    section = first.split("## Known pitfalls in this repository", 1)[1].split("\n## ", 1)[0]
    assert "'tests' steps had problems in 2 of 3 earlier steps" in section
    assert "fix attempts on 'tests' steps never helped here" in section
    assert len(section) < 1200
    # Part of the fixed prefix: byte-identical for every step (prompt caching).
    marker = "## Your step"
    assert (
        first.split(marker)[0].split("## Earlier steps")[0]
        == second.split(marker)[0].split("## Earlier steps")[0]
    )


def test_history_can_be_switched_off(tmp_path):
    root = tmp_path / "p"
    ticket = make_ticket(root, "parser", PLAN, SPEC)
    _archive_history(root)
    (root / "pyproject.toml").write_text("[tool.exec-auto.readiness]\nhistory = false\n")
    assert score(ticket).score == 100
