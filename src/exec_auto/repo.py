"""Finding the project root and exec-auto's private state directory inside git."""

from __future__ import annotations

from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.proc import git


def find_root(start: Path) -> Path:
    """The nearest ancestor of start holding `specs/`, else the git top level, else start itself."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / "specs" / "tickets").is_dir() or (candidate / "specs" / "archive").is_dir():
            return candidate
    result = git("rev-parse", "--show-toplevel", cwd=start)
    if result.ok and result.stdout.strip():
        return Path(result.stdout.strip()).resolve()
    return start


def git_dir(root: Path) -> Path:
    """The repository's (per-worktree) git directory; ExecAutoError if root is not in a git repo."""
    result = git("rev-parse", "--absolute-git-dir", cwd=root)
    if not result.ok:
        raise ExecAutoError(
            "not a git repository",
            path=root,
            hint="exec-auto records what each step changed with git: run `git init` first",
        )
    return Path(result.stdout.strip())


def state_dir(root: Path) -> Path:
    """exec-auto's scratch space (locks, prompts, temp indexes), inside .git so it never shows in status."""
    path = git_dir(root) / "exec-auto"
    path.mkdir(parents=True, exist_ok=True)
    return path
