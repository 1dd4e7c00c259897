"""The test gate: per-test outcomes from the plugin, failures as findings, hanging runs killed."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from gate_support import write

from exec_auto.config import GatesConfig
from exec_auto.gates.environment import make_environment
from exec_auto.gates.pytest_gate import run_test_gate
from exec_auto.gates.selection import WHOLE_SUITE, Selection
from exec_auto.gates.testing import PLUGIN_DIR, PLUGIN_NAME, run_pytest

FULL = WHOLE_SUITE


def gate(root: Path, selection: Selection = FULL, **cfg: object):
    config = GatesConfig.model_validate({"runner": "venv", "gate_timeout": 60, **cfg})
    return run_test_gate(make_environment(root, "venv"), config, selection, baseline_keys=set())


def test_passing_suite_reports_counts_and_test_ids(demo: Path) -> None:
    outcome = gate(demo)
    assert outcome.result.passed
    assert outcome.result.summary == "Pytest: 4/4 tests passed"
    assert outcome.run is not None
    assert "tests/test_calc.py::test_add" in outcome.run.passed
    assert outcome.dependency_result is None


def test_failing_test_becomes_a_test_failure_with_id_and_message(demo: Path) -> None:
    write(demo, "src/app/greet.py", "def hello(name):\n    return 'bye'\n")
    write(
        demo,
        "tests/test_log.py",
        """\
        import pytest

        def test_logs_ip():
            assert False, "Log entry not found"

        @pytest.mark.skip
        def test_later():
            pass
        """,
    )
    outcome = gate(demo)
    assert outcome.result.summary == "Pytest: 3/5 tests passed, 2 failed, 1 skipped"
    assert not outcome.result.passed
    by_id = {f.description.split(" failed: ")[0]: f for f in outcome.result.findings}
    assert set(by_id) == {"tests/test_greet.py::test_hello", "tests/test_log.py::test_logs_ip"}
    log = by_id["tests/test_log.py::test_logs_ip"]
    assert (log.type, log.severity) == ("test_failure", "high")
    assert log.description.endswith("failed: AssertionError: Log entry not found")
    assert "assert False" in log.details


def test_collection_errors_count_as_failures_and_other_tests_still_run(demo: Path) -> None:
    write(demo, "tests/test_syntax.py", "def test_x(:\n    pass\n")
    write(demo, "tests/test_import.py", "from app.calc import multiply\n")
    outcome = gate(demo)
    assert outcome.result.summary == "Pytest: 4/6 tests passed, 2 errors"
    descriptions = sorted(f.description for f in outcome.result.findings)
    assert descriptions[0].startswith(
        "tests/test_import.py: collection error: ImportError: cannot import name 'multiply'"
    )
    assert descriptions[1] == "tests/test_syntax.py: collection error: SyntaxError: invalid syntax"


def test_fixture_error_is_reported_with_its_phase(demo: Path) -> None:
    write(
        demo,
        "tests/test_fixture.py",
        """\
        import pytest

        @pytest.fixture
        def db():
            raise ConnectionError("Could not connect to database")

        def test_query(db):
            pass
        """,
    )
    outcome = gate(demo)
    (finding,) = outcome.result.findings
    assert finding.description == (
        "tests/test_fixture.py::test_query: error in setup: "
        "ConnectionError: Could not connect to database"
    )


def test_hanging_test_is_killed_with_its_process_group_and_named(demo: Path) -> None:
    pid_file = demo / "child.pid"
    write(
        demo,
        "tests/test_hang.py",
        f"""\
        import subprocess, time

        def test_forever():
            child = subprocess.Popen(["sleep", "300"])
            open({str(pid_file)!r}, "w").write(str(child.pid))
            time.sleep(300)
        """,
    )
    outcome = gate(demo, gate_timeout=4)
    timeout = outcome.result.findings[0]
    assert (timeout.type, timeout.severity) == ("gate_error", "high")
    assert timeout.description.startswith(
        "Test run timed out after 4s in tests/test_hang.py::test_forever"
    )
    assert outcome.result.summary.startswith("Pytest: timed out after 4s")
    child = int(pid_file.read_text())
    stat = Path(f"/proc/{child}/stat")
    # Gone, or a zombie waiting for init: either way no longer running.
    assert not stat.exists() or stat.read_text().split(")")[1].split()[0] == "Z"


def test_pytest_usage_error_is_a_gate_error(demo: Path) -> None:
    write(demo, "pytest.ini", "[pytest]\naddopts = --no-such-option\n")
    outcome = gate(demo)
    (finding,) = outcome.result.findings
    assert (finding.type, finding.severity) == ("gate_error", "high")
    assert not outcome.result.passed
    assert "--no-such-option" in finding.description + finding.details


def test_nothing_selected_skips_the_gate(demo: Path) -> None:
    outcome = gate(demo, Selection((), "no code touched"))
    assert outcome.result.skipped and outcome.run is None
    assert outcome.result.summary == "Pytest: Not applicable (no code touched)"


def test_selected_paths_only_run_those_tests(demo: Path) -> None:
    run = run_pytest(make_environment(demo, "venv"), ["tests/test_greet.py"], 60)
    assert run.passed == ("tests/test_greet.py::test_hello",)


def test_plugin_is_standalone() -> None:
    """The plugins run in the project's environment: only the standard library may be imported.

    The map plugin also imports coverage, inside a try: without it the map has no executed code.
    """
    modules = [f"{PLUGIN_NAME}.py", "exec_auto_unittest_runner.py", "exec_auto_pytest_map.py"]
    for name in modules:
        source = (PLUGIN_DIR / name).read_text()
        imported = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        optional = {"coverage"} if name == "exec_auto_pytest_map.py" else set()
        assert imported <= sys.stdlib_module_names | {"__future__"} | optional, name
    listed = sorted(n for n in os.listdir(PLUGIN_DIR) if n != "__pycache__")
    assert listed == sorted(["__init__.py", *modules])
