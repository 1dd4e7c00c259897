"""Read a shell command line into simple commands, for the guard to judge one by one.

This is not a shell: it understands what a model's one-liner plainly says (`&&`, `;`, `|`,
newlines, subshells, redirections, here-documents, `$( )`, backticks, `<( )`) and lifts every
command substitution out as separate text, so nested commands are judged like top-level ones.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# Words standing in for a lifted `$( )`, backtick or `<( )` substitution / a here-document.
_SUBST = "__EXEC_AUTO_SUBST_{}__"
_HEREDOC = "__EXEC_AUTO_HEREDOC_{}__"
_PLACEHOLDER_RE = re.compile(r"__EXEC_AUTO_(SUBST|HEREDOC)_(\d+)__")
_HEREDOC_START_RE = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z0-9_.-]+)\2")
_PUNCTUATION = ";&|()<>\n"


@dataclass
class Segment:
    """One simple command: its words, the files it redirects output into, here-documents it reads."""

    words: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    heredocs: list[str] = field(default_factory=list)
    # True when its stdin is the previous command's stdout (`a | b`).
    piped: bool = False


@dataclass
class Parsed:
    """A command line: its simple commands plus the texts lifted out of it."""

    segments: list[Segment]
    substitutions: list[str]
    heredocs: list[str]

    def lifted(self, word: str) -> list[str]:
        """The substitution texts a word refers to (empty for a plain word)."""
        out = []
        for kind, index in _PLACEHOLDER_RE.findall(word):
            out.append((self.substitutions if kind == "SUBST" else self.heredocs)[int(index)])
        return out


def has_placeholder(word: str) -> bool:
    """True when the word's value comes from a substitution the guard cannot evaluate."""
    return _PLACEHOLDER_RE.search(word) is not None


def parse(text: str) -> Parsed:
    """Split a command line into segments; raises ValueError for unbalanced quotes."""
    substitutions: list[str] = []
    heredocs: list[str] = []
    cleaned = _lift(text, substitutions, heredocs)
    lexer = shlex.shlex(cleaned, posix=True, punctuation_chars=_PUNCTUATION)
    # Newlines separate commands, so they are punctuation, not whitespace.
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""
    segments = [Segment()]
    pending_redirect: str | None = None
    for token in lexer:
        if pending_redirect is not None:
            _add_redirect(segments[-1], pending_redirect, token)
            pending_redirect = None
        elif token and set(token) <= set(_PUNCTUATION) and ("<" in token or ">" in token):
            pending_redirect = token
        elif token and set(token) <= set(_PUNCTUATION):
            piped = token.endswith("|") and not token.endswith("||")
            segments.append(Segment(piped=piped))
        else:
            segments[-1].words.append(token)
    return Parsed([s for s in segments if s.words], substitutions, heredocs)


def _add_redirect(segment: Segment, op: str, target: str) -> None:
    if op.startswith("<<") and not op.startswith("<<<"):
        segment.heredocs.append(target)
    elif ">" in op and not (op.endswith("&") and (target.isdigit() or target == "-")):
        segment.writes.append(target)


def _lift(text: str, substitutions: list[str], heredocs: list[str]) -> str:
    """Replace substitutions and here-document bodies by placeholders; drop comments."""
    out: list[str] = []
    pending_heredocs: list[tuple[str, str]] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quote != "'":
            out.append(text[i : i + 2])
            i += 2
            continue
        if quote == "'":
            quote = "" if ch == "'" else quote
            out.append(ch)
            i += 1
            continue
        if ch == "`":
            end = text.find("`", i + 1)
            end = len(text) if end == -1 else end
            out.append(_placeholder(text[i + 1 : end], substitutions, _SUBST))
            i = end + 1
            continue
        if text.startswith("$(", i) or (not quote and text.startswith(("<(", ">("), i)):
            end = _closing_paren(text, i + 2)
            inner = _placeholder(text[i + 2 : end], substitutions, _SUBST)
            # `<(cmd)` reads like a file name to the outer command.
            out.append(inner)
            i = end + 1
            continue
        if quote == '"':
            quote = "" if ch == '"' else quote
            out.append(ch)
            i += 1
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t\n;&|()"):
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
            continue
        elif ch == "<" and (match := _HEREDOC_START_RE.match(text, i)):
            index = len(heredocs) + len(pending_heredocs)
            pending_heredocs.append((match.group(3), _HEREDOC.format(index)))
            out.append("<< " + _HEREDOC.format(index) + " ")
            i = match.end()
            continue
        elif ch == "\n" and pending_heredocs:
            i = _read_heredoc_bodies(text, i + 1, pending_heredocs, heredocs)
            pending_heredocs.clear()
            out.append("\n")
            continue
        out.append(ch)
        i += 1
    if quote:
        raise ValueError("No closing quotation")
    for _delimiter, _name in pending_heredocs:
        heredocs.append("")
    return "".join(out)


def _read_heredoc_bodies(
    text: str, start: int, pending: list[tuple[str, str]], heredocs: list[str]
) -> int:
    """Consume each pending here-document body after `start`; return where the command resumes."""
    pos = start
    for delimiter, _name in pending:
        body: list[str] = []
        while pos < len(text):
            end = text.find("\n", pos)
            end = len(text) if end == -1 else end
            line = text[pos:end]
            pos = end + 1
            if line.strip() == delimiter:
                break
            body.append(line)
        heredocs.append("\n".join(body))
    return min(pos, len(text))


def _closing_paren(text: str, start: int) -> int:
    depth = 1
    for j in range(start, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(text)


def _placeholder(inner: str, store: list[str], template: str) -> str:
    store.append(inner)
    return template.format(len(store) - 1)
