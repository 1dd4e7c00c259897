"""Step order from dependencies, and why a step cannot run (a dependency failed or was skipped).

The plan's order is kept wherever dependencies allow; a step that depends on a later one is
moved after it (a stable topological order). A dependency cycle cannot be honoured: its steps
keep their plan order and the cycle is reported once. `--parallel-tasks` groups consecutive
parallel-marked steps with no dependency between them into one batch; by default every step is
a batch of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from exec_auto.ticket.model import Step, StepProgress

BLOCKING = frozenset({"failed", "skipped"})


def execution_order(steps: Sequence[Step]) -> tuple[list[Step], list[str]]:
    """Steps in an order where each comes after what it depends on; warnings for cycles."""
    by_id = {s.id: s for s in steps}
    placed: set[str] = set()
    out: list[Step] = []
    warnings: list[str] = []
    visiting: set[str] = set()

    def place(step: Step) -> None:
        if step.id in placed:
            return
        if step.id in visiting:
            warnings.append(f"dependency cycle through step {step.id}: kept in plan order")
            return
        visiting.add(step.id)
        for dep in step.depends_on:
            if dep in by_id:
                place(by_id[dep])
        visiting.discard(step.id)
        if step.id not in placed:
            placed.add(step.id)
            out.append(step)

    for step in steps:
        place(step)
    return out, warnings


def blocked_by(step: Step, records: Sequence[StepProgress]) -> str | None:
    """Why step must be skipped: the dependencies that failed or were skipped, else None."""
    status = {r.step_id: r.status for r in records}
    bad = [d for d in step.depends_on if status.get(d) in BLOCKING]
    if not bad:
        return None
    return "dependency " + ", ".join(f"{d} ({status[d]})" for d in bad) + " did not complete"


def batches(steps: Sequence[Step], *, parallel_tasks: bool) -> list[list[Step]]:
    """Consecutive parallel-marked steps sharing a batch (only when asked), else one step each."""
    if not parallel_tasks:
        return [[s] for s in steps]
    out: list[list[Step]] = []
    for step in steps:
        current = out[-1] if out else None
        if (
            current is not None
            and step.parallel
            and all(s.parallel for s in current)
            and not any(d in {s.id for s in current} for d in step.depends_on)
            and step.phase == current[0].phase
        ):
            current.append(step)
        else:
            out.append([step])
    return out
