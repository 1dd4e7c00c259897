"""Scratch folders under TMPDIR named after the process that owns them, so a killed run's are found.

A name is `exec-auto-<kind>-<pid>-<random>` (a scratch checkout's index file beside it adds
`.index`). A `kill -9` of exec-auto leaves such folders behind - the sandbox's private HOME and
TMPDIR, a gate's report folder, a checkout of the code before the ticket; the next run removes the
ones whose owner is gone (`remove_dead`), never one of a live process and never a name it did not
make. The git guard's copies of the user's files (`exec-auto-userfiles-*`) are not scratch: they
are the only copy of what an agent may have destroyed, and are never removed here.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from exec_auto.atomicio import pid_alive

KINDS = ("sandbox", "pytest", "unittest", "pre-commit", "before", "redgreen", "overlay", "claude")
# tempfile's random part: 8 characters of `[a-z0-9_]`.
_NAME = re.compile(
    rf"^exec-auto-(?:{'|'.join(re.escape(k) for k in KINDS)})-(?P<pid>\d+)-[a-z0-9_]{{8}}"
    r"(?:\.index)?$"
)


def prefix(kind: str) -> str:
    """The name prefix of this process's scratch folders of one kind (for tempfile's prefix=)."""
    assert kind in KINDS, f"unknown scratch kind {kind!r}"
    return f"exec-auto-{kind}-{os.getpid()}-"


def make(kind: str) -> Path:
    """A fresh scratch folder under TMPDIR named after this process."""
    return Path(tempfile.mkdtemp(prefix=prefix(kind)))


def remove_dead(folder: Path | None = None) -> list[str]:
    """Delete scratch folders (and index files) in TMPDIR whose owner died; the names removed.

    Only entries this user owns, found by name and never followed through a symlink.
    """
    where = folder or Path(tempfile.gettempdir())
    removed: list[str] = []
    try:
        entries = list(os.scandir(where))
    except OSError:
        return removed
    for entry in entries:
        match = _NAME.match(entry.name)
        pid = int(match.group("pid")) if match else 0
        # pid 0 or one no kernel hands out: not a name this module made.
        if not 0 < pid < 2**31 or pid_alive(pid):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_uid != os.getuid():
            continue
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(entry.path, ignore_errors=True)
        elif stat.S_ISREG(info.st_mode):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
        else:
            continue
        if not os.path.lexists(entry.path):
            removed.append(entry.name)
    return removed
