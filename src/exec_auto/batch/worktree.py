"""One git worktree per ticket for parallel runs, on branch `exec-auto/<ticket>` made from HEAD.

Worktrees live in `<git-common-dir>/exec-auto/worktrees/<ticket>`: outside the work tree, so they
never show up in `git status` and tools walking the project never see them. Creating and removing
them is serialised with a thread lock and a file lock, because concurrent `git worktree add` calls
collide on git's own lock files (and another exec-auto process may be doing the same).

Resuming: a worktree left by an interrupted batch is reused as it is (its progress.yaml resumes the
run); a branch left without a worktree gets a fresh worktree checked out from that branch.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.proc import ProcResult, git
from exec_auto.ticket.resolve import TICKETS

BRANCH_PREFIX = "exec-auto/"
# Used only when git has no identity configured, so an unattended commit never fails on it.
FALLBACK_IDENTITY = ("-c", "user.name=exec-auto", "-c", "user.email=exec-auto@localhost")
LOCK_TIMEOUT_SECONDS = 300.0


class WorktreeError(ExecAutoError):
    """A ticket's worktree cannot be made or used."""


@dataclass(frozen=True)
class Worktree:
    """A ticket's checkout: where it is, its branch, and the commit that branch started from."""

    ticket: str
    path: Path
    branch: str
    base: str
    created_branch: bool
    reused: bool

    def project_root(self, rel: Path) -> Path:
        """The project root inside this worktree (the same place relative to the top level)."""
        return self.path / rel


@dataclass(frozen=True)
class Finished:
    """What cleaning up a worktree did."""

    committed: bool
    branch: str | None
    kept: Path | None
    note: str | None = None


def branch_name(ticket: str) -> str:
    """The branch a ticket's parallel run works on."""
    return f"{BRANCH_PREFIX}{ticket}"


def _checked(result: ProcResult, what: str, path: Path | None = None) -> str:
    if not result.ok:
        raise WorktreeError(f"{what} failed: {result.output[-400:]}", path=path)
    return result.stdout.strip()


def identity_args(cwd: Path) -> tuple[str, ...]:
    """`-c user.*` options when git has no committer identity configured, else nothing."""
    return () if git("var", "GIT_COMMITTER_IDENT", cwd=cwd).ok else FALLBACK_IDENTITY


class Worktrees:
    """Creates, finishes and removes the worktrees of one repository."""

    def __init__(self, root: Path):
        from filelock import FileLock

        self.root = root
        top = Path(_checked(git("rev-parse", "--show-toplevel", cwd=root), "git rev-parse", root))
        # The project may sit below the git top level (a monorepo); keep the same offset inside.
        self.rel = root.resolve().relative_to(top.resolve())
        common = _checked(
            git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=root),
            "git rev-parse",
            root,
        )
        self.base_dir = Path(common) / "exec-auto" / "worktrees"
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(
            str(self.base_dir.parent / "worktrees.lock"), timeout=LOCK_TIMEOUT_SECONDS
        )

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        with self._thread_lock, self._file_lock:
            yield

    def head(self) -> str:
        """The commit the main work tree has checked out."""
        result = git("rev-parse", "--verify", "-q", "HEAD", cwd=self.root)
        if not result.ok:
            raise WorktreeError(
                "the repository has no commit yet; parallel runs branch from HEAD",
                path=self.root,
                hint="commit the project (with its tickets) first",
            )
        return result.stdout.strip()

    def _registered(self) -> dict[Path, str]:
        """Registered worktree paths (resolved) -> their branch ref ('' when detached)."""
        out = _checked(git("worktree", "list", "--porcelain", cwd=self.root), "git worktree list")
        found: dict[Path, str] = {}
        current: Path | None = None
        for line in out.splitlines():
            if line.startswith("worktree "):
                current = Path(line.removeprefix("worktree ")).resolve()
                found[current] = ""
            elif line.startswith("branch ") and current is not None:
                found[current] = line.removeprefix("branch ")
        return found

    def _check_committed(self, ticket: str) -> None:
        rel = (TICKETS / ticket).as_posix()
        dirty = git("status", "--porcelain", "--untracked-files=all", "--", rel, cwd=self.root)
        in_head = git("cat-file", "-e", f"HEAD:./{rel}/plan.md", cwd=self.root).ok
        if dirty.stdout.strip() or not in_head:
            raise WorktreeError(
                f"{rel} has uncommitted changes; a parallel run works from HEAD",
                path=self.root / rel,
                hint=f"commit the ticket first (git add {rel} && git commit), or run without --parallel",
            )

    def checked_out(self, ticket: str, branch: str) -> Path | None:
        """The ticket's worktree if one is registered with branch checked out, else None."""
        path = self.base_dir / ticket
        with self._serialised():
            ref = self._registered().get(path.resolve())
        return path if ref == f"refs/heads/{branch}" else None

    def prepare(self, ticket: str, branch: str | None = None, base: str | None = None) -> Worktree:
        """The ticket's worktree: reused if one is left from an earlier batch, else made now.

        branch defaults to `exec-auto/<ticket>`; a new branch starts at base (default HEAD).
        """
        path = self.base_dir / ticket
        branch = branch or branch_name(ticket)
        with self._serialised():
            git("worktree", "prune", cwd=self.root)
            registered = self._registered()
            if path.resolve() in registered:
                ref = registered[path.resolve()]
                if ref != f"refs/heads/{branch}":
                    raise WorktreeError(
                        f"{path} is checked out at {ref or 'a detached HEAD'}, not {branch}",
                        path=path,
                        hint=f"remove it: git worktree remove {path}",
                    )
                tip = _checked(git("rev-parse", "HEAD", cwd=path), "git rev-parse", path)
                return Worktree(ticket, path, branch, tip, created_branch=False, reused=True)
            if path.exists():
                raise WorktreeError(
                    f"{path} exists but is not a git worktree",
                    path=path,
                    hint="move it away or delete it, then rerun",
                )
            if git("rev-parse", "--verify", "-q", f"refs/heads/{branch}", cwd=self.root).ok:
                # An earlier batch left its results on the branch: continue from there.
                self._add(path, branch, None)
                tip = _checked(git("rev-parse", "HEAD", cwd=path), "git rev-parse", path)
                return Worktree(ticket, path, branch, tip, created_branch=False, reused=True)
            self._check_committed(ticket)
            base = base or self.head()
            self._add(path, branch, base)
            return Worktree(ticket, path, branch, base, created_branch=True, reused=False)

    def _add(self, path: Path, branch: str, new_from: str | None) -> None:
        """`git worktree add` (-b branch new_from when new); undo a failed one completely."""
        args = ["-b", branch, str(path), new_from] if new_from else [str(path), branch]
        result = git("worktree", "add", *args, cwd=self.root, timeout=300)
        if result.ok:
            return
        # A failed (or interrupted) add may leave a half checkout that a later batch would
        # take for a worktree to resume: remove it, and the branch if it was made just now.
        git("worktree", "remove", "--force", str(path), cwd=self.root)
        shutil.rmtree(path, ignore_errors=True)
        git("worktree", "prune", cwd=self.root)
        if new_from:
            git("branch", "-D", branch, cwd=self.root)
        raise WorktreeError(f"git worktree add {branch} failed: {result.output[-400:]}", path=path)

    def commit(self, wt: Worktree, status: str) -> bool:
        """Commit everything in the worktree to its branch; False when there was nothing to commit."""
        _checked(git("add", "-A", cwd=wt.path), "git add", wt.path)
        if not git("status", "--porcelain", cwd=wt.path).stdout.strip():
            return False
        # --no-verify: the gates already ran; a project hook must not keep the results off the branch.
        _checked(
            git(
                *identity_args(wt.path),
                "commit",
                "-q",
                "--no-verify",
                "-m",
                f"exec-auto: {wt.ticket} ({status})",
                cwd=wt.path,
                timeout=120,
            ),
            "git commit",
            wt.path,
        )
        return True

    def finish(self, wt: Worktree, status: str | None) -> Finished:
        """Commit the results (unless status is None), then remove the worktree if it is clean.

        A worktree with anything left uncommitted is kept and reported; a branch this batch made
        that ended up with no commits is deleted again, so failed starts leave nothing behind.
        """
        with self._serialised():
            committed, note = False, None
            if status is not None:
                try:
                    committed = self.commit(wt, status)
                except WorktreeError as exc:
                    note = exc.message
            dirty = git("status", "--porcelain", cwd=wt.path)
            if not dirty.ok or dirty.stdout.strip():
                files = ", ".join(line[3:] for line in dirty.stdout.splitlines()[:5])
                return Finished(committed, wt.branch, wt.path, note or f"uncommitted: {files}")
            removed = git("worktree", "remove", str(wt.path), cwd=self.root, timeout=120)
            if not removed.ok:
                return Finished(committed, wt.branch, wt.path, removed.output[-300:])
            tip = git("rev-parse", f"refs/heads/{wt.branch}", cwd=self.root).stdout.strip()
            if wt.created_branch and tip == wt.base:
                git("branch", "-D", wt.branch, cwd=self.root)
                return Finished(committed, None, None, note)
            return Finished(committed, wt.branch, None, note)
