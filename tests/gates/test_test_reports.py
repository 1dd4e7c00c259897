"""Turning the plugin's events into counts, findings and summaries (no subprocess needed)."""

from __future__ import annotations

import json
from pathlib import Path

from exec_auto.config import GatesConfig
from exec_auto.gates.pytest_gate import MAX_TEST_FINDINGS, _test_result
from exec_auto.gates.selection import WHOLE_SUITE
from exec_auto.gates.testing import failure_message, parse_events, read_events
from exec_auto.proc import ProcResult

FULL = WHOLE_SUITE


def finished(returncode: int = 1, timed_out: bool = False, stderr: str = "") -> ProcResult:
    return ProcResult(("pytest",), returncode, "", stderr, 1.0, timed_out)


def outcome_event(
    nodeid: str, outcome: str, crash: str = "", when: str = "call"
) -> dict[str, object]:
    return {"event": "test", "nodeid": nodeid, "when": when, "outcome": outcome, "crash": crash}


def test_killed_run_keeps_finished_outcomes_and_names_the_hanging_test(tmp_path: Path) -> None:
    report = tmp_path / "r.jsonl"
    lines = [
        {"event": "start", "nodeid": "t.py::a"},
        outcome_event("t.py::a", "passed"),
        {"event": "start", "nodeid": "t.py::hang"},
    ]
    report.write_text("".join(json.dumps(e) + "\n" for e in lines) + '{"event": "te')
    run = parse_events(read_events(report), finished(-15, timed_out=True))
    assert (run.counts.passed, run.timed_out, run.hanging_test) == (1, True, "t.py::hang")
    # Even a timeout the baseline had is never "known": a run that could not finish never passes.
    result = _test_result(run, FULL, {"timeout:t.py::hang"}, GatesConfig(gate_timeout=5), set())
    (timeout,) = result.findings
    assert timeout.type == "gate_error" and not timeout.pre_existing and not result.passed
    assert result.summary == "Pytest: timed out after 5s (1 passed before the kill)"


def test_many_failures_are_capped_with_new_ones_first() -> None:
    events = [outcome_event(f"t.py::old{i}", "failed", "AssertionError") for i in range(5)]
    events += [outcome_event(f"t.py::new{i}", "failed", f"ValueError: {i}") for i in range(30)]
    events.append({"event": "finish", "exitstatus": 1})
    run = parse_events(events, finished())
    keys = {f"t.py::old{i}" for i in range(5)}
    result = _test_result(run, FULL, keys, GatesConfig(), set())
    assert len(result.findings) == MAX_TEST_FINDINGS + 1
    assert all(not f.pre_existing for f in result.findings[:MAX_TEST_FINDINGS])
    rest = result.findings[-1]
    assert rest.description == "15 more failing tests (see details)" and not rest.pre_existing
    assert "t.py::old4: AssertionError" in rest.details
    assert result.summary == "Pytest: 0/35 tests passed, 35 failed (5 pre-existing)"


def test_no_report_at_all_is_a_crash_with_the_reason() -> None:
    run = parse_events([], finished(1, stderr="/x/python: No module named pytest"))
    (failure,) = run.failures
    assert failure.kind == "crash"
    assert failure.message == "pytest is not installed in the project's environment"
    # Known or not, a runner that could not start is a gate error, not a pass.
    for known in (set(), {"pytest"}):
        result = _test_result(run, FULL, known, GatesConfig(), set())
        (finding,) = result.findings
        assert (finding.type, finding.severity, finding.pre_existing) == (
            "gate_error",
            "high",
            False,
        )
        assert not result.passed and not finding.agent_fixable
    assert result.summary == (
        "Pytest: could not run (pytest is not installed in the project's environment)"
    )


def test_no_tests_collected_passes() -> None:
    run = parse_events([{"event": "finish", "exitstatus": 5}], finished(5))
    result = _test_result(run, FULL, set(), GatesConfig(), set())
    assert result.passed and result.summary == "Pytest: No tests collected"


def test_teardown_error_counts_like_pytest_and_xfail_counts_as_skipped() -> None:
    events = [
        outcome_event("t.py::a", "passed"),
        outcome_event("t.py::a", "error", "RuntimeError: cleanup", when="teardown"),
        outcome_event("t.py::x", "skipped"),
    ]
    run = parse_events(events, finished())
    assert (run.counts.passed, run.counts.errors, run.counts.skipped) == (1, 1, 1)
    assert run.failures[0].message == "error in teardown: RuntimeError: cleanup"


def test_failure_message_prefers_the_exception_line() -> None:
    assert failure_message("AssertionError: Token didn't expire\nassert 1 == 2", "") == (
        "AssertionError: Token didn't expire"
    )
    longrepr = "Traceback:\n  x.py:1\nE   ModuleNotFoundError: No module named 'yaml'\n"
    assert failure_message("", longrepr) == "ModuleNotFoundError: No module named 'yaml'"
    assert failure_message("", "") == "failed"
