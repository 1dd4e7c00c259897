"""The map from tests to what they execute and read, recorded by the test plugin in the baseline run.

For each Python file coverage measured, the map keeps the version it was recorded at (its text and
content hash) and, per function, the test ids that ran a line of its body. For each non-Python file
inside the repository it keeps the tests that opened it (or listed its directory). After every gate
run the entries of the tests that ran are replaced by what they did this time, so a later step
refreshes only what changed. The map lives in the git directory of the work tree, so a resumed run
still has it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exec_auto import proc
from exec_auto.atomicio import atomic_write_text

SCHEMA = "exec-auto/testmap/1"
MAP_NAME = "exec-auto/testmap.json"


def digest(data: bytes) -> str:
    """The content hash a map entry is keyed by."""
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str | None:
    """The content hash of a file, None when it cannot be read (deleted)."""
    try:
        return digest(path.read_bytes())
    except OSError:
        return None


@dataclass
class SourceEntry:
    """One Python file as recorded: its text, and per function the tests that ran its body."""

    sha: str
    text: str
    functions: dict[str, set[str]] = field(default_factory=dict)
    # The text when step `base_step` began (its later gate runs moved `text` on): what that
    # step's changes are measured against when no snapshot of the step's start is at hand.
    base_step: str | None = None
    base_text: str = ""

    def before(self, step: str | None) -> str:
        """The version a step's changes are compared with."""
        return self.base_text if step is not None and step == self.base_step else self.text

    def move_on(self, sha: str, text: str, step: str | None) -> None:
        """A new version recorded during `step`; the step's starting version is kept."""
        if step is not None and self.base_step != step:
            self.base_step, self.base_text = step, self.text
        self.sha, self.text = sha, text

    def tests_of(self, names: Iterable[str]) -> set[str]:
        """Tests that ran any of the functions (or functions defined inside them)."""
        out: set[str] = set()
        for name in names:
            nested = name + ".<locals>."
            for recorded, tests in self.functions.items():
                if recorded == name or recorded.startswith(nested):
                    out |= tests
        return out

    @property
    def tests(self) -> set[str]:
        """Every test that ran code of this file."""
        out: set[str] = set()
        for tests in self.functions.values():
            out |= tests
        return out


@dataclass
class TestMap:
    """Tests to executed functions and read files, per file version."""

    __test__ = False

    tests: set[str] = field(default_factory=set)
    sources: dict[str, SourceEntry] = field(default_factory=dict)
    # Non-Python file -> tests (or test files, for reads while collecting) that opened it.
    reads: dict[str, set[str]] = field(default_factory=dict)
    # Directory -> tests that listed it (a file added there can change what they see).
    listed: dict[str, set[str]] = field(default_factory=dict)
    # Non-Python file -> the module that read it at import time (its effect reaches every importer).
    import_reads: dict[str, str] = field(default_factory=dict)
    # Content hashes of read files as recorded.
    read_hashes: dict[str, str] = field(default_factory=dict)
    # "coverage 7.6.1": which tool recorded the executed functions; "" when none could.
    coverage: str = ""
    why_not: str = ""
    # pytest's rootdir relative to the repository (test ids are relative to it).
    rootdir: str = "."

    @property
    def has_coverage(self) -> bool:
        """True when executed functions were recorded (not only file reads)."""
        return bool(self.coverage)

    def readers(self, rel: str) -> set[str]:
        """Tests that opened `rel` or listed its directory."""
        found = set(self.reads.get(rel, ()))
        parent = rel.rsplit("/", 1)[0] if "/" in rel else "."
        found |= self.listed.get(parent, set())
        return found

    def stale_files(self, repo_root: Path, touched: Iterable[str]) -> list[str]:
        """Recorded files that changed since recording, other than the step's own."""
        skip = set(touched)
        return sorted(
            rel
            for rel, entry in self.sources.items()
            if rel not in skip and file_digest(repo_root / rel) not in (entry.sha, None)
        )

    def merge(
        self,
        run: TestMap,
        ran: Iterable[str],
        repo_root: Path,
        touched: Iterable[str],
        step: str | None = None,
    ) -> None:
        """Replace what the tests that ran did with what they did now; refresh touched files."""
        ran_ids = set(ran) | run.tests
        if run.has_coverage:
            for entry in self.sources.values():
                for tests in entry.functions.values():
                    tests -= ran_ids
        for mapping in (self.reads, self.listed):
            for tests in mapping.values():
                tests -= ran_ids
        self.tests |= run.tests
        for rel, fresh in run.sources.items():
            known = self.sources.get(rel)
            if known is None:
                known = SourceEntry(fresh.sha, fresh.text)
                self.sources[rel] = known
            elif known.sha != fresh.sha:
                # A new version: tests that did not run cannot have reached its changed code
                # (they ran none of it before), so their old credit for the rest still holds.
                known.move_on(fresh.sha, fresh.text, step)
            for name, tests in fresh.functions.items():
                known.functions.setdefault(name, set()).update(tests)
        for rel, tests in run.reads.items():
            self.reads.setdefault(rel, set()).update(tests)
        for rel, tests in run.listed.items():
            self.listed.setdefault(rel, set()).update(tests)
        self.import_reads.update(run.import_reads)
        for rel in touched:
            path = repo_root / rel
            sha = file_digest(path)
            current = self.sources.get(rel)
            if rel.endswith(".py") and current is not None and current.sha != sha:
                if sha is None:
                    del self.sources[rel]
                else:
                    # Measured by no test of this run: the text moves on, the credits stay.
                    text = path.read_text(encoding="utf-8", errors="replace")
                    current.move_on(sha, text, step)
            if not rel.endswith(".py") and sha is not None:
                self.read_hashes[rel] = sha

    def to_json(self) -> dict[str, Any]:
        """The map as a JSON document (test ids as indexes)."""
        order = sorted(self.tests)
        index = {t: i for i, t in enumerate(order)}

        def ids(tests: Iterable[str]) -> list[int]:
            return sorted(index[t] for t in tests if t in index)

        def names(tests: Iterable[str]) -> list[str]:
            return sorted(tests)

        return {
            "schema": SCHEMA,
            "coverage": self.coverage,
            "why_not": self.why_not,
            "rootdir": self.rootdir,
            "tests": order,
            "sources": {
                rel: {
                    "sha": e.sha,
                    "text": e.text,
                    "functions": {k: ids(v) for k, v in e.functions.items()},
                    "base_step": e.base_step,
                    "base_text": e.base_text,
                }
                for rel, e in self.sources.items()
            },
            # Reads may name test files (collection-time reads), so they stay strings.
            "reads": {k: names(v) for k, v in self.reads.items()},
            "listed": {k: names(v) for k, v in self.listed.items()},
            "import_reads": self.import_reads,
            "read_hashes": self.read_hashes,
        }


def _strings(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def from_plugin(document: Mapping[str, Any], repo_root: Path) -> TestMap:
    """The map of one run, from the document the plugin wrote (texts read from the work tree)."""
    tests = [str(t) for t in document.get("tests", ())]
    result = TestMap(
        tests=set(tests),
        coverage=str(document.get("coverage") or ""),
        why_not=str(document.get("why_not") or ""),
        rootdir=str(document.get("rootdir") or "."),
    )
    executed = document.get("executed")
    for rel, functions in (executed if isinstance(executed, dict) else {}).items():
        path = repo_root / rel
        try:
            data = path.read_bytes()
        except OSError:
            continue
        entry = SourceEntry(digest(data), data.decode("utf-8", errors="replace"))
        for name, indexes in (functions if isinstance(functions, dict) else {}).items():
            entry.functions[str(name)] = {
                tests[i] for i in indexes if isinstance(i, int) and 0 <= i < len(tests)
            }
        result.sources[str(rel)] = entry
    for key, target in (("reads", result.reads), ("listed", result.listed)):
        raw = document.get(key)
        for rel, readers in (raw if isinstance(raw, dict) else {}).items():
            target[str(rel)] = _strings(readers)
    raw_imports = document.get("import_reads")
    if isinstance(raw_imports, dict):
        result.import_reads = {str(k): str(v) for k, v in raw_imports.items()}
    for rel in result.reads:
        sha = file_digest(repo_root / rel)
        if sha is not None:
            result.read_hashes[rel] = sha
    return result


def from_json(document: Mapping[str, Any]) -> TestMap | None:
    """A map saved by `to_json`; None when the document is not one (another schema, damaged)."""
    if document.get("schema") != SCHEMA:
        return None
    try:
        order = [str(t) for t in document["tests"]]
        result = TestMap(
            tests=set(order),
            coverage=str(document.get("coverage") or ""),
            why_not=str(document.get("why_not") or ""),
            rootdir=str(document.get("rootdir") or "."),
        )
        for rel, raw in document["sources"].items():
            base_step = raw.get("base_step")
            result.sources[rel] = SourceEntry(
                str(raw["sha"]),
                str(raw["text"]),
                {k: {order[i] for i in v} for k, v in raw["functions"].items()},
                str(base_step) if base_step is not None else None,
                str(raw.get("base_text") or ""),
            )
        result.reads = {k: set(v) for k, v in document["reads"].items()}
        result.listed = {k: set(v) for k, v in document["listed"].items()}
        result.import_reads = dict(document["import_reads"])
        result.read_hashes = dict(document["read_hashes"])
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return None
    return result


def map_path(repo_root: Path) -> Path | None:
    """Where the work tree's map is kept: its own git directory (each worktree has its own)."""
    out = proc.git("rev-parse", "--git-path", MAP_NAME, cwd=repo_root, timeout=30)
    if not out.ok or not out.stdout.strip():
        return None
    path = Path(out.stdout.strip())
    return path if path.is_absolute() else repo_root / path


def save(repo_root: Path, testmap: TestMap) -> None:
    """Write the map atomically (a failure to save only costs a later resume its map)."""
    path = map_path(repo_root)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(testmap.to_json()))
    except OSError:
        return


def load(repo_root: Path) -> TestMap | None:
    """The saved map of this work tree, None when there is none or it cannot be read."""
    path = map_path(repo_root)
    if path is None or not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return from_json(document) if isinstance(document, dict) else None
