"""The step's own lines: which lines of a file the step changed, and keeping tool edits to them.

The technique of darker (formatters) and graylint (linters): a formatter rewrites the whole file,
but only its edits that touch lines the step changed are kept; a linter reports the whole file,
but only findings on lines the step changed are the step's. Line sets are 1-based, in the file as
the step left it; `None` means "every line" (a new file, or no record of the file before).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable
from dataclasses import dataclass

# A lookup of a file's content before the step (None: the file is new).
Before = Callable[[str], str | None]


def changed_lines(before: str | None, after: str) -> frozenset[int] | None:
    """Lines of `after` that the step added or modified (None: the whole file is the step's).

    A pure deletion marks the lines on both sides of the gap, so a finding caused by removing
    code (an import now unused elsewhere, a broken block) still lands on the step's lines.
    """
    if before is None:
        return None
    old, new = before.splitlines(), after.splitlines()
    lines: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if j2 > j1:
            lines.update(range(j1 + 1, j2 + 1))
        else:
            lines.update(n for n in (j1, j1 + 1) if 1 <= n <= len(new))
    return frozenset(lines)


@dataclass(frozen=True)
class Regions:
    """Each touched file's changed lines (absent or None: the whole file counts)."""

    by_file: dict[str, frozenset[int] | None]

    def covers(self, path: str, line: int) -> bool:
        """True when `line` of `path` is one the step changed (unknown files count as changed)."""
        lines = self.by_file.get(path)
        return lines is None or line in lines or line == 0

    def lines(self, path: str) -> frozenset[int] | None:
        """The changed lines of one file (None: all of it)."""
        return self.by_file.get(path)


def regions_for(
    files: list[str], read: Callable[[str], str | None], before: Before | None
) -> Regions:
    """The changed lines of each file, from its content before the step (None lookup: all lines)."""
    out: dict[str, frozenset[int] | None] = {}
    for path in files:
        now = read(path)
        if now is None or before is None:
            out[path] = None
            continue
        out[path] = changed_lines(before(path), now)
    return Regions(out)


def keep_edits_in(original: str, rewritten: str, lines: frozenset[int] | None) -> str:
    """`rewritten` with only the edits that overlap `lines` of `original` applied (darker's rule).

    The result must still parse when the original did; otherwise (an edit split a construct that
    spans kept and dropped hunks) the original is returned untouched rather than half-formatted.
    """
    if lines is None or original == rewritten:
        return rewritten
    old = original.splitlines(keepends=True)
    new = rewritten.splitlines(keepends=True)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(old[i1:i2])
            continue
        # Original lines i1+1..i2 (1-based); an insertion touches the lines around its point.
        span = set(range(i1 + 1, i2 + 1)) if i2 > i1 else {i1, i1 + 1}
        out.extend(new[j1:j2] if span & lines else old[i1:i2])
    result = "".join(out)
    if _parses(original) and not _parses(result):
        return original
    return result


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True
