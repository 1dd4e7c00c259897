"""pytest plugin that maps each test to what it executes and reads, and runs only selected tests.

Loaded with `-p exec_auto_pytest_map` inside the project's environment (standard library, plus the
`coverage` library when it can be imported there). Two jobs, each switched on by an option:

- `--exec-auto-map=PATH`: record, per test id, the functions it executed (coverage with one dynamic
  context per test, lines folded into the innermost enclosing function) and the non-Python files
  inside the repository it opened or listed (an audit hook on "open", "os.listdir", "os.scandir").
  Files opened while a test module is collected (parametrize data) are credited to that module;
  files opened by other code at import time are recorded with the module that read them.
- `--exec-auto-select=PATH`: keep only the listed test ids and files, plus every test the map did
  not know (new tests always run); the rest is deselected the way `-k` would.

The map is written as one JSON document when the session ends.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from typing import Any

# Directories inside the repository whose files are never the project's data.
_SKIP_PARTS = frozenset({".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".tox", ".nox"})
_CODE_SUFFIXES = (".py", ".pyc", ".pyi", ".pyo", ".so")
_READ_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})


def pytest_addoption(parser: Any) -> None:
    """Register --exec-auto-map and --exec-auto-select."""
    parser.addoption("--exec-auto-map", dest="exec_auto_map", default=None)
    parser.addoption("--exec-auto-select", dest="exec_auto_select", default=None)


def pytest_load_initial_conftests(early_config: Any, parser: Any, args: Any) -> None:
    """Start recording before any conftest or test module is imported."""
    namespace = early_config.known_args_namespace
    path = getattr(namespace, "exec_auto_map", None)
    if path and not hasattr(early_config, "workerinput"):
        try:
            globs = [str(g) for g in early_config.getini("python_files")]
        except (ValueError, KeyError):
            globs = ["test_*.py", "*_test.py"]
        # pytest-cov measuring the same run would pause our collector (or we its): leave it alone.
        theirs = "the project's run measures coverage itself (pytest-cov)"
        recorder = _Recorder(
            path, os.getcwd(), globs, "" if not getattr(namespace, "cov_source", None) else theirs
        )
        early_config.pluginmanager.register(recorder, "exec-auto-map-recorder")
    select = getattr(namespace, "exec_auto_select", None)
    if select:
        early_config.pluginmanager.register(_Selector(select), "exec-auto-selector")


class _Selector:
    """Deselects the tests a selection does not name (new tests are kept)."""

    def __init__(self, path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        self.ids = frozenset(data.get("ids", ()))
        self.files = frozenset(data.get("files", ()))
        self.known = frozenset(data.get("known", ()))

    def _keep(self, nodeid: str) -> bool:
        return (
            nodeid in self.ids or nodeid.split("::", 1)[0] in self.files or nodeid not in self.known
        )

    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list[Any]) -> None:
        """Keep the selected tests, report the others as deselected."""
        kept = [item for item in items if self._keep(item.nodeid)]
        dropped = [item for item in items if not self._keep(item.nodeid)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept


def _functions(path: str) -> list[str]:
    """For each line of a source file, the qualified name of its innermost function ('' outside)."""
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read())
    except (OSError, SyntaxError, ValueError):
        return []
    owner: list[str] = [""] * (max((getattr(n, "end_lineno", 0) or 0) for n in ast.walk(tree)) + 2)

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                # The def line and decorators run at import; the body runs when the test calls it.
                first = child.body[0].lineno if child.body else child.lineno
                for line in range(first, (child.end_lineno or first) + 1):
                    owner[line] = name
                visit(child, f"{name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return owner


class _Recorder:
    """Collects per-test coverage contexts and file reads; writes the map at session end."""

    def __init__(self, path: str, root: str, test_globs: list[str], no_coverage: str) -> None:
        self.path = path
        self.root = os.path.realpath(root)
        self.test_globs = test_globs
        self.current: str | None = None
        self.collecting: str | None = None
        self.reads: dict[str, set[str]] = {}
        self.listed: dict[str, set[str]] = {}
        self.import_reads: dict[str, str] = {}
        self.tests: set[str] = set()
        self.cov: Any = None
        self.coverage_note = no_coverage
        if not no_coverage:
            self._start_coverage()
        sys.addaudithook(self._audit)

    def _start_coverage(self) -> None:
        try:
            import coverage
        except ImportError:
            self.coverage_note = "coverage is not importable in the project's environment"
            return
        try:
            self.cov = coverage.Coverage(
                data_file=self.path + ".coverage",
                config_file=False,
                source=[self.root],
                # Test files are not measured: an edited test file runs whole anyway, and
                # tracing them would roughly double the cost of recording.
                omit=[
                    *(f"{self.root}/{part}/*" for part in sorted(_SKIP_PARTS)),
                    *(f"*/{glob}" for glob in self.test_globs),
                ],
            )
            self.cov.start()
        except Exception as exc:  # the map is optional; the tests must still run
            self.coverage_note = f"coverage could not start: {type(exc).__name__}: {exc}"
            self.cov = None
            return
        self.coverage_note = f"coverage {coverage.__version__}"

    def _relative(self, raw: Any) -> str | None:
        if isinstance(raw, bytes):
            raw = os.fsdecode(raw)
        elif not isinstance(raw, str):
            raw = os.fspath(raw) if hasattr(raw, "__fspath__") else None
            if not isinstance(raw, str):
                return None
        full: str = os.path.abspath(raw)
        if not full.startswith(self.root + os.sep):
            full = os.path.realpath(full)
            if not full.startswith(self.root + os.sep):
                return None
        rel = full[len(self.root) + 1 :].replace(os.sep, "/")
        if rel.endswith(_CODE_SUFFIXES) or _SKIP_PARTS.intersection(rel.split("/")):
            return None
        return rel

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in _READ_EVENTS or (self.current is None and self.collecting is None):
            return
        if event == "open":
            mode, flags = (args[1], args[2]) if len(args) >= 3 else (None, 0)
            if isinstance(mode, str):
                if not ("r" in mode or "+" in mode):
                    return
            elif isinstance(flags, int) and flags & (os.O_WRONLY | os.O_CREAT):
                return
        rel = self._relative(args[0] if args else None) if args else None
        if rel is None or (event != "open" and self._importing()):
            return
        target = self.listed if event != "open" else self.reads
        if self.current is not None:
            target.setdefault(rel, set()).add(self.current)
            return
        reader = self._reader()
        if reader is None or reader == self.collecting:
            target.setdefault(rel, set()).add(str(self.collecting))
        else:
            self.import_reads.setdefault(rel, reader)

    def _importing(self) -> bool:
        """True when the import system lists a directory (finding modules is not reading data)."""
        frame: Any = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename.startswith("<frozen importlib"):
                return True
            frame = frame.f_back
        return False

    def _reader(self) -> str | None:
        """The innermost repository file on the stack (the code that opened the file)."""
        frame: Any = sys._getframe(2)
        here = os.path.abspath(__file__)
        while frame is not None:
            name = frame.f_code.co_filename
            if isinstance(name, str) and name != here and name.startswith(self.root + os.sep):
                rel: str = name[len(self.root) + 1 :].replace(os.sep, "/")
                if not _SKIP_PARTS.intersection(rel.split("/")):
                    return rel
            frame = frame.f_back
        return None

    def pytest_collectstart(self, collector: Any) -> None:
        """Reads while a test module is imported belong to that module's tests."""
        path = getattr(collector, "path", None)
        if path is not None and str(path).endswith(".py") and "::" not in collector.nodeid:
            self.collecting = collector.nodeid

    def pytest_collectreport(self, report: Any) -> None:
        """The module is collected."""
        if report.nodeid == self.collecting:
            self.collecting = None

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        """From here to the test's finish, executed lines and reads belong to it."""
        self.collecting = None
        self.current = nodeid
        self.tests.add(nodeid)
        if self.cov is not None:
            self.cov.switch_context(nodeid)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        """The test (setup, call, teardown) is over."""
        self.current = None
        if self.cov is not None:
            self.cov.switch_context("")

    def pytest_sessionfinish(self, session: Any, exitstatus: Any) -> None:
        """Fold coverage into functions per test and write the map."""
        self.current = self.collecting = None
        executed: dict[str, dict[str, list[str]]] = {}
        if self.cov is not None:
            try:
                self.cov.stop()
                executed = self._executed()
            except Exception as exc:  # a broken coverage run leaves the map without it
                self.coverage_note = f"coverage failed: {type(exc).__name__}: {exc}"
                executed = {}
        if self.tests and self.cov is not None and not executed:
            self.coverage_note = "coverage recorded no test's execution (another tracer took over?)"
            self.cov = None
        option = session.config.option
        # Tests in xdist workers run in other processes: what this one saw proves nothing.
        distributed = bool(getattr(option, "numprocesses", None)) or getattr(
            option, "dist", "no"
        ) not in ("no", None)
        rootdir = os.path.relpath(str(session.config.rootpath), self.root).replace(os.sep, "/")
        index = {test: number for number, test in enumerate(sorted(self.tests))}
        document = {
            "unusable": "the tests ran in pytest-xdist workers" if distributed else "",
            "tests": sorted(self.tests),
            "coverage": self.coverage_note if self.cov is not None else "",
            "why_not": "" if self.cov is not None else self.coverage_note,
            "rootdir": rootdir,
            # Test ids as indexes into "tests": the map stays small on large suites.
            "executed": {
                rel: {
                    name: sorted(index[t] for t in ids if t in index)
                    for name, ids in functions.items()
                }
                for rel, functions in executed.items()
            },
            "reads": {k: sorted(v) for k, v in self.reads.items()},
            "listed": {k: sorted(v) for k, v in self.listed.items()},
            "import_reads": self.import_reads,
        }
        with open(self.path, "w", encoding="utf-8") as handle:
            json.dump(document, handle)

    def _executed(self) -> dict[str, dict[str, list[str]]]:
        """file -> function -> test ids that ran a line of it."""
        data = self.cov.get_data()
        out: dict[str, dict[str, list[str]]] = {}
        for measured in data.measured_files():
            rel = os.path.relpath(measured, self.root).replace(os.sep, "/")
            if rel.startswith("../"):
                continue
            owner = _functions(measured)
            functions: dict[str, set[str]] = {}
            for line, contexts in data.contexts_by_lineno(measured).items():
                name = owner[line] if 0 <= line < len(owner) else ""
                tests = {c for c in contexts if c}
                if tests:
                    functions.setdefault(name, set()).update(tests)
            out[rel] = {name: sorted(tests) for name, tests in functions.items()}
        return out
