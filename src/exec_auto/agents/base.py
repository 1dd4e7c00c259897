"""The agent protocol: the executor hands a task to a backend and gets a result, nothing more."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from exec_auto.sandbox import Sandbox

from exec_auto.usage import Usage

TaskKind = Literal["step", "fix", "judge"]

# Separates a prompt's fixed prefix (identical for every step, cacheable) from its per-step part.
STEP_MARKER = "<!-- exec-auto:step -->"
ResultStatus = Literal["ok", "error", "timeout", "limit"]


@dataclass(frozen=True)
class AgentTask:
    """One agent call: a fresh context built entirely from `prompt`."""

    ticket: str
    step_id: str
    step_title: str
    prompt: str
    repo_root: Path
    attempt: int = 1
    kind: TaskKind = "step"
    timeout: float | None = None
    # Where the executor wrote `prompt` (CLI agents read it from there).
    prompt_file: Path | None = None
    # The run's sandbox: backends start their processes (CLI agents) inside it; None = uncontained.
    sandbox: Sandbox | None = None


EventKind = Literal["agent_retry", "agent_loop", "sandbox_denied"]


@dataclass(frozen=True)
class AgentEvent:
    """Something the backend noticed that is not a refusal: a retry, a loop stop, a sandbox denial.

    Each is logged once, under its own issue type.
    """

    kind: EventKind
    text: str


@dataclass(frozen=True)
class AgentResult:
    """What a backend reports: status, a summary, an error, and what it spent."""

    status: ResultStatus
    summary: str = ""
    error: str | None = None
    # Backend-specific result kind (claude: success, error_max_turns, error_max_budget_usd, ...).
    subtype: str | None = None
    usage: Usage = field(default_factory=Usage)
    # Problems the backend noticed and refused (e.g. a write outside the repo); logged as issues.
    incidents: tuple[str, ...] = field(default_factory=tuple)
    events: tuple[AgentEvent, ...] = field(default_factory=tuple)
    # A provider usage limit (subtype error_usage_limit): when it resets, in epoch seconds
    # (None: the provider did not say). A batch parks the ticket until then (batch/policy.py).
    limit_reset_at: float | None = None


class Agent(Protocol):
    """A coding agent backend."""

    name: str

    def run(self, task: AgentTask) -> AgentResult:
        """Carry out the task in task.repo_root; never raises for agent failures."""
        ...
