"""Scripted agents that game the gates, one way each: the run logs it, downgrades the step, exits 1."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from exec_auto.evidence.finding import KIND_LABEL
from tests.conftest import agent_calls, git, init_repo, plan_text, run_cli

OPS = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
TESTS = textwrap.dedent(
    """\
    import pytest

    from calc.ops import add, mul


    def test_add():
        assert add(2, 3) == 5


    def test_mul():
        assert mul(2, 3) == 6
        assert mul(0, 9) == 0
    """
)
PYPROJECT = textwrap.dedent(
    """\
    [project]
    name = "calc"
    version = "0"

    [tool.pytest.ini_options]
    testpaths = ["tests"]
    addopts = "-ra"

    [tool.coverage.report]
    fail_under = 90
    """
)
CI = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"


def make_calc(root: Path, titles: list[str]) -> Path:
    """A committed calc project with tests, config and CI; a ticket without a spec."""
    files = {
        "calc/__init__.py": "",
        "calc/ops.py": OPS,
        "tests/test_ops.py": TESTS,
        "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef two():\n    return 2\n",
        "pyproject.toml": PYPROJECT,
        ".github/workflows/ci.yml": CI,
        "CLAUDE.md": "conventions\n",
        "specs/tickets/feature-x/plan.md": plan_text(titles),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    init_repo(root)
    return root


def report_of(root: Path) -> dict:
    return json.loads((root / "specs/tickets/feature-x/report.json").read_text())


FEATURE = {"append": "calc/ops.py", "text": "\n\ndef sub(a, b):\n    return a - b\n"}
GAMES = {
    "test file deleted": ([{"delete": "tests/test_ops.py"}], "test_removed", "tests/test_ops.py:6"),
    "test renamed away": (
        [{"write": "tests/test_ops.py", "text": TESTS.replace("def test_mul", "def _test_mul")}],
        "test_not_collected",
        "tests/test_ops.py:10",
    ),
    "skip marker": (
        [
            {
                "write": "tests/test_ops.py",
                "text": TESTS.replace(
                    "def test_mul", "@pytest.mark.skip(reason='wip')\ndef test_mul"
                ),
            }
        ],
        "skip_added",
        "tests/test_ops.py:10",
    ),
    "early return": (
        [
            {
                "write": "tests/test_ops.py",
                "text": TESTS.replace("    assert mul(2, 3)", "    return\n    assert mul(2, 3)"),
            }
        ],
        "test_disabled",
        "tests/test_ops.py:11",
    ),
    "assert removed": (
        [{"write": "tests/test_ops.py", "text": TESTS.replace("    assert mul(0, 9) == 0\n", "")}],
        "assert_removed",
        "tests/test_ops.py:10",
    ),
    "assert loosened": (
        [
            {
                "write": "tests/test_ops.py",
                "text": TESTS.replace("mul(2, 3) == 6", "mul(2, 3) in (5, 6)"),
            }
        ],
        "assert_weakened",
        "tests/test_ops.py:11",
    ),
    "addopts deselect": (
        [
            {
                "write": "pyproject.toml",
                "text": PYPROJECT.replace('"-ra"', '"-ra --deselect tests/test_ops.py::test_mul"'),
            }
        ],
        "config_weakened",
        "pyproject.toml:7",
    ),
    "coverage threshold": (
        [
            {
                "write": "pyproject.toml",
                "text": PYPROJECT.replace("fail_under = 90", "fail_under = 40"),
            }
        ],
        "config_weakened",
        "pyproject.toml:10",
    ),
    "conftest ignore": (
        [{"append": "tests/conftest.py", "text": "\ncollect_ignore = ['test_ops.py']\n"}],
        "conftest_changed",
        "tests/conftest.py:8",
    ),
    "noqa": (
        [{"write": "calc/ops.py", "text": "import os  # noqa: F401\n" + OPS}],
        "suppression_added",
        "calc/ops.py:1",
    ),
    "CI edit": (
        [
            {
                "write": ".github/workflows/ci.yml",
                "text": CI.replace("run: pytest", "run: pytest || true"),
            }
        ],
        "ci_changed",
        ".github/workflows/ci.yml:7",
    ),
}


@pytest.mark.parametrize("game", list(GAMES))
def test_each_way_of_gaming_is_logged(game, tmp_path, script_agent, monkeypatch):
    actions, kind, location = GAMES[game]
    root = make_calc(tmp_path / "calc", ["Add subtraction"])
    code = run_cli(
        root, monkeypatch, script_agent({"1": [FEATURE, *actions]}), "--no-archive", "--no-gates"
    )
    assert code == 1
    report = report_of(root)
    assert report["steps"][0]["status"] == "completed_with_warning"
    issues = report["integrity"]
    assert issues and all(i["severity"] == "high" and i["type"] == "integrity" for i in issues)
    issue = next(i for i in issues if f"at {location}:" in i["description"])
    assert issue["description"].startswith(KIND_LABEL[kind])
    assert "before:" in issue["details"] and "after:" in issue["details"]
    # The fix attempts were told to restore the check; the scripted agent did not.
    fixes = [c for c in agent_calls(tmp_path) if c["kind"] == "fix"]
    assert len(fixes) == 2 and "Restore each check exactly as it was" in fixes[0]["prompt"]
    md = (root / "specs/tickets/feature-x/report.md").read_text()
    assert md.index(f"## Integrity ({len(issues)} weakened check(s)") < md.index("## Steps")
    assert location in md


def test_fix_attempt_that_skips_the_failing_test(tmp_path, script_agent, monkeypatch):
    """The issue's trial: the fix attempt put @pytest.mark.skip on the failing test."""
    root = make_calc(tmp_path / "calc", ["Add subtraction"])
    bad_test = (
        TESTS + "\n\ndef test_sub():\n    from calc.ops import sub\n\n    assert sub(5, 3) == 2\n"
    )
    behaviour = {
        "1": [
            {"append": "calc/ops.py", "text": "\n\ndef sub(a, b):\n    return b - a\n"},
            {"write": "tests/test_ops.py", "text": bad_test},
        ],
        "fix:1": [
            {
                "write": "tests/test_ops.py",
                "text": bad_test.replace(
                    "def test_sub", "@pytest.mark.skip(reason='flaky')\ndef test_sub"
                ),
            }
        ],
    }
    code = run_cli(
        root, monkeypatch, script_agent(behaviour), "--no-archive", "--fix-attempts", "2"
    )
    assert code == 1
    report = report_of(root)
    assert report["steps"][0]["status"] == "completed_with_warning"
    (issue,) = report["integrity"]
    assert issue["severity"] == "high"
    assert "skip/xfail added at tests/test_ops.py:15" in issue["description"]
    assert "@pytest.mark.skip(reason='flaky')" in issue["details"]
    calls = [(c["kind"], c["attempt"]) for c in agent_calls(tmp_path)]
    assert calls == [("step", "1"), ("fix", "1"), ("fix", "2")]
    second_fix = agent_calls(tmp_path)[2]["prompt"]
    assert "[integrity] skip/xfail added" in second_fix
    assert "Weakened checks are detected and reported" in agent_calls(tmp_path)[0]["prompt"]


def test_fix_attempt_that_restores_the_check_leaves_nothing(tmp_path, script_agent, monkeypatch):
    root = make_calc(tmp_path / "calc", ["Add subtraction"])
    behaviour = {
        "1": [
            FEATURE,
            {
                "write": "tests/test_ops.py",
                "text": TESTS.replace("    assert mul(0, 9) == 0\n", ""),
            },
        ],
        "fix:1": [{"write": "tests/test_ops.py", "text": TESTS}],
    }
    code = run_cli(root, monkeypatch, script_agent(behaviour), "--no-archive", "--no-gates")
    report = report_of(root)
    assert report["integrity"] == [] and report["steps"][0]["status"] == "completed"
    assert code == 0
    assert "Integrity: no weakened checks" in report["steps"][0]["quality_gates"]


def test_plan_authorises_what_it_names(tmp_path, script_agent, monkeypatch):
    root = make_calc(tmp_path / "calc", ["Remove test_mul because multiplication is retired"])
    behaviour = {"1": [{"write": "tests/test_ops.py", "text": TESTS.split("def test_mul")[0]}]}
    code = run_cli(root, monkeypatch, script_agent(behaviour), "--no-archive", "--no-gates")
    report = report_of(root)
    (issue,) = report["integrity"]
    assert issue["severity"] == "low"
    assert (
        "authorised by the plan: Remove test_mul because multiplication is retired"
        in issue["details"]
    )
    assert report["steps"][0]["status"] == "completed"
    assert code == 0
    assert not [c for c in agent_calls(tmp_path) if c["kind"] == "fix"]


def test_test_that_stops_running_is_caught_by_the_final_run(tmp_path, script_agent, monkeypatch):
    """An empty parametrize list skips the test: no source rule sees it, the run's test ids do."""
    root = make_calc(tmp_path / "calc", ["Add subtraction"])
    param = TESTS.replace(
        "def test_mul():\n    assert mul(2, 3) == 6\n",
        "@pytest.mark.parametrize('n', [1, 2])\ndef test_mul(n):\n    assert mul(n, 3) == 3 * n\n",
    )
    (root / "tests/test_ops.py").write_text(param)
    git(root, "commit", "-qam", "parametrize")
    emptied = param.replace("[1, 2]", "[]")
    behaviour = {"1": [FEATURE, {"write": "tests/test_ops.py", "text": emptied}]}
    code = run_cli(
        root, monkeypatch, script_agent(behaviour), "--no-archive", "--fix-attempts", "0"
    )
    assert code == 1
    report = report_of(root)
    (issue,) = report["integrity"]
    assert issue["severity"] == "high" and issue["step_id"] is None
    assert (
        "tests/test_ops.py::test_mul ran before the ticket but not in the final test run"
        in (issue["description"])
    )
