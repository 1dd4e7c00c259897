"""The one protocol every ticket format implements, and the typed ticket it loads into.

A format knows where its tickets live (`detect`, `list_tickets`), reads one into a `LoadedTicket`
(the shared `Plan` of steps with ids, dependencies and parallel marks, plus criteria and
conventions), and writes status back the way its own tools do (`mark_*`). Every write is
byte-minimal: the executor, gates, criteria and reports never learn which format they run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from exec_auto.ticket.model import Criterion, Plan, Step, StepStatus
from exec_auto.ticket.resolve import TicketRef


@dataclass(frozen=True)
class LoadedTicket:
    """A ticket read by its format: what to execute and how it will be judged."""

    ref: TicketRef
    format: str
    title: str
    plan: Plan
    criteria: tuple[Criterion, ...] = ()
    ticket_type: str | None = None
    # The status the format's own files show ("planned", "in-progress", "ready-for-dev", ...).
    status: str | None = None
    # Files the format reads (repo-relative), in the order they were read.
    files: tuple[str, ...] = ()
    # Extra convention files of the format (constitution.md, steering docs), repo-relative.
    conventions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # Logged as a low issue on a fresh run when the ticket has no criteria (None: say nothing).
    no_criteria_note: str | None = None
    # How the whole ticket was read (shown by `exec-auto show`).
    derivation: tuple[str, ...] = field(default_factory=tuple)
    # Format-private values read at load time (Taskmaster: each step's status before the run).
    state: Mapping[str, str] = field(default_factory=dict)
    # Problems a run logs once before step 1, as (issue type, severity, description): a file the
    # format could not read but could run without (an invalid spec.yaml).
    problems: tuple[tuple[str, str, str], ...] = ()
    # Files (repo-relative) the format's mark_* rewrite: checked writable before step 1.
    rewritten: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSummary:
    """What a finished run did, for formats that record it in their own files (BMAD)."""

    agent: str
    # One line per step: "- Task 1 (title): completed".
    notes: tuple[str, ...] = ()
    # Files the run created or modified (repo-relative), then deleted ones marked "(deleted)".
    files: tuple[str, ...] = ()


class Format(Protocol):
    """A ticket layout: detection, listing, loading and status write-back."""

    name: str
    label: str
    # True when the format keeps no progress of its own: progress.yaml and reports go to `home`.
    uses_state_home: bool
    # True when `archive` moves the ticket somewhere its tools expect.
    archives: bool

    def detect(self, root: Path) -> bool:
        """Whether the repository holds this format's files at all."""
        ...

    def list_tickets(self, root: Path) -> list[TicketRef]:
        """Every ticket of this format in the repository (archived ones marked)."""
        ...

    def owns(self, path: Path, root: Path) -> TicketRef | None:
        """The ticket a user-given path (a folder or one of its files) names, if it is ours."""
        ...

    def load(self, ref: TicketRef) -> LoadedTicket:
        """Read the ticket; raise a one-line ExecAutoError naming the file when it cannot."""
        ...

    def mark_started(self, ticket: LoadedTicket, now: str) -> list[str]:
        """Record that a run began; return one message per file changed."""
        ...

    def mark_step(self, ticket: LoadedTicket, step: Step, status: StepStatus) -> list[str]:
        """Record a step's new status (started, or finished) in the format's own files.

        Returns one line per change made (none when nothing was written: the executor then
        knows the work tree is as its last snapshot saw it).
        """
        ...

    def mark_finished(
        self, ticket: LoadedTicket, now: str, *, clean: bool, summary: RunSummary
    ) -> list[str]:
        """Record that every step ran (clean: every step completed and nothing is open)."""
        ...

    def archive_destination(self, ticket: LoadedTicket) -> str:
        """Where `archive` will move the ticket (repo-relative), for the report."""
        ...

    def restore_hint(self, ticket: LoadedTicket) -> str | None:
        """The command that undoes `archive`, if there is one."""
        ...

    def archive(self, ticket: LoadedTicket) -> TicketRef:
        """Move the finished ticket where the format's tools keep finished work."""
        ...


class StaysInPlace:
    """The write-back of formats whose finished tickets stay where they are (no archive step)."""

    archives = False

    def archive_destination(self, ticket: LoadedTicket) -> str:
        """Not archived: it stays where it is."""
        return ticket.ref.rel_dir

    def restore_hint(self, ticket: LoadedTicket) -> str | None:
        """Nothing to undo."""
        return None

    def archive(self, ticket: LoadedTicket) -> TicketRef:
        """The format's tools keep finished work in place."""
        return ticket.ref
