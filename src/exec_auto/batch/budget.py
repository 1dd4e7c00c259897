"""The batch budget: total USD and total wall time across every ticket of one batch.

Once either is spent no new ticket starts, and running tickets stop before their next step (the
executor asks `exhausted()` between steps). The first reason seen is kept, so the report says
which limit ended the batch even if the other one is crossed later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class BatchBudget:
    """Spend so far (USD, seconds since the batch started) against optional limits."""

    def __init__(
        self,
        usd: float | None = None,
        seconds: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.usd = usd
        self.seconds = seconds
        self._clock = clock
        self._started = clock()
        self._spent = 0.0
        self._reason: str | None = None
        self._lock = threading.Lock()

    def add_spend(self, usd: float) -> None:
        """Count money an agent reported spending (called from worker threads)."""
        if usd:
            with self._lock:
                self._spent += usd

    @property
    def spent_usd(self) -> float:
        """USD spent by this batch so far."""
        with self._lock:
            return round(self._spent, 6)

    def elapsed(self) -> float:
        """Seconds since the batch started."""
        return self._clock() - self._started

    def exhausted(self) -> str | None:
        """Why no more work may start, or None while there is budget left."""
        with self._lock:
            if self._reason is None:
                self._reason = self._check()
            return self._reason

    def _check(self) -> str | None:
        if self.usd is not None and self._spent >= self.usd:
            return f"batch budget spent: ${self._spent:.2f} of ${self.usd:.2f}"
        elapsed = self.elapsed()
        if self.seconds is not None and elapsed >= self.seconds:
            return f"batch time budget spent: {elapsed:.0f} s of {self.seconds:g} s"
        return None

    def as_dict(self) -> dict[str, object]:
        """The limits, the spend and the reason it ran out, for batch-report.json."""
        return {
            "usd": self.usd,
            "seconds": self.seconds,
            "spent_usd": self.spent_usd,
            "elapsed_seconds": round(self.elapsed(), 1),
            "exhausted": self._reason,
        }
