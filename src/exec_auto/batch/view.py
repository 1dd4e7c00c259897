"""What a batch shows while it runs: one line per ticket.

Each ticket gets a `TicketWatch`, the `RunUI` its executor reports to. The watch keeps the ticket's
state for the screen and the budget, and fans events out to a per-ticket log file and (when not on
a terminal) to stdout as `[ticket] ...` lines. On a terminal a rich live table shows one row per
ticket instead.

Worker threads cannot receive SIGINT; besides the agent and gate wrappers (`interrupt.py`), the
watch stops a worker that is about to start a step once the batch is interrupted.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from exec_auto.executor.ui import PlainUI, RunUI
from exec_auto.ticket.model import ProgressIssue, StepProgress

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live


class SyncPlainUI(PlainUI):
    """PlainUI whose lines never interleave with other threads' lines."""

    def __init__(self, stream: TextIO, prefix: str, lock: threading.Lock):
        super().__init__(stream, prefix)
        self.lock = lock

    def _print(self, text: str) -> None:
        with self.lock:
            super()._print(text)


class TicketWatch:
    """A ticket's RunUI in a batch: tracks state and spend, forwards events to its sinks."""

    def __init__(
        self,
        name: str,
        interrupted: threading.Event,
        on_spend: Callable[[float], None] = lambda usd: None,
    ):
        self.name = name
        self.state = "queued"
        self.index = 0
        self.total = 0
        self.current = ""
        self.issues = 0
        self.cost_usd = 0.0
        self.started: float | None = None
        self.ended: float | None = None
        self.sinks: list[RunUI] = []
        self._interrupted = interrupted
        self._on_spend = on_spend

    def _stop_if_interrupted(self) -> None:
        if self._interrupted.is_set():
            raise KeyboardInterrupt

    def begin(self, state: str = "running") -> None:
        """The ticket left the queue."""
        self.state = state
        if self.started is None:
            self.started = time.monotonic()

    def end(self, state: str) -> None:
        """The ticket is done (any outcome)."""
        self.state = state
        self.ended = time.monotonic()
        self.current = ""

    def elapsed(self) -> float | None:
        """Seconds this ticket has been running."""
        if self.started is None:
            return None
        return (self.ended or time.monotonic()) - self.started

    def message(self, text: str) -> None:
        """Forward a note."""
        for sink in self.sinks:
            sink.message(text)

    def step_started(self, index: int, total: int, step_id: str, title: str) -> None:
        """Track and forward the step header."""
        self._stop_if_interrupted()
        self.index, self.total, self.current = index, total, title[:50]
        for sink in self.sinks:
            sink.step_started(index, total, step_id, title)

    def step_finished(self, index: int, total: int, record: StepProgress) -> None:
        """Count the step's spend against the batch budget and forward."""
        # A budget counts estimated spend too: an API backend reports no measured cost.
        self.cost_usd += record.agent.spend_usd
        self._on_spend(record.agent.spend_usd)
        for sink in self.sinks:
            sink.step_finished(index, total, record)

    def issue_logged(self, issue: ProgressIssue) -> None:
        """Count and forward the issue."""
        self.issues += 1
        for sink in self.sinks:
            sink.issue_logged(issue)

    def close(self) -> None:
        """Close the sinks (the log file)."""
        for sink in self.sinks:
            sink.close()


class FileUI(PlainUI):
    """PlainUI into a log file, opened on the first line (tickets that never start leave none)."""

    def __init__(self, path: Path):
        super().__init__(sys.stderr)
        self.path = path
        self.file: TextIO | None = None

    def _print(self, text: str) -> None:
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.path.open("a", encoding="utf-8")
        print(text, file=self.file, flush=True)

    def close(self) -> None:
        """Close the file."""
        if self.file is not None:
            self.file.close()


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


class BatchView:
    """The batch's screen: `[ticket]` lines on a pipe, a live table on a terminal."""

    def __init__(
        self,
        names: list[str],
        log_dir: Path,
        interrupted: threading.Event,
        on_spend: Callable[[float], None],
        *,
        live: bool,
        stream: TextIO | None = None,
    ):
        self.stream = stream or sys.stdout
        self.log_dir = log_dir
        self.lock = threading.Lock()
        self.watches = {n: TicketWatch(n, interrupted, on_spend) for n in names}
        width = max((len(n) for n in names), default=0)
        for name, watch in self.watches.items():
            watch.sinks.append(FileUI(log_dir / name / "run.log"))
            if not live:
                watch.sinks.append(SyncPlainUI(self.stream, f"[{name.ljust(width)}] ", self.lock))
        self.console: Console | None = None
        self.live: Live | None = None
        if live:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream)
            self.console = console
            self.live = Live(
                console=console,
                get_renderable=self._table,
                refresh_per_second=2,
                transient=True,
            )
            self.live.start()

    def _table(self) -> RenderableType:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("Ticket", "State", "Step", "Current", "Time", "Issues", "Cost"):
            table.add_column(column)
        for w in self.watches.values():
            step = f"{w.index}/{w.total}" if w.total else "-"
            style = {"running": "bold cyan", "queued": "dim"}.get(w.state, "")
            table.add_row(
                w.name,
                w.state,
                step,
                w.current,
                _clock(w.elapsed()),
                str(w.issues),
                f"${w.cost_usd:.2f}",
                style=style,
            )
        return table

    def note(self, text: str) -> None:
        """A batch-level line (above the live table when there is one)."""
        if self.console is not None:
            self.console.print(text, markup=False, highlight=False)
            return
        with self.lock:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """Stop the live table and close every ticket's log."""
        if self.live is not None:
            self.live.stop()
        for watch in self.watches.values():
            watch.close()
