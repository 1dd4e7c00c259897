"""File names built from what a plan or a user chose (step ids, ticket names), kept legal.

A step id comes from the plan's own numbering and a ticket name from its folder: either can be
longer than the file system's 255-byte name limit once a prefix and suffix are added, or hold
characters a file name cannot. `file_name` always returns a usable name, and a distinct one for
distinct inputs (a hash of the original replaces what had to be cut).
"""

from __future__ import annotations

import hashlib
import re

# Linux, macOS and Windows file systems all allow 255 bytes (or UTF-16 units) per name.
NAME_MAX = 255
_UNSAFE = re.compile(r"[\x00-\x1f/\\:*?\"<>|]")


def file_name(*parts: str, suffix: str = "", sep: str = "-") -> str:
    """parts joined by sep plus suffix, as a legal file name of at most NAME_MAX bytes."""
    raw = sep.join(parts)
    name = _UNSAFE.sub("_", raw)
    if name in {"", ".", ".."}:
        name = f"_{name}"
    if name == raw and len((name + suffix).encode("utf-8")) <= NAME_MAX:
        return name + suffix
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    room = NAME_MAX - len(suffix.encode("utf-8")) - len(digest) - 1
    head = name.encode("utf-8")[: max(room, 1)].decode("utf-8", "ignore")
    return f"{head}~{digest}{suffix}"
