"""Progress documents for tests: a rich one with awkward text, and large ones for the crash test.

Importable by a child process (tests/ticket on sys.path), so parent and child build equal models.
"""

from __future__ import annotations

from pathlib import Path

from exec_auto.ticket.model import (
    AgentUsage,
    AutoActionsSummary,
    CriterionProgress,
    FilesTouched,
    Progress,
    ProgressIssue,
    StepProgress,
    TicketProgress,
)

AWKWARD_TEXT = [
    "plain words",
    "colon: inside",
    "trailing space ",
    " leading space",
    "# looks like a comment",
    "- looks like a list",
    "yes",
    "null",
    "~",
    "123",
    "2.1",
    "2025-11-03T10:30:00Z",
    "",
    "quote ' and \" both",
    "tab\there",
    "unicode: ação, 日本語, emoji ✅",
    "line\u2028separator",
    "multi\nline\n",
    "multi\nline without trailing newline",
    "keep\ntrailing\n\n\n",
    "  indented first line\nsecond",
    "\nstarts with newline",
    "windows\r\nline end",
    "bell\x07char",
    "[flow] {like}",
    "&anchor *alias !tag %directive @at `tick`",
]


def rich_progress() -> Progress:
    """A progress document exercising every field with text that is hard to write as YAML."""
    steps = [
        StepProgress(
            step_id=step_id,
            description=f"Step {step_id}: {text}",
            status=status,  # type: ignore[arg-type]
            started_at="2025-11-03T10:30:00Z",
            completed_at=None if status == "in_progress" else "2025-11-03T10:35:00Z",
            files_touched=FilesTouched(created=["src/a.py"], modified=["src/b b.py"], deleted=[]),
            auto_actions=["Applied Black formatting", text],
            warnings=[text] if text else [],
            attempts=2,
            agent=AgentUsage(result="ok", turns=3, input_tokens=1200, cost_usd=0.0125),
        )
        for step_id, status, text in [
            ("1", "completed", "Install deps"),
            ("2", "completed_with_warning", "multi\nline warning\n"),
            ("2.1", "failed", "colon: inside"),
            ("3", "in_progress", "unicode: ação ✅"),
            ("4", "pending", ""),
            ("5", "skipped", "yes"),
        ]
    ]
    issues = [
        ProgressIssue(
            timestamp="2025-11-03T11:15:00Z",
            type="test_failure",
            step_id="3" if index % 2 else None,
            description=f"issue {index}: {text}",
            details=text,
            severity=("high", "medium", "low")[index % 3],  # type: ignore[arg-type]
            resolution=None if index % 4 else "fixed by hand",
            resolved_at=None if index % 4 else "2025-11-04T09:00:00Z",
            action_taken=text or None,
        )
        for index, text in enumerate(AWKWARD_TEXT)
    ]
    return Progress(
        ticket=TicketProgress(
            name="feature-add-logging",
            type="feature",
            started_at="2025-11-03T10:30:00Z",
            status="in_progress",
        ),
        implementation_steps=steps,
        acceptance_criteria=[
            CriterionProgress(criterion="Logs are JSON", status="met", evidence=["pytest -k json"]),
            CriterionProgress(criterion="No secrets: ever", status="partial"),
            CriterionProgress(criterion="Docs", status="unverified"),
        ],
        issues=issues,
        auto_actions_summary=AutoActionsSummary(
            dependencies_installed=["structlog"], formatting_applied=5, tests_run=14
        ),
        quality_gates={"baseline: ruff": "2 issues", "final: pytest": "12 passed, 2 failed"},
    )


def big_progress(variant: int, steps: int = 50, issues: int = 200) -> Progress:
    """A 50-step, 200-issue document; variants differ everywhere so a torn write would show."""
    step_records = [
        StepProgress(
            step_id=str(i),
            description=f"Step {i} of variant {variant}",
            status="completed" if (i + variant) % 3 else "in_progress",
            started_at="2025-11-03T10:30:00Z",
            auto_actions=[f"action {variant}-{i}"],
        )
        for i in range(1, steps + 1)
    ]
    issue_records = [
        ProgressIssue(
            timestamp="2025-11-03T11:15:00Z",
            type="test_failure",
            step_id=str(i % steps + 1),
            description=f"issue {i} of variant {variant}",
            details=f"Traceback line 1\nTraceback line 2 ({variant})\n",
        )
        for i in range(issues + variant)
    ]
    return Progress(
        ticket=TicketProgress(name=f"big-{variant}", status="in_progress"),
        implementation_steps=step_records,
        issues=issue_records,
    )


def progress_path(tmp_path: Path, text: str | bytes | None = None) -> Path:
    """<tmp>/feature-add-logging/progress.yaml, holding text when given."""
    folder = tmp_path / "feature-add-logging"
    folder.mkdir(exist_ok=True)
    path = folder / "progress.yaml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    elif isinstance(text, bytes):
        path.write_bytes(text)
    return path


def load_ok(path: Path) -> tuple[Progress, list[str]]:
    """load_progress that must succeed."""
    from exec_auto.ticket.progress import load_progress

    progress, warnings = load_progress(path)
    assert progress is not None, warnings
    return progress, warnings
