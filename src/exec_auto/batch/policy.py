"""The usage-limit policy of a batch: park, hold the backend, resume after the reset or stop cleanly.

A backend reports a provider usage or rate limit that will not clear within the step as an
`AgentResult` with status `limit` and `limit_reset_at` (epoch seconds; see `agents/limits.py`).
The batch wraps every agent in `LimitAware`: such a result pauses the ticket right there — the
step stays unfinished, progress is saved, the ticket is reported `parked` and a rerun resumes it —
and records the reset time on the batch's `LimitBoard`. While a backend is held, no ticket starts
on it. When the reset comes before `--deadline` (or there is no deadline), the batch waits for it
and then resumes the parked tickets and the queue; when it comes after the deadline, or the
provider gave no reset time, the batch stops cleanly and says why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from exec_auto.agents.base import Agent, AgentResult, AgentTask
from exec_auto.errors import ExecAutoError

PARKED = "parked"


class UsageLimitPause(BaseException):
    """Raised through the executor (like Ctrl-C, never caught as an agent failure) to park a ticket."""

    def __init__(self, backend: str, reset_at: float | None, message: str):
        super().__init__(message)
        self.backend = backend
        self.reset_at = reset_at
        self.message = message


def parse_deadline(text: str | None) -> float | None:
    """--deadline as epoch seconds: an ISO date-time (UTC unless it says otherwise)."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ExecAutoError(
            f"--deadline {text!r}: not an ISO date-time",
            hint="e.g. --deadline 2026-12-03T07:00 (UTC) or 2026-12-03T07:00+01:00",
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def iso(epoch: float) -> str:
    """Epoch seconds as an ISO UTC time."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Hold:
    """A backend held by a provider limit until reset_at (None: no reset time given)."""

    backend: str
    reset_at: float | None
    message: str


class LimitBoard:
    """Which backends are held, until when; what the batch does about it (thread-safe)."""

    def __init__(
        self,
        deadline: float | None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.deadline = deadline
        self._clock = clock
        self._sleep = sleep
        self._holds: dict[str, Hold] = {}
        self._stopped: str | None = None
        self._lock = threading.Lock()

    def hold(self, pause: UsageLimitPause) -> None:
        """Record a limit; decide now whether the batch can wait for it."""
        with self._lock:
            seen = self._holds.get(pause.backend)
            if seen is None or (pause.reset_at or float("inf")) > (seen.reset_at or float("inf")):
                self._holds[pause.backend] = Hold(pause.backend, pause.reset_at, pause.message)
            if self._stopped is None:
                self._stopped = self._why_stop(self._holds[pause.backend])

    def _why_stop(self, hold: Hold) -> str | None:
        if hold.reset_at is None:
            return f"{hold.backend}: provider usage limit without a reset time ({hold.message})"
        if self.deadline is not None and hold.reset_at > self.deadline:
            return (
                f"{hold.backend}: provider usage limit resets at {iso(hold.reset_at)}, after "
                f"--deadline {iso(self.deadline)} ({hold.message})"
            )
        return None

    def stopped(self) -> str | None:
        """Why the batch must stop starting work (a limit that will not clear in time), or None."""
        with self._lock:
            return self._stopped

    def wait_for(self, backend: str, interrupted: threading.Event | None = None) -> str | None:
        """Block while backend is held and its reset is due in time; the stop reason otherwise."""
        while True:
            with self._lock:
                if self._stopped:
                    return self._stopped
                hold = self._holds.get(backend)
                if hold is None or hold.reset_at is None:
                    return None
                left = hold.reset_at - self._clock()
                if left <= 0:
                    del self._holds[backend]
                    return None
            if interrupted is not None and interrupted.is_set():
                return "batch interrupted while waiting for a usage limit to reset"
            self._sleep(min(left, 1.0))


class LimitAware:
    """An agent whose provider-limit results pause the ticket instead of failing its step."""

    def __init__(self, agent: Agent):
        self.agent = agent
        self.name = agent.name

    def run(self, task: AgentTask) -> AgentResult:
        """Run the task; a limit with a reset (or none) that outlasts the step raises the pause."""
        result = self.agent.run(task)
        if result.status == "limit" and result.subtype == "error_usage_limit":
            raise UsageLimitPause(
                self.agent.name, result.limit_reset_at, result.error or "usage limit reached"
            )
        return result
