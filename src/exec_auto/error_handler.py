"""The one place that turns exceptions into a message, a hint and an exit code."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

from exec_auto import signals
from exec_auto.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, ExecAutoError


class _Exit(Exception):
    def __init__(self, code: int):
        self.code = code


@contextlib.contextmanager
def error_handler() -> Iterator[None]:
    """Map ExecAutoError to its exit code, Ctrl-C to 130, anything else to 3 with a crash log."""
    debug = bool(os.environ.get("EXEC_AUTO_DEBUG"))
    try:
        yield
    except ExecAutoError as exc:
        if debug:
            traceback.print_exc()
        print(f"exec-auto: error: {exc.one_line()}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        raise _Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        print(f"exec-auto: interrupted ({signals.describe()})", file=sys.stderr)
        raise _Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        log = Path(tempfile.gettempdir()) / f"exec-auto-crash-{os.getpid()}.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        if debug:
            traceback.print_exc()
        print(f"exec-auto: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(
            f"  the full traceback is in {log} (set EXEC_AUTO_DEBUG=1 to print it)", file=sys.stderr
        )
        raise _Exit(EXIT_INTERNAL) from None


def run_guarded(func: object, *args: object) -> int:
    """Call func(*args) -> int inside the error handler; return the exit code."""
    try:
        with error_handler():
            code = int(func(*args))  # type: ignore[operator]
    except _Exit as exc:
        code = exc.code
    # 128 + the signal that stopped the run (143 for SIGTERM, 129 for SIGHUP), as a shell says.
    return signals.exit_code(code)
