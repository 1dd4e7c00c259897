"""unittest runner that records per-test outcomes for exec-auto's test gate as JSON lines.

Run as `python -m exec_auto_unittest_runner REPORT SELECT -- <unittest arguments>` inside the
project's environment (standard library only). It loads tests exactly as `python -m unittest
<arguments>` would, keeps the selected test files or ids (SELECT is a JSON list; empty: all), and
writes the same events as the pytest plugin, with pytest-style ids (`tests/test_x.py::Case::test_y`)
so criteria and baselines compare across runners.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import unittest
from collections.abc import Iterator
from typing import Any, TextIO

_MAX_TEXT = 6000


def _flatten(suite: Any) -> Iterator[Any]:
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _flatten(item)
        else:
            yield item


def _file_of(test: Any) -> str:
    module = sys.modules.get(type(test).__module__)
    path = getattr(module, "__file__", None)
    if not path:
        return str(type(test).__module__).replace(".", "/") + ".py"
    return os.path.relpath(str(path)).replace(os.sep, "/")


def test_id(test: Any) -> str:
    """A pytest-style id: file::Class::method (import failures: the module's file).

    A doctest (doctest.DocTestSuite in load_tests) gets pytest's doctest id, file::dotted.name,
    from the docstring's own file, not doctest.py's.
    """
    doc = getattr(test, "_dt_test", None)
    if doc is not None and getattr(doc, "filename", None):
        return f"{os.path.relpath(str(doc.filename)).replace(os.sep, '/')}::{doc.name}"
    if type(test).__name__ == "_FailedTest":
        name = str(test.id()).removeprefix("unittest.loader._FailedTest.")
        return name.replace(".", "/") + ".py"
    method = test.id().rsplit(".", 1)[-1]
    return f"{_file_of(test)}::{type(test).__name__}::{method}"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[:1000] + "\n[...]\n" + text[-5000:]


class _Result(unittest.TestResult):
    """Writes one JSON line per outcome."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self._out = out

    def _write(self, **event: Any) -> None:
        self._out.write(json.dumps(event) + "\n")
        self._out.flush()

    def startTest(self, test: Any) -> None:
        super().startTest(test)
        self._write(event="start", nodeid=test_id(test))

    def _failure(self, test: Any, err: Any, outcome: str) -> None:
        text = "".join(traceback.format_exception(*err))
        crash = f"{err[0].__name__}: {err[1]}".splitlines()[0]
        if type(test).__name__ == "_FailedTest":
            self._write(
                event="collect_error", nodeid=test_id(test), crash=crash, longrepr=_clip(text)
            )
            return
        self._write(
            event="test",
            nodeid=test_id(test),
            when="call",
            outcome=outcome,
            crash=crash,
            longrepr=_clip(text),
        )

    def addSuccess(self, test: Any) -> None:
        super().addSuccess(test)
        self._write(event="test", nodeid=test_id(test), when="call", outcome="passed")

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._failure(test, err, "failed")

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._failure(test, err, "error")

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self._write(event="test", nodeid=test_id(test), when="call", outcome="skipped")

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._write(event="test", nodeid=test_id(test), when="call", outcome="skipped")

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        self._write(
            event="test",
            nodeid=test_id(test),
            when="call",
            outcome="failed",
            crash="unexpected success",
            longrepr="",
        )

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._failure(test, err, "failed" if issubclass(err[0], AssertionError) else "error")


def _selected(test: Any, wanted: set[str]) -> bool:
    if not wanted:
        return True
    nodeid = test_id(test)
    return nodeid in wanted or nodeid.split("::")[0] in wanted


def main(argv: list[str]) -> int:
    """Load like `python -m unittest`, run the selection, record every outcome."""
    report, select = argv[0], set(json.loads(argv[1]))
    args = argv[3:] if len(argv) > 2 and argv[2] == "--" else argv[2:]
    sys.path.insert(0, os.getcwd())
    start = time.monotonic()
    with open(report, "a", encoding="utf-8") as out:
        captured: list[Any] = []

        class Collect:
            """A testRunner that only hands the loaded suite back."""

            def run(self, test: Any) -> unittest.TestResult:
                captured.append(test)
                return unittest.TestResult()

        unittest.main(
            module=None, argv=["python -m unittest", *args], testRunner=Collect, exit=False
        )
        tests = [t for t in _flatten(captured[0]) if _selected(t, select)] if captured else []
        result = _Result(out)
        # One suite, so setUpClass/setUpModule run as under `python -m unittest`.
        unittest.TestSuite(tests).run(result)
        status = 0 if result.wasSuccessful() else 1
        if not tests:
            status = 5
        out.write(
            json.dumps(
                {
                    "event": "finish",
                    "exitstatus": status,
                    "collected": len(tests),
                    "duration": time.monotonic() - start,
                }
            )
            + "\n"
        )
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
