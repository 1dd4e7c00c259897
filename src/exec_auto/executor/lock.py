"""One run per ticket at a time: an OS file lock, plus a note naming the holder.

The lock is an flock (via filelock) in exec-auto's state dir inside .git: the OS drops it when the
holding process dies, so a lock left by a killed run is simply taken over by the next one.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from types import TracebackType

from exec_auto.atomicio import atomic_write_text
from exec_auto.clock import now_iso
from exec_auto.errors import LockHeldError


class TicketLock:
    """Context manager holding the ticket's lock; LockHeldError (exit 2) names the holder."""

    def __init__(self, state_dir: Path, ticket_name: str):
        from filelock import FileLock

        locks = state_dir / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        self.path = locks / f"{ticket_name}.lock"
        self.info_path = locks / f"{ticket_name}.holder.json"
        self.ticket_name = ticket_name
        self._lock = FileLock(str(self.path), timeout=0)

    def __enter__(self) -> TicketLock:
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout:
            raise LockHeldError(
                f"ticket {self.ticket_name!r} is being run by {self._holder()}",
                hint="wait for that run to finish, or stop it (it resumes where it left off)",
            ) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": now_iso()}
        atomic_write_text(self.info_path, json.dumps(holder))
        return self

    def _holder(self) -> str:
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
            return f"pid {info['pid']} on {info['host']} since {info['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.info_path.unlink(missing_ok=True)
        self._lock.release()
