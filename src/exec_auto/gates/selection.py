"""Which tests a step affects: touched test files, and tests that (transitively) import touched modules.

The import graph is built statically with `ast` over the project's .py files (parsed once per file
version, so repeated steps only re-read what changed). When the project already uses pytest-testmon
(`.testmondata` present and the plugin installed), testmon's own coverage data selects instead.
Anything that cannot be mapped (a config file, a data file) runs the whole suite.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from exec_auto.gates.environment import read_pyproject
from exec_auto.gates.paths import plural, relative

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

    @property
    def full_suite(self) -> bool:
        """True when every test runs."""
        return self.paths is None and not self.testmon

    @property
    def nothing(self) -> bool:
        """True when the step touched nothing that tests could notice."""
        return self.paths == ()


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


def _forces_full_suite(rel: str) -> bool:
    """Config and data files: their effect on tests cannot be traced statically."""
    path = PurePosixPath(rel)
    if path.name == "conftest.py":
        return len(path.parts) == 1
    if path.suffix == ".py":
        return False
    return not (
        path.suffix in INERT_SUFFIXES or path.name in INERT_NAMES or path.parts[0] == "specs"
    )


def select_tests(
    repo_root: Path, touched: Iterable[str], graph: ImportGraph, *, testmon: bool = False
) -> Selection:
    """The tests the touched files can affect; the whole suite when the mapping is uncertain."""
    rels = sorted({relative(repo_root, p) for p in touched})
    relevant = [
        r
        for r in rels
        if PurePosixPath(r).suffix not in INERT_SUFFIXES
        and PurePosixPath(r).name not in INERT_NAMES
        and not r.startswith("specs/")
    ]
    if not relevant:
        return Selection((), "no code touched")
    if testmon and (repo_root / ".testmondata").exists():
        return Selection(None, "pytest-testmon selects the affected tests", testmon=True)
    unmapped = [r for r in relevant if _forces_full_suite(r)]
    if unmapped:
        return Selection(None, f"{unmapped[0]} changed: its effect on tests is not traceable")
    chosen: set[str] = set()
    modules: list[str] = []
    patterns = test_file_patterns(repo_root)
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
        return Selection(None, "no test imports the touched modules")
    # A directory already chosen (touched conftest) covers the files under it.
    dirs = {c for c in chosen if not c.endswith(".py")}
    paths = sorted(c for c in chosen if c in dirs or not any(c.startswith(d + "/") for d in dirs))
    files = [p for p in paths if p.endswith(".py")]
    reason = f"{plural(len(files), 'affected test file')}" if files else "affected test directory"
    return Selection(tuple(paths), reason)
