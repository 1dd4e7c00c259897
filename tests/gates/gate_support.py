"""Helpers for the gate tests: the demo project's files and small file/git utilities."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from exec_auto.gates.base import GateContext, GateReport
from exec_auto.gates.python import PythonGates
from tests.conftest import git

FILES = {
    "pyproject.toml": """\
        [project]
        name = "demo"
        version = "0.1.0"
        dependencies = []

        [tool.pytest.ini_options]
        pythonpath = ["src"]
        testpaths = ["tests"]

        [tool.ruff]
        line-length = 100

        [tool.ruff.lint]
        select = ["E", "F", "C90"]

        [tool.ruff.lint.mccabe]
        max-complexity = 3
        """,
    "src/app/__init__.py": '"""Demo app."""\n',
    "src/app/calc.py": """\
        def add(a, b):
            return a + b


        def sub(a, b):
            return a - b
        """,
    "src/app/greet.py": """\
        def hello(name):
            return f"hello {name}"
        """,
    "src/app/report.py": """\
        from app.calc import add


        def total(values):
            result = 0
            for v in values:
                result = add(result, v)
            return result
        """,
    "tests/test_calc.py": """\
        from app.calc import add, sub


        def test_add():
            assert add(1, 2) == 3


        def test_sub():
            assert sub(3, 2) == 1
        """,
    "tests/test_greet.py": """\
        from app.greet import hello


        def test_hello():
            assert hello("bob") == "hello bob"
        """,
    "tests/test_report.py": """\
        from app.report import total


        def test_total():
            assert total([1, 2, 3]) == 6
        """,
    "README.md": "demo\n",
}


def write(root: Path, rel: str, text: str) -> None:
    """Write a dedented file under root, creating parent directories."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def commit(root: Path) -> str:
    """Commit everything as the tree before a step; that tree's id."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before the step")
    return git(root, "rev-parse", "HEAD^{tree}").strip()


def gate_step(
    demo: Path, context: Callable[..., GateContext], before: str, after: str, rel: str
) -> GateReport:
    """The gates after a step that changed rel from before (committed) to after."""
    write(demo, rel, before)
    tree = commit(demo)
    write(demo, rel, after)
    ctx = replace(context(demo, (rel,)), before_tree=tree)
    return PythonGates(ctx.config).after_step(ctx)
