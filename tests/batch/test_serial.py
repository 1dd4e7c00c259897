"""Serial batches: `run A B C` and `run --all` in the current work tree, one batch report."""

from __future__ import annotations

import json

from tests.batch.support import add_ticket, agent_command, batch_json, commit_all, rows

ROW_KEYS = {
    "ticket",
    "status",
    "exit_code",
    "steps_done",
    "steps_total",
    "issues",
    "criteria_met",
    "criteria_total",
    "duration_seconds",
    "usage",
    "branch",
    "merged",
    "worktree_kept",
    "report_path",
    "note",
    "readiness_score",
    "readiness_reasons",
    "decisions",
}


def test_serial_batch_rows_and_worst_exit_code(make_batch, run_batch_cli, report_dir, capsys):
    root = make_batch(["a", "b", "c"])
    code = run_batch_cli(root, agent_command(fail=("b",)), "a", "b", "c")
    assert code == 1
    report = batch_json(report_dir)
    assert set(report) >= {
        "started_at",
        "completed_at",
        "mode",
        "budget",
        "exit_code",
        "tickets",
        "totals",
    }
    assert report["mode"] == "serial" and report["exit_code"] == 1
    assert [r["ticket"] for r in report["tickets"]] == ["a", "b", "c"]
    by = rows(report_dir)
    assert all(set(r) == ROW_KEYS for r in by.values())
    assert by["a"]["status"] == "completed" and by["a"]["exit_code"] == 0
    assert (by["a"]["steps_done"], by["a"]["steps_total"]) == (3, 3)
    assert (by["a"]["criteria_met"], by["a"]["criteria_total"]) == (1, 1)
    assert by["a"]["branch"] is None and by["a"]["merged"] is None
    assert by["b"]["status"] == "completed_with_issues" and by["b"]["exit_code"] == 1
    assert by["b"]["steps_done"] == 0 and by["b"]["issues"]["high"] == 3
    assert by["c"]["exit_code"] == 0
    totals = report["totals"]
    assert totals["tickets"] == 3 and totals["steps_done"] == 6 and totals["steps_total"] == 9
    assert totals["issues"]["high"] == 3 and totals["criteria_met"] == 2
    # Each ticket still gets its own progress and report, archived as usual.
    for name in "abc":
        folder = root / "specs" / "archive" / name
        assert (folder / "progress.yaml").is_file() and (folder / "report.json").is_file()
        copied = json.loads((report_dir / name / "report.json").read_text())
        assert copied["ticket"] == name
    assert (root / "a-3.txt").is_file() and not (root / "b-1.txt").exists()
    assert "| a | completed | 0 | 3/3 |" in (report_dir / "batch-report.md").read_text()
    out = capsys.readouterr().out
    assert f"Batch report: {report_dir / 'batch-report.md'}" in out
    assert "[a] Step 1/3 [1]: One" in out  # per-ticket lines carry the ticket's name


def test_a_ticket_that_cannot_start_gets_exit_2_and_the_batch_goes_on(
    make_batch, run_batch_cli, report_dir
):
    root = make_batch(["a", "c"])
    broken = root / "specs" / "tickets" / "b"
    broken.mkdir()
    (broken / "plan.md").write_text("# Plan\n\nNo steps here.\n")
    code = run_batch_cli(root, agent_command(), "a", "b", "c", "--no-archive")
    assert code == 2
    by = rows(report_dir)
    assert by["b"]["status"] == "error" and by["b"]["exit_code"] == 2 and by["b"]["note"]
    assert by["a"]["exit_code"] == 0 and by["c"]["exit_code"] == 0
    assert (root / "c-3.txt").is_file()


def test_all_skips_completed_archived_and_planless(make_batch, run_batch_cli, report_dir):
    root = make_batch(["a", "done"])
    spec = root / "specs" / "tickets" / "done" / "spec.yaml"
    spec.write_text(spec.read_text().replace("status: planned", "status: completed"))
    (root / "specs" / "tickets" / "notes").mkdir()
    (root / "specs" / "tickets" / "notes" / "spec.yaml").write_text("title: no plan\n")
    old = add_ticket(root, "old")
    (root / "specs" / "archive").mkdir()
    old.rename(root / "specs" / "archive" / "old")
    commit_all(root)
    code = run_batch_cli(root, agent_command(), "--all")
    assert code == 0
    assert list(rows(report_dir)) == ["a"]
    assert not (root / "done-1.txt").exists() and not (root / "old-1.txt").exists()


def test_all_picks_unfinished_tickets_of_every_format(make_batch, run_batch_cli, report_dir):
    root = make_batch(["a"])
    # Two spec-kit features beside the CDD ticket: one with open tasks, one ticked off entirely.
    todo = root / "specs" / "001-todo"
    todo.mkdir()
    (todo / "tasks.md").write_text("# Tasks\n\n## Phase 1\n\n- [ ] T001 Write todo notes\n")
    done = root / "specs" / "002-done"
    done.mkdir()
    (done / "tasks.md").write_text("# Tasks\n\n## Phase 1\n\n- [X] T001 Already written\n")
    commit_all(root)
    code = run_batch_cli(root, agent_command(), "--all")
    assert code == 0
    assert list(rows(report_dir)) == ["a", "001-todo"]
    assert (root / "001-todo-T001.txt").exists() and not list(root.glob("002-done-*.txt"))
    assert "- [X] T001 Write todo notes" in (todo / "tasks.md").read_text()
