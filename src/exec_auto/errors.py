"""The one base exception for user-facing failures, and the exit codes the CLI maps them to."""

from __future__ import annotations

import errno
from pathlib import Path

EXIT_OK = 0
EXIT_ISSUES = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class ExecAutoError(Exception):
    """A failure the user can act on: one line saying what and where, plus a hint."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, path: Path | str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.hint = hint

    def one_line(self) -> str:
        """The message prefixed with the file it concerns."""
        return f"{self.path}: {self.message}" if self.path is not None else self.message


class TicketNotFoundError(ExecAutoError):
    """The ticket reference resolves to nothing usable."""


class PlanError(ExecAutoError):
    """plan.md is missing or has no recognisable steps."""


class FormatError(ExecAutoError):
    """A ticket file of a planning format (tasks.md, tasks.json, a story) cannot be read or written."""


class SpecError(ExecAutoError):
    """spec.yaml cannot be read or written."""


class ProgressError(ExecAutoError):
    """progress.yaml cannot be read or written."""


class ConfigError(ExecAutoError):
    """Configuration (flags or [tool.exec-auto]) is invalid."""


class LockHeldError(ExecAutoError):
    """Another live run holds the ticket's lock."""


class AgentNotConfiguredError(ExecAutoError):
    """No agent backend could be chosen or started."""


class ArchiveError(ExecAutoError):
    """A ticket cannot be archived or restored."""


class Interrupted(ExecAutoError):
    """The run was stopped by SIGINT, SIGTERM or SIGHUP (exit 128 + the signal, see signals.py)."""

    exit_code = EXIT_INTERRUPTED


class NotReadyError(ExecAutoError):
    """The ticket's readiness score is below the threshold for an unattended run."""

    def __init__(self, message: str, *, score: int, reasons: list[str], hint: str | None = None):
        super().__init__(message, hint=hint)
        self.score = score
        self.reasons = reasons


_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, then rerun",
    errno.EDQUOT: "the disk quota is used up: free some space, then rerun",
    errno.EFBIG: "a file size limit was reached (ulimit -f): raise it, then rerun",
    errno.EROFS: "the file system is read-only: make it writable, then rerun",
    errno.EACCES: "check the permissions of the project, its .git and the ticket folder",
    errno.EPERM: "check the permissions (and immutable flags, `lsattr`) of the files involved",
}


def os_error_hint(exc: OSError, default: str) -> str:
    """The hint for an OS error a user can fix (disk full, read-only, permissions), else default."""
    return _OS_HINTS.get(exc.errno or 0, default)
