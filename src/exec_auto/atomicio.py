"""Atomic file writes: a crash at any instant leaves either the old or the new complete file.

Temp files are named `.<name>.<pid>.<random>.tmp` beside the target, so one left by a killed
process can be told from one a live save owns (`remove_dead_temp_files`) and never travels into
the archive with its ticket.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import tempfile
from pathlib import Path

from exec_auto import faults

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")


@functools.cache
def _umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: the only portable read sets it, so set it straight back
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode `open(..., "w")` would give a new file: 0o666 less the umask."""
    return 0o666 & ~_umask()


# Room left in a 255-byte name for the temp file's dot, pid, random part and suffix.
_TEMP_STEM_MAX = 200


def _temp_stem(name: str) -> str:
    """name, cut so the temp file's name stays legal when name is near the 255-byte limit."""
    raw = name.encode("utf-8")
    return name if len(raw) <= _TEMP_STEM_MAX else raw[:_TEMP_STEM_MAX].decode("utf-8", "ignore")


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to path via a temp file in the same directory, fsync, rename, fsync the directory.

    A new file gets the user's umask (not mkstemp's 0600); a rewritten one keeps its mode.
    """
    path = Path(path)
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{_temp_stem(path.name)}.{os.getpid()}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = new_file_mode()
        with contextlib.suppress(OSError):
            os.chmod(tmp_name, mode)
        faults.point(f"before replacing {path.name}")
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_dir(directory)
    faults.point(f"after replacing {path.name}")


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs (one of another user counts: it cannot be asked)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_temp_files(directory: Path) -> list[str]:
    """Delete temp files in directory that killed processes left behind; the names removed.

    Older temp names without a pid (`.<name>.<random>.tmp`) are left to the age-based cleanup.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None or pid_alive(int(match.group("pid"))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(entry.name)
    return removed


def fsync_dir(directory: Path) -> None:
    """Make a rename in directory durable (a no-op where directories cannot be opened)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
