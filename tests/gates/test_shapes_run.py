"""Whole runs on the real project shapes of issue 10: the verdict a user sees at the end.

The gate-level tests check each mechanism; these run `exec-auto run` through the CLI with a
scripted agent and read report.json/report.md/progress.yaml, as the user in the trials did:

- a unittest-only project without pytest (tomli 2.0.1's documented command): a test the step
  breaks is handed back to the agent, then logged, and the exit code is not 0;
- a Black + isort + flake8 project without a ruff configuration (requests 2.31): the project's
  tools judge, untouched code is left alone, the report names tool, version and source;
- `exec-auto show` / `show --json` list the same checks, pre-commit hooks with their pinned versions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from gate_support import write
from ruamel.yaml import YAML

from exec_auto.cli import main
from tests.conftest import agent_calls, git, init_repo, plan_text, run_cli

FIXTURES = Path(__file__).parent / "fixtures"


def ticket(root: Path, titles: list[str]) -> Path:
    folder = root / "specs" / "tickets" / "feature-x"
    folder.mkdir(parents=True)
    (folder / "plan.md").write_text(plan_text(titles))
    (folder / "spec.yaml").write_text("acceptance_criteria: []\nticket:\n  status: planned\n")
    (root / "CLAUDE.md").write_text("conventions\n")
    return folder


# -- unittest-only, no pytest in the project's environment -----------------------------------

LIB = "def parse(text):\n    return dict(x.split('=') for x in text.split(';') if x)\n"
UNIT_TESTS = """\
import unittest

from minitoml import parse


class ParseTests(unittest.TestCase):
    def test_pairs(self):
        self.assertEqual(parse("a=1;b=2"), {"a": "1", "b": "2"})

    def test_empty(self):
        self.assertEqual(parse(""), {})

    def test_already_broken(self):
        self.assertEqual(parse("a=1"), {"a": 1})
"""


def test_unittest_project_gets_its_broken_test_handed_back_and_a_nonzero_exit(
    tmp_path: Path, script_agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    pyproject = (FIXTURES / "tomli-2.0.1" / "pyproject.toml").read_text()
    # tomli configures isort and mypy, which this bare environment lacks (a gate_error each,
    # tested elsewhere): only the test runner is judged here.
    (root / "pyproject.toml").write_text(
        pyproject + "\n[tool.exec-auto.gates]\nformat = false\nlint = false\nfix_attempts = 1\n"
    )
    (root / "minitoml.py").write_text(LIB)
    write(root, "tests/__init__.py", "")
    write(root, "tests/test_parse.py", UNIT_TESTS)
    (root / ".gitignore").write_text(".venv\n")
    # A venv with nothing installed: no pytest, like the project in the trial.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    folder = ticket(root, ["Reverse pairs"])
    init_repo(root)
    broken = LIB.replace("x.split('=')", "x.split('=')[::-1]")
    behaviour = {"1": [{"write": "minitoml.py", "text": broken}]}
    code = run_cli(root, monkeypatch, script_agent(behaviour), "--no-archive")
    assert code != 0
    report = json.loads((folder / "report.json").read_text())
    (step,) = report["steps"]
    assert step["status"] == "completed_with_warning"
    # Handed back: the fix attempt was told which test the step broke, and why.
    (fix,) = [c for c in agent_calls(tmp_path) if c["kind"] == "fix"]
    assert "tests/test_parse.py::ParseTests::test_pairs failed: AssertionError" in fix["prompt"]
    assert "test_already_broken" not in fix["prompt"]  # the user's own failure is not the step's
    logged = [i for i in report["issues"] if i["type"] == "test_failure"]
    assert [i["step_id"] for i in logged] == ["1"]
    assert "test_pairs" in logged[0]["description"]
    gates = report["quality_gates"]
    assert gates["baseline: unittest"].startswith("Unittest baseline: 2/3 tests passed, 1 failed")
    assert gates["final: unittest"].startswith("Unittest: 1/3 tests passed, 2 failed")
    assert gates["checks: tests: unittest"] == (
        "tests: unittest (the command in pyproject.toml): python -m unittest"
    )
    assert step["gate_seconds"]["unittest"] > 0 and report["gate_seconds"]["final: unittest"] > 0


# -- Black + isort + flake8, no ruff configuration -------------------------------------------

LEGACY = """\
import sys
import os


def describe(value):
    return "{} on {}".format(value, sys.platform) + os.sep
"""
STEP = LEGACY + "\n\ndef added( a,b ):\n    leftover = 2\n    return a+b\n"
FIXED = LEGACY + "\n\ndef added(a, b):\n    return a + b\n"


def requests_project(root: Path) -> Path:
    """requests 2.31's lint configuration (setup.cfg, [tool.isort]) on a small src layout."""
    root.mkdir()
    shutil.copy(FIXTURES / "requests-2.31.0" / "setup.cfg", root / "setup.cfg")
    isort = (FIXTURES / "requests-2.31.0" / "pyproject.toml").read_text().split("\n\n")[0]
    (root / "pyproject.toml").write_text(
        '[project]\nname = "reqs"\nversion = "0"\n\n[tool.pytest.ini_options]\n'
        f'pythonpath = ["src"]\n\n{isort}\n\n[tool.exec-auto.gates]\nfix_attempts = 1\n'
    )
    (root / "requirements-dev.txt").write_text("pytest\nblack\nflake8\n")
    write(root, "src/reqs/__init__.py", "")
    write(root, "src/reqs/legacy.py", LEGACY)
    write(
        root,
        "tests/test_legacy.py",
        "from reqs.legacy import describe\n\n\ndef test_describe():\n    assert describe('x')\n",
    )
    # The project's environment, with its dev requirements: a venv seeing this test env's packages.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    site = next((root / ".venv" / "lib").glob("python*/site-packages"))
    (site / "shared.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (root / ".gitignore").write_text(".venv/\n")
    folder = ticket(root, ["Add added"])
    init_repo(root)
    return folder


def test_black_flake8_project_is_judged_by_its_own_tools_and_the_report_names_them(
    tmp_path: Path, script_agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "proj"
    folder = requests_project(root)
    behaviour = {
        "1": [{"write": "src/reqs/legacy.py", "text": STEP}],
        "fix:1": [{"write": "src/reqs/legacy.py", "text": FIXED}],
    }
    code = run_cli(root, monkeypatch, script_agent(behaviour), "--no-archive")
    text = (root / "src/reqs/legacy.py").read_text()
    # The code the step never touched is exactly as the user wrote it (import order, .format()).
    assert text.startswith(LEGACY)
    # flake8 judged the step's own line and the agent was told so, with the rule.
    (fix,) = [c for c in agent_calls(tmp_path) if c["kind"] == "fix"]
    assert "F841 local variable 'leftover' is assigned to but never used" in fix["prompt"]
    assert "F401" not in fix["prompt"] and "UP032" not in fix["prompt"]
    report = json.loads((folder / "report.json").read_text())
    (step,) = report["steps"]
    assert step["status"] == "completed" and code == 0, report["issues"]
    versions = {
        name: subprocess.run(
            [sys.executable, "-m", name, "--version"], capture_output=True, text=True
        ).stdout
        for name in ("flake8", "isort")
    }
    gates = report["quality_gates"]
    assert set(k for k in gates if k.startswith("checks: ")) == {
        "checks: black",
        "checks: isort",
        "checks: flake8",
        "checks: tests: pytest",
    }
    flake8 = gates["checks: flake8"]
    assert flake8.startswith("flake8 7.") and flake8.split()[1] in versions["flake8"]
    assert "(project environment; [flake8] in setup.cfg)" in flake8
    assert "[tool.isort] in pyproject.toml" in gates["checks: isort"]
    # No ruff: the project does not use it, so it neither rewrote nor judged anything.
    assert not any("ruff" in line.lower() for line in (*gates.values(), *step["quality_gates"]))
    # Per gate: the tool that judged in the step's line, and its seconds as a number.
    line = next(g for g in step["quality_gates"] if g.startswith("flake8"))
    assert "flake8 7." in line and "[flake8] in setup.cfg" in line
    # (the last gate run is the fix attempt's; its test selection may choose no test at all)
    assert set(step["gate_seconds"]) >= {"black", "flake8"}
    assert all(isinstance(v, float) and v > 0 for v in step["gate_seconds"].values())
    progress = YAML(typ="safe").load((folder / "progress.yaml").read_text())
    assert progress["implementation_steps"][0]["gate_seconds"] == step["gate_seconds"]
    markdown = (folder / "report.md").read_text()
    assert "- checks: flake8: flake8 7." in markdown
    # Black's fix is credited to Black.
    assert any("with black" in a.lower() for a in step["auto_actions"]), step["auto_actions"]


def test_show_lists_each_check_with_tool_version_and_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "proj"
    requests_project(root)
    monkeypatch.chdir(root)
    assert main(["show", "feature-x", "--json"]) == 0
    checks = {c["tool"]: c for c in json.loads(capsys.readouterr().out)["gates"]["checks"]}
    assert list(checks) == ["black", "isort", "flake8", "tests: pytest"]
    assert checks["flake8"]["source"] == "project environment; [flake8] in setup.cfg"
    assert checks["flake8"]["version"].startswith("7.")
    assert checks["tests: pytest"]["command"] == "python -m pytest"
    assert main(["show", "feature-x"]) == 0
    text = capsys.readouterr().out
    assert (
        f"  - flake8 {checks['flake8']['version']} (project environment; [flake8] in setup.cfg)"
        in text
    )
    # With the project's pre-commit config (requests' own, pinning ruff-pre-commit v0.16.0), the
    # hooks judge, each named with the version its config pins.
    shutil.copy(FIXTURES / "requests-main" / ".pre-commit-config.yaml", root)
    git(root, "add", "-A")
    assert main(["show", "feature-x", "--json"]) == 0
    checks = {c["tool"]: c for c in json.loads(capsys.readouterr().out)["gates"]["checks"]}
    assert checks["hook ruff-check"]["version"] == "0.16.0"
    assert checks["hook ruff-check"]["source"] == (
        "pinned in .pre-commit-config.yaml, https://github.com/astral-sh/ruff-pre-commit"
    )
    assert checks["pre-commit"]["version"] and "flake8" not in checks and "ruff" not in checks
