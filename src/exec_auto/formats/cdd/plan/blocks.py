"""plan.md's block structure: headings, list items, paragraphs and code, with source line numbers.

A CommonMark parser (markdown-it-py) does the work, after one repair. Plans embed whole markdown
documents (a prompt file, a template) in a ```` ```markdown ```` fence whose own ```` ```python ````
fences use the same three backticks; CommonMark ends the outer block at the first inner closing
fence and the embedded document's headings leak into the plan. `mask_nested_fences` finds such
blocks by nesting (an inner fence with an info string opens a level, a bare one closes it; a bare
fence followed at once by code rather than markdown opens one) and blanks their interior, so the
parse sees one code block and line numbers still match the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# Info strings of fences that hold documents rather than code; only these may nest.
_MARKDOWN_LANGS = frozenset({"markdown", "md", "mdx", "gfm", "commonmark", "mdown", "mkd"})
_TEXT_LANGS = frozenset({"", "text", "txt", "plain", "plaintext", "prompt", "template"})
_FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*(.*?)[ \t]*$")
_FenceLine = tuple[int, str, int, str]
# What a plan (rather than code) looks like on the line right after a closing fence.
_MARKDOWN_LINE = re.compile(r"^\s*(?:#|\*\*|__|---|\*\*\*|[-*+]\s|\d+[.)]\s|>|\|)")


@dataclass(frozen=True)
class Heading:
    """A top-level ATX heading."""

    line: int
    level: int
    text: str


@dataclass(frozen=True)
class Item:
    """An item of a top-level list, with the raw text of its first paragraph."""

    line: int
    end: int
    list_index: int
    ordered: bool
    number: int | None
    text: str


@dataclass(frozen=True)
class Paragraph:
    """A top-level paragraph's first line number and raw text."""

    line: int
    text: str


@dataclass(frozen=True)
class Code:
    """A fenced or indented code block: its line range and info string."""

    start: int
    end: int
    info: str
    fenced: bool
    # The block nests fences of its own: a whole document, not a snippet.
    nested: bool = False

    @property
    def lang(self) -> str:
        """The first word of the info string, lower-cased."""
        return self.info.split()[0].lower() if self.info.strip() else ""

    @property
    def embedded_document(self) -> bool:
        """Whether the block holds a markdown document (its contents are not the plan's)."""
        return self.nested or self.lang in _MARKDOWN_LANGS


@dataclass(frozen=True)
class Document:
    """The plan's source lines and its block structure."""

    lines: tuple[str, ...]
    headings: tuple[Heading, ...]
    items: tuple[Item, ...]
    paragraphs: tuple[Paragraph, ...]
    code: tuple[Code, ...]

    def headings_between(self, start: int, end: int) -> list[Heading]:
        """Headings whose line is in [start, end)."""
        return [h for h in self.headings if start <= h.line < end]

    def section_end(self, heading: Heading) -> int:
        """The line where the heading's section ends: the next heading of the same or higher rank."""
        for other in self.headings:
            if other.line > heading.line and other.level <= heading.level:
                return other.line
        return len(self.lines)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    # "Text\n---" is a horizontal rule between paragraphs in plans, never a setext heading.
    md.disable("lheading")
    # Only block structure is needed; inline parsing is the slow half of markdown-it.
    md.core.ruler.disable("inline")
    return md


def _fence_at(line: str) -> tuple[str, int, str] | None:
    """(fence char, run length, info string) if the line is a fence line."""
    match = _FENCE_LINE.match(line)
    if match is None:
        return None
    run, info = match.groups()
    if run[0] == "`" and "`" in info:
        return None
    return run[0], len(run), info


def mask_nested_fences(lines: list[str]) -> list[str]:
    """A copy of lines where fenced blocks holding nested fences have a blank interior."""
    return _blank_interiors(lines, nested_fence_blocks(lines))


def _blank_interiors(lines: list[str], blocks: list[tuple[int, int]]) -> list[str]:
    masked = list(lines)
    for opener, closer in blocks:
        masked[opener + 1 : closer] = [""] * (closer - opener - 1)
    return masked


def nested_fence_blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(opening line, closing line) of each fenced block that holds nested fences."""
    fences: list[_FenceLine] = []
    for index, line in enumerate(lines):
        if "`" in line or "~" in line:
            found = _fence_at(line)
            if found is not None:
                fences.append((index, *found))
    blocks = []
    k = 0
    while k < len(fences):
        close, nested = _closing_fence(fences, k, lines)
        if close is None:
            # Nesting never balances: leave the block to CommonMark, which closes it at the
            # first bare fence, and look for nested blocks after that.
            close = next(
                (j for j in range(k + 1, len(fences)) if _closes(fences[k], fences[j])), None
            )
            if close is None:
                break
            nested = False
        if nested:
            blocks.append((fences[k][0], fences[close][0]))
        k = close + 1
    return blocks


def _closes(opener: _FenceLine, fence: _FenceLine) -> bool:
    """Whether CommonMark would close the opener's block at this fence."""
    return fence[1] == opener[1] and fence[2] >= opener[2] and not fence[3]


def _closing_fence(fences: list[_FenceLine], k: int, lines: list[str]) -> tuple[int | None, bool]:
    """(index of the fence that closes fence k, whether fences nest inside it)."""
    _, char, length, info = fences[k]
    lang = info.split()[0].lower() if info else ""
    is_markdown = lang in _MARKDOWN_LANGS
    may_nest = is_markdown or lang in _TEXT_LANGS
    depth, nested, fallback = 1, False, None
    for j in range(k + 1, len(fences)):
        _, other_char, other_length, other_info = fences[j]
        if other_char != char or other_length < length:
            continue
        if not may_nest:
            if not other_info:
                return j, False
            continue
        if other_info:
            depth, nested = depth + 1, True
            continue
        if depth > 1:
            depth -= 1
            continue
        if (is_markdown or nested) and _opens_inner_block(fences, j, lines):
            fallback = j if fallback is None else fallback
            depth, nested = 2, True
            continue
        return j, nested
    return fallback, nested


def _opens_inner_block(fences: list[_FenceLine], j: int, lines: list[str]) -> bool:
    """Whether bare fence j inside an embedded document opens an inner block instead of closing.

    It does when a run of code without blank lines (a directory tree, command output) follows it
    at once and the next fence is bare, i.e. could close that inner block; a real closing fence
    is followed by a blank line or by the plan's own markdown.
    """
    index, char, length, _ = fences[j]
    following = next((f for f in fences[j + 1 :] if f[1] == char and f[2] >= length), None)
    if following is None or following[3]:
        return False
    between = lines[index + 1 : following[0]]
    if not between or _MARKDOWN_LINE.match(between[0]):
        return False
    return all(line.strip() for line in between)


def parse_document(text: str) -> Document:
    """Parse newline-normalised plan text into its block structure."""
    lines = text.split("\n")
    nested = nested_fence_blocks(lines)
    openers = {opener for opener, _ in nested}
    tokens = _parser().parse("\n".join(_blank_interiors(lines, nested)))
    headings: list[Heading] = []
    items: list[Item] = []
    paragraphs: list[Paragraph] = []
    code: list[Code] = []
    list_index = -1
    ordered = False
    for i, token in enumerate(tokens):
        kind, span = token.type, token.map
        if span is None:
            continue
        if kind == "heading_open" and token.level == 0:
            headings.append(Heading(span[0], int(token.tag[1]), tokens[i + 1].content))
        elif kind in ("ordered_list_open", "bullet_list_open") and token.level == 0:
            list_index += 1
            ordered = kind == "ordered_list_open"
        elif kind == "list_item_open" and token.level == 1:
            first = ""
            if i + 2 < len(tokens) and tokens[i + 1].type == "paragraph_open":
                first = tokens[i + 2].content
            number = int(token.info) if ordered and token.info.isdigit() else None
            items.append(Item(span[0], span[1], list_index, ordered, number, first))
        elif kind == "paragraph_open" and token.level == 0:
            paragraphs.append(Paragraph(span[0], tokens[i + 1].content))
        elif kind in ("fence", "code_block"):
            code.append(Code(span[0], span[1], token.info, kind == "fence", span[0] in openers))
    return Document(tuple(lines), tuple(headings), tuple(items), tuple(paragraphs), tuple(code))
