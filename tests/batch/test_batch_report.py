"""`batch-report --from DIR`: the batch report from result files, local or from CI artefacts."""

from __future__ import annotations

import json

from exec_auto.batch.result import JobResult, ResultRefs, ResultTimings, write_result
from exec_auto.cli import main
from exec_auto.report import ReportIssue
from exec_auto.ticket.model import CriterionProgress
from exec_auto.usage import Usage
from tests.batch.support import agent_command, batch_json


def test_a_local_batch_report_is_rebuilt_identically_from_its_result_files(
    make_batch, run_batch_cli, report_dir, tmp_path
):
    root = make_batch(["a", "b", "c"])
    run_batch_cli(root, agent_command(fail=("b",)), "a", "b", "c", "--parallel", "3")
    assert sorted(p.name for p in (report_dir / "results").iterdir()) == [
        "a.json",
        "b.json",
        "c.json",
    ]
    again = tmp_path / "again"
    assert main(["batch-report", "--from", str(report_dir), "--out", str(again)]) == 0
    assert batch_json(again) == batch_json(report_dir)
    assert (again / "batch-report.md").read_text() == (report_dir / "batch-report.md").read_text()


def _result(n: int) -> JobResult:
    status, code = [("completed", 0), ("completed_with_issues", 1), ("error", 2)][n % 3]
    return JobResult(
        ticket=f"t{n:03d}",
        status=status,
        exit_code=code,
        agent="anthropic",
        steps_done=3 if code < 2 else 0,
        steps_total=3,
        criteria=[CriterionProgress(criterion="works", status="met" if code == 0 else "not_met")],
        issues=[ReportIssue(type="test_failure", severity="high", step_id="2", description="x")]
        if code == 1
        else [],
        usage=Usage(input_tokens=1000, output_tokens=100, cost_usd=0.25),
        refs=ResultRefs(branch=f"exec-auto/t{n:03d}", remote="origin", pushed=True),
        timings=ResultTimings(
            started_at=f"2026-12-01T22:{n % 60:02d}:00Z",
            completed_at=f"2026-12-01T23:{n % 60:02d}:00Z",
            duration_seconds=3600.0,
        ),
    )


def test_a_fan_in_over_120_result_files_builds_the_batch_report(tmp_path, capsys):
    artefacts = tmp_path / "artefacts"
    for n in range(120):
        # download-artifact unpacks one folder per uploaded artefact.
        write_result(_result(n), artefacts / f"exec-auto-result-t{n:03d}" / f"t{n:03d}.json")
    (artefacts / "unrelated.json").write_text('{"not": "a result"}')
    out = tmp_path / "report"
    assert main(["batch-report", "--from", str(artefacts), "--out", str(out)]) == 0
    report = json.loads((out / "batch-report.json").read_text())
    assert len(report["tickets"]) == 120
    assert report["tickets"][0]["ticket"] == "t000" and report["tickets"][-1]["ticket"] == "t119"
    totals = report["totals"]
    assert totals["by_status"] == {"completed": 40, "completed_with_issues": 40, "error": 40}
    assert totals["usage"]["cost_usd"] == 30.0 and totals["usage"]["input_tokens"] == 120_000
    assert totals["criteria_met"] == 40 and totals["criteria_total"] == 120
    assert totals["issues"]["high"] == 40
    assert report["exit_code"] == 2
    assert report["started_at"] == "2026-12-01T22:00:00Z"
    assert report["completed_at"] == "2026-12-01T23:59:00Z"
    md = (out / "batch-report.md").read_text()
    assert sum(1 for line in md.splitlines() if line.startswith("| t")) == 120
    page = (out / "batch-report.html").read_text()
    assert page.count("<tr><td>") >= 120 and "t119" in page
    assert "120 result files" in capsys.readouterr().out
    # --strict hands the batch's exit code on, for a fan-in job that should fail with it.
    assert main(["batch-report", "--from", str(artefacts), "--out", str(out), "--strict"]) == 2


def test_a_broken_result_file_is_named_and_nothing_is_written(tmp_path, capsys):
    artefacts = tmp_path / "artefacts"
    write_result(_result(0), artefacts / "t000.json")
    (artefacts / "t001.json").write_text('{"schema": "exec-auto/job-result/1", "ticket": 1}')
    assert main(["batch-report", "--from", str(artefacts)]) == 2
    err = capsys.readouterr().err
    assert "t001.json: not an exec-auto job result" in err
    assert not (artefacts / "batch-report.md").exists()
    assert main(["batch-report", "--from", str(tmp_path / "missing")]) == 2
    assert main(["batch-report", "--from", str(artefacts), "--format", "pdf"]) == 2
