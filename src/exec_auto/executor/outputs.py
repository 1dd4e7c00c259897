"""Where a run's command output goes: one log folder per run, one subfolder per step.

Every command a run starts (agent, gate tools, verify commands; not exec-auto's own git) streams
its stdout and stderr into files here as it prints (`proc.output_scope`), capped: the start and end
of each stream are kept, the rest counted. A stream larger than what exec-auto keeps in memory is
logged as an `output_truncated` issue naming its log file. The newest runs' folders are kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from exec_auto import proc
from exec_auto.names import file_name

if TYPE_CHECKING:
    from exec_auto.executor.steps import StepEnv

# Log folders of earlier runs of the same ticket kept next to the current one.
KEEP_RUNS = 5


def run_logs(scratch: Path, ticket: str) -> Path:
    """A fresh log folder for this run of the ticket; older runs beyond KEEP_RUNS are removed."""
    base = scratch / "logs" / file_name(ticket)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    folder = base / stamp
    folder.mkdir(parents=True, exist_ok=True)
    runs = sorted(p for p in base.iterdir() if p.is_dir())
    for old in runs[: max(len(runs) - KEEP_RUNS, 0)]:
        shutil.rmtree(old, ignore_errors=True)
    return folder


@contextlib.contextmanager
def step_outputs(env: StepEnv, step_id: str | None) -> Iterator[None]:
    """Commands in this block log into the step's folder; overflowing streams become issues."""
    if env.logs is None:
        yield
        return
    folder = env.logs / (file_name("step", step_id) if step_id else "run")
    with proc.output_scope(folder) as scope:
        try:
            yield
        finally:
            assert scope is not None
            log_overflows(env, step_id, scope)


def log_overflows(env: StepEnv, step_id: str | None, scope: proc.OutputFolder | None) -> None:
    """One low issue per stream that printed more than exec-auto keeps in memory."""
    if scope is None:
        return
    for item in scope.drain():
        env.store.log_issue(
            "output_truncated",
            item.line(),
            step_id=step_id,
            severity="low",
            action_taken="Kept the start and end; the middle was counted, not stored",
        )
