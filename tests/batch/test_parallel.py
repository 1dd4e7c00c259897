"""Parallel batches: one worktree and branch per ticket, --merge, kept worktrees, resume."""

from __future__ import annotations

from pathlib import Path

from tests.batch.support import add_ticket, agent_command, batch_json, rows
from tests.conftest import git


def _changed(root: Path, branch: str) -> set[str]:
    base = git(root, "merge-base", "HEAD", branch).strip()
    return set(git(root, "diff", "--name-only", base, branch).split())


def _worktrees(root: Path) -> list[str]:
    return [
        line.split(" ", 1)[1]
        for line in git(root, "worktree", "list", "--porcelain").splitlines()
        if line.startswith("worktree ")
    ]


def test_parallel_runs_each_ticket_on_its_own_branch(make_batch, run_batch_cli, report_dir, capsys):
    root = make_batch(["a", "b", "c"])
    head = git(root, "rev-parse", "HEAD").strip()
    code = run_batch_cli(root, agent_command(), "a", "b", "c", "--parallel", "3")
    assert code == 0
    for name in "abc":
        changed = _changed(root, f"exec-auto/{name}")
        assert {f"{name}-1.txt", f"{name}-2.txt", f"{name}-3.txt"} <= changed
        assert all(
            p.startswith((f"{name}-", f"specs/tickets/{name}/", f"specs/archive/{name}/"))
            for p in changed
        )
        assert f"specs/archive/{name}/report.md" in changed
        subject = git(root, "log", "-1", "--format=%s", f"exec-auto/{name}").strip()
        assert subject == f"exec-auto: {name} (completed)"
    # The main work tree is untouched and every worktree is gone.
    assert git(root, "rev-parse", "HEAD").strip() == head
    assert git(root, "status", "--porcelain") == ""
    assert not list(root.glob("*.txt")) and (root / "specs" / "tickets" / "a").is_dir()
    assert _worktrees(root) == [str(root)]
    report = batch_json(report_dir)
    assert report["mode"] == "parallel" and report["base_commit"] == head
    by = rows(report_dir)
    assert {r["branch"] for r in by.values()} == {"exec-auto/a", "exec-auto/b", "exec-auto/c"}
    assert all(r["merged"] is None and r["worktree_kept"] is None for r in by.values())
    assert all(Path(r["report_path"]).is_file() for r in by.values())
    out = capsys.readouterr().out
    assert "Branches: exec-auto/a, exec-auto/b, exec-auto/c" in out


def test_merge_takes_clean_branches_and_reports_a_conflict(make_batch, run_batch_cli, report_dir):
    root = make_batch(["a", "b", "c"])
    code = run_batch_cli(
        root, agent_command(readme=("a", "c")), "a", "b", "c", "--parallel", "3", "--merge"
    )
    assert code == 0
    by = rows(report_dir)
    # a and c both rewrite README.md: the one that finished first merges (merge order is clean
    # runs, then predicted overlaps, then finish time), the other is a reported conflict.
    won, lost = ("a", "c") if by["a"]["merged"] else ("c", "a")
    assert by[won]["merged"] is True and by["b"]["merged"] is True
    assert by[lost]["merged"] is False and "conflict in README.md" in by[lost]["note"]
    assert (root / f"{won}-1.txt").is_file() and (root / "b-1.txt").is_file()
    assert not (root / f"{lost}-1.txt").exists()
    assert (root / "README.md").read_text() == f"{won}\n"
    assert (root / "specs" / "archive" / won).is_dir() and (
        root / "specs" / "tickets" / lost
    ).is_dir()
    assert git(root, "status", "--porcelain") == ""
    assert not (root / ".git" / "MERGE_HEAD").exists()
    assert git(root, "rev-parse", "--verify", f"exec-auto/{lost}").strip()
    assert batch_json(report_dir)["totals"]["merged"] == 2


def test_a_worktree_with_uncommitted_work_is_kept(make_batch, run_batch_cli, report_dir):
    root = make_batch(["a", "b"])
    # Ticket b's agent leaves git's index locked, so its results cannot be committed.
    lock = 'if [ "$T" = b ] && [ "$S" = 3 ]; then touch "$(git rev-parse --git-dir)/index.lock"; fi'
    code = run_batch_cli(root, agent_command(extra=lock), "a", "b", "--parallel", "2", "--merge")
    by = rows(report_dir)
    kept = by["b"]["worktree_kept"]
    assert kept and Path(kept, "b-3.txt").is_file()
    assert "worktree kept" in by["b"]["note"] and by["b"]["merged"] is False
    assert by["a"]["worktree_kept"] is None and by["a"]["merged"] is True
    assert Path(kept).resolve().as_posix() in [
        Path(p).resolve().as_posix() for p in _worktrees(root)
    ]
    assert "worktree kept" in (report_dir / "batch-report.md").read_text()
    assert code == 0


def test_uncommitted_ticket_files_get_an_error_row(make_batch, run_batch_cli, report_dir):
    root = make_batch(["a"])
    add_ticket(root, "new")
    code = run_batch_cli(root, agent_command(), "a", "new", "--parallel", "2")
    assert code == 2
    by = rows(report_dir)
    assert by["new"]["status"] == "error" and "commit the ticket first" in by["new"]["note"]
    assert by["a"]["exit_code"] == 0 and by["new"]["branch"] is None
    assert "exec-auto/new" not in git(root, "branch", "--list")


def test_a_stopped_branch_resumes_and_a_finished_one_is_not_rerun(
    make_batch, run_batch_cli, report_dir, tmp_path
):
    root = make_batch(["a"])
    calls, slow = tmp_path / "calls.log", tmp_path / "slow"
    slow.touch()
    agent = agent_command(pre=f"[ -f {slow} ] && sleep 1", extra=f'echo "$T $S" >> {calls}')
    # The time budget runs out during a step: the ticket stops there, its work is committed.
    run_batch_cli(root, agent, "a", "--parallel", "2", "--budget-seconds", "0.5")
    first = rows(report_dir)["a"]
    assert first["status"] == "stopped" and first["branch"] == "exec-auto/a"
    assert git(root, "log", "-1", "--format=%s", "exec-auto/a").strip() == "exec-auto: a (stopped)"
    assert git(root, "cat-file", "-e", "exec-auto/a:specs/tickets/a/progress.yaml") == ""
    assert _worktrees(root) == [str(root)]
    slow.unlink()
    assert run_batch_cli(root, agent, "a", "--parallel", "2") == 0
    assert calls.read_text().split("\n")[:-1] == ["a 1", "a 2", "a 3"]  # no step ran twice
    assert rows(report_dir)["a"]["status"] == "completed"
    # Once finished on its branch, a later batch reports it from there without rerunning it.
    assert run_batch_cli(root, agent, "a", "--parallel", "2") == 0
    again = rows(report_dir)["a"]
    assert again["status"] == "completed" and "earlier batch" in again["note"]
    assert again["report_path"] == "exec-auto/a:specs/archive/a/report.md"
    assert len(calls.read_text().split("\n")[:-1]) == 3
    assert _worktrees(root) == [str(root)]


def test_parallel_all_says_plainly_that_worktree_jobs_run_cdd_tickets_only(
    make_batch, run_batch_cli, report_dir
):
    from tests.batch.support import commit_all

    root = make_batch(["a"])
    todo = root / "specs" / "001-todo"
    todo.mkdir()
    tasks = "# Tasks\n\n## Phase 1\n\n- [ ] T001 Write todo notes\n"
    (todo / "tasks.md").write_text(tasks)
    commit_all(root)
    code = run_batch_cli(root, agent_command(), "--all", "--parallel", "2")
    assert code == 2
    by = rows(report_dir)
    assert list(by) == ["a", "001-todo"] and by["a"]["status"] == "completed"
    assert by["001-todo"]["status"] == "error"
    assert (
        "worktree jobs (--parallel, exec-auto job) run CDD tickets only" in by["001-todo"]["note"]
    )
    assert "without --parallel" in by["001-todo"]["note"]
    assert (todo / "tasks.md").read_text() == tasks and not list(root.glob("001-todo-*"))
