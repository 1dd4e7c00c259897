"""Snapshots: untracked files count, ignored ones do not, and the user's index is never touched."""

from __future__ import annotations

from pathlib import Path

from exec_auto.executor.snapshot import Snapshotter
from tests.conftest import git, init_repo


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "r"
    root.mkdir()
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "kept.py").write_text("x = 1\n")
    (root / "gone.py").write_text("y = 1\n")
    (root / "specs" / "tickets" / "t").mkdir(parents=True)
    (root / "specs" / "tickets" / "t" / "plan.md").write_text("p\n")
    init_repo(root)
    return root


def test_changes_between_snapshots(tmp_path):
    root = _repo(tmp_path)
    snaps = Snapshotter(root, exclude=["specs/tickets/t"])
    (root / "untracked_before.txt").write_text("user\n")
    index_before = (root / ".git" / "index").read_bytes()
    before = snaps.take()
    (root / "kept.py").write_text("x = 2\n")
    (root / "gone.py").unlink()
    (root / "new" / "mod.py").parent.mkdir()
    (root / "new" / "mod.py").write_text("z = 1\n")
    (root / "build").mkdir()
    (root / "build" / "out.bin").write_bytes(b"\0")
    (root / "debug.log").write_text("ignored\n")
    (root / "specs" / "tickets" / "t" / "progress.yaml").write_text("ours\n")
    after = snaps.take()
    touched = snaps.changes(before, after)
    assert touched.created == ["new/mod.py"]
    assert touched.modified == ["kept.py"]
    assert touched.deleted == ["gone.py"]
    assert (root / ".git" / "index").read_bytes() == index_before
    assert git(root, "status", "--porcelain").count("??") == 3  # still untracked: never added
    patch = snaps.patch(before, after)
    assert "new/mod.py" in patch and "debug.log" not in patch
    snaps.close()
    assert not list((root / ".git" / "exec-auto").glob("snapshot-index-*"))


def test_identical_snapshots_have_no_changes(tmp_path):
    root = _repo(tmp_path)
    snaps = Snapshotter(root)
    a, b = snaps.take(), snaps.take()
    assert a == b
    assert not snaps.changes(a, b).all() and not snaps.changes(a, b).deleted


def test_files_touched_read_from_the_rename_diff_match_the_plain_one(tmp_path):
    """With renames on (the integrity audit's diff, shared), a rename is a deletion plus a creation."""
    root = _repo(tmp_path)
    (root / "moved.py").write_text("".join(f"line {i}\n" for i in range(40)))
    git(root, "add", "moved.py")
    git(root, "commit", "-q", "-m", "more")
    plain = Snapshotter(root, exclude=["specs/tickets/t"])
    shared = Snapshotter(root, exclude=["specs/tickets/t"], renames=True)
    before = plain.take()
    assert shared.take() == before
    (root / "moved.py").rename(root / "renamed.py")  # detected as a rename
    (root / "kept.py").write_text("x = 2\n")
    (root / "gone.py").unlink()
    (root / "a" / "b.py").parent.mkdir()
    (root / "a" / "b.py").write_text("z = 1\n")
    after = plain.take()
    assert shared.take() == after
    listing = shared.store.name_status(before.tree, after.tree) or ""
    assert any(field.startswith("R") for field in listing.split("\0"))
    expected = plain.changes(before, after)
    got = shared.changes(before, after)
    assert got == expected
    assert got.created == ["a/b.py", "renamed.py"]
    assert got.deleted == ["gone.py", "moved.py"]
    # Asked again, the answer comes from memory and is a copy the caller may change.
    got.created.append("mine")
    assert shared.changes(before, after) == expected


def test_a_snapshot_after_an_unchanged_tree_reuses_the_tree_and_sees_later_changes(tmp_path):
    root = _repo(tmp_path)
    snaps = Snapshotter(root)
    first = snaps.take()
    assert snaps.take() == first
    (root / "late.txt").write_text("written after\n")
    later = snaps.take()
    assert later != first
    assert snaps.changes(first, later).created == ["late.txt"]
    (root / "late.txt").write_text("changed, same size\n"[:14])
    assert snaps.take() != later
