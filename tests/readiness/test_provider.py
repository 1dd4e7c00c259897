"""The decision provider seam, in process: a scripted provider sees every kind of step problem."""

from __future__ import annotations

import sys
from pathlib import Path

from exec_auto.agents.command import CommandAgent
from exec_auto.config import build_config
from exec_auto.decisions.markers import DecisionRequest
from exec_auto.decisions.provider import Autonomous, Problem, Verdict
from exec_auto.executor.run import run_ticket
from exec_auto.executor.ui import PlainUI
from exec_auto.ticket.resolve import TicketRef
from tests.readiness.support import make_ticket

PLAN = """\
# Implementation Plan: Tidy

## Implementation Steps

### Step 1: Tidy the tests
**Outcome:** `tests/test_ops.py` is gone and `notes.txt` says why.
"""


class Scripted:
    """Answers problems from a list and records what it was shown."""

    interactive = True
    who = "script"

    def __init__(self, verdicts: list[Verdict]):
        self.verdicts = verdicts
        self.seen: list[Problem] = []

    def decide(self, request: DecisionRequest) -> str | None:
        return None

    def problem(self, problem: Problem) -> Verdict:
        self.seen.append(problem)
        return self.verdicts.pop(0)


def _run(root: Path, provider: object) -> str:
    ticket = TicketRef("t", root)
    config = build_config(root, {"gates": {"enabled": False, "fix_attempts": 0}, "archive": False})
    agent = CommandAgent(f"{sys.executable} -c \"import os; p = 'tests/test_ops.py'; os.path.exists(p) and os.remove(p);"
                         " open('notes.txt', 'w').write('gone')\"")  # fmt: skip
    outcome = run_ticket(ticket, config, agent, PlainUI(), decisions=provider)  # type: ignore[arg-type]
    return outcome.report.steps[0].status


def test_an_integrity_finding_reaches_the_provider(tmp_path):
    root = tmp_path / "p"
    make_ticket(root, "t", PLAN, files=("tests/test_ops.py",))
    (root / "tests" / "test_ops.py").write_text("def test_one():\n    assert 1 == 1\n")
    from tests.conftest import git

    git(root, "commit", "-qam", "a test")
    provider = Scripted([Verdict("skip")])
    assert _run(root, provider) == "skipped"
    (problem,) = provider.seen
    assert [i.type for i in problem.issues] == ["integrity"]
    assert "test_ops.py" in problem.issues[0].description + problem.issues[0].details


def test_the_autonomous_provider_never_asks(tmp_path):
    root = tmp_path / "p"
    make_ticket(root, "t", PLAN, files=("tests/test_ops.py",))
    (root / "tests" / "test_ops.py").write_text("def test_one():\n    assert 1 == 1\n")
    from tests.conftest import git

    git(root, "commit", "-qam", "a test")
    assert Autonomous().problem(Problem("1", "x", ())) == Verdict("continue")
    assert _run(root, Autonomous()) != "skipped"
