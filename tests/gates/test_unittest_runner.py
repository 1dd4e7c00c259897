"""A unittest-only project without pytest in its environment is run by unittest, per test.

Shape from tomli 2.0.1 (fixtures/SOURCES.md): its pyproject documents `python -m unittest
{posargs}` in `[tool.tox] legacy_tox_ini`, its tests are a `tests` package of TestCase classes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from exec_auto.config import GatesConfig
from exec_auto.gates.base import GateContext
from exec_auto.gates.environment import make_environment
from exec_auto.gates.python import PythonGates
from exec_auto.gates.runners import choose_runner
from tests.conftest import init_repo

FIXTURES = Path(__file__).parent / "fixtures"

LIB = "def parse(text):\n    return dict(x.split('=') for x in text.split(';') if x)\n"
TESTS = """\
import unittest

from minitoml import parse


class ParseTests(unittest.TestCase):
    def test_pairs(self):
        self.assertEqual(parse("a=1;b=2"), {"a": "1", "b": "2"})

    def test_empty(self):
        self.assertEqual(parse(""), {})

    def test_already_broken(self):
        self.assertEqual(parse("a=1"), {"a": 1})

    def test_already_erroring(self):
        raise RuntimeError("fixture data missing")
"""


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with nothing installed: no pytest, like the project in the trial."""
    venv = tmp_path_factory.mktemp("venv") / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


def unittest_project(root: Path, venv: Path) -> Path:
    root.mkdir()
    shutil.copy(FIXTURES / "tomli-2.0.1" / "pyproject.toml", root / "pyproject.toml")
    (root / "minitoml.py").write_text(LIB)
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "test_parse.py").write_text(TESTS)
    (root / ".gitignore").write_text(".venv\n")
    (root / ".venv").symlink_to(venv, target_is_directory=True)
    init_repo(root)
    return root


def test_unittest_project_without_pytest_gets_per_test_verdicts(
    tmp_path: Path, bare_venv: Path
) -> None:
    root = unittest_project(tmp_path / "proj", bare_venv)
    env = make_environment(root, "auto")
    assert not env.has_module("pytest")
    runner = choose_runner(env)
    assert runner.kind == "unittest" and runner.source == "the command in pyproject.toml"
    # tomli configures isort and mypy, which this bare environment lacks: those gates report
    # gate errors (tested elsewhere); here only the test runner is judged.
    config = GatesConfig(gate_timeout=60, format=False, lint=False)
    ctx = GateContext(root, ("minitoml.py",), "1", config)
    gates = PythonGates(config)
    baseline = gates.baseline(ctx)
    assert baseline.results[-1].summary == "Unittest baseline: 2/4 tests passed, 1 failed, 1 error"
    assert set(baseline.problem_keys) == {
        "tests/test_parse.py::ParseTests::test_already_broken",
        "tests/test_parse.py::ParseTests::test_already_erroring",
    }
    # The step breaks a test that passed: that one is the step's, the old two are not.
    (root / "minitoml.py").write_text(LIB.replace("x.split('=')", "x.split('=')[::-1]"))
    step = replace(ctx, known_failures=frozenset(baseline.problem_keys))
    report = gates.after_step(step)
    result = report.results[-1]
    assert result.name == "unittest", report.results
    (blamed,) = report.blamed_findings
    assert blamed.description.startswith(
        "tests/test_parse.py::ParseTests::test_pairs failed: AssertionError: {'1': 'a'"
    )
    assert len(report.findings) == 3  # the two pre-existing ones are reported, not blamed
    assert result.tool is not None and "-m exec_auto_unittest_runner" in result.tool.command
    assert "unittest" in result.tool.source
    assert "tests/test_parse.py::ParseTests::test_empty" in report.passed_tests


DOCTESTED = 'def double(x):\n    """\n    >>> double(2)\n    5\n    """\n    return 2 * x\n'
LOAD_TESTS = """\
import doctest
import unittest

import mathy


def load_tests(loader, tests, ignore):
    tests.addTests(doctest.DocTestSuite(mathy))
    return tests


class Doubles(unittest.TestCase):
    def test_one(self):
        self.assertEqual(mathy.double(1), 2)
"""


def test_doctests_the_project_runs_get_the_same_ids_as_under_pytest(tmp_path: Path) -> None:
    from exec_auto.gates.runners import Runner, run_unittest

    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "mathy.py").write_text(DOCTESTED)
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "test_mathy.py").write_text(LOAD_TESTS)
    env = make_environment(root, "plain")
    run = run_unittest(env, Runner("unittest", ("discover",)), None, 60)
    (failure,) = run.failures
    # pytest --doctest-modules names this doctest mathy.py::mathy.double: the ids compare.
    assert failure.test_id == "mathy.py::mathy.double" and failure.kind == "failed"
    assert run.passed == ("tests/test_mathy.py::Doubles::test_one",)
    selected = run_unittest(env, Runner("unittest", ("discover",)), ["mathy.py"], 60)
    assert [f.test_id for f in selected.failures] == ["mathy.py::mathy.double"]
    assert selected.passed == ()
