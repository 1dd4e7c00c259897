"""At archive, large files no final tree kept leave the step history; a note names them (issue 12)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from exec_auto.cli import main
from exec_auto.executor.compact import compact_at_archive, placeholder_text
from exec_auto.executor.history import StepHistory, diff, latest_run
from exec_auto.executor.snapshot import SnapshotStore, Snapshotter
from tests.conftest import git, init_repo, run_cli

KEEP = 1_000_000


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _in_store(store: SnapshotStore, blob: str) -> bool:
    return store.try_git("cat-file", "-e", blob).ok


def test_archiving_drops_a_large_file_the_run_deleted_and_diff_and_review_say_so(
    project: Path, script_agent, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(f"[tool.exec-auto.history]\nkeep_bytes = {KEEP}\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "config")
    big = os.urandom(1_500_000).hex()  # 3 MB of text the agent writes, then deletes
    kept = os.urandom(1_500_000).hex()  # as large, but still there at the end
    steps = {
        "1": [
            {"write": "big.txt", "text": big},
            {"write": "kept.txt", "text": kept},
            {"write": "a.txt", "text": "alpha\n"},
        ],
        "2": [{"delete": "big.txt"}, {"append": "a.txt", "text": "more\n"}],
        "3": [{"write": "c.txt", "text": "gamma\n"}],
    }
    store = SnapshotStore(project, "feature-x")
    code = run_cli(project, monkeypatch, script_agent(steps), "--no-gates")
    assert code in (0, 1)
    assert (project / "specs" / "archive" / "feature-x").is_dir()
    out = capsys.readouterr().out
    assert "Dropped 1 large file(s)" in out and "big.txt (3.0 MB)" in out
    assert not _in_store(store, _blob_id(big.encode()))
    assert _in_store(store, _blob_id(kept.encode()))
    assert store.size_bytes() < 3_000_000  # kept.txt (compressed) and the small objects
    # The history reads as before: same steps, titles, statuses, parent chain.
    history = latest_run(project, "feature-x")
    assert [(s.step_id, s.title, s.status) for s in history.steps] == [
        ("1", "First", "completed"),
        ("2", "Second", "completed"),
        ("3", "Third", "completed"),
    ]
    assert history.steps[1].parent == history.steps[0].commit
    assert history.steps[2].parent == history.steps[1].commit
    note = placeholder_text("big.txt", len(big), KEEP)
    step1 = diff(project, "feature-x", "1")
    assert "".join(f"+{line}\n" for line in note.splitlines()) in step1
    assert "+alpha" in step1 and kept[:100] in step1
    assert "-[exec-auto] This file was dropped" in diff(project, "feature-x", "2")
    assert "big.txt" not in diff(project, "feature-x", stat=True)  # created then deleted
    capsys.readouterr()
    assert main(["diff", "feature-x", "1", "--stat"]) == 0
    assert "big.txt" in capsys.readouterr().out
    # The review page shows the note in step 1's diff.
    from exec_auto.report import Report
    from exec_auto.review.model import review_ticket

    report_path = project / "specs" / "archive" / "feature-x" / "report.json"
    report = Report.model_validate(json.loads(report_path.read_text()))
    files = {f.path: f for f in review_ticket(report, project).steps[0].files}
    assert any("was dropped from the step history" in line for line in files["big.txt"].lines)


def test_only_blobs_the_steps_added_and_no_final_tree_has_are_dropped(tmp_path: Path) -> None:
    """The base (the user's files at the start) is never rewritten; a redone step's chain is."""
    root = tmp_path / "r"
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    user = os.urandom(KEEP + 10)
    (root / "user.bin").write_bytes(user)  # uncommitted at the start: part of the base
    init_repo(root)
    (root / "user.bin").unlink()
    (root / "uncommitted.bin").write_bytes(user[::-1])
    snaps = Snapshotter(root, ticket="t")
    history = StepHistory(snaps.store, "run", ["1", "2", "3"])
    history.begin(snaps.take())
    first, second = os.urandom(KEEP + 1), os.urandom(KEEP + 2)
    (root / "one.bin").write_bytes(first)
    (root / "small.bin").write_bytes(os.urandom(KEEP))  # not larger than keep_bytes
    history.record_step("1", "One", "completed", snaps.take())
    (root / "uncommitted.bin").unlink()  # the user's: in the base, kept
    (root / "two.bin").write_bytes(second)
    history.record_step("2", "Two", "completed", snaps.take())
    (root / "one.bin").unlink()
    (root / "two.bin").unlink()
    (root / "small.bin").unlink()
    history.record_step("3", "Three", "completed", snaps.take())
    # Step 2 redone on top of step 3's first version: step 3 now chains on a commit no ref names.
    (root / "extra.txt").write_text("x\n")
    history.record_step("2", "Two", "completed_with_warning", snaps.take())
    snaps.close()
    before = latest_run(root, "t")
    shown = "--format=%an %ae %ad %cn %ce %cd%n%B"
    store = snaps.store
    meta = [store.git("show", "-s", shown, s.commit) for s in before.steps]
    freed = compact_at_archive(root, "t", KEEP)
    assert sorted((d.path, d.size) for d in freed.dropped) == [
        ("one.bin", KEEP + 1),
        ("two.bin", KEEP + 2),
    ]
    assert not _in_store(store, _blob_id(first)) and not _in_store(store, _blob_id(second))
    assert _in_store(store, _blob_id(user[::-1]))  # the user's uncommitted file, in the base
    after = latest_run(root, "t")
    assert after.base == before.base
    assert [(s.step_id, s.title, s.status) for s in after.steps] == [
        (s.step_id, s.title, s.status) for s in before.steps
    ]
    # Same messages, trailers, authors and dates; new commits (their trees changed).
    assert [store.git("show", "-s", shown, s.commit) for s in after.steps] == meta
    assert {s.commit for s in after.steps}.isdisjoint(s.commit for s in before.steps)
    assert after.step("3").parent != after.step("2").commit  # the redone chain is kept as it was
    tree = store.git("ls-tree", "-r", "--name-only", after.step("3").commit).split()
    assert "extra.txt" not in tree and "one.bin" not in tree
    assert "small.bin" in store.git("ls-tree", "-r", "--name-only", after.step("1").commit)
    assert "extra.txt" in store.git("ls-tree", "-r", "--name-only", after.step("2").commit)
    # Again: nothing left to drop, nothing moves.
    assert compact_at_archive(root, "t", KEEP).dropped == ()
    assert latest_run(root, "t") == after


def test_the_archive_command_drops_them_too_with_the_configured_threshold(
    project: Path, script_agent, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text("[tool.exec-auto.history]\nkeep_bytes = 100\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "config")
    steps = {
        "1": [{"write": "log.txt", "text": "x" * 500}, {"write": "a.txt", "text": "a\n"}],
        "2": [{"delete": "log.txt"}],
        "*": [],
    }
    run_cli(project, monkeypatch, script_agent(steps), "--no-gates", "--no-archive")
    store = SnapshotStore(project, "feature-x")
    assert _in_store(store, _blob_id(b"x" * 500))
    capsys.readouterr()
    assert main(["archive", "feature-x"]) == 0
    assert "Dropped 1 large file(s)" in capsys.readouterr().out
    assert not _in_store(store, _blob_id(b"x" * 500))
    assert "+path: log.txt" in diff(project, "feature-x", "1")
