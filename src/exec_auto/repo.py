"""Finding the project root and exec-auto's private state directory inside git."""

from __future__ import annotations

import os
from pathlib import Path

from exec_auto.errors import ExecAutoError, os_error_hint
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
    """exec-auto's scratch space (locks, prompts, temp indexes), inside .git so it never shows in status.

    Created when missing (also when something deleted it mid-run); ExecAutoError when it cannot
    be: `.git/exec-auto` is a file, `.git` is read-only, or the disk is full.
    """
    path = git_dir(root) / "exec-auto"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ExecAutoError(
            "exists but is not a folder; exec-auto keeps its locks and scratch files there",
            path=path,
            hint=f"move the file away (`mv {path} {path}.bak`), then rerun",
        ) from None
    except OSError as exc:
        raise ExecAutoError(
            f"cannot create exec-auto's state folder: {exc.strerror or exc}",
            path=path,
            hint=os_error_hint(exc, "exec-auto needs to write inside .git: make it writable"),
        ) from None
    if not os.access(path, os.W_OK):
        raise ExecAutoError(
            "exec-auto's state folder is not writable",
            path=path,
            hint="check the permissions of .git and .git/exec-auto",
        )
    return path
