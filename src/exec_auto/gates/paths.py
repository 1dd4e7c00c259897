"""Small helpers shared by the gates: touched-file filtering, text clipping, plural counts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def relative(repo_root: Path, path: str) -> str:
    """path as a POSIX path relative to repo_root (absolute paths inside the repo are accepted)."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(repo_root.resolve())
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix().removeprefix("./")


def existing_python_files(repo_root: Path, touched: Iterable[str]) -> list[str]:
    """The touched .py files that still exist, relative to repo_root, sorted and unique."""
    found = {
        rel
        for rel in (relative(repo_root, p) for p in touched)
        if rel.endswith(".py") and (repo_root / rel).is_file()
    }
    return sorted(found)


def digests(repo_root: Path, files: Iterable[str]) -> dict[str, str]:
    """Content hash per file, to tell which files a tool rewrote."""
    out: dict[str, str] = {}
    for rel in files:
        try:
            out[rel] = hashlib.sha256((repo_root / rel).read_bytes()).hexdigest()
        except OSError:
            out[rel] = ""
    return out


def clip(text: str, limit: int = 2500) -> str:
    """text cut to about `limit` characters, keeping the start and the (usually telling) end."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = limit // 3
    tail = limit - head
    return f"{text[:head]}\n[... {len(text) - limit} characters cut ...]\n{text[-tail:]}"


def plural(count: int, noun: str) -> str:
    """'1 file', '2 files'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
