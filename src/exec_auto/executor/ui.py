"""What the user sees while a run goes on: plain lines when piped, a rich live view on a terminal."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Protocol, TextIO

from exec_auto.textsafe import clean_text
from exec_auto.ticket.model import ProgressIssue, StepProgress

if TYPE_CHECKING:
    from rich.text import Text

STATUS_MARK = {
    "completed": "OK ",
    "completed_with_warning": "WARN",
    "failed": "FAIL",
    "skipped": "SKIP",
    "in_progress": "... ",
    "pending": "    ",
}


class RunUI(Protocol):
    """Events the executor reports while it runs."""

    def message(self, text: str) -> None:
        """A one-line note ([AUTO] actions, warnings)."""
        ...

    def step_started(self, index: int, total: int, step_id: str, title: str) -> None:
        """Step index/total began."""
        ...

    def step_finished(self, index: int, total: int, record: StepProgress) -> None:
        """A step reached a final status."""
        ...

    def issue_logged(self, issue: ProgressIssue) -> None:
        """An issue was written to progress.yaml."""
        ...

    def close(self) -> None:
        """Stop any live display."""
        ...


def use_color(stream: TextIO) -> bool:
    """Rich output only on a terminal and when NO_COLOR is not set."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


class PlainUI:
    """Line-per-event output for pipes, logs and CI."""

    def __init__(self, stream: TextIO | None = None, prefix: str = ""):
        self.stream = stream or sys.stdout
        self.prefix = prefix

    def _print(self, text: str) -> None:
        print(f"{self.prefix}{clean_text(text)}", file=self.stream, flush=True)

    def message(self, text: str) -> None:
        """Print a note."""
        self._print(text)

    def step_started(self, index: int, total: int, step_id: str, title: str) -> None:
        """Print the step header."""
        self._print(f"Step {index}/{total} [{step_id}]: {title}")

    def step_finished(self, index: int, total: int, record: StepProgress) -> None:
        """Print the step's outcome, gates and files."""
        touched = record.files_touched
        for label, files in (
            ("Created", touched.created),
            ("Modified", touched.modified),
            ("Deleted", touched.deleted),
        ):
            for path in files:
                self._print(f"   {label}: {path}")
        for line in record.quality_gates:
            self._print(f"   {line}")
        for action in record.auto_actions:
            self._print(f"   [AUTO] {action}")
        self._print(
            f"   [{STATUS_MARK.get(record.status, record.status)}] step {record.step_id}: {record.status}"
        )

    def issue_logged(self, issue: ProgressIssue) -> None:
        """Print the issue."""
        self._print(f"   [AUTO] {issue.severity.upper()} {issue.type}: {issue.description}")

    def close(self) -> None:
        """Nothing to stop."""


class LiveUI(PlainUI):
    """Plain lines above a rich live status line: step i/N, current step, elapsed, issues so far."""

    def __init__(self, ticket: str):
        from rich.console import Console
        from rich.live import Live

        self.console = Console()
        super().__init__(prefix="")
        self.ticket = ticket
        self.started = time.monotonic()
        self.current = "starting"
        self.index = 0
        self.total = 0
        self.issues = 0
        self.live = Live(self._render(), console=self.console, refresh_per_second=2, transient=True)
        self.live.start()

    def _render(self) -> Text:
        from rich.text import Text

        elapsed = int(time.monotonic() - self.started)
        return Text(
            f"{self.ticket}  step {self.index}/{self.total}: {self.current}  "
            f"{elapsed // 60:02d}:{elapsed % 60:02d}  issues: {self.issues}",
            style="bold cyan",
        )

    def _print(self, text: str) -> None:
        self.console.print(clean_text(text), markup=False, highlight=False)
        self.live.update(self._render())

    def step_started(self, index: int, total: int, step_id: str, title: str) -> None:
        """Update the live line and print the header."""
        self.index, self.total, self.current = index, total, title[:60]
        super().step_started(index, total, step_id, title)

    def issue_logged(self, issue: ProgressIssue) -> None:
        """Count the issue and print it."""
        self.issues += 1
        super().issue_logged(issue)

    def close(self) -> None:
        """Stop the live display."""
        self.live.stop()


def make_ui(ticket: str) -> RunUI:
    """LiveUI on a colour terminal, PlainUI otherwise."""
    return LiveUI(ticket) if use_color(sys.stdout) else PlainUI()
