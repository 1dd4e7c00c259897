"""Writes the sandbox refused, found in a contained command's output, so each one is logged.

The kernel answers a write outside the writable area with EROFS ("Read-only file system"); a
program prints that in its own words around it. Each distinct line becomes one incident.
"""

from __future__ import annotations

import json
import re

_EROFS = re.compile(r"read-only file system", re.IGNORECASE)
MAX_DENIALS = 20
_LINE_CHARS = 300


def denials(output: str) -> list[str]:
    """Up to MAX_DENIALS distinct lines of output that report a write the sandbox refused."""
    scanner = DenialScanner()
    for raw in output.splitlines():
        scanner.feed(raw)
    return scanner.denials()


class DenialScanner:
    """Collects refusals line by line as a command prints (`proc.run`'s on_line), none missed."""

    def __init__(self) -> None:
        self._found: list[str] = []

    def feed(self, raw: str) -> None:
        """Look at one line of output."""
        if len(self._found) >= MAX_DENIALS or not _EROFS.search(raw):
            return
        line = _unwrap(raw).strip()
        for part in line.splitlines():
            if _EROFS.search(part):
                text = part.strip()[:_LINE_CHARS]
                if text not in self._found and len(self._found) < MAX_DENIALS:
                    self._found.append(text)

    def denials(self) -> list[str]:
        """What was found, one sentence each."""
        return [f"the sandbox refused a write: {line}" for line in self._found]


def _unwrap(line: str) -> str:
    """A JSON stream line (Claude Code's stream-json) turned back into readable text."""
    if not line.startswith("{"):
        return line
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return line
    texts: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            if _EROFS.search(value):
                texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return "\n".join(texts) or line
