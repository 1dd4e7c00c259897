"""One run per ticket, and one ticket per work tree, at a time: OS file locks plus holder notes.

The locks are flocks (via filelock) in exec-auto's state dir inside .git: the OS drops them when
the holding process dies, so a lock left by a killed run is simply taken over by the next one.

Two locks, taken in this order:
- the ticket's lock: one run (or archive/restore) of a ticket at a time;
- the work tree's run lock: what a step changed is measured over the whole work tree, so two
  tickets running in one tree at once would each record the other's files. A second ticket is
  refused; separate worktrees (`--parallel`) have separate state dirs and run side by side.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

from exec_auto.atomicio import atomic_write_text
from exec_auto.clock import now_iso
from exec_auto.errors import ExecAutoError, LockHeldError, os_error_hint
from exec_auto.names import file_name
from exec_auto.proc import OWNER

WORKTREE_LOCK = "work-tree"


class _Held:
    """One flock and the note naming its holder."""

    def __init__(self, locks: Path, name: str):
        self.locks = locks
        self.path = locks / file_name(name, suffix=".lock")
        self.info_path = locks / file_name(name, suffix=".holder.json")
        self._locks: list[Any] = []
        self._inode: int | None = None
        # The note a holder that died without releasing left behind (read before it is replaced).
        self.previous: dict[str, Any] = {}

    def acquire(self, note: dict[str, Any]) -> bool:
        """Take the lock without waiting; False when another live process holds it."""
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.path), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return False
        self._locks.append(lock)
        self._inode = _inode(self.path)
        # A note survives only a holder that never released: it was killed.
        self.previous = self.holder() if self.info_path.exists() else {}
        atomic_write_text(self.info_path, json.dumps(note))
        return True

    def holder(self) -> dict[str, Any]:
        """The holder's note (pid, host, since, ticket), or {} when unreadable."""
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def intact(self) -> bool:
        """Whether the lock file we hold is still the one at its path (nobody deleted it)."""
        return self._inode is not None and _inode(self.path) == self._inode

    def release(self) -> None:
        """Drop the note and every flock taken."""
        if self._locks:
            self.info_path.unlink(missing_ok=True)
        for lock in reversed(self._locks):
            lock.release()
        self._locks.clear()


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _describe(info: dict[str, Any]) -> str:
    if not {"pid", "host", "since"} <= info.keys():
        return "another process"
    return f"pid {info['pid']} on {info['host']} since {info['since']}"


def _reap_previous(held: _Held) -> list[int]:
    """End what a killed earlier holder of this lock left running (its marked children)."""
    owner = held.previous.get("owner")
    if not isinstance(owner, str) or held.previous.get("host") != socket.gethostname():
        return []
    from exec_auto.orphans import reap

    return reap(owner)


class TicketLock:
    """Context manager holding the ticket's lock (and the work tree's); LockHeldError names the holder.

    worktree=False takes only the ticket's lock (a batch holding main-tree locks for tickets that
    run in worktrees of their own).
    """

    def __init__(self, state_dir: Path, ticket_name: str, *, worktree: bool = True):
        locks = state_dir / "locks"
        try:
            locks.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExecAutoError(
                f"cannot create exec-auto's lock folder: {exc.strerror or exc}",
                path=locks,
                hint=os_error_hint(exc, "check that .git is writable and .git/exec-auto a folder"),
            ) from None
        self.ticket_name = ticket_name
        self._ticket = _Held(locks, f"ticket-{ticket_name}")
        self._tree = _Held(locks, WORKTREE_LOCK) if worktree else None
        # Kept for callers and tests that look at the lock file itself.
        self.path = self._ticket.path
        self.info_path = self._ticket.info_path
        # Processes a killed earlier holder left running, ended when the lock was taken over.
        self.reaped: list[int] = []

    def _note(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": now_iso(),
            "ticket": self.ticket_name,
            # The mark every child of this run carries: the next run ends them if we are killed.
            "owner": OWNER,
        }

    def __enter__(self) -> TicketLock:
        try:
            self._enter()
        except OSError as exc:
            self._ticket.release()
            raise ExecAutoError(
                f"cannot take the run lock: {exc.strerror or exc}",
                path=self.path,
                hint=os_error_hint(exc, "check that .git/exec-auto is writable"),
            ) from None
        return self

    def _enter(self) -> None:
        if not self._ticket.acquire(self._note()):
            raise LockHeldError(
                f"ticket {self.ticket_name!r} is being run by {_describe(self._ticket.holder())}",
                hint="wait for that run to finish, or stop it (it resumes where it left off)",
            )
        self.reaped = _reap_previous(self._ticket)
        if self._tree is not None and not self._tree.acquire(self._note()):
            info = self._tree.holder()
            self._ticket.release()
            other = info.get("ticket", "another ticket")
            raise LockHeldError(
                f"ticket {other!r} is running in this work tree ({_describe(info)}); "
                f"{self.ticket_name!r} would record its changes as its own",
                hint="run tickets one after another (`exec-auto run A B`) or in separate "
                "worktrees (`exec-auto run A B --parallel 2`)",
            )
        if self._tree is not None:
            self.reaped += _reap_previous(self._tree)

    def refresh(self) -> list[str]:
        """Re-take locks whose files were deleted (e.g. by the agent); what was repaired."""
        repaired = []
        for held in (self._ticket, self._tree):
            if held is None or held.intact():
                continue
            try:
                held.locks.mkdir(parents=True, exist_ok=True)
                taken = held.acquire(self._note())
            except OSError as exc:
                repaired.append(f"could not re-create the lock {held.path}: {exc.strerror}")
                continue
            repaired.append(
                f"the lock file {held.path.name} was deleted during the run; re-created it"
                if taken
                else f"the lock file {held.path.name} was deleted and another run took it"
            )
        return repaired

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tree is not None:
            self._tree.release()
        self._ticket.release()
