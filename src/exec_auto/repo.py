"""Finding the project root and exec-auto's private state directory inside git."""

from __future__ import annotations

import os
import stat
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


# (root, what was asked) -> (identity of root/.git then, the folder git named): a run asks ~20 times.
_git_paths: dict[tuple[str, str], tuple[tuple[int, int, int], Path]] = {}


def _dot_git_identity(root: Path) -> tuple[int, int, int] | None:
    """root/.git's inode, and a worktree's `.git` file's times (a folder's change at each write)."""
    try:
        st = (root / ".git").stat()
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return (st.st_ino, 0, 0)
    return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)


def _ask_git_path(root: Path, *args: str) -> Path | None:
    """The folder `git rev-parse <args>` names for root (None when git fails).

    Kept while root's `.git` is the file or folder it was (not re-created, a worktree's link not
    rewritten) and the folder named still exists.
    """
    key, identity = (str(root.resolve()), " ".join(args)), _dot_git_identity(root)
    known = _git_paths.get(key)
    if known is not None and known[0] == identity and known[1].is_dir():
        return known[1]
    result = git("rev-parse", *args, cwd=root)
    if not result.ok or not result.stdout.strip():
        return None
    found = Path(result.stdout.strip())
    if identity is not None:
        _git_paths[key] = (identity, found)
    return found


def git_dir(root: Path) -> Path:
    """The repository's (per-worktree) git directory; ExecAutoError if root is not in a git repo."""
    found = _ask_git_path(root, "--absolute-git-dir")
    if found is None:
        raise ExecAutoError(
            "not a git repository",
            path=root,
            hint="exec-auto records what each step changed with git: run `git init` first",
        )
    return found


def common_dir(root: Path) -> Path:
    """The repository's common git directory (shared by all its worktrees); ExecAutoError if none."""
    found = _ask_git_path(root, "--path-format=absolute", "--git-common-dir")
    if found is None:
        raise ExecAutoError(
            "git rev-parse --git-common-dir failed",
            path=root,
            hint="check that the repository is healthy (`git status`)",
        )
    return found


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
