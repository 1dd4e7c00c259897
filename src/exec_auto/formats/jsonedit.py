"""Byte-minimal edits of a JSON document: change one value, keep every other byte.

`spans` walks the text once and records where each value starts and ends, keyed by its path
(("master", "tasks", 3, "status")). `set_value` replaces exactly that span (or inserts a member
after the object's last one, indented like its siblings) and checks that the result parses to
the original document with only that change; anything else is refused.
"""

from __future__ import annotations

import json
from typing import Any

Path_ = tuple[str | int, ...]

_WS = " \t\r\n"


class JSONEditError(Exception):
    """The document cannot be edited in place as asked."""


def spans(text: str) -> dict[Path_, tuple[int, int]]:
    """Every value's (start, end) offsets, keyed by its path."""
    out: dict[Path_, tuple[int, int]] = {}
    _Scanner(text, out).document()
    return out


class _Scanner:
    def __init__(self, text: str, out: dict[Path_, tuple[int, int]]):
        self.text = text
        self.pos = 0
        self.out = out
        self.decoder = json.JSONDecoder()

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WS:
            self.pos += 1

    def document(self) -> None:
        self.ws()
        self.value(())
        self.ws()
        if self.pos != len(self.text):
            raise JSONEditError(f"extra data at offset {self.pos}")

    def value(self, path: Path_) -> None:
        start = self.pos
        char = self.text[self.pos : self.pos + 1]
        if char == "{":
            self.obj(path)
        elif char == "[":
            self.arr(path)
        else:
            try:
                _, end = self.decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                raise JSONEditError(str(exc)) from None
            self.pos = end
        self.out[path] = (start, self.pos)

    def obj(self, path: Path_) -> None:
        self.pos += 1
        self.ws()
        if self.text[self.pos] == "}":
            self.pos += 1
            return
        while True:
            self.ws()
            key, end = self._key()
            self.pos = end
            self.ws()
            if self.text[self.pos] != ":":
                raise JSONEditError(f"expected ':' at offset {self.pos}")
            self.pos += 1
            self.ws()
            self.value((*path, key))
            self.ws()
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            if self.text[self.pos] == "}":
                self.pos += 1
                return
            raise JSONEditError(f"expected ',' or '}}' at offset {self.pos}")

    def _key(self) -> tuple[str, int]:
        try:
            key, end = self.decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            raise JSONEditError(str(exc)) from None
        if not isinstance(key, str):
            raise JSONEditError(f"object key is not a string at offset {self.pos}")
        return key, end

    def arr(self, path: Path_) -> None:
        self.pos += 1
        self.ws()
        if self.text[self.pos] == "]":
            self.pos += 1
            return
        index = 0
        while True:
            self.ws()
            self.value((*path, index))
            index += 1
            self.ws()
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            if self.text[self.pos] == "]":
                self.pos += 1
                return
            raise JSONEditError(f"expected ',' or ']' at offset {self.pos}")


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def set_value(text: str, path: Path_, value: Any) -> str:
    """text with the value at path replaced (or the member added); JSONEditError if it cannot be."""
    try:
        before = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JSONEditError(f"not valid JSON: {exc}") from None
    found = spans(text)
    token = json.dumps(value, ensure_ascii=False)
    if path in found:
        start, end = found[path]
        result = text[:start] + token + text[end:]
    else:
        parent = path[:-1]
        if (
            parent not in found
            or not isinstance(_get(before, parent), dict)
            or not isinstance(path[-1], str)
        ):
            raise JSONEditError(f"no object at {'/'.join(map(str, parent))} to add {path[-1]!r} to")
        result = _insert_member(text, found, parent, path[-1], token, _get(before, parent))
    expected = json.loads(text)
    holder = _get(expected, path[:-1])
    holder[path[-1]] = value
    if json.loads(result) != expected:
        raise JSONEditError("the edit would change more than the one value")
    return result


def _insert_member(
    text: str,
    found: dict[Path_, tuple[int, int]],
    parent: Path_,
    key: str,
    token: str,
    obj: dict[str, Any],
) -> str:
    _, end = found[parent]
    close = end - 1  # the "}"
    if not obj:
        return text[:close] + json.dumps(key) + ": " + token + text[close:]
    last_key = list(obj)[-1]
    value_start, last_end = found[(*parent, last_key)]
    # Indent the new member like the previous one, with the same key/colon spacing.
    key_token = json.dumps(last_key, ensure_ascii=False)
    key_start = text.rfind(key_token, 0, value_start)
    gap = text[key_start + len(key_token) : value_start]
    line_start = text.rfind("\n", 0, key_start) + 1
    indent = text[line_start:key_start]
    separator = "\n" + indent if line_start > 0 and indent.strip() == "" else " "
    return text[:last_end] + "," + separator + json.dumps(key) + gap + token + text[last_end:]
