"""The usage-limit policy against a scripted Messages API answering 429 with reset times.

The real anthropic backend (pydantic-ai + the Anthropic SDK) talks to the fake on 127.0.0.1. A
limit whose reset is later than the step can wait parks the ticket; the batch waits for the reset
when it comes before --deadline and resumes, otherwise it stops cleanly and says why.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exec_auto.agents.limits import reset_time
from exec_auto.cli import main
from tests.batch.support import batch_json, rows
from tests.fakes.anthropic_server import FakeAnthropic, status, text, tool_use

KEY = "sk-ant-test-0123456789abcdef"


def _run(root: Path, fake: FakeAnthropic, report_dir: Path, *extra: str) -> int:
    return main(
        [
            "run", "t1", "t2", "--agent", "anthropic", "--base-url", fake.base_url,
            "--model", "claude-sonnet-4-6", "--no-gates", "--no-judge", "--step-timeout", "2",
            "--report-dir", str(report_dir), "--force", *extra,
        ]
    )  # fmt: skip


@pytest.fixture
def project(make_batch, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    root = make_batch(["t1", "t2"], titles=("One",))
    monkeypatch.chdir(root)
    return root


def _deadline(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_limit_resetting_before_the_deadline_parks_the_ticket_then_the_batch_resumes(
    project, report_dir, capsys
):
    script = [
        # The limit resets in 3 s: longer than the 2 s step can wait, well before the deadline.
        status(429, retry_after=3, body={"type": "error", "error": {"type": "rate_limit_error",
                                                                     "message": "slow down"}}),
        tool_use("write_file", {"path": "t1-1.txt", "content": "one\n"}),
        text("Wrote t1-1.txt."),
        tool_use("write_file", {"path": "t2-1.txt", "content": "two\n"}),
        text("Wrote t2-1.txt."),
    ]  # fmt: skip
    started = time.monotonic()
    with FakeAnthropic(script) as fake:
        code = _run(project, fake, report_dir, "--deadline", _deadline(600))
        requests = len(fake.requests)
    waited = time.monotonic() - started
    assert code == 0, capsys.readouterr().out
    by = rows(report_dir)
    assert by["t1"]["status"] == "completed" and by["t2"]["status"] == "completed"
    assert "resumed after parked by a anthropic usage limit until" in by["t1"]["note"]
    assert requests == 5  # the refused request, then two per ticket: nothing ran twice
    assert waited >= 2.5  # it waited for the reset instead of failing the step
    progress = (project / "specs" / "archive" / "t1" / "progress.yaml").read_text()
    assert "agent_limit" not in progress  # a parked step is not a failed step
    assert batch_json(report_dir)["stopped"] is None


def test_a_limit_resetting_after_the_deadline_stops_the_batch_cleanly(project, report_dir):
    script = [status(429, retry_after=3600), text("never reached")]
    with FakeAnthropic(script) as fake:
        code = _run(project, fake, report_dir, "--deadline", _deadline(120))
        requests = len(fake.requests)
    assert code == 1
    assert requests == 1  # no new ticket started on the held backend
    report = batch_json(report_dir)
    assert "provider usage limit resets at" in report["stopped"]
    assert "after --deadline" in report["stopped"]
    by = rows(report_dir)
    assert by["t1"]["status"] == "parked" and "rerun to resume" in by["t1"]["note"]
    assert by["t2"]["status"] == "not_started" and "after --deadline" in by["t2"]["note"]
    result = json.loads((report_dir / "results" / "t1.json").read_text())
    assert result["parked_until"] and result["exit_code"] == 1
    # Parked, not failed: progress keeps the step unfinished and the ticket resumable.
    progress = (project / "specs" / "tickets" / "t1" / "progress.yaml").read_text()
    assert "status: parked" in progress and "status: in_progress" in progress
    assert "Stopped early:" in (report_dir / "batch-report.md").read_text()


def test_reset_times_are_read_from_each_providers_headers():
    now = 1_000_000.0
    assert reset_time({"retry-after": "30"}, now) == now + 30
    assert reset_time({"retry-after-ms": "1500", "retry-after": "2"}, now) == now + 1.5
    assert (
        reset_time({"x-ratelimit-reset-requests": "6m0s", "x-ratelimit-reset-tokens": "1s"}, now)
        == now + 360
    )
    anthropic = {"anthropic-ratelimit-tokens-reset": "1970-01-12T13:50:00Z"}
    assert reset_time(anthropic, now) == 1_000_200.0
    assert reset_time({"content-type": "application/json"}, now) is None
