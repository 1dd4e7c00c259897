"""Unified diffs as the review needs them: per-file stats, test changes, and coloured HTML.

Input is what `git diff` prints for two snapshot commits; nothing here runs git. Colouring uses
pygments (installed with rich): each line is highlighted with the lexer of its file and marked as
added, removed or context, so the page needs no script or stylesheet from anywhere.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# A step's diff beyond this many lines is cut on the page (the full one: `exec-auto diff`).
MAX_LINES = 1500
_TEST_FILE = re.compile(r"(^|/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py)$|(^|/)tests?/")
_TEST_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(test_\w+)\s*\(")
_HUNK_CONTEXT = re.compile(r"^@@[^@]*@@\s*(?:async\s+)?def\s+(test_\w+)")


@dataclass
class FileDiff:
    """One file's part of a patch."""

    path: str
    status: str = "modified"  # created | modified | deleted | binary
    added: int = 0
    deleted: int = 0
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DiffStat:
    """Files and lines a change touches."""

    files: int = 0
    added: int = 0
    deleted: int = 0

    @property
    def lines(self) -> int:
        """Lines added plus removed: the size of the change."""
        return self.added + self.deleted

    def text(self) -> str:
        """'3 files, +40 -2'."""
        return f"{self.files} file{'s' if self.files != 1 else ''}, +{self.added} -{self.deleted}"


@dataclass(frozen=True)
class TestChanges:
    """Test functions a change added, changed and removed (by name, per file)."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def text(self) -> str:
        """'+2 ~1 -0'."""
        return f"+{len(self.added)} ~{len(self.changed)} -{len(self.removed)}"


def parse(patch: str) -> list[FileDiff]:
    """Split a `git diff` patch into files (header lines dropped, hunk lines kept)."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            match = re.match(r"diff --git a/(.*) b/(.*)$", line)
            current = FileDiff(match.group(2) if match else line[11:])
            files.append(current)
            continue
        if current is None:
            continue
        if not current.lines:
            if line.startswith("new file mode"):
                current.status = "created"
                continue
            if line.startswith("deleted file mode"):
                current.status = "deleted"
                continue
            if line.startswith(("Binary files", "GIT binary patch")):
                current.status = "binary"
                continue
            if line.startswith(("index ", "--- ", "+++ ", "old mode", "new mode", "similarity")):
                continue
            if current.status == "binary":
                continue
        if current.status == "binary":
            continue
        if line.startswith("@@"):
            current.lines.append(line)
        elif line.startswith("+"):
            current.added += 1
            current.lines.append(line)
        elif line.startswith("-"):
            current.deleted += 1
            current.lines.append(line)
        elif line.startswith((" ", "\\")) or line == "":
            current.lines.append(line)
    return files


def stat(files: list[FileDiff]) -> DiffStat:
    """The totals of a parsed patch."""
    return DiffStat(len(files), sum(f.added for f in files), sum(f.deleted for f in files))


def is_test_file(path: str) -> bool:
    """True for test modules by the usual pytest conventions."""
    return bool(_TEST_FILE.search(path))


def test_changes(files: list[FileDiff]) -> TestChanges:
    """Test functions added, changed and removed, from the +/- lines of test files."""
    added: set[str] = set()
    removed: set[str] = set()
    changed: set[str] = set()
    for f in files:
        if not is_test_file(f.path):
            continue
        plus: set[str] = set()
        minus: set[str] = set()
        current: str | None = None
        for line in f.lines:
            if line.startswith("@@"):
                found = _HUNK_CONTEXT.match(line)
                current = found.group(1) if found else None
                continue
            body = line[1:]
            name = _TEST_DEF.match(body)
            if name:
                current = name.group(1)
                if line.startswith("+"):
                    plus.add(name.group(1))
                elif line.startswith("-"):
                    minus.add(name.group(1))
                continue
            if line[:1] in "+-" and current is not None and body.strip():
                changed.add(f"{f.path}::{current}")
        added |= {f"{f.path}::{n}" for n in plus - minus}
        removed |= {f"{f.path}::{n}" for n in minus - plus}
    changed -= added | removed
    return TestChanges(tuple(sorted(added)), tuple(sorted(changed)), tuple(sorted(removed)))


# -- HTML ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _patterns() -> tuple[dict[str, list[tuple[str, str]]], list[tuple[str, str]]]:
    """Every lexer's file-name patterns: plain `*.ext` ones by extension, and the rest."""
    from pygments.lexers import get_all_lexers

    by_suffix: dict[str, list[tuple[str, str]]] = {}
    other: list[tuple[str, str]] = []
    for name, _aliases, filenames, _mimetypes in get_all_lexers(plugins=True):
        for pattern in filenames:
            suffix = pattern[1:]
            if pattern.startswith("*.") and not any(c in suffix for c in "*?["):
                by_suffix.setdefault(suffix, []).append((name, pattern))
            else:
                other.append((name, pattern))
    return by_suffix, other


@lru_cache(maxsize=256)
def _lexer_class(basename: str) -> Any:
    """pygments' choice for a file name, as `get_lexer_for_filename` makes it (no code given).

    Done here because pygments compiles all its ~900 name patterns on its first lookup (0.1-0.3 s
    a run); plain `*.ext` patterns are matched by suffix and only the others by fnmatch.
    """
    import fnmatch

    from pygments.lexers import find_lexer_class

    by_suffix, other = _patterns()
    matches = [
        m
        for i in range(len(basename))
        if basename[i] == "."
        for m in by_suffix.get(basename[i:], ())
    ]
    matches += [m for m in other if fnmatch.fnmatchcase(basename, m[1])]
    rated = []
    for name, pattern in matches:
        cls = find_lexer_class(name)
        if cls is not None:
            # pygments' rating: an explicit name (no `*`) beats a pattern; then priority, name.
            rated.append((cls.priority + (0.5 if "*" not in pattern else 0), cls.__name__, cls))
    return max(rated, key=lambda r: r[:2])[2] if rated else None


@lru_cache(maxsize=64)
def _lexer(path: str) -> Any:
    from pygments.lexers.special import TextLexer

    found = _lexer_class(path.rsplit("/", 1)[-1])
    if found is None:
        return TextLexer(stripnl=False, ensurenl=False)
    return found(stripnl=False, stripall=False, ensurenl=False)


@lru_cache(maxsize=1)
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True, classprefix="pg-")


def style_css() -> str:
    """The colour classes the highlighted lines use (inlined into the page)."""
    from pygments.formatters import HtmlFormatter

    formatter: Any = HtmlFormatter(classprefix="pg-", style="default")
    return str(formatter.get_style_defs(".diff"))


def _highlight(path: str, code: str) -> str:
    from pygments import highlight

    return str(highlight(code, _lexer(path), _formatter())).rstrip("\n")


def render_file(f: FileDiff, budget: int) -> tuple[str, int]:
    """A file's diff as HTML rows (at most budget lines); the lines used."""
    out = [
        f'<div class="file"><div class="fname">{html.escape(f.path)} '
        f'<span class="muted">({f.status}, +{f.added} -{f.deleted})</span></div>'
    ]
    if f.status == "binary":
        out.append('<pre class="diff"><span class="ctx">binary file: not shown</span></pre></div>')
        return "".join(out), 1
    rows = []
    used = 0
    for line in f.lines:
        if used >= budget:
            rows.append('<span class="cut">… cut here; the whole diff: exec-auto diff</span>')
            break
        used += 1
        if line.startswith("@@"):
            rows.append(f'<span class="hunk">{html.escape(line)}</span>')
            continue
        kind = {"+": "add", "-": "del"}.get(line[:1], "ctx")
        mark = html.escape(line[:1] or " ")
        rows.append(f'<span class="{kind}">{mark}{_highlight(f.path, line[1:])}</span>')
    out.append('<pre class="diff">' + "\n".join(rows) + "</pre></div>")
    return "".join(out), used


def render(files: list[FileDiff], max_lines: int = MAX_LINES) -> str:
    """A whole patch as HTML, cut after max_lines lines."""
    parts = []
    left = max_lines
    for f in files:
        if left <= 0:
            parts.append('<p class="cut">… more files cut; the whole diff: exec-auto diff</p>')
            break
        text, used = render_file(f, left)
        parts.append(text)
        left -= used
    return "".join(parts) or '<p class="none">no changes</p>'
