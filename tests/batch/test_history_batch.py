"""Parallel runs keep every step on its private ref: worktree and branch removal lose nothing."""

from __future__ import annotations

from exec_auto.cli import main
from exec_auto.executor.history import diff, latest_run
from exec_auto.executor.snapshot import SnapshotStore
from tests.batch.support import agent_command
from tests.conftest import git


def test_refs_survive_worktree_and_branch_removal_and_prune_removes_what_it_lists(
    make_batch, run_batch_cli, capsys
):
    root = make_batch(["a", "b"])
    assert run_batch_cli(root, agent_command(), "a", "b", "--parallel", "2") == 0
    # Both worktrees are gone (their work was committed) — now drop the branches too.
    assert "exec-auto/worktrees" not in git(root, "worktree", "list")
    git(root, "branch", "-D", "exec-auto/a", "exec-auto/b")
    for name in ("a", "b"):
        history = latest_run(root, name)
        assert [s.step_id for s in history.steps] == ["1", "2", "3"]
        assert f"+{name} 2" in diff(root, name, "2")
        assert f"{name}-1.txt" not in diff(root, name, "2")
    # Both ran in worktrees and were archived on their (now deleted) branches: in this tree
    # they are still active, so prune keeps them.
    capsys.readouterr()
    assert main(["prune", "--dry-run"]) == 0
    assert "Nothing to prune" in capsys.readouterr().out
    # Archive b here: its history is listed, then removed; a's stays.
    (root / "specs" / "archive").mkdir(exist_ok=True)
    (root / "specs" / "tickets" / "b").rename(root / "specs" / "archive" / "b")
    assert main(["prune", "--dry-run"]) == 0
    listed = capsys.readouterr().out
    assert "Would remove b (archived)" in listed and "refs/exec-auto/b/" in listed
    assert "refs/exec-auto/a/" not in listed
    assert SnapshotStore(root, "b").exists()
    assert main(["prune"]) == 0
    removed = capsys.readouterr().out
    assert [line for line in removed.splitlines() if line.startswith("  refs/")] == [
        line for line in listed.splitlines() if line.startswith("  refs/")
    ]
    assert not SnapshotStore(root, "b").exists() and SnapshotStore(root, "a").exists()
    assert main(["prune", "--dry-run"]) == 0
    assert "Nothing to prune" in capsys.readouterr().out
    assert main(["diff", "b"]) == 2  # gone: a one-line error, not a traceback
    assert "no step history recorded for b" in capsys.readouterr().err


def test_prune_keeps_the_history_of_active_tickets_of_other_formats(tmp_path, monkeypatch, capsys):
    root = tmp_path / "p"
    spec = root / ".kiro" / "specs" / "calc"
    spec.mkdir(parents=True)
    (spec / "tasks.md").write_text("# Tasks\n\n- [ ] 1. Add the add function to calc/ops.py\n")
    (spec / "requirements.md").write_text("# Requirements\n")
    git(tmp_path, "init", "-q", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "kiro")
    from exec_auto.formats.registry import all_tickets

    assert [t.name for t in all_tickets(root) if not t.archived] == ["calc"]
    SnapshotStore(root, "calc").ensure()
    SnapshotStore(root, "gone").ensure()
    monkeypatch.chdir(root)
    assert main(["prune", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Would remove gone (no ticket folder)" in out and "calc" not in out
