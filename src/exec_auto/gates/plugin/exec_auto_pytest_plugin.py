"""pytest plugin that records per-test outcomes for exec-auto's test gate as JSON lines.

Loaded with `-p exec_auto_pytest_plugin --exec-auto-report=PATH` inside the project's environment,
so it imports only the standard library. Each event is one line, flushed at once: when a hanging
run is killed, the lines already written still tell which tests finished and which one hung.
"""

from __future__ import annotations

import json
import time
from typing import Any, TextIO

_MAX_TEXT = 6000


def pytest_addoption(parser: Any) -> None:
    """Register --exec-auto-report."""
    parser.addoption(
        "--exec-auto-report",
        dest="exec_auto_report",
        default=None,
        help="exec-auto: write per-test outcomes as JSON lines to this file",
    )


def pytest_configure(config: Any) -> None:
    """Start recording, in the main process only (xdist workers report through it)."""
    path = config.getoption("exec_auto_report")
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(path), "exec-auto-recorder")


def _text(report: Any) -> str:
    try:
        text = str(report.longreprtext)
    except Exception:  # a plugin's custom longrepr must never break the run
        text = str(getattr(report, "longrepr", ""))
    return (
        text if len(text) <= _MAX_TEXT else text[:1000] + "\n[...]\n" + text[-(_MAX_TEXT - 1000) :]
    )


def _crash(report: Any) -> str:
    """The exception line pytest shows for a failure (e.g. 'AssertionError: Log entry not found')."""
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    return str(getattr(crash, "message", "") or "")


def _outcome(report: Any) -> str | None:
    """The outcome a report contributes, the way pytest's own summary counts it."""
    if report.when == "call":
        if report.failed:
            return "failed"
        return "skipped" if report.skipped else "passed"
    if report.failed:
        return "error"
    if report.when == "setup" and report.skipped:
        return "skipped"
    return None


class _Recorder:
    """Writes one JSON line per event."""

    def __init__(self, path: str) -> None:
        self._out: TextIO = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed at unconfigure
        self._start = time.monotonic()

    def _write(self, **event: Any) -> None:
        self._out.write(json.dumps(event) + "\n")
        self._out.flush()

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        """Mark a test as started (a started test with no outcome is the one that hung)."""
        self._write(event="start", nodeid=nodeid)

    def pytest_runtest_logreport(self, report: Any) -> None:
        """Record a test's outcome per phase."""
        outcome = _outcome(report)
        if outcome is None:
            return
        failed = outcome in ("failed", "error")
        self._write(
            event="test",
            nodeid=report.nodeid,
            when=report.when,
            outcome=outcome,
            crash=_crash(report) if failed else "",
            longrepr=_text(report) if failed else "",
            duration=float(getattr(report, "duration", 0.0)),
        )

    def pytest_collectreport(self, report: Any) -> None:
        """Record a module that failed to collect (syntax error, import error)."""
        if report.failed:
            self._write(
                event="collect_error",
                nodeid=report.nodeid or ".",
                crash=_crash(report),
                longrepr=_text(report),
            )

    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        """Record a crash of pytest itself."""
        self._write(event="internal_error", longrepr=str(excrepr)[-_MAX_TEXT:])

    def pytest_sessionfinish(self, session: Any, exitstatus: Any) -> None:
        """Record the exit status and total duration."""
        self._write(
            event="finish",
            exitstatus=int(exitstatus),
            collected=int(getattr(session, "testscollected", 0)),
            duration=time.monotonic() - self._start,
        )

    def pytest_unconfigure(self, config: Any) -> None:
        """Close the report file."""
        self._out.close()
