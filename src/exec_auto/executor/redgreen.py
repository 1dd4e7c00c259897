"""The executor's side of red/green evidence: which tests to run before the ticket, and where.

After the final gate, the tests the criteria name and the tests the ticket added are run once more
on the code before the ticket (`evidence.redgreen.BeforeTicket`), with the interpreter of the
project's environment the gates use. The scratch checkout stays open while the criteria are
validated (verify commands run there too) and is removed afterwards.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Sequence
from pathlib import Path

from exec_auto.evidence.audit import read_blob
from exec_auto.evidence.redgreen import BeforeTicket, added_tests, evidence_for
from exec_auto.evidence.testcode import parse_module
from exec_auto.executor.criteria import node_ids
from exec_auto.executor.steps import StepEnv
from exec_auto.gates.base import GateReport
from exec_auto.gates.environment import (
    MANAGER_RUNNERS,
    Environment,
    detect_runner,
    make_environment,
)
from exec_auto.ticket.model import Criterion


def project_environment(env: StepEnv) -> Environment:
    """The gates' environment when they expose one, else the same detection they use (once a run)."""
    lookup = getattr(env.gates, "environment", None)
    if callable(lookup):
        found = lookup(env.root)
        if isinstance(found, Environment):
            return found
    if env.environment is None:
        env.environment = PendingEnvironment(env.root, env.config.gates.runner)
    return env.environment.get()


def prefetch_environment(env: StepEnv) -> None:
    """Start detecting the project's environment now when the run's end will need it.

    Only without gates that keep their own: red/green and verify commands need it after the last
    step, and its probe (the project's interpreter, started once or twice) costs 0.1-0.3 s that
    the steps' agent calls then hide. A plain interpreter or venv only (`python -c`, which
    writes nothing).
    """
    if callable(getattr(env.gates, "environment", None)) or env.environment is not None:
        return
    # A manager's `run` may create or sync an environment in the tree: that must not happen
    # while an agent's changes are being recorded, so only a plain interpreter is probed early.
    if detect_runner(env.root, env.config.gates.runner)[0] in MANAGER_RUNNERS:
        return
    verify = any(c.verify for c in env.prompts.criteria)
    if env.config.evidence.red_green or verify:
        env.environment = PendingEnvironment(env.root, env.config.gates.runner, background=True)


class PendingEnvironment:
    """make_environment(root, runner), run at once in a thread (background) or on first use."""

    def __init__(self, root: Path, runner: str, *, background: bool = False) -> None:
        self._args = (root.resolve(), runner)
        self._found: Environment | None = None
        self._thread: threading.Thread | None = None
        if background:
            # The run's sandbox scope (a context variable) applies to the probe as it would here.
            context = contextvars.copy_context()
            self._thread = threading.Thread(
                target=context.run, args=(self._detect,), name="exec-auto-env", daemon=True
            )
            self._thread.start()

    def _detect(self) -> None:
        with contextlib.suppress(Exception):  # get() detects again and raises it there
            self._found = make_environment(*self._args)

    def get(self) -> Environment:
        """The environment (waits for the background detection)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._found is None:
            self._found = make_environment(*self._args)
        return self._found


def _interpreter(environment: Environment) -> str:
    # The resolved interpreter, not `poetry run`: a manager started in the scratch directory
    # would build a new, empty environment there.
    executable = environment.probe().get("executable")
    return str(executable) if executable else environment.python[-1]


def _step_of(env: StepEnv, node_id: str) -> str:
    """The first step whose recorded tree has the test (the first step touching its file else)."""
    path, _, qualname = node_id.partition("::")
    touching = [
        s.step_id
        for s in env.store.progress.implementation_steps
        if path in s.files_touched.created or path in s.files_touched.modified
    ]
    if env.history is not None:
        store = env.snapshots.store
        for step_id in touching:
            tree = store.try_git(
                "rev-parse", "-q", "--verify", f"{env.history.step_ref(step_id)}^{{tree}}"
            )
            text = read_blob(store, tree.stdout.strip(), path) if tree.ok else None
            if text is not None and qualname in parse_module(text).tests:
                return f"added in step {step_id}"
    return f"added in step {touching[0]}" if touching else "added by the ticket"


def start_red_green(
    env: StepEnv, criteria: Sequence[Criterion], final: GateReport
) -> BeforeTicket | None:
    """Check out the code before the ticket and run the wanted tests there; None when switched off."""
    if not env.config.evidence.red_green:
        return None
    progress = env.store.progress
    store = env.snapshots.store
    base, final_tree = progress.base_tree, env.snapshots.latest().tree
    environment = project_environment(env)
    before = BeforeTicket(
        store,
        base,
        final_tree,
        _interpreter(environment),
        environment.extra_env,
        env.config.gates.gate_timeout,
    )
    wanted: dict[str, str] = {}
    for number, criterion in enumerate(criteria, 1):
        if criterion.verify:
            continue
        for node in node_ids(criterion, final.passed_tests, final.failed_tests):
            wanted.setdefault(node, f"criterion {number}: {criterion.text[:100]}")
    if base is not None and before.unavailable is None:
        for node in added_tests(store, base, final_tree):
            wanted.setdefault(node, _step_of(env, node))
    before.record.tests = evidence_for(before, wanted, final.passed_tests, final.failed_tests)
    return before
