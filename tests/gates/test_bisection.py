"""Blame by bisection: a failure first seen in the final gate is laid at the step that introduced it.

The end-to-end runs use real git snapshots, the real step history and real pytest runs in scratch
checkouts. Per-step test runs are switched off in them through a gates wrapper, standing in for a
selection that missed the test (the issue's case: a step edits a docs file a test reads), so the
failure first shows in the final gate whatever the selection learns to map. The search itself
(caps, flaky boundaries, missing snapshots) is checked on recorded outcomes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from exec_auto.agents.command import CommandAgent
from exec_auto.config import build_config
from exec_auto.executor.run import run_ticket
from exec_auto.executor.ui import PlainUI
from exec_auto.gates.base import GateContext, GateReport
from exec_auto.gates.bisect import Point, bisect
from exec_auto.gates.python import PythonGates
from exec_auto.gates.testing import TestFailure, TestRun
from exec_auto.ticket.resolve import TicketRef
from tests.conftest import AGENT_SCRIPT, git, make_project

PYPROJECT = """\
[project]
name = "docsapp"
version = "0.1.0"

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]
"""
USAGE = "# Usage\n\n## Install\n\npip install docsapp\n"
TEST_DOCS = """\
from pathlib import Path


def test_usage_documents_install():
    text = (Path(__file__).parent.parent / "docs" / "usage.md").read_text()
    assert "## Install" in text


def test_docs_are_short():
    assert len((Path(__file__).parent.parent / "docs" / "usage.md").read_text()) < 2000
"""
TEST_APP = """\
from app import core


def test_answer():
    assert core.answer() == 42
"""


class StepTestsMissed:
    """The real gates, except that steps run no tests: a selection that missed the failing test."""

    def __init__(self, config, deps):
        self.inner = PythonGates(config.gates, deps)

    def environment(self, root):
        return self.inner.environment(root)

    def baseline(self, ctx: GateContext) -> GateReport:
        return self.inner.baseline(ctx)

    def after_step(self, ctx: GateContext) -> GateReport:
        return self.inner.after_step(
            replace(ctx, config=ctx.config.model_copy(update={"test": False}))
        )

    def final(self, ctx: GateContext) -> GateReport:
        return self.inner.final(ctx)


def docs_project(root: Path, steps: int) -> None:
    make_project(root, titles=[f"Part {n}" for n in range(1, steps + 1)], spec=None)
    files = {
        "pyproject.toml": PYPROJECT,
        "src/app/__init__.py": "",
        "src/app/core.py": "def answer():\n    return 42\n",
        "docs/usage.md": USAGE,
        "tests/test_docs.py": TEST_DOCS,
        "tests/test_app.py": TEST_APP,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "docs app")


def run(root: Path, tmp_path: Path, behaviour: dict[str, object], **gates: object):
    path = tmp_path / "behaviour.json"
    path.write_text(json.dumps(behaviour))
    log = tmp_path / "calls.jsonl"
    agent = CommandAgent(
        f"SCRIPT_AGENT_LOG={log} SCRIPT_AGENT_BEHAVIOUR={path} {sys.executable} {AGENT_SCRIPT}"
    )
    overrides = {"gates": {"fix_attempts": 0, **gates}, "archive": False}
    config = build_config(root, overrides)
    return run_ticket(
        TicketRef("feature-x", root), config, agent, PlainUI(), gates_factory=StepTestsMissed
    )


def repo_state(root: Path) -> tuple[str, ...]:
    def out(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True).stdout

    return (
        out("branch", "-a"),
        out("worktree", "list", "--porcelain"),
        out("stash", "list"),
        out("for-each-ref"),
        out("diff", "--cached", "--name-only"),
    )


def steps_behaviour(breaking_step: int, steps: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for n in range(1, steps + 1):
        actions = [{"write": f"src/app/part{n}.py", "text": f"PART = {n}\n"}]
        if n == breaking_step:
            # The docs edit a test reads: it drops the section the test checks.
            actions.append({"write": "docs/usage.md", "text": "# Usage\n\nSee the website.\n"})
        out[str(n)] = actions
    return out


def test_final_gate_failure_is_logged_under_the_step_that_introduced_it(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    docs_project(root, steps=5)
    monkeypatch.setenv("EXEC_AUTO_SANDBOX_WRITABLE", str(tmp_path))
    before = repo_state(root)
    outcome = run(root, tmp_path, steps_behaviour(breaking_step=3, steps=5))
    report = outcome.report
    assert outcome.exit_code != 0
    (issue,) = [i for i in report.issues if "test_usage_documents_install" in i.description]
    assert issue.step_id == "3"
    assert "(introduced by step 3, found by bisection)" in issue.description
    assert issue.description.startswith("final gate")
    assert "passes on step 2, fails from step 3 on" in issue.details
    # The other docs test still passes everywhere: nothing else is blamed.
    assert not [i for i in report.issues if "test_docs_are_short" in i.description]
    steps = {s.id: s for s in report.steps}
    assert steps["3"].status == "completed_with_warning"
    assert any("found by bisection" in w for w in steps["3"].warnings)
    assert all(steps[n].status == "completed" for n in ("1", "2", "4", "5"))
    line = report.quality_gates["final: bisection"]
    assert line.startswith(
        "Bisection: 1 final-gate failure(s) over 5 step snapshot(s): 1 introduced ["
    )
    runs = int(line.split("[", 1)[1].split(" run", 1)[0])
    # tip, base, ~log2(5) probes, two confirmations: bounded, far below one run per step twice.
    assert 4 <= runs <= 7, line
    assert line.endswith(" s]")
    markdown = (root / "specs/tickets/feature-x/report.md").read_text()
    assert "final: bisection: Bisection: 1 final-gate failure(s)" in markdown
    assert "— step 3**: final gate (introduced by step 3, found by bisection)" in markdown
    # The user's branches, worktrees, stash, refs and index are as they were; the tree holds
    # only the steps' own work (no scratch checkout left in it).
    assert repo_state(root) == before
    status = git(root, "status", "--porcelain", "--untracked-files=all")
    assert "exec-auto-before" not in status


def test_failure_present_at_baseline_is_not_blamed_on_a_step(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    docs_project(root, steps=3)
    (root / "docs/usage.md").write_text("# Usage\n")  # broken before the ticket
    git(root, "commit", "-qam", "docs broken already")
    monkeypatch.setenv("EXEC_AUTO_SANDBOX_WRITABLE", str(tmp_path))
    # No baseline run: the final gate cannot know the failure was there before.
    outcome = run(root, tmp_path, steps_behaviour(breaking_step=0, steps=3), baseline=False)
    (issue,) = [i for i in outcome.report.issues if "test_usage_documents_install" in i.description]
    assert issue.step_id is None
    assert "(bisection: fails before step 1 too)" in issue.description
    assert "present at baseline, not a step's" in issue.details
    assert all(s.status == "completed" for s in outcome.report.steps)
    assert "1 baseline" in outcome.report.quality_gates["final: bisection"]


# -- the search on recorded outcomes ---------------------------------------------------------


def fake_runner(fail_from: dict[str, int], flips: dict[tuple[str, int], int] | None = None):
    """A runner whose tests fail from point index fail_from[test] on; flips: outcome flips."""
    calls: list[tuple[int, tuple[str, ...]]] = []
    seen: dict[tuple[str, int], int] = {}

    def runner(point: Point, tests, timeout: float) -> TestRun:
        index = int(point.commit)
        calls.append((index, tuple(tests)))
        failures, passed = [], []
        for test in tests:
            fails = index >= fail_from[test]
            count = seen[(test, index)] = seen.get((test, index), 0) + 1
            if flips and flips.get((test, index)) == count:
                fails = not fails
            if fails:
                failures.append(TestFailure(test, "failed", "assert"))
            else:
                passed.append(test)
        return TestRun(passed=tuple(passed), failures=tuple(failures))

    return runner, calls


def points(n: int) -> list[Point]:
    return [Point(None, "0"), *(Point(str(i), str(i), (str(i),)) for i in range(1, n + 1))]


def test_runs_are_shared_and_logarithmic_in_the_number_of_steps():
    runner, calls = fake_runner({"t::a": 6, "t::b": 6, "t::c": 13})
    result = bisect(points(16), ["t::a", "t::b", "t::c"], runner, max_runs=30)
    assert {t: (b.verdict, b.step_id) for t, b in result.blames.items()} == {
        "t::a": ("introduced", "6"),
        "t::b": ("introduced", "6"),
        "t::c": ("introduced", "13"),
    }
    # Tests with the same interval share each probe.
    assert all(("t::a" in tests) == ("t::b" in tests) for _, tests in calls)
    assert result.runs <= 2 + 2 * 4 + 4


def test_a_boundary_that_does_not_repeat_is_flaky():
    runner, _ = fake_runner({"t::a": 2}, flips={("t::a", 2): 2})
    (blame,) = bisect(points(4), ["t::a"], runner).blames.values()
    assert blame.verdict == "flaky" and "passed on a second run of step 2" in blame.reason


def test_the_run_cap_leaves_an_honest_range():
    runner, calls = fake_runner({"t::a": 7})
    result = bisect(points(16), ["t::a"], runner, max_runs=3)
    (blame,) = result.blames.values()
    assert blame.verdict == "undecided" and result.runs == len(calls) == 3
    assert blame.reason.endswith("between the base (before step 1) (passes) and step 8 (fails)")


def test_no_snapshots_and_no_reproduction_are_said_not_guessed():
    runner, calls = fake_runner({"t::a": 0})
    assert bisect([Point(None, "0")], ["t::a"], runner).blames["t::a"].verdict == "undecided"
    assert calls == []
    never, _ = fake_runner({"t::a": 99})
    blame = bisect(points(3), ["t::a"], never).blames["t::a"]
    assert blame.verdict == "not_reproduced" and "last step's snapshot" in blame.reason


def test_a_run_that_cannot_start_decides_nothing():
    def broken(point, tests, timeout):
        return TestRun(failures=(TestFailure("pytest", "crash", "conftest exploded"),))

    blame = bisect(points(3), ["t::a"], broken).blames["t::a"]
    assert blame.verdict == "undecided" and "conftest exploded" in blame.reason


def test_the_time_cap_is_honoured():
    runner, calls = fake_runner({"t::a": 1})
    result = bisect(points(3), ["t::a"], runner, max_seconds=1e-9)
    assert calls == [] and result.blames["t::a"].verdict == "undecided"
