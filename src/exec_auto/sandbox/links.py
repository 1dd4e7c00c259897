"""Paths that lead out of the repository through a symlink: gates must never touch them.

A formatter given `app/evil.py -> /outside/x.py` rewrites the outside file; the executor hands the
gates only paths that stay inside, and reports the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def leaves_repo(root: Path, rel: str) -> bool:
    """True when root/rel, or a folder on the way to it, is a symlink pointing outside root."""
    base = root.resolve()
    path = root / rel
    try:
        return not path.resolve().is_relative_to(base)
    except (OSError, RuntimeError):  # a symlink loop: nowhere a gate should go either
        return True


def split_escaping(root: Path, paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(paths that stay inside the repository, paths that lead out of it)."""
    inside: list[str] = []
    outside: list[str] = []
    for rel in paths:
        (outside if leaves_repo(root, rel) else inside).append(rel)
    return inside, outside
