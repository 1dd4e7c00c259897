"""Pause points: an agent asks, its ticket parks, the batch goes on; `answer` resumes it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from exec_auto.cli import main
from exec_auto.decisions.markers import parse_agent_request, plan_pause
from exec_auto.ticket.model import Step
from tests.batch.support import batch_json
from tests.conftest import git, init_repo

SCRIPT = Path(__file__).parent / "decision_agent.py"


def _plan(name: str, pause: str = "") -> str:
    return f"""\
# Implementation Plan: {name}

## Executive Summary

Two notes for {name}.

## Implementation Steps

### Step 1: Create the first note
**Outcome:** `notes/{name}-1.txt` exists.

### Step 2: Create the second note
**Outcome:** `notes/{name}-2.txt` exists and names the cache backend.
{pause}
"""


def _spec(name: str) -> str:
    return (
        f'title: "{name}"\nacceptance_criteria:\n'
        f'  - criterion: "both notes exist"\n'
        f'    verify: "test -f notes/{name}-1.txt && test -f notes/{name}-2.txt"\n'
        "ticket:\n  type: feature\n  status: planned\n"
    )


def _project(root: Path, names: list[str], pause_in: str = "") -> None:
    for name in names:
        folder = root / "specs" / "tickets" / name
        folder.mkdir(parents=True)
        pause = "**Pause:** Redis or Memcached for the sessions?\n**Options:** Redis; Memcached"
        (folder / "plan.md").write_text(_plan(name, pause if name == pause_in else ""))
        (folder / "spec.yaml").write_text(_spec(name))
    (root / "README.md").write_text("x\n")
    init_repo(root)


@pytest.fixture
def agent_log(tmp_path, monkeypatch) -> Path:
    # The sandbox passes only allowlisted variables: the command line names the log itself.
    monkeypatch.setenv("EXEC_AUTO_SANDBOX_WRITABLE", str(tmp_path))
    return tmp_path / "prompts.jsonl"


def _prompts(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _run(root: Path, monkeypatch, *args: str, ask: str = "") -> int:
    monkeypatch.chdir(root)
    log = root.parent / "prompts.jsonl"
    agent = f"DECISION_AGENT_LOG={log} DECISION_AGENT_ASK={ask} {sys.executable} {SCRIPT}"
    return main([*args, "--agent", "command", "--agent-command", agent, "--no-gates"])


def test_a_parked_ticket_lets_the_batch_finish_and_answer_resumes_it(
    tmp_path, monkeypatch, agent_log, capsys
):
    root = tmp_path / "p"
    _project(root, ["a", "b", "c"])
    out = tmp_path / "batch"
    assert _run(root, monkeypatch, "run", "a", "b", "c", "--report-dir", str(out), ask="b:2") == 1
    rows = {r["ticket"]: r for r in batch_json(out)["tickets"]}
    assert rows["a"]["status"] == "completed" and rows["c"]["status"] == "completed"
    assert rows["b"]["status"] == "needs_decision" and rows["b"]["exit_code"] == 1
    assert rows["b"]["steps_done"] == 1
    (question,) = rows["b"]["decisions"]
    assert question["question"] == "Which cache backend should the sessions use?"
    assert question["options"] == ["Redis (already deployed)", "Memcached (simpler)"]
    md = (out / "batch-report.md").read_text()
    # The question comes first, before the table.
    assert md.index("## Decisions needed") < md.index("| Ticket |")
    assert 'exec-auto answer b "your decision"' in md
    # Parked, not finished: still active, nothing lost, its report opens with the question.
    folder = root / "specs" / "tickets" / "b"
    assert (folder / "spec.yaml").read_text().count("in_progress") == 1
    assert (root / "notes" / "b-2.txt").read_text() == "half done\n"
    report = (folder / "report.md").read_text()
    assert report.index("## Decision needed") < report.index("**Status:**")
    progress = (folder / "progress.yaml").read_text()
    assert "status: needs_decision" in progress
    capsys.readouterr()

    git(root, "config", "user.name", "Ana Lima")
    git(root, "config", "user.email", "ana@example.com")
    assert _run(root, monkeypatch, "answer", "b", "Use Redis: it is already deployed") == 0
    step2 = [p for p in _prompts(agent_log) if (p["ticket"], p["step"]) == ("b", "2")]
    assert len(step2) == 2
    assert "Decisions a human made" not in step2[0]["prompt"]
    assert "A: Use Redis: it is already deployed (decided by Ana Lima" in step2[1]["prompt"]
    assert "resumed" in step2[1]["prompt"]
    assert (root / "notes" / "b-2.txt").read_text() == (
        "b 2 decision=Use Redis: it is already deployed\n"
    )
    archived = root / "specs" / "archive" / "b"
    data = json.loads((archived / "report.json").read_text())
    assert data["status"] == "completed"
    (decision,) = data["decisions"]
    assert decision["answer"] == "Use Redis: it is already deployed"
    assert decision["answered_by"] == "Ana Lima <ana@example.com>" and decision["answered_at"]
    md = (archived / "report.md").read_text()
    assert "## Decisions" in md and "decided: Use Redis: it is already deployed — by Ana Lima" in md
    # Step 1 was not redone.
    assert len([p for p in _prompts(agent_log) if (p["ticket"], p["step"]) == ("b", "1")]) == 1


def test_a_plan_pause_marker_parks_before_the_step_runs(tmp_path, monkeypatch, agent_log):
    root = tmp_path / "p"
    _project(root, ["t"], pause_in="t")
    assert _run(root, monkeypatch, "run", "t", "--no-archive") == 1
    assert [p["step"] for p in _prompts(agent_log)] == ["1"]  # step 2 never called the agent
    progress = (root / "specs" / "tickets" / "t" / "progress.yaml").read_text()
    assert "source: plan" in progress and "Redis or Memcached for the sessions?" in progress
    # A plain rerun without an answer stays parked and calls no agent.
    assert _run(root, monkeypatch, "run", "t", "--no-archive") == 1
    assert len(_prompts(agent_log)) == 1
    assert _run(root, monkeypatch, "answer", "t", "Memcached", "--by", "ops", "--no-archive") == 0
    last = _prompts(agent_log)[-1]
    assert last["step"] == "2" and "A: Memcached (decided by ops" in last["prompt"]


def test_answer_without_an_open_question_is_refused(tmp_path, monkeypatch, agent_log, capsys):
    root = tmp_path / "p"
    _project(root, ["t"])
    assert _run(root, monkeypatch, "answer", "t", "yes") == 2
    assert "has not asked anything" in capsys.readouterr().err
    assert _run(root, monkeypatch, "run", "t", "--no-archive") == 0
    assert _run(root, monkeypatch, "answer", "t", "yes") == 2
    assert "no open question" in capsys.readouterr().err


def test_the_step_prompt_describes_the_fixed_format(tmp_path, monkeypatch, agent_log):
    root = tmp_path / "p"
    _project(root, ["t"])
    _run(root, monkeypatch, "run", "t", "--no-archive")
    prompt = _prompts(agent_log)[0]["prompt"]
    assert "EXEC-AUTO-DECISION\nquestion: <one line" in prompt and "END-DECISION" in prompt


def test_parsing_requests_and_markers():
    reply = "work...\nEXEC-AUTO-DECISION\nQuestion: Qual banco?\nopção: Postgres\noption: SQLite\nEND-DECISION\n"
    request = parse_agent_request(reply, "3")
    assert request is not None and request.question == "Qual banco?"
    assert request.options == ("Postgres", "SQLite")
    assert parse_agent_request("EXEC-AUTO-DECISION\noption: x\nEND-DECISION", "1") is None
    assert parse_agent_request("no block here", "1") is None
    step = Step(
        id="2",
        title="T",
        body="### Passo 2: T\n**Pausa:** Qual fila usar?\n**Opções:** RQ / Celery",
    )
    marker = plan_pause(step)
    assert marker is not None and marker.question == "Qual fila usar?"
    assert marker.options == ("RQ", "Celery") and marker.source == "plan"
    assert plan_pause(Step(id="1", title="T", body="### Step 1: T\nDo it.")) is None
