"""What a step changed: git trees of the working directory, built in a private index.

A snapshot is the tree git would commit if every file (untracked included, ignored excluded) were
added — written through a temporary index copy, so the user's index, stash and working tree are
never touched. Two snapshots give created/modified/deleted files and a binary patch.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.proc import run
from exec_auto.repo import git_dir, state_dir
from exec_auto.ticket.model import FilesTouched


@dataclass(frozen=True)
class Snapshot:
    """A tree object id for the working directory at one moment."""

    tree: str


class Snapshotter:
    """Takes snapshots of root, leaving out exec-auto's own ticket folder."""

    def __init__(self, root: Path, exclude: Sequence[str] = ()):
        self.root = root
        self.exclude = tuple(exclude)
        self._git_dir = git_dir(root)
        # Private index kept for the whole run: its stat cache spares re-hashing unchanged files,
        # untracked ones included, on every snapshot.
        scratch = state_dir(root)
        _remove_orphans(scratch)
        self._index = scratch / f"snapshot-index-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> Snapshotter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the private index."""
        self._index.unlink(missing_ok=True)

    def _git(self, *args: str, index: Path | None = None) -> str:
        env = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
        if index is not None:
            env["GIT_INDEX_FILE"] = str(index)
        result = run(["git", *args], cwd=self.root, extra_env=env, timeout=300)
        if not result.ok:
            raise ExecAutoError(
                f"git {' '.join(args[:2])} failed: {result.stderr.strip()[:300]}",
                path=self.root,
                hint="check that the repository is healthy (`git status`)",
            )
        return result.stdout

    def take(self) -> Snapshot:
        """Snapshot the working directory as a tree (objects land in .git/objects, harmlessly)."""
        real_index = self._git_dir / "index"
        if not self._index.exists() and real_index.is_file():
            # Starting from the real index reuses its stat cache: only changed files are hashed.
            shutil.copyfile(real_index, self._index)
        pathspec = [".", *(f":(exclude){p}" for p in self.exclude)]
        self._git("add", "-A", "--", *pathspec, index=self._index)
        return Snapshot(self._git("write-tree", index=self._index).strip())

    def changes(self, before: Snapshot, after: Snapshot) -> FilesTouched:
        """Files created, modified and deleted between two snapshots."""
        touched = FilesTouched()
        if before.tree == after.tree:
            return touched
        out = self._git("diff", "--name-status", "--no-renames", "-z", before.tree, after.tree)
        fields = out.split("\0")
        for status, path in zip(fields[0::2], fields[1::2], strict=False):
            if status.startswith("A"):
                touched.created.append(path)
            elif status.startswith("D"):
                touched.deleted.append(path)
            elif path:
                touched.modified.append(path)
        return touched

    def patch(self, before: Snapshot, after: Snapshot) -> str:
        """A binary-safe patch from before to after (for recordings)."""
        if before.tree == after.tree:
            return ""
        return self._git("diff", "--binary", "--no-renames", before.tree, after.tree)


def _remove_orphans(scratch: Path) -> None:
    """Delete private indexes left by runs that were killed (their pid is gone)."""
    for path in scratch.glob("snapshot-index-*"):
        try:
            pid = int(path.name.split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except (ValueError, IndexError, PermissionError):
            continue
