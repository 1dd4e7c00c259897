"""A linked worktree (a parallel batch run) uses the main work tree's untracked .venv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from exec_auto.gates.environment import make_environment
from tests.conftest import git, init_repo


def test_worktree_finds_the_main_trees_venv(tmp_path: Path) -> None:
    main = tmp_path / "main"
    main.mkdir()
    (main / ".gitignore").write_text(".venv/\n")
    (main / "app.py").write_text("x = 1\n")
    init_repo(main)
    bin_dir = main / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    os.symlink(sys.executable, bin_dir / "python")
    worktree = tmp_path / "wt"
    git(main, "worktree", "add", "-q", "-b", "exec-auto/t", str(worktree))
    assert not (worktree / ".venv").exists()
    env = make_environment(worktree)
    assert env.kind == "venv"
    assert env.python == (str(bin_dir / "python"),)
    assert make_environment(main).python == (str(bin_dir / "python"),)


def test_worktree_of_a_poetry_project_uses_the_main_trees_poetry_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_dir = tmp_path / "poetry-cache" / "demo-py3.11"
    (env_dir / "bin").mkdir(parents=True)
    os.symlink(sys.executable, env_dir / "bin" / "python")
    tools = tmp_path / "bin"
    tools.mkdir()
    # A stand-in `poetry` that answers `poetry env info --path` like the real one.
    fake = tools / "poetry"
    fake.write_text(
        f'#!/bin/sh\n[ "$1 $2 $3" = "env info --path" ] && echo "{env_dir}" && exit 0\nexit 1\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    main = tmp_path / "main"
    main.mkdir()
    (main / "pyproject.toml").write_text('[tool.poetry]\nname = "demo"\n')
    (main / "poetry.lock").write_text("")
    init_repo(main)
    worktree = tmp_path / "wt"
    git(main, "worktree", "add", "-q", "-b", "exec-auto/t", str(worktree))
    assert make_environment(main).python == ("poetry", "run", "python")
    env = make_environment(worktree)
    assert env.python == (str(env_dir / "bin" / "python"),)
    assert any("main work tree's poetry environment" in n for n in env.notes)
