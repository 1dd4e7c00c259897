"""New suppression comments in Python files: `# noqa`, `# type: ignore`, `# pragma: no cover`, ...

Comments are found with `tokenize`, so the same words inside strings do not count; a comment is
new when its line's text does not occur (as often) before the step, so moved code is not flagged.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter

from exec_auto.evidence.finding import IntegrityFinding

SUPPRESSIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("noqa", re.compile(r"#\s*(?:(?:ruff|flake8)\s*:\s*)?noqa\b", re.IGNORECASE)),
    (
        "type: ignore",
        re.compile(
            r"#\s*(?:type:\s*ignore|pyright:\s*ignore|mypy:\s*ignore-errors)", re.IGNORECASE
        ),
    ),
    ("pragma: no cover", re.compile(r"#\s*pragma:\s*no\s*(?:cover|branch)", re.IGNORECASE)),
    ("pylint: disable", re.compile(r"#\s*pylint:\s*disable", re.IGNORECASE)),
)
_CODES = re.compile(r"\b[A-Z]{1,4}[0-9]{2,4}\b|\[([a-z-]+)\]")


def suppressions(source: str) -> list[tuple[int, str, str]]:
    """(line, kind, stripped source line) for each suppression comment in source."""
    lines = source.splitlines()
    found: list[tuple[int, str, str]] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return found
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        for kind, pattern in SUPPRESSIONS:
            if pattern.search(tok.string):
                row = tok.start[0]
                text = lines[row - 1].strip() if row - 1 < len(lines) else tok.string
                found.append((row, kind, text))
                break
    return found


def new_suppressions(path: str, before: str | None, after: str) -> list[IntegrityFinding]:
    """Suppression comments present after the step that were not there before it."""
    old = Counter((kind, text) for _, kind, text in suppressions(before or ""))
    findings = []
    for line, kind, text in suppressions(after):
        if old[(kind, text)]:
            old[(kind, text)] -= 1
            continue
        codes = [m.group(1) or m.group(0) for m in _CODES.finditer(text.split("#", 1)[-1])]
        findings.append(
            IntegrityFinding(
                "suppression_added",
                path,
                line,
                f"new `# {kind}` in {path}" + (f" ({', '.join(codes)})" if codes else ""),
                "(no suppression)",
                text,
                subjects=(kind, path, path.rsplit("/", 1)[-1], *codes),
            )
        )
    return findings
