"""The test gate's runner: pytest in the project's environment, outcomes read from our plugin.

The plugin (gates/plugin/exec_auto_pytest_plugin.py) is put on PYTHONPATH and loaded with `-p`,
so nothing is installed into the project. Its JSON-lines report gives per-test outcomes even when
a hanging run had to be killed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from exec_auto import proc, tempdirs
from exec_auto.gates.base import TestCounts
from exec_auto.gates.caches import pytest_cache_args
from exec_auto.gates.environment import Environment
from exec_auto.gates.paths import clip
from exec_auto.gates.tools import DEFAULT_SEED, run_tool

PLUGIN_DIR = Path(__file__).parent / "plugin"
PLUGIN_NAME = "exec_auto_pytest_plugin"
MAP_PLUGIN = "exec_auto_pytest_map"

# pytest exit codes (pytest.ExitCode) that mean "the run happened": ok, tests failed, none collected.
_RUN_HAPPENED = (0, 1, 5)
_MISSING_MODULE_RE = re.compile(r"No module named '?([A-Za-z_][\w.]*)'?")


@dataclass(frozen=True)
class TestFailure:
    """One failed test, erroring test, collection error or crash of the run."""

    __test__ = False  # not a pytest test class, despite the name

    test_id: str
    kind: Literal["failed", "error", "collection", "crash"]
    message: str
    details: str = ""

    @property
    def missing_module(self) -> str | None:
        """Top-level module of a ModuleNotFoundError that caused this failure, if one did."""
        match = _MISSING_MODULE_RE.search(self.message)
        return match.group(1).split(".")[0] if match else None


@dataclass(frozen=True)
class TestRun:
    """What one pytest run did."""

    __test__ = False

    counts: TestCounts = field(default_factory=TestCounts)
    passed: tuple[str, ...] = ()
    failures: tuple[TestFailure, ...] = ()
    duration: float = 0.0
    exit_code: int = 0
    timed_out: bool = False
    # The test that had started but not finished when a timed-out run was killed.
    hanging_test: str | None = None
    # False when the plugin wrote nothing (pytest did not start, or a custom command ignored it).
    reported: bool = True
    output: str = ""
    argv: tuple[str, ...] = ()
    # "pytest" or "unittest": names the gate and its summary.
    runner: str = "pytest"
    # What each test executed and read (the map plugin's document), when the run recorded it.
    recorded: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        """'Pytest' or 'Unittest', for summaries."""
        return self.runner.capitalize()

    @property
    def no_tests(self) -> bool:
        """pytest ran but collected nothing."""
        return self.exit_code == 5 and not self.failures


def pytest_argv(
    env: Environment,
    report: Path,
    paths: Sequence[str] | None,
    test_command: Sequence[str] | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The pytest command line: the project's runner (or test_command), our plugin, the selection."""
    base = list(test_command) if test_command else [*env.python, "-m", "pytest"]
    return [
        *base,
        "-p",
        PLUGIN_NAME,
        f"--exec-auto-report={report}",
        # Other modules still run when one fails to import; its error is reported like a failure.
        "--continue-on-collection-errors",
        *extra_args,
        *(paths or ()),
    ]


# Where a project's pytest options live (addopts with `-p no:randomly` switches the plugin off).
PYTEST_CONFIGS = ("pyproject.toml", "pytest.ini", ".pytest.ini", "setup.cfg", "tox.ini")


def randomly_switched_off(repo_root: Path) -> bool:
    """True when the project's pytest configuration disables pytest-randomly (`-p no:randomly`)."""
    for name in PYTEST_CONFIGS:
        try:
            text = (repo_root / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if re.search(r"-p\s*no:randomly\b", text):
            return True
    return False


def seed_args(env: Environment, seed: int, test_command: Sequence[str] | None) -> list[str]:
    """Fix pytest-randomly's order (and random seeds) when the project uses it.

    Not when its configuration switches the plugin off: pytest would refuse the unknown option
    and no test would run.
    """
    if (
        test_command is None
        and env.has_module("pytest_randomly")
        and not randomly_switched_off(env.repo_root)
    ):
        return [f"--randomly-seed={seed}"]
    return []


def run_pytest(
    env: Environment,
    paths: Sequence[str] | None,
    timeout: float,
    *,
    test_command: Sequence[str] | None = None,
    extra_args: Sequence[str] = (),
    seed: int = DEFAULT_SEED,
    plugin_env: dict[str, str] | None = None,
    keep: dict[str, Any] | None = None,
    record: bool = False,
) -> TestRun:
    """Run pytest on `paths` (None: the whole suite) and parse the plugin's report.

    keep: {"ids", "files", "known"}: run only those ids and files (and tests not known).
    record: map each test to the code it executes and the files it reads (see testmap.py).
    """
    workdir = tempdirs.make("pytest")
    try:
        report = workdir / "report.jsonl"
        extra = [*seed_args(env, seed, test_command), *extra_args]
        if env.cache_dir is not None:
            extra[:0] = pytest_cache_args(env.cache_dir, env.repo_root, PYTEST_CONFIGS)
        pythonpath = [str(PLUGIN_DIR)]
        borrowed = False
        if keep is not None or record:
            extra[:0] = ["-p", MAP_PLUGIN]
        if keep is not None:
            (workdir / "select.json").write_text(json.dumps(keep), encoding="utf-8")
            extra.append(f"--exec-auto-select={workdir / 'select.json'}")
        if record:
            extra.append(f"--exec-auto-map={workdir / 'map.json'}")
            borrowed = _lend_coverage(env, workdir, pythonpath)
        argv = pytest_argv(env, report, paths, test_command, extra)
        result = run_tool(
            env,
            argv,
            timeout=timeout,
            seed=seed,
            pythonpath=pythonpath,
            extra_env=plugin_env,
            # The plugin writes its report here, also from inside the sandbox.
            writable=[workdir],
        )
        events = read_events(report)
        recorded = _read_map(workdir / "map.json", borrowed) if record else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return replace(parse_events(events, result), recorded=recorded)


def _lend_coverage(env: Environment, workdir: Path, pythonpath: list[str]) -> bool:
    """Without coverage in the project's environment, put exec-auto's own (and nothing else) on
    its path for the map plugin. True when lent."""
    if env.has_module("coverage"):
        return False
    try:
        spec = importlib.util.find_spec("coverage")
    except (ImportError, ValueError):
        return False
    if spec is None or spec.origin is None:
        return False
    lib = workdir / "coverage-lib"
    lib.mkdir()
    (lib / "coverage").symlink_to(Path(spec.origin).parent, target_is_directory=True)
    pythonpath.append(str(lib))
    return True


def _read_map(path: Path, borrowed: bool) -> dict[str, Any] | None:
    """The map plugin's document (None when the run ended before writing it)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    if borrowed and document.get("coverage"):
        document["coverage"] = (
            f"{document['coverage']} (exec-auto's own: none in the project's environment)"
        )
    return document


def read_events(report: Path) -> list[dict[str, Any]]:
    """The plugin's JSON lines (a half-written last line of a killed run is skipped)."""
    try:
        lines = report.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a half-written last line of a killed run
        if isinstance(event, dict):
            events.append(event)
    return events


def failure_message(crash: str, longrepr: str) -> str:
    """The one line that says what went wrong: the exception line, not the traceback."""
    if crash.strip():
        return crash.strip().splitlines()[0]
    e_lines = [line[1:].strip() for line in longrepr.splitlines() if line.startswith("E ")]
    if e_lines:
        return e_lines[-1]
    lines = [line.strip() for line in longrepr.splitlines() if line.strip()]
    return lines[-1] if lines else "failed"


def parse_events(
    events: list[dict[str, Any]], result: proc.ProcResult, runner: str = "pytest"
) -> TestRun:
    """A TestRun from the plugin's (or the unittest runner's) events and the finished process."""
    passed: list[str] = []
    failures: list[TestFailure] = []
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    started: list[str] = []
    finished: set[str] = set()
    exit_code = result.returncode
    for event in events:
        kind = event.get("event")
        if kind == "start":
            started.append(str(event.get("nodeid")))
        elif kind == "test":
            nodeid, outcome = str(event.get("nodeid")), str(event.get("outcome"))
            finished.add(nodeid)
            if outcome == "passed":
                counts["passed"] += 1
                passed.append(nodeid)
            elif outcome == "skipped":
                counts["skipped"] += 1
            else:
                counts["failed" if outcome == "failed" else "errors"] += 1
                failures.append(
                    _failure(nodeid, "failed" if outcome == "failed" else "error", event)
                )
        elif kind == "collect_error":
            counts["errors"] += 1
            failures.append(_failure(str(event.get("nodeid")), "collection", event))
        elif kind == "internal_error":
            failures.append(
                TestFailure(
                    "pytest", "crash", "pytest internal error", clip(str(event.get("longrepr")))
                )
            )
        elif kind == "finish":
            exit_code = int(event.get("exitstatus", exit_code))
    reported = bool(events)
    # No report at all, or an exit status meaning pytest did not finish the run (interrupted,
    # internal error, usage error): whatever it counted so far is not a verdict on the suite.
    broken = (not reported and not result.ok) or exit_code not in _RUN_HAPPENED
    if broken and not result.timed_out and not any(f.kind == "crash" for f in failures):
        failures.append(_crash(result, runner))
    hanging = next((n for n in reversed(started) if n not in finished), None)
    # A passed test can still error in teardown: it is then counted in both, as pytest does.
    return TestRun(
        counts=TestCounts(**counts),
        passed=tuple(passed),
        failures=tuple(failures),
        duration=result.duration,
        exit_code=exit_code,
        timed_out=result.timed_out,
        hanging_test=hanging if result.timed_out else None,
        reported=reported,
        output=clip(result.output, 4000),
        argv=result.argv,
    )


def _failure(
    nodeid: str, kind: Literal["failed", "error", "collection"], event: dict[str, Any]
) -> TestFailure:
    longrepr = str(event.get("longrepr") or "")
    message = failure_message(str(event.get("crash") or ""), longrepr)
    if kind == "collection":
        message = f"collection error: {message}"
    elif kind == "error" and event.get("when") in ("setup", "teardown"):
        message = f"error in {event.get('when')}: {message}"
    return TestFailure(nodeid, kind, message, clip(longrepr))


def _crash(result: proc.ProcResult, runner: str = "pytest") -> TestFailure:
    """pytest did not run the tests at all (not installed, bad options, internal error)."""
    output = result.output
    conftest = re.search(r"^.*while loading conftest.*$", output, re.MULTILINE)
    if re.search(r"No module named '?pytest'?\b", output):
        message = "pytest is not installed in the project's environment"
    elif conftest:
        lines = [line for line in output.splitlines() if line.strip()]
        last = lines[-1].strip().removeprefix("E ").strip()
        message = f"pytest could not collect the suite: {conftest.group(0).strip()} {last}"
    else:
        lines = [line for line in output.splitlines() if line.strip()]
        message = lines[-1].strip().removeprefix("E ").strip() if lines else "no output"
        message = f"{runner} could not run (exit {result.returncode}): {message}"
    return TestFailure("pytest", "crash", message, clip(output))
