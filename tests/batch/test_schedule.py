"""Conflict planning: predicted footprints, waves, the scheduler, and merging with tests between."""

from __future__ import annotations

import json
from pathlib import Path

from exec_auto.batch.footprint import predict_all
from exec_auto.batch.schedule import ConflictGraph, Scheduler, simulate, wall_time, waves
from exec_auto.cli import main
from exec_auto.ticket.resolve import TicketRef
from tests.batch.support import agent_command, batch_json, commit_all, rows
from tests.conftest import git


def _plan(root: Path, name: str, body: str, title: str = "Work") -> None:
    folder = root / "specs" / "tickets" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.md").write_text(
        f"# Plan: {name}\n\n## Steps\n\n### Step 1: {title}\n\n{body}\n"
        "### Step 2: More\n\nContinue.\n",
        encoding="utf-8",
    )


def test_footprints_come_from_named_paths_their_imports_and_similar_past_tickets(make_batch):
    root = make_batch(["logs"])
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "log.py").write_text("from app import util\nimport json\n")
    (root / "app" / "util.py").write_text("X = 1\n")
    _plan(root, "logs", "Make `app/log.py` write JSON.")
    _plan(root, "dotted", "Extend app.util with a helper; add src/new_thing.py? no: app/extra.py")
    # An archived ticket about the same thing touched settings.toml.
    old = root / "specs" / "archive" / "old-logs"
    old.mkdir(parents=True)
    (old / "plan.md").write_text("# Plan\n\n### Step 1: Make log output JSON structured logging\n")
    report = {"ticket": "old-logs", "status": "completed", "steps": [], "step_counts": {},
              "files_created": [], "files_modified": ["settings.toml", "specs/archive/x"],
              "files_deleted": [], "acceptance_criteria": [], "issues": [], "quality_gates": {},
              "auto_actions": {}, "next_actions": []}  # fmt: skip
    (old / "report.json").write_text(json.dumps(report))
    (root / "settings.toml").write_text("")
    _plan(root, "logs", "Make `app/log.py` write JSON structured logging output.")
    commit_all(root)
    fps = predict_all([TicketRef("logs", root), TicketRef("dotted", root)])
    logs, dotted = fps["logs"], fps["dotted"]
    assert logs.edits == {"app/log.py", "settings.toml"}
    assert logs.reasons["settings.toml"] == "touched by similar ticket old-logs"
    assert "app/util.py" in logs.reads and logs.reasons["app/util.py"].startswith("imported")
    assert {"app/util.py", "app/extra.py"} <= dotted.edits
    # dotted edits what logs imports: they conflict.
    assert logs.overlaps(dotted) == {"app/util.py"}


def test_overlapping_tickets_go_to_different_waves_and_the_scheduler_holds_them():
    from exec_auto.batch.footprint import Footprint

    fps = {n: Footprint(n, frozenset({f"{n}.py"})) for n in "abcd"}
    fps["b"] = Footprint("b", frozenset({"a.py", "b.py"}))
    graph = ConflictGraph(fps)
    assert waves(graph, list("abcd")) == [["a", "c", "d"], ["b"]]
    sched = Scheduler(graph, list("abcd"))
    taken = [sched.next(), sched.next(), sched.next()]
    assert taken == ["a", "c", "d"] and sched.queue == ["b"]
    assert sched._pick() is None  # b must wait for a
    sched.done("a")
    assert sched.next() == "b" and sched.next() is None
    assert sched.note("b") == "queued until a finished (predicted overlap: a.py)"
    plan = simulate(graph, list("abcd"), dict.fromkeys("abcd", 10.0), 4)
    assert wall_time(plan) == 20.0
    assert {s.ticket: s.start for s in plan} == {"a": 0.0, "c": 0.0, "d": 0.0, "b": 10.0}


def _intervals(log: Path) -> dict[str, tuple[int, int]]:
    lines = log.read_text().split()
    spans: dict[str, tuple[int, int]] = {}
    for i, word in enumerate(lines):
        first, last = spans.get(word[:-1], (i, i))
        spans[word[:-1]] = (min(first, i), max(last, i))
    return spans


def test_tickets_naming_the_same_file_never_run_together_and_merge_tested_in_turn(
    make_batch, run_batch_cli, report_dir, tmp_path
):
    root = make_batch(["a"])
    for name in "ab":
        _plan(root, name, "Add a line about it to `README.md`.")
    for name in "cd":
        _plan(root, name, f"Create `{name}-1.txt`.")
    (root / "tests").mkdir()
    (root / "tests" / "test_readme.py").write_text(
        "from pathlib import Path\n\n\ndef test_readme_has_no_broken_line():\n"
        "    assert 'broken' not in Path('README.md').read_text()\n"
    )
    commit_all(root)
    log, tested = tmp_path / "agent.log", tmp_path / "tested.log"
    # Every step logs a start (S) and an end (E) around a short sleep; a and b add to README.md;
    # d breaks the test, so its merge must be refused.
    extra = (
        'case "$T" in a|b) echo "$T $S" >> README.md;; d) echo broken >> README.md;; esac; '
        f'sleep 0.3; echo "$T"E >> {log}'
    )
    agent = agent_command(pre=f'echo "$T"S >> {log}', extra=extra)
    merge_test = f"echo run >> {tested} && python -m pytest -q -p no:cacheprovider tests"
    code = run_batch_cli(
        root, agent, "a", "b", "c", "d", "--parallel", "4", "--merge", "--merge-test", merge_test
    )
    spans = _intervals(log)
    # a and b named the same file: one ran wholly after the other; c and d ran alongside a.
    first, second = sorted("ab", key=lambda n: spans[n][0])
    assert spans[first][1] < spans[second][0]
    assert spans["c"][0] < spans[first][1] and spans["d"][0] < spans[first][1]
    by = rows(report_dir)
    assert "queued until" in by[second]["note"] and "README.md" in by[second]["note"]
    assert f"started from {first}'s branch" in by[second]["note"]
    # Merged in order, tests after each: the base, then one run per merge tried.
    meta = json.loads((report_dir / "batch.json").read_text())
    order = meta["merge_order"]
    assert order.index(first) < order.index(second)
    assert tested.read_text().count("run") == 1 + len(order)
    assert by["a"]["merged"] and by["b"]["merged"] and by["c"]["merged"]
    assert by["d"]["merged"] is False and "tests failed after merging" in by["d"]["note"]
    readme = (root / "README.md").read_text()
    assert f"{first} 1" in readme and f"{second} 1" in readme and "broken" not in readme
    assert git(root, "status", "--porcelain", "--untracked-files=no") == ""
    assert code == 0
    assert batch_json(report_dir)["totals"]["merged"] == 3


def test_dry_run_prints_the_forecast_and_schedule_and_runs_nothing(
    make_batch, monkeypatch, capsys, report_dir
):
    root = make_batch(["a", "b", "c"])
    for name in "ab":
        _plan(root, name, "Touch `README.md`.")
    commit_all(root)
    monkeypatch.chdir(root)
    args = ["run", "--all", "--parallel", "2", "--dry-run", "--budget-usd", "1", "--force"]
    assert main([*args, "--report-dir", str(report_dir)]) == 0
    out = capsys.readouterr().out
    assert "no finished past run in this repository: time and cost unknown" in out
    assert "a and b overlap on README.md: run one after the other" in out
    assert "wave 1: a, c" in out and "wave 2: b" in out
    assert "Budget: --budget-usd 1: the cost is unknown" in out
    assert "Dry run: nothing was run." in out
    assert not report_dir.exists()
    assert git(root, "branch", "--list", "exec-auto/*") == ""


def test_the_forecast_learns_from_past_runs_and_checks_the_budget(
    make_batch, run_batch_cli, report_dir, monkeypatch, capsys
):
    root = make_batch(["a", "b"])
    # A first batch leaves measured runs behind (its results live under .git/exec-auto/batches).
    monkeypatch.chdir(root)
    assert main(["run", "a", "--agent", "command", "--agent-command", agent_command(),
                 "--no-gates", "--parallel", "2", "--force"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["run", "b", "--dry-run", "--budget-seconds", "0.001", "--force"]) == 0
    out = capsys.readouterr().out
    assert "median of 1 finished past run(s) in this repository" in out
    assert "unknown" not in out.split("Schedule")[0]
    assert "Budget: forecast wall time" in out and "exceeds --budget-seconds 0.001" in out
