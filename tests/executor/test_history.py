"""Step history: every step's tree on a private ref, surviving kills and worktree removal."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from exec_auto.executor.history import StepHistory, diff, drop_attempts, latest_run, run_id, runs
from exec_auto.executor.snapshot import Snapshot, SnapshotStore, Snapshotter
from tests.conftest import cli_argv, git, run_cli
from tests.helpers.procs import kill_at_marker

STEPS = {
    "1": [{"write": "a.txt", "text": "alpha\n"}],
    "2": [{"write": "b.txt", "text": "beta\n"}, {"append": "a.txt", "text": "more\n"}],
    "3": [{"delete": "b.txt"}],
}


def _store_git(project: Path, *args: str) -> str:
    return SnapshotStore(project, "feature-x").git(*args)


def _committed_repo(tmp_path: Path) -> Path:
    """A repository with one committed file, a.txt."""
    root = tmp_path / "r"
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def _objects_bytes(project: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(project / ".git" / "objects"):
        total += sum((Path(dirpath) / f).stat().st_size for f in files)
    return total


def test_each_step_is_a_commit_on_its_ref_whose_diff_is_what_the_step_did(
    project, script_agent, monkeypatch, capsys
):
    head = git(project, "rev-parse", "HEAD").strip()
    user_refs = git(project, "for-each-ref")
    assert run_cli(project, monkeypatch, script_agent(STEPS), "--no-gates") == 1
    history = latest_run(project, "feature-x")
    assert [s.step_id for s in history.steps] == ["1", "2", "3"]
    assert history.base == head  # a clean tree: the run starts from HEAD itself
    refs = _store_git(project, "for-each-ref", "--format=%(refname)").split()
    prefix = f"refs/exec-auto/feature-x/{history.run}"
    assert {f"{prefix}/base", f"{prefix}/step-1", f"{prefix}/step-2", f"{prefix}/step-3"} <= set(
        refs
    )
    # Parent chain: base <- step 1 <- step 2 <- step 3.
    assert [s.parent for s in history.steps] == [head, *(s.commit for s in history.steps[:2])]
    assert history.steps[1].status == "completed" and history.steps[1].title == "Second"
    step2 = diff(project, "feature-x", "2")
    assert "+beta" in step2 and "+more" in step2 and "alpha" not in step2.split("@@")[-1][:6]
    assert "deleted file mode" in diff(project, "feature-x", "3")
    whole = diff(project, "feature-x")
    assert "a.txt" in whole and "b.txt" not in whole  # created then deleted: net nothing
    # Nothing in the user's refs or objects: the history lives in its own store.
    assert git(project, "for-each-ref") == user_refs
    assert "refs/exec-auto" not in git(project, "log", "--all", "--format=%D")
    assert (
        subprocess.run(
            ["git", "cat-file", "-e", history.steps[0].commit], cwd=project, capture_output=True
        ).returncode
        != 0
    )
    # The CLI prints the same.
    from exec_auto.cli import main

    capsys.readouterr()
    assert main(["diff", "feature-x", "2"]) == 0
    assert capsys.readouterr().out == step2


def test_uncommitted_changes_at_the_start_go_into_the_base_not_step_1(
    project, script_agent, monkeypatch
):
    (project / "README.md").write_text("edited by the user\n")
    run_cli(project, monkeypatch, script_agent(STEPS), "--no-gates", "--no-archive")
    history = latest_run(project, "feature-x")
    assert history.base != git(project, "rev-parse", "HEAD").strip()
    assert "README.md" not in diff(project, "feature-x", "1")
    assert "README.md" in _store_git(project, "diff", "--stat", f"{history.base}^", history.base)


def test_history_survives_kill_9_and_the_resumed_step_chains_on_the_last_kept_one(
    project, script_agent, tmp_path
):
    marker = tmp_path / "in-step-2"
    first = {
        "1": STEPS["1"],
        "2": [{"write": "half.txt", "text": "half\n"}, {"marker": str(marker)}, {"sleep": 60}],
    }
    kill_at_marker(
        cli_argv(script_agent(first), "--no-gates", "--no-archive"),
        project,
        marker,
        tmp_path / "agent-behaviour.json",
    )
    killed = latest_run(project, "feature-x")
    assert [s.step_id for s in killed.steps] == ["1"]
    step1 = diff(project, "feature-x", "1")
    second = {"2": [{"write": "b.txt", "text": "beta\n"}], "3": STEPS["3"]}
    resumed = subprocess.run(
        cli_argv(script_agent(second), "--no-gates", "--no-archive"),
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode in (0, 1), resumed.stderr
    history = latest_run(project, "feature-x")
    assert history.run == killed.run and history.base == killed.base
    assert [s.step_id for s in history.steps] == ["1", "2", "3"]
    assert history.steps[1].parent == killed.steps[0].commit
    assert diff(project, "feature-x", "1") == step1
    # Step 2's diff holds what the killed attempt left and what the rerun added.
    assert "+half" in diff(project, "feature-x", "2") and "+beta" in diff(project, "feature-x", "2")


def test_snapshot_objects_stay_out_of_the_repository_and_attempts_are_freed(tmp_path):
    root = _committed_repo(tmp_path)
    before = _objects_bytes(root)
    snaps = Snapshotter(root, ticket="t")
    history = StepHistory(snaps.store, run_id("2026-12-02T06:52:09Z"), ["1"])
    assert history.run == "20261202T065209"
    history.begin(snaps.take())
    (root / "big.bin").write_bytes(os.urandom(3_000_000))
    history.record_attempt("1", "fix-1", snaps.take())
    (root / "big.bin").unlink()
    history.record_step("1", "One", "completed", snaps.take())
    snaps.close()
    assert _objects_bytes(root) == before  # the user's .git did not grow
    assert snaps.store.size_bytes() > 3_000_000
    assert drop_attempts(root, "t") == 1
    assert snaps.store.size_bytes() < 1_000_000
    assert [s.step_id for s in latest_run(root, "t").steps] == ["1"]


def test_refs_of_a_run_resumed_keep_their_base(tmp_path):
    root = _committed_repo(tmp_path)
    store = SnapshotStore(root, "odd name/with:chars")
    history = StepHistory(store, "run", ["1"])
    base = history.begin(Snapshot(git(root, "rev-parse", "HEAD^{tree}").strip()))
    (root / "a.txt").write_text("b\n")
    again = StepHistory(store, "run", ["1"]).begin(
        Snapshot(git(root, "rev-parse", "HEAD^{tree}").strip())
    )
    assert again == base
    assert [r.run for r in runs(root, "odd name/with:chars")] == ["run"]


def test_steps_are_listed_in_recorded_order_also_when_a_redone_step_broke_the_chain(tmp_path):
    """runs() orders steps by their parent links (one git call) and by git when links break."""
    root = _committed_repo(tmp_path)
    snaps = Snapshotter(root, ticket="t")
    ids = ["1", "10", "2", "3"]  # not sorted by name: the order is the plan's
    history = StepHistory(snaps.store, "run", ids)
    history.begin(snaps.take())
    for n, step in enumerate(ids):
        (root / f"f{n}.txt").write_text(f"{n}\n")
        history.record_step(step, f"Step {step}", "completed", snaps.take())
    recorded = latest_run(root, "t")
    assert [s.step_id for s in recorded.steps] == ids
    assert [s.title for s in recorded.steps] == [f"Step {i}" for i in ids]
    assert all(s.status == "completed" for s in recorded.steps)
    # Step "10" redone after step "2" was recorded on top of its first version: step 2's parent
    # is now a commit no ref names, and the order still comes out as recorded.
    (root / "f1.txt").write_text("redone\n")
    history.record_step("10", "Step 10", "completed_with_warning", snaps.take())
    again = latest_run(root, "t")
    assert [s.step_id for s in again.steps] == ids
    assert again.step("10").status == "completed_with_warning"
    snaps.close()


def test_two_runs_started_in_the_same_second_keep_two_histories_each_reviewed_apart(
    project, script_agent, monkeypatch
):
    """The main tree and a linked worktree share the store: a start-time id would be one history."""
    import json

    from exec_auto.report import Report
    from exec_auto.review.model import review_ticket

    monkeypatch.setattr("exec_auto.executor.state.now_iso", lambda: "2026-12-02T06:52:09Z")
    folder = project / "specs" / "tickets" / "feature-x"
    reports = []
    for steps in (STEPS, {"1": [{"write": "c.txt", "text": "gamma\n"}], "*": []}):
        run_cli(
            project, monkeypatch, script_agent(steps), "--no-gates", "--no-archive", "--restart"
        )
        reports.append(Report.model_validate(json.loads((folder / "report.json").read_text())))
    first, second = reports
    assert first.started_at == second.started_at
    assert first.run_id and second.run_id and first.run_id != second.run_id
    assert first.run_id.startswith(run_id(first.started_at) + "-")  # still sorts by start time
    histories = runs(project, "feature-x")
    assert sorted(h.run for h in histories) == sorted([first.run_id, second.run_id])
    assert all(len(h.steps) == 3 for h in histories)
    # Each report's review shows its own run's step 1.
    assert [f.path for f in review_ticket(first, project).steps[0].files] == ["a.txt"]
    assert [f.path for f in review_ticket(second, project).steps[0].files] == ["c.txt"]


def test_a_progress_file_without_a_run_id_resumes_on_its_start_time_history(
    project, script_agent, monkeypatch
):
    """A run recorded before run ids existed keeps chaining on the refs named by its start time."""
    from exec_auto.ticket.progress import load_progress, save_progress

    steps = {"1": [{"write": "a.txt", "text": "alpha\n"}], "2": [{"exit": 1}], "*": []}
    run_cli(project, monkeypatch, script_agent(steps), "--no-gates", "--no-archive")
    path = project / "specs" / "tickets" / "feature-x" / "progress.yaml"
    progress, _ = load_progress(path)
    assert progress is not None and progress.ticket.run_id
    old = run_id(progress.ticket.started_at)
    # Rename the recorded run to its pre-0.2 name and drop the id from the file.
    store = SnapshotStore(project, "feature-x")
    for ref in store.git("for-each-ref", "--format=%(refname)").split():
        if f"/{progress.ticket.run_id}/" in ref:
            store.git("update-ref", ref.replace(progress.ticket.run_id, old), f"{ref}")
            store.git("update-ref", "-d", ref)
    progress.ticket.run_id = None
    save_progress(path, progress)
    run_cli(project, monkeypatch, script_agent(STEPS), "--no-gates", "--no-archive")
    assert [h.run for h in runs(project, "feature-x")] == [old]
    assert load_progress(path)[0].ticket.run_id == old  # type: ignore[union-attr]


def test_step_refs_written_as_files_are_what_git_reads_and_a_held_lock_is_gits_to_refuse(tmp_path):
    """set_ref writes loose refs as update-ref does; git sees them, fsck is clean, locks are kept."""
    import pytest

    from exec_auto.errors import ExecAutoError

    root = _committed_repo(tmp_path)
    store = SnapshotStore(root, "feature-x").ensure()
    history = StepHistory(store, "run", ["1", "2"])
    history.begin(Snapshot(git(root, "rev-parse", "HEAD^{tree}").strip()))
    (root / "a.txt").write_text("b\n")
    with Snapshotter(root, ticket="feature-x") as snapshots:
        commit = history.record_step("1", "First", "completed", snapshots.take())
    ref = history.step_ref("1")
    assert (store.path / ref).read_text() == f"{commit}\n"
    assert store.git("rev-parse", ref).strip() == commit
    assert f"{commit} {ref}" in store.git("for-each-ref", "--format=%(objectname) %(refname)")
    store.git("fsck", "--no-progress")  # raises on a broken ref or object
    assert [s.step_id for s in latest_run(root, "feature-x").steps] == ["1"]
    # A lock someone holds (a git process, or one a kill left) is never written through.
    lock = store.path / (history.step_ref("2") + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    with pytest.raises(ExecAutoError):
        store.set_ref(history.step_ref("2"), commit)
    assert lock.exists() and not (store.path / history.step_ref("2")).exists()
