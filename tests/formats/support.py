"""A small Python project with real gates, for running a ticket of any format end to end."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import git, init_repo

ADD = "def add(a, b):\n    return a + b\n"
MUL = "def mul(a, b):\n    return a * b\n"
TEST_ADD = "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
TEST_MUL = "from calc.more import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"
BROKEN_MUL = "def mul(a, b):\n    return a - b\n"


def calc_project(root: Path, files: dict[str, str]) -> Path:
    """A committed project (pyproject with ruff + pytest, CLAUDE.md) holding the ticket files."""
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "tests" / "test_pre.py").write_text("def test_nothing():\n    assert True\n")
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
    (root / "CLAUDE.md").write_text("conventions\n")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    init_repo(root)
    return root


def run(root: Path, monkeypatch: pytest.MonkeyPatch, ticket: str, agent: str, *extra: str) -> int:
    """`exec-auto run TICKET` from root with the scripted command agent."""
    from exec_auto.cli import main

    monkeypatch.chdir(root)
    return main(["run", ticket, "--agent", "command", "--agent-command", agent, *extra])


def tracked_diff(root: Path) -> str:
    """`git diff` of the tracked files: what exec-auto and the agent changed in the user's files."""
    return git(root, "diff", "--unified=0")


def changed_lines(root: Path, rel: str) -> list[tuple[str, str]]:
    """(removed, added) line pairs of one tracked file's diff."""
    out = git(root, "diff", "--unified=0", "--", rel).splitlines()
    removed = [line[1:] for line in out if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in out if line.startswith("+") and not line.startswith("+++")]
    return list(zip(removed, added, strict=True))


def tracked_changes(root: Path) -> list[str]:
    """Tracked files with changes."""
    return sorted(git(root, "diff", "--name-only").split())
