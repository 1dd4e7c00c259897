"""A scratch checkout of a snapshot tree, outside the user's work tree.

The "before" side of red/green evidence is the ticket's base tree with the ticket's test files laid
over it. That tree is written into the ticket's snapshot store through a private index and checked
out into a temporary directory with `git checkout-index --prefix`: no worktree is registered, no
ref, index or file of the user's repository changes. The environment folders the snapshot leaves
out (`.venv`, `venv`) are linked in, so commands that name them still work there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from exec_auto import tempdirs
from exec_auto.errors import ExecAutoError
from exec_auto.evidence.audit import tree_changes
from exec_auto.evidence.testcode import is_test_file
from exec_auto.executor.snapshot import SnapshotStore
from exec_auto.proc import ProcResult, run

TEST_DIRS = frozenset({"tests", "test", "testing"})
ENV_DIRS = (".venv", "venv")


def is_test_support(path: str) -> bool:
    """A file the ticket's tests need: a test module, a conftest.py, or anything under a tests dir."""
    parts = PurePosixPath(path).parts
    return is_test_file(path) or parts[-1] == "conftest.py" or bool(TEST_DIRS & set(parts[:-1]))


class ScratchCheckout:
    """A temporary checkout of a tree; remove it with close() (or use it as a context manager)."""

    def __init__(self, store: SnapshotStore, tree: str):
        self.store = store
        self.tree = tree
        self.path = tempdirs.make("before")
        index = self.path.parent / f"{self.path.name}.index"
        try:
            env = {**store.write_env(), "GIT_INDEX_FILE": str(index)}
            _ok(_git(store, env, "read-tree", tree), "read-tree")
            _ok(
                _git(store, env, "checkout-index", "-a", "-f", f"--prefix={self.path}/"), "checkout"
            )
        except BaseException:
            self.close()
            raise
        finally:
            index.unlink(missing_ok=True)
        for name in ENV_DIRS:
            source = store.root / name
            if source.is_dir() and not (self.path / name).exists():
                (self.path / name).symlink_to(source, target_is_directory=True)

    def __enter__(self) -> ScratchCheckout:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the checkout."""
        shutil.rmtree(self.path, ignore_errors=True)


def _git(store: SnapshotStore, env: dict[str, str], *args: str) -> ProcResult:
    return run(
        ["git", *args],
        cwd=store.root,
        extra_env={"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0", **env},
        timeout=300,
    )


def _ok(result: ProcResult, what: str) -> str:
    if not result.ok:
        raise ExecAutoError(f"scratch checkout: git {what} failed: {result.stderr.strip()[:300]}")
    return result.stdout


def overlay_tests(store: SnapshotStore, base: str, final: str) -> tuple[str, list[str]]:
    """base with the test files the ticket added or changed (as in final); and their paths."""
    paths = [
        new
        for status, _old, new in tree_changes(store, base, final)
        if status != "D" and is_test_support(new)
    ]
    if not paths:
        return base, []
    return _overlay(store, base, final, paths), paths


def _overlay(store: SnapshotStore, base: str, final: str, paths: Iterable[str]) -> str:
    handle, name = tempfile.mkstemp(prefix=tempdirs.prefix("overlay"), suffix=".index")
    index = Path(name)
    try:
        os.close(handle)
        index.unlink()
        env = {**store.write_env(), "GIT_INDEX_FILE": str(index)}
        _ok(_git(store, env, "read-tree", base), "read-tree")
        for path in paths:
            listed = _ok(_git(store, env, "ls-tree", final, "--", path), "ls-tree").split()
            if len(listed) >= 3:
                mode, _kind, blob = listed[:3]
                _ok(
                    _git(
                        store, env, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}"
                    ),
                    "update-index",
                )
        return _ok(_git(store, env, "write-tree"), "write-tree").strip()
    finally:
        index.unlink(missing_ok=True)
