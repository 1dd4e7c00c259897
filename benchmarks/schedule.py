"""Conflict-aware schedule vs a naive parallel run: 100 simulated tickets, wall time to merged.

Uses exec-auto's own planner (`batch.schedule`: ConflictGraph, priority, simulate) on a seeded
synthetic batch: each ticket edits 1-3 files from a repository of `--files` modules where a few
files are hot (a CLI entry point, a README, a config module, as in real backlogs), with durations
from a skewed distribution (most tickets short, some long).

The model of what a conflict costs, the same for both policies:
- every ticket branches from main; a ticket queued behind overlapping ones starts from the branch
  of the last of them to finish (what the local runner does), so it contains that work;
- branches merge in finish order; a branch conflicts when it shares a file with a branch merged
  before it that is not among its ancestors — then it must run again from the new main;
- reruns go round after round under the same policy until every ticket has merged.

Naive parallel = N slots, first come first served, conflicts ignored (what `--parallel N` did
before). Planned = the same N slots, overlapping tickets never run together, longest first.

    .venv/bin/python benchmarks/schedule.py [--tickets 100] [--slots 8] [--files 60] [--seed 7]
"""

from __future__ import annotations

import argparse
import random

from exec_auto.batch.footprint import Footprint
from exec_auto.batch.schedule import (
    ConflictGraph,
    Slot,
    priority,
    simulate,
    wall_time,
)

HOT = ("src/app/cli.py", "README.md", "src/app/config.py")


def make_batch(
    n: int, files: int, rng: random.Random
) -> tuple[dict[str, Footprint], dict[str, float]]:
    """n tickets: 1-3 edited files each (15% touch a hot file); durations in minutes, skewed."""
    pool = [f"src/app/mod{i:02d}.py" for i in range(files)]
    footprints, durations = {}, {}
    for i in range(n):
        name = f"t{i:03d}"
        edits = set(rng.sample(pool, rng.randint(1, 3)))
        if rng.random() < 0.15:
            edits.add(rng.choice(HOT))
        footprints[name] = Footprint(name, frozenset(edits))
        durations[name] = round(min(rng.lognormvariate(2.7, 0.6), 120.0), 1)  # ~15 min median
    return footprints, durations


def _ancestry(schedule: list[Slot], graph: ConflictGraph, planned: bool) -> dict[str, set[str]]:
    """Which earlier tickets' work each branch contains (its base chain)."""
    by = {s.ticket: s for s in schedule}
    out: dict[str, set[str]] = {}
    for slot in sorted(schedule, key=lambda s: s.start):
        if not planned:
            out[slot.ticket] = set()
            continue
        done = [by[o] for o in graph.edges[slot.ticket] if o in by and by[o].end <= slot.start]
        if not done:
            out[slot.ticket] = set()
            continue
        base = max(done, key=lambda s: s.end).ticket
        out[slot.ticket] = {base, *out.get(base, set())}
    return out


def run_policy(
    footprints: dict[str, Footprint], durations: dict[str, float], slots: int, planned: bool
) -> tuple[float, int, int, list[Slot]]:
    """(wall minutes until all merged, tickets run incl. reruns, conflicts, first round's schedule)."""
    todo = list(footprints)
    wall, runs, conflicts, first = 0.0, 0, 0, []
    while todo:
        fps = {t: footprints[t] for t in todo}
        graph = ConflictGraph(fps)
        order = priority(todo, durations) if planned else todo
        schedule = simulate(graph if planned else None, order, durations, slots)
        first = first or schedule
        ancestry = _ancestry(schedule, graph, planned)
        merged: list[str] = []
        again = []
        for slot in sorted(schedule, key=lambda s: s.end):
            clash = [m for m in merged if graph.conflicts(slot.ticket, m)]
            if any(m not in ancestry[slot.ticket] for m in clash):
                again.append(slot.ticket)
            else:
                merged.append(slot.ticket)
        wall += wall_time(schedule)
        runs += len(todo)
        conflicts += len(again)
        todo = again
    return wall, runs, conflicts, first


def main() -> None:
    """Print the planned schedule's first rows and the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    footprints, durations = make_batch(args.tickets, args.files, rng)
    graph = ConflictGraph(footprints)
    pairs = sum(len(e) for e in graph.edges.values()) // 2
    agent = sum(durations.values())
    print(
        f"{args.tickets} tickets, {args.slots} slots, {pairs} overlapping pairs, "
        f"{agent:.0f} agent-minutes in total (seed {args.seed})\n"
    )
    naive = run_policy(footprints, durations, args.slots, planned=False)
    planned = run_policy(footprints, durations, args.slots, planned=True)
    print("Planned schedule, first round (the first 12 starts):")
    print("  ticket  lane  start    end      files")
    for slot in planned[3][:12]:
        files = ", ".join(sorted(footprints[slot.ticket].edits))
        print(f"  {slot.ticket}    {slot.lane:<4}  {slot.start:7.1f}  {slot.end:7.1f}  {files}")
    print()
    width = 28
    print(f"{'policy'.ljust(width)}  wall (min)  runs  merge conflicts  vs naive")
    for label, (wall, runs, conflicts, _) in (
        ("naive parallel (FIFO)", naive),
        ("planned (conflict-aware)", planned),
    ):
        ratio = naive[0] / wall if wall else float("inf")
        print(f"{label.ljust(width)}  {wall:10.1f}  {runs:4d}  {conflicts:15d}  {ratio:7.2f}x")
    lower = agent / args.slots
    print(f"{'lower bound (agent / slots)'.ljust(width)}  {lower:10.1f}")


if __name__ == "__main__":
    main()
