"""The executor with the real Python gates: formatting, lint fixes, the bounded fix loop, baseline."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.conftest import agent_calls, git, init_repo, plan_text, run_cli

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
UNFORMATTED = "import os\ndef mul(a,b):\n    return a*b\n"
TEST_ADD = "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
TEST_MUL = "from calc.more import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"
TEST_BROKEN = (
    "from calc.ops import add\n\n\ndef test_add_strings():\n    assert add('a', 'b') == 'ba'\n"
)


@pytest.fixture
def calc(tmp_path: Path) -> Path:
    root = tmp_path / "calc"
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "tests" / "test_pre.py").write_text("def test_already_broken():\n    assert 1 == 2\n")
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "calc"
            version = "0"
            [tool.ruff.lint]
            select = ["E", "F", "I"]
            [tool.pytest.ini_options]
            testpaths = ["tests"]
            """
        )
    )
    ticket = root / "specs" / "tickets" / "feature-x"
    ticket.mkdir(parents=True)
    (ticket / "plan.md").write_text(plan_text(["Add", "Multiply", "Strings"]))
    (ticket / "spec.yaml").write_text(
        "acceptance_criteria:\n  - criterion: add works\n    tests: [test_add]\n"
        "  - criterion: strings concatenate (test_add_strings)\nticket:\n  status: planned\n"
    )
    (root / "CLAUDE.md").write_text("conventions\n")
    init_repo(root)
    return root


def test_fix_loop_formatting_and_baseline(calc, script_agent, monkeypatch, tmp_path):
    behaviour = {
        "1": [
            {"write": "calc/ops.py", "text": BUGGY},
            {"write": "tests/test_ops.py", "text": TEST_ADD},
        ],
        "fix:1": [{"write": "calc/ops.py", "text": FIXED}],
        "2": [
            {"write": "calc/more.py", "text": UNFORMATTED},
            {"write": "tests/test_more.py", "text": TEST_MUL},
        ],
        "3": [{"write": "tests/test_strings.py", "text": TEST_BROKEN}],
        "fix:3": [{"append": "calc/ops.py", "text": "\n# tried\n"}],
    }
    code = run_cli(calc, monkeypatch, script_agent(behaviour), "--no-archive")
    assert code == 1
    folder = calc / "specs" / "tickets" / "feature-x"
    report = json.loads((folder / "report.json").read_text())
    assert [s["status"] for s in report["steps"]] == [
        "completed",
        "completed",
        "completed_with_warning",
    ]
    # Step 1: the gate failed, one fix attempt repaired it; nothing left to log for step 1.
    kinds = [(c["step"], c["kind"], c["attempt"]) for c in agent_calls(tmp_path)]
    assert kinds == [
        ("1", "step", "1"),
        ("1", "fix", "1"),
        ("2", "step", "1"),
        ("3", "step", "1"),
        ("3", "fix", "1"),
        ("3", "fix", "2"),
    ]
    fix_prompt = agent_calls(tmp_path)[1]["prompt"]
    assert "test_add" in fix_prompt and "assert" in fix_prompt
    assert not [i for i in report["issues"] if i["step_id"] == "1"]
    assert (calc / "calc" / "ops.py").read_text().startswith(FIXED)
    # Step 2: formatted and the unused import removed by the gates.
    more = (calc / "calc" / "more.py").read_text()
    assert "import os" not in more and "def mul(a, b):" in more
    assert (
        report["auto_actions"]["formatting_applied"] >= 1
        and report["auto_actions"]["linting_fixed"] >= 1
    )
    # Step 3: two fix attempts did not help; the failure is logged with the test id.
    step3 = [i for i in report["issues"] if i["step_id"] == "3"]
    assert (
        step3
        and step3[0]["type"] == "test_failure"
        and "test_add_strings" in step3[0]["description"]
    )
    # Logged once: the final gate knows the step already reported it.
    assert len([i for i in report["issues"] if "test_add_strings" in i["description"]]) == 1
    assert report["auto_actions"]["fix_attempts"] == 3
    # The failure that existed before the run is never blamed on a step.
    assert not [i for i in report["issues"] if "test_already_broken" in i["description"]]
    crit = {c["criterion"]: c["status"] for c in report["acceptance_criteria"]}
    assert crit == {"add works": "met", "strings concatenate (test_add_strings)": "not_met"}


def test_failed_dependency_install_skips_the_step(calc, script_agent, monkeypatch, tmp_path):
    wheels = tmp_path / "no-wheels"
    wheels.mkdir()
    # Offline and empty: the install must fail, and nothing can reach the network.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    plan = calc / "specs" / "tickets" / "feature-x" / "plan.md"
    plan.write_text(
        plan.read_text() + "\n## Dependencies\n\n```bash\npip install zzz-exec-auto-missing\n```\n"
    )
    git(calc, "commit", "-qam", "plan deps")
    test = (
        "import zzz_exec_auto_missing\n\n\ndef test_uses_it():\n    assert zzz_exec_auto_missing\n"
    )
    behaviour = {
        "1": [{"write": "tests/test_dep.py", "text": test}],
        "2": [{"write": "calc/ops.py", "text": FIXED}],
        "3": [{"write": "calc/more.py", "text": "def mul(a, b):\n    return a * b\n"}],
    }
    code = run_cli(calc, monkeypatch, script_agent(behaviour), "--no-archive")
    assert code == 1
    report = json.loads((calc / "specs" / "tickets" / "feature-x" / "report.json").read_text())
    statuses = [s["status"] for s in report["steps"]]
    assert statuses == ["skipped", "completed", "completed"]
    dep = [i for i in report["issues"] if i["type"] == "dependency_error"]
    assert len(dep) == 1  # not re-logged by later steps or the final gate
    assert dep and dep[0]["severity"] == "high" and dep[0]["step_id"] == "1"
    assert "zzz-exec-auto-missing" in dep[0]["description"] + dep[0]["details"]


def test_lint_a_file_already_had_is_not_blamed_on_the_step(calc, script_agent, monkeypatch):
    (calc / "calc" / "legacy.py").write_text("def old():\n    return undefined_thing\n")
    git(calc, "add", "-A")
    git(calc, "commit", "-qm", "legacy code with a lint problem")
    behaviour = {
        "1": [{"append": "calc/legacy.py", "text": "\n\ndef new():\n    return 1\n"}],
        "*": [{"append": "calc/legacy.py", "text": "\n\nX = 2\n"}],
    }
    code = run_cli(
        calc, monkeypatch, script_agent(behaviour), "--no-archive", "--fix-attempts", "0"
    )
    report = json.loads((calc / "specs" / "tickets" / "feature-x" / "report.json").read_text())
    assert not [i for i in report["issues"] if i["type"] == "lint_error"]
    assert [s["status"] for s in report["steps"]] == ["completed"] * 3
    assert any(g.startswith("Ruff: 1 pre-existing") for g in report["steps"][0]["quality_gates"])
    assert code == 1  # the criteria are not all met, but no step was blamed


def test_a_step_that_only_deletes_still_runs_the_gates(calc, script_agent, monkeypatch):
    behaviour = {
        "1": [
            {"write": "calc/ops.py", "text": FIXED},
            {"write": "tests/test_ops.py", "text": TEST_ADD},
        ],
        "2": [{"delete": "calc/ops.py"}],
        "3": [{"write": "calc/more.py", "text": "def mul(a, b):\n    return a * b\n"}],
    }
    run_cli(calc, monkeypatch, script_agent(behaviour), "--no-archive", "--fix-attempts", "0")
    report = json.loads((calc / "specs" / "tickets" / "feature-x" / "report.json").read_text())
    assert [s["status"] for s in report["steps"]] == [
        "completed",
        "completed_with_warning",
        "completed",
    ]
    step2 = [i for i in report["issues"] if i["step_id"] == "2"]
    assert step2 and step2[0]["type"] == "test_failure" and "test_ops.py" in step2[0]["description"]
