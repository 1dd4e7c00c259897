"""progress.yaml: the run's state document, read tolerantly for resume and written atomically.

Loading never raises for a bad file: a document that is not YAML (or not a mapping) is moved aside
to `progress.yaml.corrupt-<timestamp>` and the run starts a fresh record; older shapes are adapted
(see progress_legacy) with a warning for each adaptation. Saving writes the whole document through
a temp file and a rename, so a crash at any instant leaves the old or the new file, never half.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from exec_auto.atomicio import atomic_write_text, fsync_dir, remove_dead_temp_files
from exec_auto.clock import now_iso
from exec_auto.errors import ProgressError
from exec_auto.safe_read import PROGRESS_LIMIT, read_limited
from exec_auto.ticket.model import Progress
from exec_auto.ticket.progress_legacy import normalize_progress
from exec_auto.ticket.yamlio import YAMLError, describe_parse_error, dump_block, load_rt

HEADER = "# Written by exec-auto; safe to read, edits between runs are kept.\n"
# A save takes milliseconds; a temp file this old belongs to a save that was killed.
STALE_TEMP_SECONDS = 300


def load_progress(path: Path) -> tuple[Progress | None, list[str]]:
    """The progress record at path and what was adapted to read it; (None, []) when absent.

    A file that cannot be read as progress is moved aside (never deleted) and None returned.
    """
    path = Path(path)
    _remove_stale_temp_files(path)
    try:
        # Not a bad file but an unusable one (unreadable, a FIFO, a device, too large) raises:
        # starting fresh would overwrite it.
        raw = read_limited(path, limit=PROGRESS_LIMIT, error=ProgressError, what="progress file")
    except FileNotFoundError:
        return None, []
    progress, warnings, problem = _parse(path, raw)
    if problem is not None:
        return None, [_move_aside(path, problem)]
    return progress, warnings


def peek_progress(path: Path) -> Progress | None:
    """The progress record at path for display, or None; never changes or moves any file."""
    return inspect_progress(path).progress


@dataclass(frozen=True)
class ProgressView:
    """What is on disk, for display: the record, or why it cannot be used."""

    progress: Progress | None
    # Why the file cannot be used as progress (None: absent or fine).
    problem: str | None = None
    # True when `run` refuses the file (unreadable, not a regular file, too large) rather than
    # moving it aside.
    refused: bool = False

    def note(self, path: Path) -> str | None:
        """What `show`/`list` say about an unusable file, and what `run` will do with it."""
        if self.problem is None:
            return None
        if self.refused:
            return (
                f"{path.name} is unusable ({self.problem}); `exec-auto run` refuses to start "
                "until it is fixed or removed"
            )
        return (
            f"{path.name} is unreadable ({self.problem}); `exec-auto run` will move it aside to "
            f"{path.name}.corrupt-<time> and start a fresh record (every step pending)"
        )


def inspect_progress(path: Path) -> ProgressView:
    """The progress file at path as `run` would see it; never changes or moves any file."""
    path = Path(path)
    try:
        raw = read_limited(path, limit=PROGRESS_LIMIT, error=ProgressError, what="progress file")
    except FileNotFoundError:
        return ProgressView(None)
    except ProgressError as exc:
        return ProgressView(None, exc.message, refused=True)
    progress, _, problem = _parse(path, raw)
    return ProgressView(progress, problem)


def _parse(path: Path, raw: bytes) -> tuple[Progress | None, list[str], str | None]:
    """(progress, warnings, None), or (None, [], why the bytes are not a progress record)."""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        return None, [], f"it is not UTF-8 text (byte {exc.start})"
    warnings: list[str] = []
    try:
        data = load_rt(text)
    except YAMLError as exc:
        problem = describe_parse_error(exc, text)
        if "duplicate key" not in problem.problem:
            where = f"line {problem.line}: " if problem.line else ""
            return None, [], f"it is not valid YAML ({where}{problem.problem})"
        warnings.append(f"{path.name} line {problem.line}: {problem.problem}; kept the first")
        try:
            data = load_rt(text, allow_duplicate_keys=True)
        except YAMLError:
            return None, [], f"it is not valid YAML ({problem.problem})"
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        return None, [], f"it is {kind}"
    normalized, adapted = normalize_progress(data, default_name=path.parent.name)
    progress = _validate_salvaging(normalized, adapted)
    if progress is None:
        return None, [], "it does not fit the progress schema"
    warnings.extend(f"{path.name}: {warning}" for warning in adapted)
    return progress, warnings, None


def _validate_salvaging(data: dict[str, Any], warnings: list[str]) -> Progress | None:
    """Validate, dropping each value the schema rejects (so its default applies), with a warning."""
    for _ in range(500):
        try:
            return Progress.model_validate(data)
        except ValidationError as exc:
            # One at a time: dropping a list item shifts the positions the other errors name.
            error = exc.errors()[0]
            dropped = _drop(data, error["loc"])
            if dropped is None:
                return None
            where = ".".join(str(part) for part in dropped)
            warnings.append(f"{where}: {error['msg'].lower()}; dropped")
    return None


def _drop(data: Any, location: tuple[int | str, ...]) -> tuple[int | str, ...] | None:
    """Remove the value at location, or its nearest removable container; the path removed."""
    for cut in range(len(location), 0, -1):
        *parents, last = location[:cut]
        holder = data
        for part in parents:
            try:
                holder = holder[part]
            except (KeyError, IndexError, TypeError):
                holder = None
                break
        if isinstance(holder, dict) and last in holder:
            del holder[last]
            return location[:cut]
        if isinstance(holder, list) and isinstance(last, int) and 0 <= last < len(holder):
            del holder[last]
            return location[:cut]
    return None


def save_progress(path: Path, progress: Progress) -> None:
    """Write progress atomically as block-style YAML in the schema's key order."""
    path = Path(path)
    text = dump_block(progress.model_dump(mode="json"), header=HEADER)
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise ProgressError(
            f"cannot write: {exc.strerror or exc}",
            path=path,
            hint="check that the ticket folder exists and is writable (and the disk is not full)",
        ) from None


def _remove_stale_temp_files(path: Path) -> None:
    """Delete temp files a killed save left beside path (old ones only: a live save may own a new one)."""
    remove_dead_temp_files(path.parent)
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if temp.stat().st_mtime < cutoff:
                temp.unlink()


def _move_aside(path: Path, why: str) -> str:
    """Rename a bad progress file to a fresh `.corrupt-<timestamp>` name; the warning to show."""
    try:
        target = _unused_backup_name(path)
    except OSError as exc:
        raise ProgressError(
            f"cannot be read ({why}) and cannot be moved aside: {exc.strerror or exc}",
            path=path,
            hint="move or fix the file by hand, then rerun",
        ) from None
    fsync_dir(path.parent)
    return f"{path} could not be read: {why}; moved it to {target} and started a fresh record"


def move_to_backup(path: Path, label: str) -> Path:
    """Move path to `<name>.<label>-<timestamp>[-N]` (a name no other file has); the new path.

    Two backups in the same second get different names; an earlier backup is never replaced.
    """
    target = _unused_backup_name(path, label)
    fsync_dir(path.parent)
    return target


def _unused_backup_name(path: Path, label: str = "corrupt") -> Path:
    """Move path to `<name>.<label>-<timestamp>[-N]`, never replacing an existing file."""
    stem = f"{path.name}.{label}-{now_iso().replace(':', '')}"
    for attempt in range(1, 1000):
        target = path.with_name(stem if attempt == 1 else f"{stem}-{attempt}")
        try:
            # A hard link fails if target exists, so an earlier backup is never overwritten.
            os.link(path, target)
        except FileExistsError:
            continue
        except OSError:
            if target.exists():
                continue
            os.rename(path, target)  # filesystems without hard links
        else:
            os.unlink(path)
        return target
    raise FileExistsError(f"999 corrupt copies of {path.name} already exist")
