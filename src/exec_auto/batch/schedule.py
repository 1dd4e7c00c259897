"""Conflict-aware scheduling: never run two tickets at once whose predicted files overlap.

`ConflictGraph` holds who conflicts with whom (from `footprint.predict_all`). Three uses:

- `waves`: for engines that start a fixed set of jobs at once (a GitHub matrix, a Kubernetes
  Indexed Job): tickets in one wave never conflict; a wave starts when the one before is done.
- `Scheduler`: for the local `--parallel` runner: a free slot takes the first queued ticket that
  conflicts with nothing running; overlapping tickets wait for the ones they overlap.
- `simulate`: the same policy on forecast durations, for `--dry-run` and `benchmarks/schedule.py`.

The queue order is longest expected duration first (ties: the batch's order), the classic list-
scheduling rule that keeps the end of the batch from waiting on one long ticket started last.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from exec_auto.batch.footprint import Footprint


class ConflictGraph:
    """Which tickets of a batch must not run at the same time, and over which files."""

    def __init__(self, footprints: Mapping[str, Footprint]):
        names = list(footprints)
        self.names = names
        self.edges: dict[str, dict[str, set[str]]] = {n: {} for n in names}
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                shared = footprints[a].overlaps(footprints[b])
                if shared:
                    self.edges[a][b] = shared
                    self.edges[b][a] = shared

    def conflicts(self, a: str, b: str) -> bool:
        """True when a and b are predicted to touch the same files."""
        return b in self.edges.get(a, {})

    def why(self, a: str, b: str) -> set[str]:
        """The shared files of a and b (empty when they do not conflict)."""
        return self.edges.get(a, {}).get(b, set())

    def degree(self, name: str) -> int:
        """How many tickets this one conflicts with."""
        return len(self.edges.get(name, {}))


def priority(names: Sequence[str], expected: Mapping[str, float | None]) -> list[str]:
    """Longest expected duration first; unknown durations keep their place after known ones."""
    rank = {n: i for i, n in enumerate(names)}
    return sorted(names, key=lambda n: (-(expected.get(n) or 0.0), rank[n]))


def waves(graph: ConflictGraph, order: Sequence[str]) -> list[list[str]]:
    """Groups that can each run all at once; each ticket goes to the first wave it fits."""
    out: list[list[str]] = []
    for name in order:
        for wave in out:
            if not any(graph.conflicts(name, other) for other in wave):
                wave.append(name)
                break
        else:
            out.append([name])
    return out


class Scheduler:
    """Hands out the next ticket that may start now to worker threads."""

    WAIT_SECONDS = 0.25

    def __init__(self, graph: ConflictGraph, order: Sequence[str]):
        self.graph = graph
        self.queue = list(order)
        self.running: set[str] = set()
        # ticket -> the running tickets it had to wait for.
        self.waited: dict[str, set[str]] = {}
        self.changed = threading.Condition()

    def _pick(self) -> str | None:
        for name in self.queue:
            blockers = {r for r in self.running if self.graph.conflicts(name, r)}
            if not blockers:
                self.queue.remove(name)
                self.running.add(name)
                return name
            self.waited.setdefault(name, set()).update(blockers)
        return None

    def next(self) -> str | None:
        """Block until a queued ticket conflicts with nothing running; None once the queue is empty."""
        with self.changed:
            while self.queue:
                name = self._pick()
                if name is not None:
                    return name
                # Woken by done(); the timeout only guards against a lost wake-up.
                self.changed.wait(self.WAIT_SECONDS)
            return None

    def done(self, name: str) -> None:
        """A ticket finished: tickets waiting on it may start."""
        with self.changed:
            self.running.discard(name)
            self.changed.notify_all()

    def note(self, name: str) -> str | None:
        """'waited for a, b (files)' when the ticket was held back by overlapping ones."""
        blockers = sorted(self.waited.get(name, set()))
        if not blockers:
            return None
        files = sorted({f for b in blockers for f in self.graph.why(name, b)})
        shown = ", ".join(files[:3]) + (" ..." if len(files) > 3 else "")
        return f"queued until {', '.join(blockers)} finished (predicted overlap: {shown})"


@dataclass(frozen=True)
class Slot:
    """One ticket in a simulated schedule."""

    ticket: str
    start: float
    end: float
    lane: int


def simulate(
    graph: ConflictGraph | None,
    order: Sequence[str],
    durations: Mapping[str, float],
    slots: int,
) -> list[Slot]:
    """The schedule the policy produces with these durations (graph None: ignore conflicts)."""
    queue = list(order)
    running: list[Slot] = []
    done: list[Slot] = []
    lanes = list(range(slots))
    now = 0.0
    while queue or running:
        started = True
        while started and lanes and queue:
            started = False
            for name in queue:
                if graph is None or not any(graph.conflicts(name, r.ticket) for r in running):
                    slot = Slot(name, now, now + durations[name], lanes.pop(0))
                    running.append(slot)
                    queue.remove(name)
                    started = True
                    break
        if not running:
            break  # cannot happen: an empty machine always starts the head of the queue
        first = min(running, key=lambda s: s.end)
        now = first.end
        running.remove(first)
        done.append(first)
        lanes.append(first.lane)
        lanes.sort()
    return sorted(done, key=lambda s: (s.start, s.lane))


def wall_time(schedule: Sequence[Slot]) -> float:
    """When the last ticket of a simulated schedule ends."""
    return max((s.end for s in schedule), default=0.0)
