"""Which tests a step affects, and which method decided it (reported per step).

In order of precision:

- **testmon**, when the project already uses pytest-testmon (`.testmondata` and the plugin).
- **coverage map** (gates/testmap.py): the tests that ran a function the step changed, as the test
  plugin recorded them; files a test opened select that test. A change to import-time code
  (module level, class bodies, decorators) cannot be traced that way and falls back to the import
  graph for that file.
- **import graph**: test files that (transitively) import a touched module, built statically with
  `ast` (parsed once per file version). When a package's `__init__` imports everything, this is
  every test.
- **full suite**: whenever none of them can tell (a config file, a data file no recorded test read,
  a stale map), with the reason.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from exec_auto.gates.codeblocks import changed
from exec_auto.gates.environment import read_pyproject
from exec_auto.gates.paths import plural, relative
from exec_auto.gates.testmap import TestMap

SKIP_DIRS = frozenset({"node_modules", "build", "dist", "site-packages", "__pycache__", "htmlcov"})
# Touched files that cannot affect tests (docs, images) do not force the whole suite.
INERT_SUFFIXES = frozenset({".md", ".rst", ".adoc", ".png", ".jpg", ".jpeg", ".gif", ".svg"})
INERT_NAMES = frozenset({"LICENSE", "CHANGELOG", "AUTHORS", ".gitignore", "progress.yaml"})


@dataclass(frozen=True)
class Selection:
    """The tests to run: explicit paths, the whole suite (paths None), or nothing (paths ())."""

    paths: tuple[str, ...] | None
    reason: str
    testmon: bool = False
    # "coverage map", "file reads", "import graph", "testmon", "full suite" (joined with " + ").
    method: str = "import graph"
    # When set: within `paths`, run only these ids, the files in `whole`, and tests not in `known`.
    ids: tuple[str, ...] = ()
    whole: tuple[str, ...] = ()
    known: frozenset[str] = frozenset()
    # Record what each test executes and reads during this run (the test map).
    record: bool = False

    def describe(self) -> str:
        """'coverage map: 12 tests (src/a.py: 2 changed functions)', for progress and report."""
        if self.method == "full suite":
            return f"full suite: {self.reason}"
        return f"{self.method}: {self.reason}"

    @property
    def full_suite(self) -> bool:
        """True when every test runs."""
        return self.paths is None and not self.testmon

    @property
    def nothing(self) -> bool:
        """True when the step touched nothing that tests could notice."""
        return self.paths == ()


# The baseline's and the final gate's run: every test, no reason to show.
WHOLE_SUITE = Selection(None, "", method="full suite")

DEFAULT_TEST_PATTERNS = ("test_*.py", "*_test.py")


def is_test_file(path: str, patterns: Sequence[str] = DEFAULT_TEST_PATTERNS) -> bool:
    """True when the file name matches pytest's `python_files` globs (default test_*.py, *_test.py)."""
    name = PurePosixPath(path).name
    return name.endswith(".py") and any(fnmatch.fnmatchcase(name, p) for p in patterns)


def test_file_patterns(repo_root: Path) -> tuple[str, ...]:
    """The project's pytest `python_files` setting, from the file pytest itself would read first."""
    for name, section in (
        ("pytest.ini", "pytest"),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ):
        path = repo_root / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_section(section):
            ini_value = parser.get(section, "python_files", fallback="")
            return tuple(ini_value.split()) or DEFAULT_TEST_PATTERNS
    options = read_pyproject(repo_root).get("tool", {}).get("pytest", {}).get("ini_options", {})
    value: Any = options.get("python_files") if isinstance(options, dict) else None
    if isinstance(value, str):
        return tuple(value.split()) or DEFAULT_TEST_PATTERNS
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value) or DEFAULT_TEST_PATTERNS
    return DEFAULT_TEST_PATTERNS


def module_names(repo_root: Path, rel: str) -> set[str]:
    """Dotted names a file can be imported as: by package structure, from the root and from src/."""
    parts = list(PurePosixPath(rel).with_suffix("").parts)
    if not parts:
        return set()
    if parts[-1] == "__init__":
        parts = parts[:-1]
    names = set()
    if parts:
        names.add(".".join(parts))
        if parts[0] == "src" and len(parts) > 1:
            names.add(".".join(parts[1:]))
    # The name as the package structure has it: climb while the directory is a package.
    directory = (repo_root / rel).parent
    package: list[str] = [] if rel.endswith("__init__.py") else [PurePosixPath(rel).stem]
    while (directory / "__init__.py").exists() and directory != repo_root:
        package.insert(0, directory.name)
        directory = directory.parent
    if package:
        names.add(".".join(package))
    return names


def _package_of(repo_root: Path, rel: str) -> list[str]:
    """The package a file's relative imports start from."""
    names = sorted(module_names(repo_root, rel), key=len)
    own = names[0].split(".") if names else []
    return own if rel.endswith("__init__.py") else own[:-1]


def imports_of(source: str, repo_root: Path, rel: str) -> frozenset[str]:
    """Every dotted name a module imports, plus the parent packages each import executes."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(repo_root, rel)
                # level 1 is the package itself, each further dot one parent up.
                base_parts = package[: len(package) - node.level + 1]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if base:
                found.add(base)
            found.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    expanded: set[str] = set()
    for name in found:
        parts = name.split(".")
        expanded.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return frozenset(expanded)


def python_files(repo_root: Path) -> list[str]:
    """The project's .py files (relative POSIX paths), skipping virtualenvs, caches and hidden dirs."""
    out: list[str] = []
    for current, dirs, files in os.walk(repo_root):
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith(".")
            and d not in SKIP_DIRS
            and not (Path(current) / d / "pyvenv.cfg").exists()
        ]
        rel_dir = Path(current).relative_to(repo_root)
        out.extend((rel_dir / f).as_posix() for f in files if f.endswith(".py"))
    return sorted(out)


class ImportGraph:
    """The project's static import graph, with parse results cached per file version."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[tuple[int, int], frozenset[str]]] = {}

    def importers_by_name(self, repo_root: Path) -> tuple[dict[str, set[str]], list[str]]:
        """name -> files importing it, and the list of files scanned."""
        files = python_files(repo_root)
        importers: dict[str, set[str]] = {}
        for rel in files:
            for name in self._imports(repo_root, rel):
                importers.setdefault(name, set()).add(rel)
        return importers, files

    def _imports(self, repo_root: Path, rel: str) -> frozenset[str]:
        path = repo_root / rel
        try:
            stat = path.stat()
        except OSError:
            return frozenset()
        key = (str(repo_root), rel)
        version = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            source = ""
        imports = imports_of(source, repo_root, rel)
        self._cache[key] = (version, imports)
        return imports

    def affected_tests(
        self,
        repo_root: Path,
        modules: Iterable[str],
        patterns: Sequence[str] = DEFAULT_TEST_PATTERNS,
    ) -> set[str]:
        """Test files importing any of `modules` (relative paths), directly or through other modules."""
        importers, _ = self.importers_by_name(repo_root)
        seen = set(modules)
        queue = list(seen)
        while queue:
            current = queue.pop()
            for name in module_names(repo_root, current):
                for importer in importers.get(name, ()):
                    if importer not in seen:
                        seen.add(importer)
                        queue.append(importer)
        return {f for f in seen if is_test_file(f, patterns) and (repo_root / f).is_file()}


# Files that configure the test run itself: any change may change every test's outcome.
CONFIG_NAMES = frozenset(
    {
        "pyproject.toml",
        "setup.cfg",
        "setup.py",
        "tox.ini",
        "pytest.ini",
        "conftest.py",
        "noxfile.py",
        ".coveragerc",
        "MANIFEST.in",
    }
)


def _inert(rel: str) -> bool:
    """Docs and images: they change no test's outcome unless a test reads them."""
    path = PurePosixPath(rel)
    return path.suffix in INERT_SUFFIXES or path.name in INERT_NAMES or path.parts[0] == "specs"


def _forces_full_suite(rel: str) -> bool:
    """Config and data files: their effect on tests cannot be traced statically."""
    path = PurePosixPath(rel)
    if path.name == "conftest.py":
        return len(path.parts) == 1
    if path.suffix == ".py":
        return False
    return not _inert(rel)


def _is_config(rel: str) -> bool:
    path = PurePosixPath(rel)
    return len(path.parts) == 1 and (
        path.name in CONFIG_NAMES or path.name.startswith("requirements")
    )


@dataclass
class _Choice:
    """What one touched file selects."""

    full: str = ""
    ids: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def select_tests(
    repo_root: Path,
    touched: Iterable[str],
    graph: ImportGraph,
    *,
    testmon: bool = False,
    testmap: TestMap | None = None,
    no_map: str = "",
    before: Callable[[str], str | None] | None = None,
    step: str | None = None,
) -> Selection:
    """The tests the touched files can affect; the whole suite when the mapping is uncertain.

    testmap: the tests-to-code map recorded in the baseline (None: the import graph decides, and
    `no_map` says why there is none). before: a file's content when the step began (None: new),
    else the map's own record of it for `step` is used.
    """
    rels = sorted({relative(repo_root, p) for p in touched})
    if testmon and (repo_root / ".testmondata").exists() and any(not _inert(r) for r in rels):
        return Selection(
            None, "pytest-testmon selects the affected tests", testmon=True, method="testmon"
        )
    if testmap is not None:
        return _select_with_map(repo_root, rels, graph, testmap, _Base(before, step))
    return _select_by_imports(repo_root, rels, graph, no_map)


def _full(reason: str) -> Selection:
    return Selection(None, reason, method="full suite")


def _select_by_imports(
    repo_root: Path, rels: list[str], graph: ImportGraph, no_map: str
) -> Selection:
    """Selection without a test map: the static import graph, docs by name in test files."""
    patterns = test_file_patterns(repo_root)
    docs = [r for r in rels if _inert(r) and not r.startswith("specs/")]
    relevant = [r for r in rels if not _inert(r)]
    named = _tests_naming(repo_root, docs, patterns)
    if not relevant and not named:
        return Selection((), "no code touched", method="none")
    unmapped = [r for r in relevant if _forces_full_suite(r)]
    if unmapped:
        return _full(f"{unmapped[0]} changed: its effect on tests is not traceable")
    chosen: set[str] = set(named)
    modules: list[str] = []
    for rel in relevant:
        path = PurePosixPath(rel)
        if path.name == "conftest.py":
            if (repo_root / rel).exists():
                chosen.add(path.parent.as_posix())
        elif is_test_file(rel, patterns):
            if (repo_root / rel).is_file():
                chosen.add(rel)
        else:
            modules.append(rel)
    if modules:
        chosen |= graph.affected_tests(repo_root, modules, patterns)
    if not chosen:
        return _full("no test imports the touched modules")
    paths = _collapse(chosen)
    files = [p for p in paths if p.endswith(".py")]
    kind = "affected" if modules else "touched"
    reason = plural(len(files), f"{kind} test file") if files else f"{kind} test directory"
    if named:
        reason += f"; {plural(len(named), 'test file')} naming {', '.join(docs)}"
    if modules and no_map:
        reason += f"; no test map: {no_map}"
    method = "import graph" if modules else "touched tests"
    if named:
        method = " + ".join(dict.fromkeys((*([method] if relevant else []), "file names")))
    return Selection(tuple(paths), reason, method=method)


def _collapse(chosen: set[str]) -> list[str]:
    """Paths to pass to the runner: a directory already chosen covers the files under it."""
    dirs = {c for c in chosen if not c.endswith(".py")}
    return sorted(c for c in chosen if c in dirs or not any(c.startswith(d + "/") for d in dirs))


def _tests_naming(repo_root: Path, docs: list[str], patterns: Sequence[str]) -> set[str]:
    """Without a record of reads: test files whose text names a touched docs file."""
    if not docs:
        return set()
    names = {PurePosixPath(d).name for d in docs}
    found = set()
    for rel in python_files(repo_root):
        if not is_test_file(rel, patterns):
            continue
        try:
            text = (repo_root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(name in text for name in names):
            found.add(rel)
    return found


@dataclass(frozen=True)
class _Base:
    """Where a touched file's version at the start of the step comes from."""

    lookup: Callable[[str], str | None] | None
    step: str | None


def _select_with_map(
    repo_root: Path, rels: list[str], graph: ImportGraph, testmap: TestMap, base: _Base
) -> Selection:
    """Selection from the recorded map: executed functions, read files; import graph per file."""
    stale = testmap.stale_files(repo_root, rels)
    if stale:
        return _full(f"the test map is stale: {stale[0]} changed since it was recorded")
    patterns = test_file_patterns(repo_root)
    node_files = _node_files(testmap)
    choices: list[tuple[str, _Choice]] = []
    for rel in rels:
        choice = _choose(repo_root, rel, graph, testmap, patterns, node_files, base)
        if choice.full:
            return _full(choice.full)
        choices.append((rel, choice))
    ids = set().union(*(c.ids for _, c in choices)) if choices else set()
    files = set().union(*(c.files for _, c in choices)) if choices else set()
    methods = sorted(set().union(*(c.methods for _, c in choices))) if choices else []
    notes = [n for _, c in choices for n in c.notes]
    shown = "; ".join(notes[:3]) + (f"; and {len(notes) - 3} more" if len(notes) > 3 else "")
    if not ids and not files:
        return Selection((), shown or "no code touched", method=" + ".join(methods) or "none")
    whole = _collapse(files)
    # Ids inside whole files or directories run anyway.
    ids = {i for i in ids if not _covered(_test_path(testmap, i), whole)}
    paths = _collapse({*whole, *(_test_path(testmap, i) for i in ids)})
    count = plural(len(ids), "test") if ids else ""
    if whole:
        count = ", ".join(p for p in (count, plural(len(whole), "whole test file")) if p)
    return Selection(
        tuple(paths),
        f"{count}; {shown}" if shown else count,
        method=" + ".join(methods),
        ids=tuple(sorted(ids)),
        whole=tuple(whole),
        known=frozenset(testmap.tests),
    )


def _covered(path: str, whole: list[str]) -> bool:
    return any(path == w or path.startswith(w + "/") for w in whole)


def _test_path(testmap: TestMap, nodeid: str) -> str:
    """The repository-relative file of a test id (ids are relative to pytest's rootdir)."""
    file = nodeid.split("::", 1)[0]
    if testmap.rootdir in ("", "."):
        return file
    return f"{testmap.rootdir.rstrip('/')}/{file}"


def _node_files(testmap: TestMap) -> dict[str, set[str]]:
    """Test file -> its recorded test ids (a non-.py file can be a test file: doctest globs)."""
    out: dict[str, set[str]] = {}
    for nodeid in testmap.tests:
        out.setdefault(_test_path(testmap, nodeid), set()).add(nodeid)
    return out


def _choose(
    repo_root: Path,
    rel: str,
    graph: ImportGraph,
    testmap: TestMap,
    patterns: Sequence[str],
    node_files: dict[str, set[str]],
    base: _Base,
) -> _Choice:
    """What one touched file selects, using the map where it can tell."""
    path = PurePosixPath(rel)
    exists = (repo_root / rel).exists()
    if path.suffix != ".py":
        return _choose_data(rel, testmap, node_files)
    if path.name == "conftest.py":
        if len(path.parts) == 1:
            return _Choice(full="conftest.py changed: it configures every test")
        if not exists:
            return _Choice(full=f"{rel} was deleted: the tests under it may change")
        return _Choice(files={path.parent.as_posix()}, methods={"touched tests"}, notes=[rel])
    if is_test_file(rel, patterns):
        # New tests, and every test of an edited test file, always run.
        if exists:
            return _Choice(files={rel}, methods={"touched tests"}, notes=[rel])
        return _Choice(methods={"touched tests"}, notes=[f"{rel} deleted"])
    return _choose_module(repo_root, rel, graph, testmap, patterns, base)


def _choose_data(rel: str, testmap: TestMap, node_files: dict[str, set[str]]) -> _Choice:
    """A non-Python file: the tests that read it; config and unknown files run everything."""
    if _is_config(rel):
        return _Choice(full=f"{rel} changed: it configures the test run")
    if rel in testmap.import_reads:
        reader = testmap.import_reads[rel]
        return _Choice(full=f"{rel} is read at import time by {reader}")
    readers = testmap.readers(rel)
    collected = node_files.get(rel, set())
    if readers or collected:
        ids = {r for r in readers if "::" in r} | collected
        files = {r for r in readers if "::" not in r}
        count = plural(len(ids) + len(files), "test" if not files else "test or test file")
        return _Choice(
            ids=ids, files=files, methods={"file reads"}, notes=[f"{rel} read by {count}"]
        )
    if _inert(rel):
        return _Choice(methods={"file reads"}, notes=[f"{rel} read by no recorded test"])
    return _Choice(full=f"{rel} changed and no recorded test read it: its effect is unknown")


def _choose_module(
    repo_root: Path,
    rel: str,
    graph: ImportGraph,
    testmap: TestMap,
    patterns: Sequence[str],
    base: _Base,
) -> _Choice:
    """A source module: the tests that ran its changed functions, or its importers."""
    entry = testmap.sources.get(rel)
    why = ""
    if not testmap.has_coverage:
        why = f"coverage not recorded ({testmap.why_not or 'unknown reason'})"
    elif entry is None:
        why = "not in the coverage map"
    else:
        current = _read_text(repo_root / rel)
        if current is None:
            why = "deleted"
        else:
            start = base.lookup(rel) if base.lookup is not None else entry.before(base.step)
            change = changed(start, current)
            if change.unreadable:
                why = change.unreadable
            elif change.module_level:
                why = "import-time code changed"
            else:
                tests = entry.tests_of(change.functions)
                names = sorted(change.functions)
                listed = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
                if not names:
                    note = f"{rel}: no function changed"
                elif not tests:
                    note = f"{rel}: {listed} changed, run by no recorded test"
                else:
                    note = f"{rel}: {listed} changed"
                return _Choice(ids=tests, methods={"coverage map"}, notes=[note])
    files = graph.affected_tests(repo_root, [rel], patterns)
    if not files:
        return _Choice(full=f"{rel}: {why}, and no test imports it")
    return _Choice(
        files=files,
        methods={"import graph"},
        notes=[f"{rel}: {why}; {plural(len(files), 'test file')} import it"],
    )


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
