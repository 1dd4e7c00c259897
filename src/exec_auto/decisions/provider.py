"""The decision provider: what the executor asks when a step needs a human, and who answers.

The executor consults it at two points — a pause request (answer it now, or park the ticket),
and a step that ended with problems (debug / continue / skip / stop). Autonomous runs use
`Autonomous`, which parks and continues exactly as exec-auto always did; `--interactive` uses the
terminal provider in `decisions.terminal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from exec_auto.decisions.markers import DecisionRequest
from exec_auto.ticket.model import ProgressIssue

Choice = Literal["debug", "continue", "skip", "stop"]
CHOICES: tuple[Choice, ...] = ("debug", "continue", "skip", "stop")


@dataclass(frozen=True)
class Problem:
    """A step that ended with issues: which, and what has been tried."""

    step_id: str
    step_title: str
    issues: tuple[ProgressIssue, ...]
    debug_attempts: int = 0


@dataclass(frozen=True)
class Verdict:
    """What to do about a problem; a debug attempt may carry a hint for the agent."""

    choice: Choice
    note: str = ""


class StopRun(Exception):
    """The person at the terminal chose to stop: the run ends here, resumable."""


class DecisionProvider(Protocol):
    """Who decides: autonomous rules, or a person at a terminal."""

    # Capability: True when a person answers (problems are then shown and asked about).
    interactive: bool
    # Who answers, as recorded with each decision.
    who: str

    def decide(self, request: DecisionRequest) -> str | None:
        """The answer to a pause request, or None to park the ticket until `exec-auto answer`."""
        ...

    def problem(self, problem: Problem) -> Verdict:
        """What to do about a step that ended with issues."""
        ...


class Autonomous:
    """The default: never asks; pause requests park the ticket, problems are logged and passed."""

    interactive = False
    who = "autonomous"

    def decide(self, request: DecisionRequest) -> str | None:
        """Park: nobody is there to answer."""
        return None

    def problem(self, problem: Problem) -> Verdict:
        """Continue: the issues are logged for the morning report."""
        return Verdict("continue")
