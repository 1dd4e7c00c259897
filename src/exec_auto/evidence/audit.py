"""The integrity audit of one step: compare its before/after snapshot trees, file by file.

Reads both versions of every changed file straight from the ticket's snapshot store (the trees
exec-auto builds around each agent call, `executor.snapshot`), so neither the user's tree nor index
is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from exec_auto.evidence.authorise import authorise
from exec_auto.evidence.collection import conftest_findings
from exec_auto.evidence.comments import new_suppressions
from exec_auto.evidence.configaudit import ci_finding, config_findings, is_ci_file, is_config_file
from exec_auto.evidence.finding import IntegrityFinding
from exec_auto.evidence.testaudit import ModulePair, changed_tests, removed_tests
from exec_auto.evidence.testcode import TestModule, is_test_file, parse_module
from exec_auto.executor.snapshot import SnapshotStore

# Files larger than this are not parsed (generated code, data): the audit reads source, not blobs.
MAX_AUDIT_BYTES = 2_000_000

Change = tuple[str, str, str]  # (status letter, old path, new path)


def tree_changes(store: SnapshotStore, before: str, after: str) -> list[Change]:
    """What changed between two trees, renames detected (git's default similarity)."""
    if before == after:
        return []
    listing = store.name_status(before, after)
    if listing is None:
        return []
    fields = listing.split("\0")
    changes: list[Change] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status[:1] in "RC":
            changes.append((status[:1], fields[i + 1], fields[i + 2]))
            i += 3
        else:
            changes.append((status[:1], fields[i + 1], fields[i + 1]))
            i += 2
    return changes


def read_blob(store: SnapshotStore, tree: str, path: str) -> str | None:
    """A file's text in a tree; None when absent, binary or too large."""
    size = store.try_git("cat-file", "-s", f"{tree}:{path}")
    if not size.ok or int(size.stdout.strip() or 0) > MAX_AUDIT_BYTES:
        return None
    shown = store.try_git("show", f"{tree}:{path}")
    if not shown.ok or "\0" in shown.stdout:
        return None
    return shown.stdout


def _is_python(path: str) -> bool:
    return path.endswith((".py", ".pyi"))


def _audited(path: str) -> bool:
    """Whether any check of the audit looks at this file (Python source, config, CI)."""
    return _is_python(path) or is_config_file(path) or is_ci_file(path)


def _parse(text: str | None) -> TestModule | None:
    return parse_module(text) if text is not None else None


class Auditor:
    """Audits step diffs of one ticket, reading trees from its snapshot store."""

    def __init__(
        self, store: SnapshotStore, read: Callable[[str, str], str | None] | None = None
    ) -> None:
        self.store = store
        self._read = read or (lambda tree, path: read_blob(store, tree, path))

    def audit(self, before: str, after: str, step_text: str = "") -> list[IntegrityFinding]:
        """Every weakened check between the two trees, authorised where step_text says so."""
        findings: list[IntegrityFinding] = []
        pairs: dict[str, ModulePair] = {}
        for status, old, new in tree_changes(self.store, before, after):
            if not (_audited(old) or _audited(new)):
                continue  # no check reads it: not worth two git calls
            old_text = self._read(before, old) if status != "A" else None
            new_text = self._read(after, new) if status != "D" else None
            findings.extend(self._file(status, old, new, old_text, new_text))
            if _is_python(old) or _is_python(new):
                self._pair(pairs, status, old, new, old_text, new_text)
        findings = removed_tests(pairs) + findings
        for pair in pairs.values():
            if is_test_file(pair.path):
                findings.extend(changed_tests(pair))
        findings.sort(key=lambda f: (f.path, f.line or 0, f.kind))
        return authorise(findings, step_text)

    def _pair(
        self,
        pairs: dict[str, ModulePair],
        status: str,
        old: str,
        new: str,
        old_text: str | None,
        new_text: str | None,
    ) -> None:
        if status == "A":
            if is_test_file(new):
                pairs[new] = ModulePair(new, None, _parse(new_text))
            return
        if status in "MD":
            if is_test_file(old):
                pairs[old] = ModulePair(old, _parse(old_text), _parse(new_text))
            return
        # A rename or copy: the old path loses its tests to the new one (collected or not).
        if status == "R" and is_test_file(old):
            pairs[old] = ModulePair(old, _parse(old_text), None, renamed_to=new)
        moved = is_test_file(old) and is_test_file(new)
        pairs[new] = ModulePair(
            new,
            _parse(old_text) if moved else None,
            _parse(new_text),
            moved_from=old if moved else None,
        )

    def _file(
        self, status: str, old: str, new: str, old_text: str | None, new_text: str | None
    ) -> list[IntegrityFinding]:
        findings: list[IntegrityFinding] = []
        name = PurePosixPath(new).name
        if _is_python(new) and new_text is not None:
            findings.extend(new_suppressions(new, old_text, new_text))
        if name == "conftest.py" or PurePosixPath(old).name == "conftest.py":
            findings.extend(conftest_findings(new, old_text, new_text))
        if is_config_file(new) or is_config_file(old):
            findings.extend(config_findings(new, old_text, new_text))
        if is_ci_file(new) or is_ci_file(old):
            findings.append(ci_finding(new, status, old_text, new_text))
        return findings
