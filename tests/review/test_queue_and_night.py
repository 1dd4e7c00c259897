"""Risk ranking, conflicts and merge order, night over night — from stored reports only."""

from __future__ import annotations

import json
from pathlib import Path

from exec_auto.batch.report import BatchRow
from exec_auto.report import Report, ReportIssue, ReportStep
from exec_auto.review.model import queue, review_ticket
from exec_auto.review.night import conflicts, merge_order, night_over_night, previous_batch
from exec_auto.ticket.model import AutoActionsSummary, CriterionProgress


def _report(
    name: str,
    *,
    exit_code: int = 0,
    crits=(("c1", "met"),),
    issues=(),
    files=("x.py",),
    failed=False,
) -> Report:
    return Report(
        ticket=name,
        status="completed" if exit_code == 0 else "completed_with_issues",
        steps=[ReportStep(id="1", title="One", status="failed" if failed else "completed")],
        step_counts={
            "completed": 0 if failed else 1,
            "completed_with_warning": 0,
            "failed": int(failed),
            "skipped": 0,
            "pending": 0,
        },
        files_created=[],
        files_modified=list(files),
        files_deleted=[],
        acceptance_criteria=[CriterionProgress(criterion=c, status=s) for c, s in crits],  # type: ignore[arg-type]
        issues=list(issues),
        quality_gates={},
        auto_actions=AutoActionsSummary(),
        next_actions=[],
        exit_code=exit_code,
        integrity=[i for i in issues if i.type == "integrity"],
        integrity_audited_steps=1,
    )


def _row(name: str, branch: str | None = None, status: str = "completed") -> BatchRow:
    return BatchRow(ticket=name, status=status, exit_code=0, branch=branch)


def test_queue_order_integrity_unverified_failures_clean_not_started():
    integrity = ReportIssue(
        type="integrity",
        severity="high",
        step_id="1",
        description="a test was deleted",
    )
    reviews = [
        review_ticket(_report("clean-big", files=("a.py", "b.py")), None, row=_row("clean-big")),
        review_ticket(None, None, name="later", row=_row("later", status="not_started")),
        review_ticket(_report("broken", exit_code=1, failed=True), None, row=_row("broken")),
        review_ticket(
            _report("claims", exit_code=1, crits=(("c", "unverified"),)), None, row=_row("claims")
        ),
        review_ticket(_report("audit", exit_code=1, issues=(integrity,)), None, row=_row("audit")),
    ]
    assert [r.name for r in queue(reviews)] == ["audit", "claims", "broken", "clean-big", "later"]
    by = {r.name: r for r in reviews}
    assert by["audit"].integrity == ("integrity: a test was deleted",)
    assert (by["clean-big"].verdict, by["broken"].verdict, by["later"].verdict) == (
        "proven",
        "failed",
        "not_started",
    )
    assert not by["clean-big"].needs_eyes and by["claims"].needs_eyes


def test_conflicts_and_merge_order():
    reviews = [
        review_ticket(
            _report("a", files=("shared.py", "a.py")), None, row=_row("a", "exec-auto/a")
        ),
        review_ticket(_report("b", files=("shared.py",)), None, row=_row("b", "exec-auto/b")),
        review_ticket(_report("c", files=("c.py",)), None, row=_row("c", "exec-auto/c")),
        review_ticket(_report("d", files=("shared.py",)), None, row=_row("d")),  # no branch: serial
    ]
    found = conflicts(reviews)
    assert [(c.first, c.second, c.files) for c in found] == [("a", "b", ("shared.py",))]
    assert merge_order(reviews, found) == ["c", "a", "b"]


def test_night_over_night_compares_with_the_previous_batch_folder(tmp_path: Path):
    old = tmp_path / "batches" / "20261201-010000"
    (old / "t").mkdir(parents=True)
    (old / "batch-report.json").write_text(
        json.dumps({"started_at": "2026-12-01T01:00:00Z", "tickets": [{"ticket": "t"}]})
    )
    (old / "t" / "report.json").write_text(
        json.dumps(
            {
                "acceptance_criteria": [
                    {"criterion": "was met", "status": "met"},
                    {"criterion": "was failing", "status": "not_met"},
                    {"criterion": "unknown", "status": "unverified"},
                ]
            }
        )
    )
    now = tmp_path / "batches" / "20261202-010000"
    now.mkdir()
    assert previous_batch(now, "2026-12-02T01:00:00Z") == old / "batch-report.json"
    assert previous_batch(now, "2026-11-30T01:00:00Z") is None
    review = review_ticket(
        _report(
            "t",
            exit_code=1,
            crits=(("was met", "not_met"), ("was failing", "met"), ("unknown", "met")),
        ),
        None,
        row=_row("t"),
    )
    failing, passing = night_over_night([review], old / "batch-report.json")
    assert [(c.check, c.before, c.now) for c in failing] == [("was met", "met", "not_met")]
    assert [(c.check, c.before, c.now) for c in passing] == [("was failing", "not_met", "met")]


def test_a_clean_run_whose_diffs_were_never_audited_is_not_proven():
    report = _report("unaudited").model_copy(update={"integrity_audited_steps": None})
    review = review_ticket(report, None, row=_row("unaudited"))
    assert review.verdict == "partial" and "integrity audit did not run" in review.needs_eyes
