"""Reading a format's files and editing them byte-minimally.

Files are read as UTF-8 (a BOM is kept as part of the text, so writing it back keeps it) and
split with their own line endings. An edit replaces exactly the characters it must; before the
write the file is read again, and if it no longer holds what the edit expects the edit is
refused: a file the user changed meanwhile is never overwritten with a stale copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exec_auto.atomicio import atomic_write_text
from exec_auto.errors import FormatError
from exec_auto.safe_read import read_limited

# A file larger than this is not a hand-written ticket file; reading it would only hurt.
MAX_BYTES = 8 * 1024 * 1024

# "- [ ] text", "* [x] text", "1. [X] text", Kiro's optional "- [ ]* text".
_BOX = re.compile(
    r"^(?P<indent>[ \t]*)(?P<bullet>[-*+]|\d+[.)])[ \t]+\[(?P<mark>[ xX\-~])\](?P<star>\*?)(?:[ \t]+(?P<text>.*?))?[ \t]*$"
)
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


def read_text(path: Path) -> str:
    """The file's text; FormatError (one line naming the file) when it cannot be read as UTF-8.

    Read through `safe_read.read_limited`: a FIFO, a device or a link to `/dev/zero` in place of
    a tasks file is refused before it is opened or read (it would block or never end).
    """
    try:
        data = read_limited(path, limit=MAX_BYTES, error=FormatError, what="ticket file")
    except FileNotFoundError:
        raise FormatError("not found", path=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"is not UTF-8 text (byte {exc.start})", path=path, hint="save the file as UTF-8"
        ) from None


def lines_of(text: str) -> list[str]:
    """The lines with their own endings kept, so "".join(lines) == text."""
    return text.splitlines(keepends=True)


def bare(line: str) -> str:
    """A line without its ending."""
    return line.rstrip("\r\n")


@dataclass(frozen=True)
class Checkbox:
    """One checkbox list item: where it is, how deep, whether ticked, and what it says."""

    line: int  # 0-based line index
    indent: int  # columns of leading whitespace (tabs count 4)
    checked: bool
    optional: bool  # Kiro's "- [ ]*"
    text: str
    column: int  # index of the mark character inside the line


def checkboxes(lines: list[str]) -> list[Checkbox]:
    """Every checkbox item outside fenced code blocks, in file order."""
    out: list[Checkbox] = []
    fence: str | None = None
    comment = False
    for index, raw in enumerate(lines):
        line = bare(raw)
        # Tasks commented out with <!-- ... --> are not tasks.
        if comment:
            comment = "-->" not in line
            continue
        if line.lstrip().startswith("<!--"):
            comment = "-->" not in line
            continue
        opener = _FENCE.match(line)
        if opener:
            token = opener.group(1)
            if fence is None:
                fence = token[0] * len(token)
                continue
            if (
                token[0] == fence[0]
                and len(token) >= len(fence)
                and not line.strip()[len(token) :].strip()
            ):
                fence = None
                continue
        if fence is not None:
            continue
        match = _BOX.match(line)
        if match is None:
            continue
        indent = len(match.group("indent").expandtabs(4))
        out.append(
            Checkbox(
                line=index,
                indent=indent,
                checked=match.group("mark") in "xX",
                optional=bool(match.group("star")),
                text=match.group("text") or "",
                column=match.start("mark"),
            )
        )
    return out


def continuation(lines: list[str], box: Checkbox, stop: int) -> list[str]:
    """The lines that belong to a checkbox item: deeper-indented (or wrapped) lines up to stop."""
    body: list[str] = []
    for raw in lines[box.line + 1 : stop]:
        line = bare(raw)
        if not line.strip():
            body.append(line)
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if indent <= box.indent:
            break
        body.append(line)
    while body and not body[-1].strip():
        body.pop()
    return body


def set_mark(text: str, line: int, column: int, mark: str) -> str:
    """text with the one character at (line, column) replaced by mark."""
    lines = lines_of(text)
    target = lines[line]
    lines[line] = target[:column] + mark + target[column + 1 :]
    return "".join(lines)


def edit_file(path: Path, edit: Callable[[str], str | None]) -> bool:
    """Apply edit to the file's current text and write the result atomically; False if no change.

    edit returns None when the file no longer holds what it expects (the write is then refused
    with a FormatError rather than guessed).
    """
    before = read_text(path)
    after = edit(before)
    if after is None:
        raise FormatError(
            "changed since it was read; the status was not written",
            path=path,
            hint="rerun: exec-auto reads the file again",
        )
    if after == before:
        return False
    atomic_write_text(path, after)
    return True


def tick(path: Path, find: Callable[[list[Checkbox]], Checkbox | None], mark: str) -> bool:
    """Set the mark of the checkbox `find` picks in the file's current text; False if unchanged."""

    def edit(text: str) -> str | None:
        box = find(checkboxes(lines_of(text)))
        if box is None:
            return None
        current = lines_of(text)[box.line][box.column]
        if (current in "xX") == (mark in "xX"):
            return text
        return set_mark(text, box.line, box.column, mark)

    return edit_file(path, edit)
