"""Fault injection for crash tests: kill -9 this process at the Nth durable state change.

Crash consistency is proven by killing exec-auto at every moment that matters and checking the
rerun. Time-based kills hit those moments only by luck; this hook makes them exact. With
`EXEC_AUTO_KILL_AT=N` (a test-only variable, never set in normal use) the process sends itself
SIGKILL at the Nth point: each atomic write (just before its rename, with the temp file on disk,
and just after) and each folder move. `EXEC_AUTO_KILL_COUNT=FILE` instead appends one line per
point to FILE, so a test can learn how many points a run has. `EXEC_AUTO_KILL_SIGNAL=TERM`
(or `INT`, `HUP`, `INT,INT` for a second Ctrl-C right after the first) sends that signal at the
point instead of SIGKILL, so signal handling can be tested at exact moments too. Unset, each
point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_count = 0


def point(name: str) -> None:
    """A moment a kill must survive; kills the process here when it is the chosen one."""
    target = os.environ.get("EXEC_AUTO_KILL_AT")
    log = os.environ.get("EXEC_AUTO_KILL_COUNT")
    if target is None and log is None:
        return
    global _count
    _count += 1
    if log is not None:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{_count} {name}\n")
    if target is not None and _count == int(target):
        names = os.environ.get("EXEC_AUTO_KILL_SIGNAL", "KILL").split(",")
        for sig in names:
            os.kill(os.getpid(), signal.Signals[f"SIG{sig.strip().upper()}"])
