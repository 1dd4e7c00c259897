"""Tool caches of the gates' own runs stay out of the user's work tree (issue 12).

A gated `exec-auto run` runs pytest, ruff and mypy on a project whose user never ran them: no
`.pytest_cache`, `.ruff_cache`, `.mypy_cache` or `__pycache__` may appear in the tree. A cache the
project already had is left exactly as it was.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from exec_auto.repo import state_dir
from tests.conftest import SANDBOX_MODES, make_project, run_cli

CACHES = {".pytest_cache", ".ruff_cache", ".mypy_cache", "__pycache__"}
PYPROJECT = """\
[project]
name = "calc"
version = "0"

[tool.ruff]
line-length = 100

[tool.mypy]
ignore_missing_imports = true
"""
STEPS = {
    "1": [
        {"write": "calc/__init__.py", "text": ""},
        {"write": "calc/ops.py", "text": "def add(a: int, b: int) -> int:\n    return a + b\n"},
        {
            "write": "tests/test_ops.py",
            "text": "from calc.ops import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 3\n",
        },
    ],
    "*": [],
}


def _caches_in(root: Path) -> set[str]:
    found = set()
    for folder, dirs, _ in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        found |= {str(Path(folder, d).relative_to(root)) for d in dirs if d in CACHES}
    return found


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def calc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project configuring ruff and mypy, run with this interpreter (pytest, ruff, mypy)."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    make_project(root, titles=["Add"])
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    # Bytecode is written unless the user's shell says otherwise: this machine's may.
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    return root


@pytest.mark.parametrize("sandbox", SANDBOX_MODES)
def test_a_gated_run_leaves_no_tool_cache_in_the_work_tree(
    calc: Path, script_agent, monkeypatch: pytest.MonkeyPatch, sandbox: str
) -> None:
    code = run_cli(calc, monkeypatch, script_agent(STEPS), "--no-archive", "--sandbox", sandbox)
    report = (calc / "specs" / "tickets" / "feature-x" / "report.md").read_text()
    assert code in (0, 1), report
    assert "1/1 tests passed" in report
    assert _caches_in(calc) == set()
    assert "__pycache__" not in report  # nor are compiled files the step's "created" files
    # pytest, ruff and mypy really ran, with their caches in exec-auto's state folder.
    caches = state_dir(calc) / "caches"
    assert (caches / "pytest" / "CACHEDIR.TAG").is_file()
    assert (caches / "ruff" / "CACHEDIR.TAG").is_file()
    assert (caches / "mypy" / "CACHEDIR.TAG").is_file()


def test_a_cache_the_project_already_had_is_left_as_it_was(
    calc: Path, script_agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = calc / ".pytest_cache"
    (old / "v" / "cache").mkdir(parents=True)
    (old / "v" / "cache" / "lastfailed").write_text('{"tests/test_old.py::test_x": true}\n')
    (old / "README.md").write_text("the user's own cache\n")
    before = _snapshot(old)
    code = run_cli(calc, monkeypatch, script_agent(STEPS), "--no-archive", "--sandbox", "off")
    assert code in (0, 1)
    assert _snapshot(old) == before
    assert _caches_in(calc) == {".pytest_cache"}
