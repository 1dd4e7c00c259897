"""What a run checks and reads before step 1, so bad input fails before anything is written.

- `read_spec`: spec.yaml as the run will use it. A spec that cannot be read (invalid YAML, a
  custom tag, an alias bomb, not a regular file...) does not block a run whose plan is fine: the
  plan runs, the spec stays byte-identical, and the run logs and reports that its criteria and
  status could not be read. `show` uses the same function, so both apply one rule.
- `check_outputs`: files the run will write later (`--record`), checked now rather than after
  step 1 has run.
- `startup_errors`: an OS error while setting up (disk full, read-only .git) becomes a one-line
  error (exit 2) instead of an internal error.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from exec_auto.config import Config
from exec_auto.errors import ConfigError, ExecAutoError, SpecError, os_error_hint
from exec_auto.formats.cdd.spec import Spec, SpecParseError, load_spec
from exec_auto.ticket.resolve import TicketRef


@dataclass(frozen=True)
class SpecState:
    """spec.yaml as a run uses it."""

    spec: Spec | None
    # Why the spec could not be read (None: read fine, or absent).
    problem: str | None = None

    @property
    def present(self) -> bool:
        """Whether a spec.yaml exists (readable or not)."""
        return self.spec is not None or self.problem is not None

    @property
    def writable(self) -> bool:
        """Whether the run records lifecycle status in it."""
        return self.spec is not None and self.spec.not_writable is None

    def unwritable_reason(self) -> str | None:
        """Why status changes are not recorded in the spec (None: they are, or no spec)."""
        if self.problem is not None:
            return f"could not be read ({self.problem})"
        if self.spec is not None and self.spec.not_writable is not None:
            return f"has a duplicate key ({self.spec.not_writable})"
        return None


def read_spec(ticket: TicketRef) -> SpecState:
    """The ticket's spec, or why it could not be read; never raises for the spec's content."""
    path = ticket.spec_path
    if not (path.exists() or path.is_symlink()):
        return SpecState(None)
    try:
        return SpecState(load_spec(path))
    except SpecParseError as exc:
        where = f"line {exc.line}: " if exc.line is not None else ""
        return SpecState(None, f"{where}{exc.message}")
    except SpecError as exc:
        return SpecState(None, exc.message)


def spec_issue(state: SpecState) -> str | None:
    """The issue a run logs for a spec it cannot use, or None."""
    reason = state.unwritable_reason()
    if reason is None:
        return None
    if state.problem is not None:
        return (
            f"spec.yaml {reason}: its acceptance criteria were not validated and its status "
            "was not updated (the file was left as it is)"
        )
    return f"spec.yaml {reason}: its status was not updated (the file was left as it is)"


def check_outputs(config: Config) -> None:
    """Refuse outputs that cannot be written, before step 1 runs."""
    record = config.agent.record_file
    if record is not None:
        check_writable_file(record, "--record")
    report_dir = config.batch.report_dir
    if report_dir is not None:
        check_folder(report_dir, "--report-dir")


def check_writable_file(path: Path, flag: str) -> None:
    """ConfigError unless path can be created or replaced as a regular file."""
    parent = path.parent
    if path.is_dir():
        raise ConfigError(
            f"{flag} {path}: is a folder, not a file", hint=f"give {flag} a file name inside it"
        )
    if path.exists() and not path.is_file():
        raise ConfigError(f"{flag} {path}: is not a regular file", hint=f"give {flag} a file name")
    if not parent.is_dir():
        raise ConfigError(
            f"{flag} {path}: the folder {parent} does not exist",
            hint=f"create it first (`mkdir -p {parent}`) or give {flag} another path",
        )
    problem = _cannot_create_in(parent)
    if problem is not None:
        raise ConfigError(
            f"{flag} {path}: cannot write in the folder {parent} ({problem})",
            hint=f"give {flag} another path",
        )


def _cannot_create_in(folder: Path) -> str | None:
    """Why a file cannot be created in folder (tried for real, then removed), or None.

    os.access says yes to root everywhere, and to /proc; only creating a file tells.
    """
    import tempfile

    try:
        fd, name = tempfile.mkstemp(prefix=".exec-auto-probe-", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def check_folder(path: Path, flag: str) -> None:
    """ConfigError unless path is (or can become) a writable folder."""
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"{flag} {path}: is a file, not a folder",
            hint=f"give {flag} a folder (it is created when missing)",
        )
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or _cannot_create_in(existing) is not None:
        raise ConfigError(
            f"{flag} {path}: cannot be created ({existing} is not a writable folder)",
            hint=f"give {flag} another folder",
        )


@contextlib.contextmanager
def startup_errors() -> Iterator[None]:
    """Turn an OS error while a run sets up into a one-line error with a hint (exit 2)."""
    try:
        yield
    except OSError as exc:
        where = os.fsdecode(exc.filename) if isinstance(exc.filename, str | bytes) else None
        raise ExecAutoError(
            f"cannot start: {exc.strerror or exc}",
            path=where,
            hint=os_error_hint(exc, "check that the project folder is writable"),
        ) from None


# <linux/fs.h>: FS_IOC_GETFLAGS and the flags that make a file unchangeable even for root.
_FS_IOC_GETFLAGS = 0x80086601
_FS_IMMUTABLE_FL = 0x00000010
_FS_APPEND_FL = 0x00000020


def _immutable(path: Path) -> bool:
    """Whether path carries the immutable or append-only attribute (`chattr +i` / `+a`)."""
    import array
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        flags = array.array("l", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
    except OSError:
        return False  # a file system without attributes
    finally:
        os.close(fd)
    return bool(flags[0] & (_FS_IMMUTABLE_FL | _FS_APPEND_FL))


def check_rewritable(root: Path, files: Iterable[str]) -> None:
    """Refuse (exit 2, before anything is written) ticket files the run must rewrite but cannot."""
    for rel in files:
        path = root / rel
        if not path.is_file():
            continue
        if _immutable(path):
            raise SpecError(
                "is immutable: exec-auto cannot record the ticket's status in it",
                path=path,
                hint=f"remove the attribute (`chattr -i {path}`), then rerun",
            )
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            raise SpecError(
                "is not writable: exec-auto cannot record the ticket's status in it",
                path=path,
                hint="make the file and its folder writable, then rerun",
            )


# Files git keeps while an operation waits for the user; a run would build on a half-done state.
_IN_PROGRESS = (
    ("MERGE_HEAD", "a merge", "finish it (`git commit`) or abort it (`git merge --abort`)"),
    ("rebase-merge", "a rebase", "finish it (`git rebase --continue`) or `git rebase --abort`"),
    ("rebase-apply", "a rebase or `git am`", "finish it (`--continue`) or abort it (`--abort`)"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "finish it or `git cherry-pick --abort`"),
    ("REVERT_HEAD", "a revert", "finish it or `git revert --abort`"),
    ("BISECT_LOG", "a bisect", "end it with `git bisect reset`"),
)


def check_repository(root: Path) -> None:
    """Refuse (exit 2, before anything is written) a repository a run cannot safely work in.

    An operation in progress (merge, rebase, cherry-pick, revert, bisect) leaves conflicted or
    half-applied files the agent would build on; an index git cannot read fails every snapshot.
    """
    from exec_auto.proc import git
    from exec_auto.repo import git_dir

    where = git_dir(root)
    for name, what, hint in _IN_PROGRESS:
        if (where / name).exists():
            raise ExecAutoError(
                f"{what} is in progress in this repository ({where / name} exists)",
                path=root,
                hint=f"{hint}, then rerun",
            )
    # Reads (parses) the whole index and prints nothing: the pathspec matches no file.
    probe = git("ls-files", "--", ":(literal).exec-auto-index-probe", cwd=root)
    if not probe.ok:
        reason = (probe.stderr.strip().splitlines() or ["git cannot read it"])[-1]
        raise ExecAutoError(
            f"git cannot read the repository's index: {reason.removeprefix('fatal: ')}",
            path=where / "index",
            hint="repair it (`rm .git/index && git reset` rebuilds it from HEAD), then rerun",
        )
