"""The executor's side of blame by bisection: the run's step snapshots and a runner on checkouts.

After the final gate, a failure no step's gate saw is bisected over the run's recorded step
snapshots (`executor.history`). Each probe checks one snapshot out into a scratch directory
outside the user's tree (`evidence.scratch.ScratchCheckout`: no worktree, ref, index or branch of
the repository changes) and runs only the failing tests there, with the final gate's runner, the
project's interpreter, the same PYTHONHASHSEED and pytest-randomly seed, and the checkout's own
code first on the import path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from exec_auto.config import GatesConfig
from exec_auto.evidence.scratch import ScratchCheckout
from exec_auto.executor.history import HistoryError, latest_run
from exec_auto.executor.snapshot import SnapshotStore
from exec_auto.executor.steps import StepEnv, open_gate_error
from exec_auto.gates.base import GateReport
from exec_auto.gates.bisect import BisectResult, Point, bisect
from exec_auto.gates.environment import Environment, make_environment, scratch_environment
from exec_auto.gates.pytest_gate import execute
from exec_auto.gates.runners import choose_runner
from exec_auto.gates.testing import TestRun

_IDENT = re.compile(r"[A-Za-z_]\w*")


def bisect_targets(final: GateReport) -> list[str]:
    """Test ids the final gate found failing that no step logged (flaky ones excluded)."""
    return [f.test_id for f in final.new_findings if f.type == "test_failure" and f.test_id]


def snapshot_points(env: StepEnv) -> list[Point]:
    """The run's base and its recorded steps, in plan order; [] when nothing was recorded."""
    if env.history is None:
        return []
    try:
        recorded = latest_run(env.root, env.snapshots.store.ticket, env.history.run)
    except HistoryError:
        return []
    by_id = {s.step_id: s for s in recorded.steps}
    points = [Point(None, recorded.base)]
    pending: list[str] = []
    for step_id in env.history.step_ids:
        step = by_id.get(step_id)
        record = env.store.progress.step(step_id)
        # A step without a snapshot of its own that changed files: the next snapshot holds them.
        if step is not None or (record is not None and record.files_touched.all()):
            pending.append(step_id)
        if step is not None:
            points.append(Point(step_id, step.commit, tuple(pending)))
            pending = []
    return points


def pytest_selection(root: Path, tests: Sequence[str]) -> list[str]:
    """The node ids pytest can be given on this checkout (parameters dropped), files for the rest.

    pytest refuses a whole run when one named file or node does not exist there, so a test whose
    file or function is not in this snapshot is left out (it cannot fail there).
    """
    out: list[str] = []
    for test in tests:
        path, _, qualname = test.partition("::")
        try:
            text = (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        names = set(_IDENT.findall(text))
        parts = [p.split("[", 1)[0] for p in qualname.split("::")] if qualname else []
        if all(p in names for p in parts):
            out.append("::".join([path, *parts]))
    return list(dict.fromkeys(out))


class ScratchRunner:
    """Runs tests on one snapshot at a time, each in a fresh scratch checkout."""

    def __init__(self, store: SnapshotStore, environment: Environment, cfg: GatesConfig):
        self.store = store
        self.environment = environment
        self.cfg = cfg
        self.pytest = cfg.test_command is not None or choose_runner(environment).kind == "pytest"

    def __call__(self, point: Point, tests: Sequence[str], timeout: float) -> TestRun:
        """The tests' run on point's snapshot, within timeout seconds."""
        limit = max(1.0, min(self.cfg.gate_timeout, timeout))
        cfg = self.cfg.model_copy(update={"gate_timeout": limit})
        with ScratchCheckout(self.store, point.commit) as checkout:
            selected = pytest_selection(checkout.path, tests) if self.pytest else list(tests)
            if not selected:
                return TestRun()
            return execute(scratch_environment(self.environment, checkout.path), cfg, selected)


def _environment(env: StepEnv) -> Environment:
    lookup = getattr(env.gates, "environment", None)
    if callable(lookup):
        found = lookup(env.root)
        if isinstance(found, Environment):
            return found
    return make_environment(env.root, env.config.gates.runner)


def bisect_final(env: StepEnv, final: GateReport) -> BisectResult | None:
    """Bisect the final gate's new failures over the step snapshots (None: nothing to bisect)."""
    cfg = env.config.gates
    targets = bisect_targets(final)
    if not (cfg.bisect and targets):
        return None
    points = snapshot_points(env)
    steps = len(points) - 1
    env.ui.message(
        f"[AUTO] Bisecting {len(targets)} final-gate failure(s) over {max(steps, 0)} step snapshot(s)"
    )
    result = bisect(
        points,
        targets,
        ScratchRunner(env.snapshots.store, _environment(env), cfg),
        max_runs=cfg.bisect_runs,
        max_seconds=cfg.bisect_seconds,
    )
    env.ui.message(f"[AUTO] {result.summary()}")
    return result


def record_bisection(env: StepEnv, result: BisectResult | None) -> None:
    """The search's one-line outcome (verdicts, runs, seconds) among the run's quality gates."""
    if result is None:
        return
    env.store.progress.quality_gates["final: bisection"] = result.summary()
    env.store.progress.gate_seconds["final: bisection"] = round(result.seconds, 3)
    env.store.save()


def log_final_findings(env: StepEnv, final: GateReport, result: BisectResult | None) -> None:
    """Log what the final gate found that no step logged, under the step bisection blames."""
    blames = result.blames if result is not None else {}
    for finding in final.new_findings:
        if open_gate_error(env, finding.type, finding.description) is not None:
            continue  # a gate that could not run after a step either: logged once, there (#12)
        blame = blames.get(finding.test_id) if finding.test_id else None
        kind, severity, step_id = finding.type, finding.severity, None
        description, details = f"final gate: {finding.description}", finding.details
        action = "Logged for review"
        if blame is not None:
            # Ahead of the test's message: the description is clipped at 500 characters.
            description = f"final gate {blame.suffix()}: {finding.description}"
            details = f"Bisection: {blame.reason}\n{details}".strip()
            if blame.verdict == "introduced":
                step_id = blame.step_id
                action = f"Logged under step {step_id}, which introduced it (found by bisection)"
                _mark_step(env, step_id, finding.description)
            elif blame.verdict == "flaky":
                kind, severity = "flaky", "low"
                action = "Reported as flaky, not blamed on a step"
        env.store.log_issue(
            kind,
            description,
            step_id=step_id,
            severity=severity,
            details=details,
            action_taken=action,
        )


def _mark_step(env: StepEnv, step_id: str | None, what: str) -> None:
    """The blamed step did not finish cleanly after all: it carries the warning too."""
    record = env.store.progress.step(step_id) if step_id else None
    if record is None:
        return
    record.warnings.append(f"final gate: {what} - introduced by this step (found by bisection)")
    if record.status == "completed":
        record.status = "completed_with_warning"
