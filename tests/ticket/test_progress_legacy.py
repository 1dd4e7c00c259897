"""Resuming from progress files older assistant-driven runs wrote: ids, statuses, shapes, junk."""

from __future__ import annotations

import random
import shutil
import textwrap
from pathlib import Path

import pytest
from progress_samples import load_ok, progress_path

from exec_auto.ticket.progress import load_progress, save_progress
from exec_auto.ticket.progress_words import normalize_step_id, step_status
from exec_auto.ticket.yamlio import dump_block

LEGACY = Path(__file__).parent.parent / "fixtures" / "progress"


def test_step_ids_are_normalised() -> None:
    cases = {"step_1": "1", "Step 1": "1", "1": "1", 1: "1", "2.1": "2.1", 2.1: "2.1"}
    cases |= {"step-3": "3", "Passo 4": "4", "Step 5: Docs": "5", 6.0: "6", "setup": "setup"}
    assert {key: normalize_step_id(key) for key in cases} == cases


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("done", "completed"),
        ("complete", "completed"),
        ("✅ completed", "completed"),
        ("✅", "completed"),
        ("in-progress", "in_progress"),
        ("In Progress", "in_progress"),
        ("todo", "pending"),
        ("not_started", "pending"),
        ("blocked", "failed"),
        ("error", "failed"),
        ("⚠️ completed with warnings", "completed_with_warning"),
        ("skipped", "skipped"),
        ("concluído", "completed"),
        (True, "completed"),
        ("mystery", None),
    ],
)
def test_step_statuses_are_mapped(raw: object, status: str | None) -> None:
    assert step_status(raw) == status


@pytest.mark.parametrize("fixture", sorted(LEGACY.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_legacy_file_loads_for_resume(tmp_path: Path, fixture: Path) -> None:
    path = progress_path(tmp_path)
    shutil.copy(fixture, path)
    progress, warnings = load_ok(path)
    assert progress.implementation_steps
    assert all(w and "\n" not in w for w in warnings)
    assert all(w.startswith("progress.yaml: ") for w in warnings)
    # What resume reads back after the next save is exactly what was adapted.
    save_progress(path, progress)
    assert load_progress(path) == (progress, [])


def test_legacy_steps_list_with_overall_status(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    shutil.copy(LEGACY / "legacy-steps-overall.yaml", path)
    progress, warnings = load_ok(path)
    assert progress.ticket.name == "feature-user-auth"
    assert progress.ticket.status == "in_progress"
    steps = [(s.step_id, s.status, s.description) for s in progress.implementation_steps]
    assert steps == [
        ("1", "completed", "Create User model"),
        ("2", "completed", "Add password hashing"),
        ("3", "in_progress", "Login endpoint"),
        ("4", "pending", "JWT token generation"),
        ("5", "pending", "Documentation"),
    ]
    assert progress.implementation_steps[0].files_touched.modified == ["app/models/user.py"]
    assert progress.implementation_steps[1].warnings == ["notes: bcrypt cost factor 12"]
    assert any("ticket was the text" in w for w in warnings)
    assert any("'done' as 'completed'" in w for w in warnings)


def test_legacy_counters_without_a_step_list(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    shutil.copy(LEGACY / "legacy-counters-only.yaml", path)
    progress, warnings = load_ok(path)
    assert {s.step_id: s.status for s in progress.implementation_steps} == {
        "1": "completed",
        "2": "completed",
        "4": "failed",
        "3": "in_progress",
    }
    assert progress.ticket.started_at == "2025-10-02T08:15:00Z"  # an unquoted YAML timestamp
    assert any("known only from completed_steps" in w for w in warnings)


def test_legacy_mapping_steps_issues_and_criteria(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    shutil.copy(LEGACY / "legacy-mapping-steps.yaml", path)
    progress, _ = load_ok(path)
    assert [(s.step_id, s.status) for s in progress.implementation_steps] == [
        ("1", "completed"),
        ("2", "failed"),
        ("2.1", "in_progress"),
        ("3", "skipped"),
    ]
    blocked, fixed = progress.issues
    assert (blocked.step_id, blocked.severity, blocked.resolution) == ("2", "high", None)
    assert blocked.description == "permission model not merged yet"
    assert fixed.resolution == "fixed"
    assert [c.status for c in progress.acceptance_criteria] == ["met", "partial", "unverified"]
    assert [i.description for i in progress.open_issues()] == ["permission model not merged yet"]


def test_legacy_numbers_timestamps_and_free_text(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    shutil.copy(LEGACY / "legacy-datetimes-floats.yaml", path)
    progress, warnings = load_ok(path)
    assert [s.step_id for s in progress.implementation_steps] == ["1.1", "1.2", "2", "4"]
    first, failed = progress.implementation_steps[:2]
    assert first.started_at == "2025-11-01T09:00:05Z"
    assert first.files_touched.modified == ["db/schema.sql", "db/migrate.py"]
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert failed.warnings[0].startswith("error: alembic")
    issue = progress.issues[0]
    assert (issue.step_id, issue.severity, issue.resolution) == ("1.2", "high", "resolved")
    assert issue.details.startswith("Traceback (most recent call last):\n")
    assert issue.action_taken == "Recreated revision; Re-ran migration"
    summary = progress.auto_actions_summary
    assert (summary.dependencies_installed, summary.tests_failed) == (["alembic"], 2)
    assert any("numbered 4 by position" in w for w in warnings)


def test_seed_example_and_portuguese_files(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    shutil.copy(LEGACY / "legacy-seed-example.yaml", path)
    progress, warnings = load_ok(path)
    assert progress.auto_actions_summary.formatting_applied == 5  # "5_files"
    assert progress.issues[1].step_id == "5"
    assert warnings == [
        "progress.yaml: ignored unknown keys in auto_actions_summary "
        "(dropped on the next save): tests_skipped"
    ]
    shutil.copy(LEGACY / "legacy-portuguese.yaml", path)
    progress, _ = load_ok(path)
    assert progress.ticket.name == "melhoria-cache-catalogo"
    assert [s.status for s in progress.implementation_steps] == [
        "completed",
        "in_progress",
        "pending",
    ]
    assert progress.issues[0].timestamp == "2025-10-21T14:00:00Z"  # -03:00 converted to UTC
    assert progress.quality_gates == {"black": "passed", "ruff": "2 issues"}


def test_values_the_schema_rejects_are_dropped_not_fatal(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        ticket: {name: t}
        implementation_steps:
          - step_id: 1
            description: one
            quality_gates: {black: ok}
        """
    )
    progress, warnings = load_ok(progress_path(tmp_path, text))
    assert progress.implementation_steps[0].quality_gates == []
    assert any("implementation_steps.0.quality_gates" in w for w in warnings)


FUZZ_KEYS = [
    "ticket",
    "implementation_steps",
    "steps",
    "status",
    "issues",
    "acceptance_criteria",
    "auto_actions_summary",
    "quality_gates",
    "completed_steps",
    "current_step",
    "name",
    "step_id",
    "id",
    "step",
    "description",
    "files_touched",
    "agent",
    "attempts",
    "severity",
    "details",
    "evidence",
    "met",
    "created",
    "overall",
    "warnings",
    "notes",
    "action_taken",
    "resolved",
    "type",
    "started_at",
    "turns",
    "dependencies_installed",
    "formatting_applied",
]
FUZZ_SCALARS = (None, True, False, 0, 1, -3, 2.5, float("nan"), 10**30, "", "done", "step_2")
FUZZ_SCALARS += ("✅", "x: y", "a\nb", "2025-01-01")


def _junk(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice(FUZZ_SCALARS)
    if roll < 0.7:
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(FUZZ_KEYS): _junk(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def test_any_mapping_loads_and_then_round_trips_quietly(tmp_path: Path) -> None:
    """Whatever an older run (or a person) left, resume gets a record, never an exception."""
    rng = random.Random(42)
    path = progress_path(tmp_path)
    for _ in range(120):
        data = {rng.choice(FUZZ_KEYS): _junk(rng) for _ in range(rng.randint(1, 6))}
        path.write_text(dump_block(data), encoding="utf-8")
        progress, _ = load_ok(path)
        save_progress(path, progress)
        assert load_progress(path) == (progress, [])
