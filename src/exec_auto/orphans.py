"""What a killed run left running: found by the mark its children carry, stopped by the next run.

A run killed with SIGKILL (or by the OOM killer, or a host reboot of the terminal) gets no chance
to stop its children, and each child runs in a session of its own. In the sandbox the kernel ends
them with their parent (`--die-with-parent`); without it, an agent or a pytest could go on
editing the work tree under the next run. Every process exec-auto starts carries
`EXEC_AUTO_OWNER=<pid>-<token>` (see `proc.run`); the run lock's holder note records that mark,
so the run that takes over a dead holder's lock ends whatever still carries it before it starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from exec_auto.proc import OWNER_VAR


def owner_alive(owner: str) -> bool:
    """Whether the exec-auto process that owns this mark still runs."""
    pid_text = owner.split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def marked(owner: str) -> list[int]:
    """PIDs of live processes carrying this owner mark (Linux /proc; elsewhere none)."""
    if not sys.platform.startswith("linux") or not owner:
        return []
    needle = f"{OWNER_VAR}={owner}".encode()
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def reap(owner: str) -> list[int]:
    """SIGKILL every process (and its process group) left by the dead owner; the PIDs ended.

    Does nothing while the owner runs: its children are its own business.
    """
    if not owner or owner_alive(owner):
        return []
    ended: list[int] = []
    for _ in range(5):  # a killed leader's children may appear as they are re-parented
        found = [p for p in marked(owner) if p not in ended]
        if not found:
            break
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                group = os.getpgid(pid)
                if group != os.getpgrp():  # never our own group
                    os.killpg(group, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        ended += found
        time.sleep(0.05)
    return ended
