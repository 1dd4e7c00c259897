"""Line-preserving edits of hand-written YAML files (spec.yaml).

The scalar to change is located through ruamel.yaml's node marks and only its text is replaced (or
a line inserted), so comments, quoting, indentation and every other line stay byte-identical. When
a file's shape defeats that (multi-line values or flow mappings, an empty `ticket:`), a ruamel
round-trip dump in the file's detected indentation is the fallback. Either way the result is re-parsed and compared with the original
before it is returned: an edit that would change anything else is refused.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from exec_auto.ticket.yamlio import YAMLError, is_plain_safe, load_rt, round_trip_yaml, scalar_token


class YAMLEditError(Exception):
    """An edit could not be made in a way that provably changes only what was asked."""


def update_mapping(text: str, path: tuple[str, ...], updates: Mapping[str, str]) -> str:
    """text with the mapping at path holding updates (string values), changing as little as possible.

    The mapping is created at the end of its parent when absent. Raises YAMLError when text does
    not parse and YAMLEditError when no verified edit could be made.
    """
    original = load_rt(text)  # raises for invalid YAML and duplicate keys: never edit those
    if not isinstance(original, Mapping):
        raise YAMLEditError("the top level is not a mapping")
    expected = _expected_after(original, path, updates)
    surgical = _surgical_edit(text, path, updates)
    if surgical is not None and _reads_as(surgical, expected):
        return surgical
    fallback = _roundtrip_edit(text, path, updates)
    if _reads_as(fallback, expected):
        return fallback
    raise YAMLEditError("the edited document did not re-read as expected")


def _reads_as(candidate: str, expected: Any) -> bool:
    try:
        return bool(_plain(load_rt(candidate)) == expected)
    except YAMLError:
        return False


def _expected_after(original: Any, path: tuple[str, ...], updates: Mapping[str, str]) -> Any:
    expected = _plain(original)
    target = expected
    for key in path:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target.update(updates)
    return expected


def _plain(value: Any) -> Any:
    """ruamel's round-trip types as plain dicts, lists and scalars, for comparison."""
    if isinstance(value, Mapping):
        return {_plain_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _plain_key(key: Any) -> Any:
    return tuple(_plain(k) for k in key) if isinstance(key, list | tuple) else _plain(key)


def _surgical_edit(text: str, path: tuple[str, ...], updates: Mapping[str, str]) -> str | None:
    """Replace or insert scalar lines in place; None when the file's shape needs the fallback."""
    root = round_trip_yaml().compose(text)
    if not isinstance(root, MappingNode) or root.flow_style:
        return None
    parent: MappingNode = root
    for depth, key in enumerate(path):
        pair = _pair(parent, key)
        if pair is None:
            block = _new_block(path[depth:], updates, parent, root)
            return _append_lines(text, parent, block)
        child = pair[1]
        if not isinstance(child, MappingNode) or (child.flow_style and depth < len(path) - 1):
            return None  # an empty `ticket:` or a scalar: leave it to ruamel
        parent = child
    edits: list[tuple[int, int, str]] = []
    missing: dict[str, str] = {}
    for key, value in updates.items():
        pair = _pair(parent, key)
        if pair is None:
            missing[key] = value
            continue
        key_node, value_node = pair
        edit = _replace_scalar(text, key_node, value_node, value)
        if edit is None:
            return None
        edits.append(edit)
    indent = " " * parent.value[0][0].start_mark.column if parent.value else ""
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    if missing:
        # Re-compose: the replacements above may have shifted the marks.
        node: Node | None = round_trip_yaml().compose(text)
        for key in path:
            pair = _pair(node, key) if isinstance(node, MappingNode) else None
            node = pair[1] if pair is not None else None
        if not isinstance(node, MappingNode):
            return None
        if node.flow_style:
            return _append_flow(text, node, missing)
        lines = [f"{indent}{k}: {scalar_token(v)}" for k, v in missing.items()]
        return _append_lines(text, node, lines)
    return text


def _pair(mapping: MappingNode, key: str) -> tuple[Node, Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _replace_scalar(
    text: str, key_node: Node, value_node: Node, value: str
) -> tuple[int, int, str] | None:
    if not isinstance(value_node, ScalarNode):
        return None
    start, end = value_node.start_mark.index, value_node.end_mark.index
    if start == end:
        # `key:` with nothing after it: the value goes right after the colon.
        colon = text.find(":", key_node.end_mark.index)
        newline = text.find("\n", key_node.end_mark.index)
        if colon < 0 or (0 <= newline < colon):
            return None
        return colon + 1, colon + 1, " " + scalar_token(value)
    if value_node.style in ("|", ">") or "\n" in text[start:end]:
        return None
    return start, end, scalar_token(value, value_node.style)


def _last_leaf_end(text: str, node: Node) -> int:
    """Index just past the last character of node's content (ignoring following comments)."""
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        key, value = node.value[-1]
        if isinstance(value, ScalarNode) and value.start_mark.index == value.end_mark.index:
            return int(key.end_mark.index)
        return _last_leaf_end(text, value)
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _last_leaf_end(text, node.value[-1])
    end = int(node.end_mark.index)
    while end > 0 and text[end - 1] in " \t\n":
        end -= 1
    return end


def _append_lines(text: str, mapping: MappingNode, lines: list[str]) -> str | None:
    if mapping.flow_style or not mapping.value:
        return None
    end = _last_leaf_end(text, mapping)
    newline = text.find("\n", end)
    if newline < 0:
        text += "\n"
        newline = len(text) - 1
    return text[: newline + 1] + "".join(line + "\n" for line in lines) + text[newline + 1 :]


def _append_flow(text: str, mapping: MappingNode, pairs: Mapping[str, str]) -> str | None:
    """Add pairs before the closing brace of a one-line flow mapping such as `{type: bug}`."""
    start, end = mapping.start_mark.index, mapping.end_mark.index
    if "\n" in text[start:end] or not text[start:end].endswith("}"):
        return None
    inner = text[start + 1 : end - 1].rstrip()
    at = start + 1 + len(inner)
    separator = "" if not inner.strip() else (" " if inner.endswith(",") else ", ")
    added = ", ".join(f"{k}: {scalar_token(v)}" for k, v in pairs.items())
    return text[:at] + separator + added + text[at:]


def _new_block(
    path: tuple[str, ...], updates: Mapping[str, str], parent: MappingNode, root: MappingNode
) -> list[str]:
    """Lines for nested mappings path[0] > path[1] > ... holding updates, in the file's style."""
    base = parent.value[0][0].start_mark.column if parent.value else 0
    step = detect_mapping_indent(root)
    lines = [" " * (base + step * level) + f"{key}:" for level, key in enumerate(path)]
    inner = " " * (base + step * len(path))
    lines.extend(f"{inner}{k}: {scalar_token(v)}" for k, v in updates.items())
    # A new top-level block is kept visually apart from whatever came before it.
    return ["", *lines] if parent is root else lines


def detect_mapping_indent(root: Node) -> int:
    """The indentation step nested block mappings use in this document (2 when it has none)."""
    return _detect_indents(root)[0]


def _detect_indents(root: Node) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as ruamel's YAML.indent() takes them."""
    found: dict[str, int] = {}
    stack: list[tuple[Node, int]] = [(root, -1)]
    while stack and len(found) < 3:
        node, parent_col = stack.pop(0)
        if isinstance(node, MappingNode) and not node.flow_style:
            col = node.value[0][0].start_mark.column if node.value else 0
            if parent_col >= 0 and col > parent_col:
                found.setdefault("mapping", col - parent_col)
            stack.extend((v, col) for _, v in node.value)
        elif isinstance(node, SequenceNode) and not node.flow_style and node.value:
            dash = node.start_mark.column
            item_col = node.value[0].start_mark.column
            if parent_col >= 0 and dash >= parent_col and "offset" not in found:
                found["offset"] = dash - parent_col
                found["sequence"] = item_col - parent_col
            stack.extend((v, item_col) for v in node.value)
    mapping = found.get("mapping", 2)
    offset = found.get("offset", 0)
    sequence = max(found.get("sequence", offset + 2), offset + 2)
    return mapping, sequence, offset


def _roundtrip_edit(text: str, path: tuple[str, ...], updates: Mapping[str, str]) -> str:
    yaml = round_trip_yaml()
    mapping, sequence, offset = _detect_indents(yaml.compose(text))
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.explicit_start = text.lstrip().startswith("---")
    data = yaml.load(text)
    target = data
    for key in path:
        if not isinstance(target.get(key), Mapping):
            target[key] = {}
        target = target[key]
    for key, value in updates.items():
        target[key] = value if is_plain_safe(value) else DoubleQuotedScalarString(value)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
