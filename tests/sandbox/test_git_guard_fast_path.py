"""The git guard's cheap check: no git process when nothing changed, and no change ever missed.

`GitGuard.capture` reuses the last state when the files it was read from (HEAD, the index, the
branch's ref, packed-refs, the stash) kept their identity. These tests change each of them the ways
an agent could - through git, in place with the same size, with the mtime put back - and check
that every change is still caught, and that an untouched repository costs no git call.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from exec_auto import gitguard
from exec_auto.gitguard import GitGuard
from tests.conftest import git, init_repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    (root / "b.txt").write_text("b\n")
    init_repo(root)
    # A shorter settle time than the real 1 s keeps the tests quick; settle() waits it out.
    monkeypatch.setattr(gitguard, "_SETTLED_NS", SETTLE_NS)
    settle()
    return root


SETTLE_NS = 50_000_000


def settle() -> None:
    """Wait until every file written so far is older than the guard's settle time."""
    time.sleep(SETTLE_NS / 1e9 + 0.02)


def test_an_untouched_repository_costs_no_git_call(repo: Path) -> None:
    guard = GitGuard.start(repo)
    assert guard is not None
    asked = guard.git_captures
    for _ in range(5):
        guard.baseline()
        assert guard.check() == []
    assert guard.git_captures == asked


def test_a_commit_is_caught_and_undone(repo: Path) -> None:
    guard = GitGuard.start(repo)
    assert guard is not None
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "c.txt").write_text("c\n")
    git(repo, "add", "c.txt")
    git(repo, "commit", "-q", "-m", "agent")
    changes = guard.check()
    assert any("HEAD changed" in c.what for c in changes)
    assert git(repo, "rev-parse", "HEAD").strip() == head


def test_an_index_rewritten_in_place_with_the_same_size_and_mtime_is_caught(repo: Path) -> None:
    guard = GitGuard.start(repo)
    assert guard is not None
    index = repo / ".git" / "index"
    before = index.stat()
    # Stage a different blob for a.txt into a copy, then write it over the index in place
    # (same inode), with the old mtime put back: only the ctime tells.
    (repo / "a.txt").write_text("A\n")
    git(repo, "add", "a.txt")
    staged = index.read_bytes()
    (repo / "a.txt").write_text("a\n")
    git(repo, "reset", "-q", "a.txt")
    original = index.read_bytes()
    assert len(staged) == len(original)
    settle()
    guard.baseline()
    with index.open("r+b") as handle:
        handle.write(staged)
    os.utime(index, ns=(before.st_atime_ns, before.st_mtime_ns))
    changes = guard.check()
    assert any("index" in c.what for c in changes)
    assert index.read_bytes() == original


def test_a_branch_moved_by_update_ref_is_caught(repo: Path) -> None:
    guard = GitGuard.start(repo)
    assert guard is not None
    (repo / "c.txt").write_text("c\n")
    git(repo, "add", "c.txt")
    tree = git(repo, "write-tree").strip()
    git(repo, "reset", "-q")
    settle()
    guard.baseline()
    commit = git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "sneaky").strip()
    git(repo, "update-ref", "refs/heads/" + _branch(repo), commit)
    changes = guard.check()
    assert any("HEAD changed" in c.what for c in changes)


def test_refs_packed_then_moved_are_caught(repo: Path) -> None:
    guard = GitGuard.start(repo)
    assert guard is not None
    git(repo, "pack-refs", "--all")
    # Packing changes no value: nothing to report, and the next capture knows the new files.
    assert guard.check() == []
    settle()
    (repo / "d.txt").write_text("d\n")
    git(repo, "add", "d.txt")
    git(repo, "commit", "-q", "-m", "agent after packing")
    assert any("HEAD changed" in c.what for c in guard.check())


def test_a_stash_is_caught(repo: Path) -> None:
    guard = GitGuard.start(repo)
    assert guard is not None
    (repo / "a.txt").write_text("changed by the agent\n")
    git(repo, "stash", "-q")
    assert any("stash" in c.what for c in guard.check())


def test_a_checkout_of_another_branch_is_caught(repo: Path) -> None:
    guard = GitGuard.start(repo)
    assert guard is not None
    git(repo, "checkout", "-q", "-b", "elsewhere")
    changes = guard.check()
    assert any("HEAD moved" in c.what for c in changes)
    assert _branch(repo) != "elsewhere"


def test_files_changed_within_the_settle_time_are_always_asked_of_git(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gitguard, "_SETTLED_NS", 3_600 * 10**9)
    guard = GitGuard.start(repo)
    assert guard is not None
    asked = guard.git_captures
    guard.baseline()
    assert guard.check() == []
    assert guard.git_captures == asked + 2  # baseline and check both asked git


def test_git_location_variables_disable_the_fast_path(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_INDEX_FILE", str(repo / ".git" / "index"))
    guard = GitGuard.start(repo)
    assert guard is not None
    asked = guard.git_captures
    guard.baseline()
    assert guard.git_captures == asked + 1


def test_a_linked_worktree_guards_the_shared_config_and_hooks(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "side", str(linked))
    settle()
    guard = GitGuard.start(linked)
    assert guard is not None
    config = repo / ".git" / "config"
    original = config.read_bytes()
    with config.open("a") as handle:
        handle.write("[core]\n\thooksPath = /tmp/elsewhere\n")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\ntouch /tmp/hooked\n")
    changes = guard.check()
    assert any(".git/config" in c.what for c in changes)
    assert any("hooks" in c.what for c in changes)
    assert config.read_bytes() == original
    assert not hook.exists()


def _branch(root: Path) -> str:
    return git(root, "symbolic-ref", "--short", "HEAD").strip()
