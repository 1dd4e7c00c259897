"""A linked worktree (a parallel batch run) uses the main work tree's untracked .venv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from exec_auto.gates.environment import make_environment
from tests.conftest import git


def test_worktree_finds_the_main_trees_venv(tmp_path: Path) -> None:
    main = tmp_path / "main"
    main.mkdir()
    (main / ".gitignore").write_text(".venv/\n")
    (main / "app.py").write_text("x = 1\n")
    git(main, "init", "-q")
    git(main, "add", "-A")
    git(main, "commit", "-q", "-m", "init")
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
