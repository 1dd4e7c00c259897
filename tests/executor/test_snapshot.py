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
