"""YAML at the edges: ruamel.yaml loading with located, hinted parse errors, scalar formatting,
and a fast block-style writer for the documents exec-auto owns (progress.yaml).

ruamel's pure-Python emitter needs ~140 ms for a 50-step, 200-issue progress document; the writer
here needs a few ms, which matters because progress.yaml is saved after every state change.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

__all__ = [
    "ParseProblem",
    "YAMLError",
    "describe_parse_error",
    "dump_block",
    "is_plain_safe",
    "load_rt",
    "round_trip_yaml",
    "scalar_token",
]

# Wide enough that ruamel never re-wraps a long line of a hand-written file.
_NO_WRAP = 1 << 16


@dataclass(frozen=True)
class ParseProblem:
    """Where and why a YAML text failed to parse (1-based line and column), plus a fix hint."""

    line: int | None
    column: int | None
    problem: str
    hint: str


def round_trip_yaml(*, allow_duplicate_keys: bool = False) -> YAML:
    """ruamel's round-trip YAML, keeping quotes and never re-wrapping long lines."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = _NO_WRAP
    yaml.allow_duplicate_keys = allow_duplicate_keys
    return yaml


class LimitError(YAMLError):
    """A document that parses but is unsafe to use: an alias bomb, too deep, or a custom tag."""


# A progress document of 50 steps and 200 issues has ~5,000 values; aliases that expand past
# this are an alias bomb ("billion laughs"), whose every walk costs exponential time.
MAX_VALUES = 200_000
MAX_DEPTH = 200
_DEEP_INDENT = re.compile(f"^ {{{8 * MAX_DEPTH + 1},}}", re.MULTILINE)


def load_rt(text: str, *, allow_duplicate_keys: bool = False) -> Any:
    """Parse text with ruamel's round-trip loader (raises ruamel's YAMLError).

    Documents whose aliases expand to more than MAX_VALUES values, that nest deeper than
    MAX_DEPTH, or that use a custom tag (`!thing`) raise LimitError: no ticket file needs them,
    and code walking such a value would hang or misread it.
    """
    _check_indentation(text)
    try:
        data = round_trip_yaml(allow_duplicate_keys=allow_duplicate_keys).load(text)
    except RecursionError:
        raise LimitError(f"the document nests deeper than {MAX_DEPTH} levels") from None
    check_limits(data)
    return data


def _check_indentation(text: str) -> None:
    """Refuse nesting too deep to parse, cheaply, before the parser recurses into it."""
    depth = 0
    deepest = 0
    brackets = text.count("[") + text.count("{")
    for char in text if brackets > 4 * MAX_DEPTH else "":
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    # Brackets inside quoted text count too: the bound is loose, and real files stay far below.
    if deepest > 4 * MAX_DEPTH or _DEEP_INDENT.search(text):
        raise LimitError(f"the document nests deeper than {MAX_DEPTH} levels")


def check_limits(data: Any) -> None:
    """Raise LimitError for an alias bomb, a recursive alias, deep nesting or a custom tag.

    An explicit `!!str` is the one tag kept (as the plain string it stands for).
    """
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()

    def size(node: Any, depth: int) -> int:
        if _tag_name(node) is not None:
            raise LimitError(f"custom tag {_tag_name(node)} is not supported")
        if not isinstance(node, dict | list):
            return 1
        known = sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_DEPTH:
            raise LimitError(f"the document nests deeper than {MAX_DEPTH} levels")
        if id(node) in open_ids:
            raise LimitError("an alias refers to a value that contains it (a recursive alias)")
        open_ids.add(id(node))
        _untag_strings(node)
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_VALUES:
                raise LimitError(
                    f"aliases expand the document to more than {MAX_VALUES:,} values "
                    "(an alias bomb)"
                )
        open_ids.discard(id(node))
        sizes[id(node)] = total
        return total

    size(data, 0)


_STR_TAG = "tag:yaml.org,2002:str"


def _untag_strings(node: dict[Any, Any] | list[Any]) -> None:
    """Replace `!!str` scalars among node's values by plain strings."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        tag = getattr(getattr(value, "tag", None), "value", None)
        if tag == _STR_TAG and hasattr(value, "value"):
            node[key] = str(value.value)


def _tag_name(node: Any) -> str | None:
    """The explicit tag on a loaded value (`!thing`, `!!python/name:x`), None for plain ones."""
    value = getattr(getattr(node, "tag", None), "value", None)
    if not value or (value == _STR_TAG and not isinstance(node, dict | list)):
        return None
    return str(value).replace("tag:yaml.org,2002:", "!!")


def describe_parse_error(exc: YAMLError, text: str) -> ParseProblem:
    """Turn a ruamel parse error into a location, a one-line problem and a hint."""
    line: int | None = None
    column: int | None = None
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            line, column = mark.line + 1, mark.column + 1
        problem = str(exc.problem or exc.context or "invalid YAML")
        if exc.context and exc.problem:
            context = str(exc.context)
            if exc.context_mark is not None and exc.context_mark.line + 1 != line:
                context += f" started at line {exc.context_mark.line + 1}"
            problem = f"{problem} ({context})"
    else:
        position = getattr(exc, "position", None)
        if isinstance(position, int):
            before = text[:position]
            line = before.count("\n") + 1
            column = position - (before.rfind("\n") + 1) + 1
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ParseProblem(line, column, " ".join(problem.split()), _hint_for(problem))


def _hint_for(problem: str) -> str:
    if "alias" in problem and ("bomb" in problem or "recursive" in problem):
        return "write the values out: anchors (&name) and aliases (*name) may not expand this far"
    if "custom tag" in problem:
        return "ticket files hold plain YAML values; drop the `!tag` (quote the value if needed)"
    if "nests deeper" in problem:
        return "flatten the structure; no ticket file needs such nesting"
    if "'\\t'" in problem or "tab" in problem.lower():
        return "indent with spaces: YAML does not allow tab characters for indentation"
    if "mapping values are not allowed" in problem:
        return "a value that contains ': ' must be quoted, e.g. key: \"text: more text\""
    if "duplicate key" in problem:
        return "each key may appear only once in a mapping; merge or rename the duplicates"
    if "flow" in problem:
        return (
            "a value starting with '[' or '{' is read as a list or mapping; quote it if it is text"
        )
    if "cannot start any token" in problem:
        return "a value starting with @, ` or % must be quoted"
    if "single document" in problem:
        return "the file holds several YAML documents ('---'); keep one"
    return (
        "fix the YAML at that position; quote values that contain ': ' or ' #', or that start "
        "with one of [ ] { } * & ! | > ' \" % @ `"
    )


# ---------------------------------------------------------------------------------------------
# Scalars and the fast writer
# ---------------------------------------------------------------------------------------------

_PLAIN_OK = re.compile(r"[^\W\d][\w .,/()'+=?!;&%*@-]*", re.UNICODE)
_RESERVED = frozenset(
    {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~", "nan", "inf"}
)
# json.dumps leaves these raw, but YAML treats them as line breaks or forbids them.
_NEEDS_ESCAPE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def is_plain_safe(value: str) -> bool:
    """Whether value can be written unquoted and read back as the same string (conservative)."""
    return (
        bool(_PLAIN_OK.fullmatch(value))
        and not value.endswith(" ")
        and value.lower() not in _RESERVED
    )


def _double_quoted(value: str) -> str:
    quoted = json.dumps(value, ensure_ascii=False)
    return _NEEDS_ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def scalar_token(value: str, style: str | None = None) -> str:
    """value as a one-line YAML scalar: in the given quote style, else plain when safe."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'" if "\n" not in value else _double_quoted(value)
    if style == '"' or not is_plain_safe(value):
        return _double_quoted(value)
    return value


def _literal_block(value: str, indent: str) -> str | None:
    """value as a `|` block scalar at indent, or None when a block cannot carry it exactly."""
    if _NEEDS_ESCAPE.search(value) or any(c < " " and c not in "\n\t" for c in value):
        return None
    body = value.rstrip("\n")
    lines = body.split("\n")
    first = next((line for line in lines if line.strip()), "")
    if not first or first[0] in " \t" or any(line and not line.strip() for line in lines):
        return None  # leading or whitespace-only lines would need an indentation indicator
    trailing = len(value) - len(body)
    if trailing > 1:
        return None  # `|+` would swallow the blank line that separates list items
    out = ["|-" if trailing == 0 else "|"]
    out.extend(f"\n{indent}{line}" if line else "\n" for line in lines)
    return "".join(out)


def _scalar(value: Any, indent: str) -> str:
    if isinstance(value, str):
        if "\n" in value:
            block = _literal_block(value, indent)
            if block is not None:
                return block
        return scalar_token(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, dt.date | dt.datetime):
        return _double_quoted(value.isoformat())
    return _scalar(str(value), indent)


@functools.lru_cache(maxsize=1024)
def _key_token(key: str) -> str:
    # The same few field names repeat thousands of times in a progress document.
    return scalar_token(key)


def dump_block(data: Mapping[str, Any], *, header: str = "", spaced: bool = True) -> str:
    """Write JSON-like data (dicts, lists, scalars) as block-style YAML; fast, for our own files.

    With spaced, top-level keys and the mapping items of top-level lists are separated by blank
    lines so a person can read the file.
    """
    out: list[str] = [header] if header else []
    for index, (key, value) in enumerate(data.items()):
        if index and spaced:
            out.append("\n")
        _emit_pair(out, str(key), value, "", spaced=spaced)
    return "".join(out)


def _emit_pair(out: list[str], key: str, value: Any, indent: str, *, spaced: bool = False) -> None:
    token = _key_token(key)
    if isinstance(value, dict):
        if not value:
            out.append(f"{indent}{token}: {{}}\n")
            return
        out.append(f"{indent}{token}:\n")
        for k, v in value.items():
            _emit_pair(out, str(k), v, indent + "  ")
    elif isinstance(value, list | tuple):
        if not value:
            out.append(f"{indent}{token}: []\n")
            return
        out.append(f"{indent}{token}:\n")
        _emit_items(out, value, indent + "  ", spaced=spaced)
    else:
        out.append(f"{indent}{token}: {_scalar(value, indent + '  ')}\n")


def _emit_items(out: list[str], items: Any, indent: str, *, spaced: bool) -> None:
    inner = indent + "  "
    for index, item in enumerate(items):
        if isinstance(item, dict) and item:
            if spaced and index:
                out.append("\n")
            pairs: list[str] = []
            for k, v in item.items():
                _emit_pair(pairs, str(k), v, inner)
            # The first pair shares the dash's line.
            pairs[0] = f"{indent}- {pairs[0][len(inner) :]}"
            out.extend(pairs)
        elif isinstance(item, list | tuple) and item:
            nested: list[str] = []
            _emit_items(nested, item, inner, spaced=False)
            nested[0] = f"{indent}- {nested[0][len(inner) :]}"
            out.extend(nested)
        elif isinstance(item, dict):
            out.append(f"{indent}- {{}}\n")
        elif isinstance(item, list | tuple):
            out.append(f"{indent}- []\n")
        else:
            out.append(f"{indent}- {_scalar(item, inner)}\n")
