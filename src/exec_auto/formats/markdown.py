"""Small line-level markdown helpers the formats share: headings, sections, task ids, dependencies."""

from __future__ import annotations

import re
from dataclasses import dataclass

from exec_auto.formats.textfile import bare

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM = re.compile(
    r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"
)


@dataclass(frozen=True)
class Heading:
    """A markdown ATX heading and its 0-based line index."""

    line: int
    level: int
    text: str


def headings(lines: list[str]) -> list[Heading]:
    """Every ATX heading outside fenced code, in order."""
    out: list[Heading] = []
    fence: str | None = None
    for index, raw in enumerate(lines):
        line = bare(raw)
        opener = _FENCE.match(line)
        if opener:
            token = opener.group(1)
            if fence is None:
                fence = token[0]
            elif token[0] == fence:
                fence = None
            continue
        if fence is not None:
            continue
        match = _HEADING.match(line)
        if match:
            out.append(Heading(index, len(match.group(1)), match.group(2).strip()))
    return out


def section_end(heads: list[Heading], head: Heading, total: int) -> int:
    """The line index where head's section ends (the next heading of the same or a higher level)."""
    for other in heads:
        if other.line > head.line and other.level <= head.level:
            return other.line
    return total


def heading_before(heads: list[Heading], line: int, max_level: int = 6) -> Heading | None:
    """The last heading (of at most max_level) above line."""
    found = None
    for head in heads:
        if head.line >= line:
            break
        if head.level <= max_level:
            found = head
    return found


def plain(text: str) -> str:
    """text without emphasis markers and code backticks (identifiers like test_add stay whole)."""
    parts = re.split(r"(`+[^`]*`+)", text)
    out = []
    for index, part in enumerate(parts):
        if index % 2:  # a code span: its content is literal
            out.append(part.strip("`"))
            continue
        part = _STRONG.sub(r"\2", part)
        part = _EM.sub(lambda m: m.group(1) or m.group(2), part)
        out.append(part.replace("**", ""))
    return "".join(out).strip()


def first_h1(lines: list[str]) -> str:
    """The first level-1 heading's text, or ""."""
    for head in headings(lines):
        if head.level == 1:
            return head.text
    return ""


def strip_label(title: str, *labels: str) -> str:
    """'Tasks: Foo' -> 'Foo' for any of labels (case-insensitive)."""
    for label in labels:
        match = re.match(
            rf"^\s*{re.escape(label)}\s*[:\-\u2013\u2014]\s*(.*)$", title, re.IGNORECASE
        )
        if match:
            return match.group(1).strip()
    return title.strip()


_DEPENDS = re.compile(
    r"\bdepends?\s+on\b\s*:?\s*(?P<ids>(?:[A-Z]*\d+(?:\.\d+)*[a-z]?\b(?:\s*(?:,|;|&|\+|and)\s*)?)+)",
    re.IGNORECASE,
)


def depends_on(text: str, id_pattern: str = r"T\d+[a-z]?") -> list[str]:
    """The task ids after every 'depends on' in text ('(depends on T012, T013)', 'Depends on: T4')."""
    found: list[str] = []
    flat = " ".join(text.split())
    for match in _DEPENDS.finditer(flat):
        for token in re.findall(id_pattern, match.group("ids")):
            if token not in found:
                found.append(token)
    return found
