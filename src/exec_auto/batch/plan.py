"""A batch plan: footprints, conflicts, queue order, waves, shards and the forecast, made once.

The local runner, `--dry-run`, `plan-batch` and the CI generators all read the same plan, so the
waves GitHub Actions or Kubernetes run are the ones the local runner would keep apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from exec_auto.batch.footprint import Footprint, predict_all
from exec_auto.batch.forecast import Forecast, forecast
from exec_auto.batch.schedule import ConflictGraph, priority, simulate, wall_time, waves
from exec_auto.errors import ExecAutoError
from exec_auto.ticket.resolve import TicketRef

PLAN_SCHEMA = "exec-auto/batch-plan/1"
# GitHub Actions runs at most 256 jobs per matrix; stay below it.
MAX_SHARD = 256
DEFAULT_SHARD = 250


@dataclass(frozen=True)
class BatchPlan:
    """Everything decided about a batch before it starts."""

    tickets: tuple[TicketRef, ...]
    footprints: dict[str, Footprint]
    graph: ConflictGraph
    order: tuple[str, ...]
    waves: tuple[tuple[str, ...], ...]
    forecast: Forecast

    def shards(self, size: int = DEFAULT_SHARD) -> list[tuple[int, int, list[str]]]:
        """(wave, shard, tickets): each wave cut into pieces of at most size tickets."""
        out = []
        for w, wave in enumerate(self.waves):
            for s in range(0, len(wave), size):
                out.append((w, s // size, list(wave[s : s + size])))
        return out

    def expected_wall(self, parallel: int) -> float | None:
        """Simulated wall time of the local schedule on forecast durations (None: unknown)."""
        durations = self.forecast.expected()
        if any(v is None for v in durations.values()):
            return None
        known = {k: float(v or 0.0) for k, v in durations.items()}
        return wall_time(simulate(self.graph, self.order, known, max(parallel, 1)))


def make_plan(tickets: list[TicketRef]) -> BatchPlan:
    """Predict, find conflicts, order (longest first) and group into waves."""
    footprints = predict_all(tickets)
    graph = ConflictGraph(footprints)
    fc = forecast(tickets)
    order = tuple(priority([t.name for t in tickets], fc.expected()))
    return BatchPlan(
        tuple(tickets),
        footprints,
        graph,
        order,
        tuple(tuple(w) for w in waves(graph, order)),
        fc,
    )


def check_shard_size(size: int) -> int:
    """size, or a usage error when it is outside 1..256."""
    if not 1 <= size <= MAX_SHARD:
        raise ExecAutoError(
            f"--shard-size {size}: must be between 1 and {MAX_SHARD}",
            hint="GitHub Actions runs at most 256 jobs per matrix",
        )
    return size


def shard_key(wave: int, shard: int) -> str:
    """The plan job output naming one matrix: w<wave>s<shard>."""
    return f"w{wave}s{shard}"


def plan_data(plan: BatchPlan, shard_size: int = DEFAULT_SHARD) -> dict[str, Any]:
    """plan-batch --json: the matrix per wave and shard, conflicts and the forecast."""
    conflicts = {
        a: {b: sorted(files) for b, files in plan.graph.edges[a].items()}
        for a in plan.graph.names
        if plan.graph.edges[a]
    }
    shards = plan.shards(shard_size)
    return {
        "schema": PLAN_SCHEMA,
        "tickets": list(plan.order),
        "waves": [list(w) for w in plan.waves],
        "shard_size": shard_size,
        "matrix": {shard_key(w, s): names for w, s, names in shards},
        "conflicts": conflicts,
        "footprints": {
            name: {"edits": sorted(fp.edits), "reads": sorted(fp.reads)}
            for name, fp in plan.footprints.items()
        },
        "forecast": [
            {"ticket": t.ticket, "steps": t.steps, "seconds": t.seconds, "usd": t.usd}
            for t in plan.forecast.tickets
        ],
    }


def github_outputs(plan: BatchPlan, waves: int, shards: int, shard_size: int) -> str:
    """`key=json` lines for $GITHUB_OUTPUT: one per matrix job the workflow has ('[]' if unused).

    ExecAutoError when the batch needs more waves or shards than the workflow was generated with.
    """
    data = plan.shards(shard_size)
    need_waves = len(plan.waves)
    need_shards = max((s + 1 for _, s, _ in data), default=1)
    if need_waves > waves or need_shards > shards:
        raise ExecAutoError(
            f"this batch needs {need_waves} wave(s) x {need_shards} shard(s); the workflow has "
            f"{waves} x {shards}",
            hint="regenerate it: exec-auto ci github (then commit .github/workflows/exec-auto.yml)",
        )
    by_key = {shard_key(w, s): names for w, s, names in data}
    lines = [
        f"{shard_key(w, s)}={json.dumps(by_key.get(shard_key(w, s), []))}"
        for w in range(waves)
        for s in range(shards)
    ]
    lines.append(f"count={len(plan.order)}")
    return "\n".join(lines) + "\n"


def render_plan(plan: BatchPlan, parallel: int) -> list[str]:
    """The human-readable plan: forecast, waves and conflicts, expected wall time."""
    from exec_auto.batch.forecast import render

    lines = render(plan.forecast)
    lines.append(f"Schedule ({parallel} at once; overlapping tickets never run together)")
    for n, wave in enumerate(plan.waves, 1):
        lines.append(f"  wave {n}: {', '.join(wave)}")
    for a in plan.graph.names:
        for b, files in plan.graph.edges[a].items():
            if a < b:
                shown = ", ".join(sorted(files)[:3]) + (" ..." if len(files) > 3 else "")
                lines.append(f"  {a} and {b} overlap on {shown}: run one after the other")
    wall = plan.expected_wall(parallel)
    if wall is None:
        lines.append("  expected wall time: unknown (no finished past run to learn durations from)")
    else:
        agent = plan.forecast.total_seconds() or 0.0
        lines.append(f"  expected wall time: {wall:.0f} s ({agent:.0f} s of agent time)")
    return lines
