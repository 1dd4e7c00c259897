"""Reading the files a user hands us without hanging or exhausting memory.

A ticket, state or config file may be anything the file system can hold: a FIFO (opening it for
reading blocks until a writer appears), a symlink to `/dev/zero` (reading never ends), a device
whose opening has side effects, or simply a file of gigabytes. Every such file is read here:
only regular files are opened (checked before opening, and again on the open descriptor), and
never more than a limit of bytes is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from exec_auto.errors import ExecAutoError

MB = 1024 * 1024
# Generous for any hand-written ticket file; a plan of 4 MB is 60,000 lines.
PLAN_LIMIT = 4 * MB
SPEC_LIMIT = 2 * MB
CONFIG_LIMIT = 2 * MB
CONVENTIONS_LIMIT = 2 * MB
# progress.yaml grows with every issue (details are capped at 4,000 characters each).
PROGRESS_LIMIT = 32 * MB
RECORDING_LIMIT = 512 * MB

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def file_kind(mode: int) -> str:
    """A person's name for the kind of file that mode describes."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n} bytes"


def read_limited(
    path: Path,
    *,
    limit: int,
    error: type[ExecAutoError] = ExecAutoError,
    what: str = "file",
) -> bytes:
    """The bytes of the regular file at path (symlinks followed), at most limit of them.

    FileNotFoundError propagates (callers say what a missing file means); anything else that
    makes the file unusable raises `error` with a one-line reason and a hint.
    """
    path = Path(path)
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _os_error(path, exc, error, what) from None
    _require_regular(path, before.st_mode, error, what)
    _require_size(path, before.st_size, limit, error, what)
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, open must not block.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _os_error(path, exc, error, what) from None
    try:
        opened = os.fstat(fd)
        _require_regular(path, opened.st_mode, error, what)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 * MB, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                _require_size(path, total, limit, error, what)
    except OSError as exc:
        raise _os_error(path, exc, error, what) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def _require_regular(path: Path, mode: int, error: type[ExecAutoError], what: str) -> None:
    if not stat.S_ISREG(mode):
        target = f" (a link to {os.path.realpath(path)})" if os.path.islink(path) else ""
        raise error(
            f"the {what} is {file_kind(mode)}{target}, not a regular file",
            path=path,
            hint=f"replace it with a regular file (the {what} is read, never a pipe or device)",
        )


def _require_size(path: Path, size: int, limit: int, error: type[ExecAutoError], what: str) -> None:
    if size > limit:
        raise error(
            f"the {what} is larger than {_size(limit)} (exec-auto's limit for it)",
            path=path,
            hint="check that this is the right file; such a size is not a hand-written ticket",
        )


def _os_error(path: Path, exc: OSError, error: type[ExecAutoError], what: str) -> ExecAutoError:
    hints = {
        errno.EACCES: "check the file's permissions",
        errno.ELOOP: "the symlink points at itself or at a loop of links",
        errno.ENAMETOOLONG: "the path is longer than the file system allows",
    }
    return error(
        f"cannot read the {what}: {exc.strerror or exc}",
        path=path,
        hint=hints.get(exc.errno or 0, "check that the file exists and is readable"),
    )


def decode_utf8(
    raw: bytes, path: Path, *, error: type[ExecAutoError] = ExecAutoError, what: str = "file"
) -> str:
    """raw as UTF-8 text (a BOM dropped); `error` naming the first bad byte otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"the {what} is not UTF-8 text (byte {exc.start})",
            path=path,
            hint="save the file as UTF-8",
        ) from None


def project_text(path: Path, *, limit: int = CONFIG_LIMIT) -> str | None:
    """A project file's UTF-8 text for the gates' guesses, or None when it cannot be used.

    For files exec-auto only peeks at (requirements*.txt, tox.ini, .pre-commit-config.yaml...):
    missing, a FIFO or device, larger than limit, unreadable or not UTF-8 all mean "no hint
    here" - never a hang on a pipe or an endless read of `/dev/zero`.
    """
    try:
        return read_limited(path, limit=limit).decode("utf-8")
    except (OSError, ExecAutoError, UnicodeDecodeError):
        return None
