"""Terminating signals take one path: SIGTERM and SIGHUP stop a run as Ctrl-C does.

Each raises KeyboardInterrupt in the main thread, so the same code kills every child, saves
progress and releases the lock. The exit code then says which signal it was, as a shell would:
128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from exec_auto.errors import EXIT_INTERRUPTED

_STOPPING = (signal.SIGTERM, signal.SIGHUP)
_received: int | None = None


def install() -> None:
    """Route SIGTERM and SIGHUP to the Ctrl-C path (main thread only); forget earlier signals."""
    global _received
    _received = None
    for sig in _STOPPING:
        signal.signal(sig, _stop)


def _stop(signum: int, frame: FrameType | None) -> None:
    global _received
    if _received is None:
        _received = signum
    raise KeyboardInterrupt


def received() -> int | None:
    """The first SIGTERM/SIGHUP received since install(), or None (Ctrl-C or no signal)."""
    return _received


def exit_code(code: int) -> int:
    """The process's exit code: an interrupted run's 130 becomes 128 + the signal that stopped it."""
    if code == EXIT_INTERRUPTED and _received is not None:
        return 128 + _received
    return code


def describe() -> str:
    """What stopped the run, for its last message."""
    return signal.Signals(_received).name if _received is not None else "Ctrl-C"


def _note(signum: int, frame: FrameType | None) -> None:
    global _received
    if _received is None and signum != signal.SIGINT:
        _received = signum


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Inside the block SIGINT/SIGTERM/SIGHUP are noted, not raised: a short cleanup that must end.

    The run is stopping already; a further Ctrl-C must not cut the saving of its progress short.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers belong to the main thread; a worker's cleanup runs as it is
        return
    held = (signal.SIGINT, *_STOPPING)
    previous = {sig: signal.getsignal(sig) for sig in held}
    for sig in held:
        signal.signal(sig, _note)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
