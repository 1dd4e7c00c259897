"""Worktree bookkeeping and merging, straight through the batch modules' APIs."""

from __future__ import annotations

import threading

import pytest

from exec_auto.batch.merge import MergeRequest, merge_branches
from exec_auto.batch.view import TicketWatch
from exec_auto.batch.worktree import WorktreeError, Worktrees
from tests.conftest import git


def test_an_existing_worktree_is_reused(make_batch):
    root = make_batch(["a"])
    trees = Worktrees(root)
    first = trees.prepare("a")
    assert first.created_branch and not first.reused
    assert first.path.parent.parent.parent == root / ".git"  # outside the work tree
    (first.path / "wip.txt").write_text("half done\n")
    again = trees.prepare("a")
    assert again.reused and again.path == first.path and (again.path / "wip.txt").is_file()
    assert git(root, "status", "--porcelain") == ""


def test_a_branch_without_commits_is_dropped_with_its_worktree(make_batch):
    root = make_batch(["a"])
    trees = Worktrees(root)
    wt = trees.prepare("a")
    done = trees.finish(wt, None)
    assert done.kept is None and done.branch is None and not wt.path.exists()
    assert git(root, "branch", "--list", "exec-auto/a") == ""


def test_a_stray_folder_in_the_worktree_place_is_an_error(make_batch):
    root = make_batch(["a"])
    trees = Worktrees(root)
    (trees.base_dir / "a").mkdir(parents=True)
    with pytest.raises(WorktreeError, match="not a git worktree"):
        trees.prepare("a")


def test_merge_refuses_a_dirty_work_tree(make_batch):
    root = make_batch(["a"])
    git(root, "branch", "exec-auto/a")
    (root / "README.md").write_text("local edit\n")
    [result] = merge_branches(root, [MergeRequest("a", "exec-auto/a", "completed")])
    assert not result.merged and "uncommitted changes" in (result.note or "")
    assert (root / "README.md").read_text() == "local edit\n"


def test_an_interrupted_batch_stops_workers_at_their_next_step_event():
    stop = threading.Event()
    watch = TicketWatch("a", stop)
    watch.step_started(1, 3, "1", "One")
    stop.set()
    watch.message("notes never raise: they also come while archiving")
    with pytest.raises(KeyboardInterrupt):
        watch.step_started(2, 3, "2", "Two")
