"""Scratch folders under TMPDIR carry their owner's pid; a dead owner's are removed, nothing else."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from exec_auto import tempdirs


def _dead_pid() -> int:
    """The pid of a process that has ended (reaped, so it is gone)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_only_scratch_names_of_dead_owners_are_removed(tmp_path: Path) -> None:
    dead, live = _dead_pid(), os.getpid()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    doomed = [
        f"exec-auto-sandbox-{dead}-abcd_123",
        f"exec-auto-pytest-{dead}-zzzzzzzz",
        f"exec-auto-pre-commit-{dead}-a1b2c3d4",
        f"exec-auto-before-{dead}-q1w2e3r4",
    ]
    for name in doomed:
        (tmp / name / "home").mkdir(parents=True)
        (tmp / name / "home" / "big.bin").write_bytes(b"x" * 1000)
    (tmp / f"exec-auto-before-{dead}-q1w2e3r4.index").write_bytes(b"DIRC")
    kept = [
        f"exec-auto-sandbox-{live}-abcdefgh",  # a live run's
        "exec-auto-sandbox-abcdefgh",  # an older name without a pid: not known to be dead
        f"exec-auto-userfiles-{dead}-abcdefgh",  # the git guard's copy of the user's files
        f"exec-auto-sandbox-{dead}-abc",  # not tempfile's shape
        f"exec-auto-sandbox-{dead}-abcdefgh.old",
        f"my-exec-auto-sandbox-{dead}-abcdefgh",
        "exec-auto-sandbox-0-abcdefgh",
        f"exec-auto-sandbox-{2**40}-abcdefgh",
    ]
    for name in kept:
        (tmp / name).mkdir()
    # A link with a scratch name is never followed (nor removed: only real folders and files).
    link = f"exec-auto-sandbox-{dead}-linklink"
    (tmp / link).symlink_to(outside, target_is_directory=True)
    removed = tempdirs.remove_dead(tmp)
    assert sorted(removed) == sorted([*doomed, f"exec-auto-before-{dead}-q1w2e3r4.index"])
    assert sorted(p.name for p in tmp.iterdir()) == sorted([*kept, link])
    assert (outside / "keep.txt").read_text() == "keep\n"


def test_a_made_folder_carries_this_pid_and_is_kept_while_this_process_lives() -> None:
    made = tempdirs.make("sandbox")
    try:
        assert made.name.startswith(f"exec-auto-sandbox-{os.getpid()}-")
        assert made.name not in tempdirs.remove_dead(made.parent)
        assert made.is_dir()
    finally:
        made.rmdir()
