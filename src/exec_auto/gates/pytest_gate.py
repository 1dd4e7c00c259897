"""The test gate: run the selected tests, install missing dependencies, turn failures into findings.

Failures whose test id already failed in the baseline are marked pre-existing, so a step is never
blamed for them. A failure caused by a missing module is folded into that module's
`dependency_error` instead of being reported twice.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace

from exec_auto.config import GatesConfig
from exec_auto.gates import dependencies
from exec_auto.gates.base import Finding, GateResult, ToolInfo
from exec_auto.gates.environment import Environment
from exec_auto.gates.paths import clip, plural
from exec_auto.gates.runners import choose_runner, run_unittest
from exec_auto.gates.selection import Selection
from exec_auto.gates.testing import TestFailure, TestRun, run_pytest

# One missing module can hide the next; a few install rounds settle a step's imports.
MAX_INSTALL_ROUNDS = 3
# More failures than this are summarised in one finding instead of one each.
MAX_TEST_FINDINGS = 20


def problem_keys(run: TestRun) -> set[str]:
    """Test ids of a run's failures, to recognise them later as known.

    Only real test outcomes count: a run that crashed, could not start or timed out is never a
    "known failure", so the same breakage later is reported again instead of excused.
    """
    return {f.test_id for f in run.failures if f.kind != "crash"}


@dataclass
class TestGateOutcome:
    """The test gate's result, the dependency gate's result (if it acted), and the last run."""

    __test__ = False

    result: GateResult
    run: TestRun | None
    dependency_result: GateResult | None = None
    installed: list[str] = field(default_factory=list)


@dataclass
class DependencyState:
    """Dependency work that outlives one call: failed installs are not retried on fix attempts."""

    failed: dict[str, Finding] = field(default_factory=dict)


def execute(
    env: Environment,
    cfg: GatesConfig,
    paths: Sequence[str] | None,
    extra_args: Sequence[str] = (),
    *,
    selection: Selection | None = None,
) -> TestRun:
    """Run tests with the project's runner: its pytest, or unittest when it has no pytest.

    selection: narrows the run to its test ids (and records the test map when it asks to).
    """
    runner = None if cfg.test_command else choose_runner(env)
    if runner is not None and runner.kind == "unittest":
        wanted = paths
        if selection is not None and selection.ids:
            wanted = (*selection.ids, *selection.whole)
        run = run_unittest(env, runner, wanted, cfg.gate_timeout, seed=cfg.seed)
        return replace(run, runner="unittest")
    keep = None
    if selection is not None and selection.ids:
        keep = {
            "ids": list(selection.ids),
            "files": list(selection.whole),
            "known": sorted(selection.known),
        }
    return run_pytest(
        env,
        paths,
        cfg.gate_timeout,
        test_command=cfg.test_command,
        extra_args=extra_args,
        seed=cfg.seed,
        keep=keep,
        # A custom test command may not load our plugins the way we pass them.
        record=selection is not None and selection.record and not cfg.test_command,
    )


def run_selection(env: Environment, cfg: GatesConfig, selection: Selection) -> TestRun:
    """Run the tests a selection names (or the whole suite)."""
    extra = ("--testmon",) if selection.testmon else ()
    return execute(env, cfg, selection.paths, extra, selection=selection)


def runner_tool(env: Environment, cfg: GatesConfig, run: TestRun) -> ToolInfo:
    """The runner that judged and its exact command, for the report."""
    if cfg.test_command:
        source = "[tool.exec-auto.gates] test_command"
    else:
        source = choose_runner(env).describe().split("(", 1)[1].removesuffix(")")
    version = env.version(run.runner) if run.runner == "pytest" else ""
    return ToolInfo(run.runner, version, source, shlex.join(run.argv))


def flaky_ids(env: Environment, cfg: GatesConfig, run: TestRun, known: set[str]) -> set[str]:
    """New failures that pass when re-run identically (same seed, same order): flaky, not blamed."""
    suspects = sorted(
        f.test_id
        for f in run.failures
        if f.kind in ("failed", "error") and f.test_id not in known and "::" in f.test_id
    )
    if not suspects or run.timed_out or len(suspects) > MAX_TEST_FINDINGS:
        return set()
    again = execute(env, cfg, suspects)
    if any(f.kind == "crash" for f in again.failures) or again.timed_out:
        return set()
    return set(suspects) & set(again.passed)


def run_test_gate(
    env: Environment,
    cfg: GatesConfig,
    selection: Selection,
    *,
    baseline_keys: set[str],
    plan_dependencies: Iterable[str] = (),
    state: DependencyState | None = None,
    broken_before: Collection[str] = (),
) -> TestGateOutcome:
    """Run the tests; install missing dependencies (when allowed) and re-run; report the rest."""
    if selection.nothing:
        result = GateResult(
            "pytest", True, f"Pytest: Not applicable ({selection.reason})", skipped=True
        )
        return TestGateOutcome(result, None)
    state = state or DependencyState()
    plan = tuple(plan_dependencies)
    handled: dict[str, Finding | None] = {}
    installed: list[str] = []
    actions: list[str] = []
    run = run_selection(env, cfg, selection)
    for _ in range(MAX_INSTALL_ROUNDS):
        missing = sorted(_new_missing_modules(env, run, baseline_keys) - set(handled))
        if not missing or not cfg.install:
            handled.update({m: None for m in missing})
            break
        progressed = False
        for module in missing:
            finding, action = _recover(env, cfg, module, plan, state)
            handled[module] = finding
            if action is not None:
                installed.append(action[0])
                actions.append(action[1])
                progressed = True
        if not progressed:
            break
        run = run_selection(env, cfg, selection)
    # Modules that surfaced only in the last re-run are reported, not left as plain failures.
    for module in _new_missing_modules(env, run, baseline_keys) - set(handled):
        handled[module] = None
    dep_findings = _dependency_findings(env, cfg, run, handled, plan, installed)
    flaky = flaky_ids(env, cfg, run, baseline_keys) if cfg.rerun_failures else set()
    test_result = _test_result(
        run, selection, baseline_keys, cfg, set(dep_findings), flaky, broken_before
    )
    test_result = replace(test_result, tool=runner_tool(env, cfg, run))
    dep_result = None
    if dep_findings or actions:
        dep_result = _dependency_result(installed, actions, list(dep_findings.values()))
    return TestGateOutcome(test_result, run, dep_result, installed)


def _new_missing_modules(env: Environment, run: TestRun, baseline_keys: set[str]) -> set[str]:
    """Missing third-party modules behind failures that are not pre-existing."""
    modules = set()
    for failure in run.failures:
        module = failure.missing_module
        if (
            module
            and failure.test_id not in baseline_keys
            and not dependencies.is_local_module(env.repo_root, module)
        ):
            modules.add(module)
    return modules


def _recover(
    env: Environment, cfg: GatesConfig, module: str, plan: tuple[str, ...], state: DependencyState
) -> tuple[Finding | None, tuple[str, str] | None]:
    """Try to install what provides `module`: (finding if it failed, (requirement, action) if done)."""
    resolution = dependencies.resolve(module, plan, env.repo_root)
    if resolution is None:
        return None, None  # reported by _dependency_findings once the affected tests are known
    if resolution.requirement in state.failed:
        return state.failed[resolution.requirement], None
    outcome = dependencies.install(env, resolution.requirement, cfg.gate_timeout)
    if outcome.ok:
        action = (
            f"Installed {resolution.requirement} ({outcome.command}; named by {resolution.source})"
        )
        if outcome.note:
            action += f"; {outcome.note}"
        return None, (resolution.requirement, action)
    finding = Finding(
        type="dependency_error",
        severity="high",
        description=f"Failed to install {resolution.requirement}",
        details=f"{outcome.command} failed: {outcome.output}".strip(),
        agent_fixable=False,
        skip_step=True,
    )
    state.failed[resolution.requirement] = finding
    return finding, None


def _dependency_findings(
    env: Environment,
    cfg: GatesConfig,
    run: TestRun,
    handled: dict[str, Finding | None],
    plan: tuple[str, ...],
    installed: list[str],
) -> dict[str, Finding]:
    """One finding per module still missing after recovery, naming the tests it broke."""
    affected: dict[str, list[str]] = {}
    for failure in run.failures:
        # A run that could not start stays a gate_error (its cause names the module).
        if failure.missing_module in handled and failure.kind != "crash":
            affected.setdefault(failure.missing_module, []).append(failure.test_id)
    findings: dict[str, Finding] = {}
    for module, tests in affected.items():
        listing = "\nAffected: " + ", ".join(tests)
        known = handled[module]
        if known is not None:
            findings[module] = replace(known, details=known.details + listing)
            continue
        resolution = dependencies.resolve(module, plan, env.repo_root)
        if resolution is None:
            findings[module] = _unknown_module(module, listing)
        elif not cfg.install:
            command = shlex.join(dependencies.install_argv(env, resolution.requirement))
            findings[module] = Finding(
                type="dependency_error",
                severity="high",
                description=f"Missing module '{module}' ({resolution.requirement}): installing is disabled",
                details=(
                    "Installing dependencies is disabled (--no-install or gates.install = false);"
                    f" install it with: {command}{listing}"
                ),
                agent_fixable=False,
            )
        elif resolution.requirement in installed:
            findings[module] = Finding(
                type="dependency_error",
                severity="high",
                description=f"Module '{module}' is still missing after installing {resolution.requirement}",
                details=f"{resolution.requirement} does not seem to provide '{module}'.{listing}",
                agent_fixable=False,
            )
        else:
            findings[module] = Finding(
                type="dependency_error",
                severity="high",
                description=f"Missing module '{module}' ({resolution.requirement}): not installed",
                details=f"Still missing after {MAX_INSTALL_ROUNDS} install rounds in this step.{listing}",
                agent_fixable=False,
            )
    return findings


def _unknown_module(module: str, listing: str) -> Finding:
    if dependencies.is_stdlib(module):
        why = f"'{module}' is a standard-library module missing from this Python version."
    else:
        why = (
            f"No distribution for '{module}' is named by the plan's dependencies, the project's"
            " declared dependencies or the import-name table, and installing a guessed name risks"
            " a typosquatted package. Add it to the plan's dependency section, or fix the import."
        )
    return Finding(
        type="dependency_error",
        severity="high",
        description=f"Missing module '{module}': no known distribution provides it; not installed",
        details=why + listing,
    )


def _dependency_result(
    installed: list[str], actions: list[str], findings: list[Finding]
) -> GateResult:
    parts = []
    if installed:
        parts.append(f"Installed {', '.join(installed)}")
    if findings:
        parts.append(f"{plural(len(findings), 'dependency problem')} left")
    return GateResult(
        name="dependencies",
        passed=not findings,
        summary="Dependencies: " + "; ".join(parts),
        auto_actions=tuple(actions),
        findings=tuple(findings),
    )


def failure_finding(
    failure: TestFailure, pre_existing: bool, *, flaky: bool = False, fixable: bool = True
) -> Finding:
    """A test_failure, a flaky test, or a gate_error when the runner itself could not run."""
    if failure.kind == "crash":
        # Never pre-existing: a suite that cannot run is reported every time, baseline or not.
        return Finding(
            type="gate_error",
            severity="high",
            description=failure.message,
            details=failure.details,
            agent_fixable=fixable and "not installed" not in failure.message,
        )
    verb = " failed: " if failure.kind == "failed" else ": "
    if flaky:
        return Finding(
            type="flaky",
            severity="low",
            description=f"{failure.test_id} is flaky: failed, then passed on an identical re-run",
            details=f"First run{verb}{failure.message}\n{failure.details}",
            agent_fixable=False,
            test_id=failure.test_id,
        )
    return Finding(
        type="test_failure",
        severity="high",
        description=f"{failure.test_id}{verb}{failure.message}",
        details=failure.details,
        pre_existing=pre_existing,
        test_id=failure.test_id,
    )


def _test_result(
    run: TestRun,
    selection: Selection,
    baseline_keys: set[str],
    cfg: GatesConfig,
    folded_modules: set[str],
    flaky: Collection[str] = (),
    broken_before: Collection[str] = (),
) -> GateResult:
    failures = [
        f for f in run.failures if f.kind == "crash" or f.missing_module not in folded_modules
    ]
    # Gate errors first, then new problems, then the known ones.
    failures.sort(key=lambda f: (f.kind != "crash", f.test_id in baseline_keys))
    findings = [
        failure_finding(
            f,
            f.kind != "crash" and f.test_id in baseline_keys,
            flaky=f.test_id in flaky,
            fixable=f.message not in broken_before,
        )
        for f in failures[:MAX_TEST_FINDINGS]
    ]
    rest = failures[MAX_TEST_FINDINGS:]
    if rest:
        findings.append(
            Finding(
                type="test_failure",
                severity="high",
                description=f"{plural(len(rest), 'more failing test')} (see details)",
                details=clip("\n".join(f"{f.test_id}: {f.message}" for f in rest), 6000),
                pre_existing=all(f.test_id in baseline_keys for f in rest),
            )
        )
    if run.timed_out:
        findings.insert(0, timeout_finding(run, cfg.gate_timeout))
    scope = f" ({selection.describe()})" if selection.reason else ""
    return GateResult(
        name=run.runner,
        passed=not any(f.blamed for f in findings),
        summary=summarize(run, cfg.gate_timeout, baseline_keys) + scope,
        findings=tuple(findings),
        duration=run.duration,
    )


def timeout_finding(run: TestRun, timeout: float) -> Finding:
    """The gate_error for a test run killed at the gate timeout, naming the test that hung."""
    where = f" in {run.hanging_test}" if run.hanging_test else ""
    return Finding(
        type="gate_error",
        severity="high",
        description=f"Test run timed out after {timeout:g}s{where}; killed with its process group",
        details=(
            f"Before the kill: {run.counts.passed} passed, {run.counts.failed} failed,"
            f" {run.counts.errors} errors.\n{run.output}"
        ).strip(),
    )


def summarize(run: TestRun, timeout: float, baseline_keys: Iterable[str] = ()) -> str:
    """'Pytest: 8/8 tests passed', 'Unittest: 4/5 tests passed, 1 failed', ..."""
    counts = run.counts
    label = run.label
    crashed = [f for f in run.failures if f.kind == "crash"]
    if run.timed_out:
        return f"{label}: timed out after {timeout:g}s ({counts.passed} passed before the kill)"
    if crashed and not counts.run:
        return f"{label}: could not run ({crashed[0].message})"
    if run.no_tests:
        return f"{label}: No tests collected"
    text = f"{label}: {counts.passed}/{counts.run} tests passed"
    if counts.failed:
        text += f", {counts.failed} failed"
    if counts.errors:
        text += f", {plural(counts.errors, 'error')}"
    if counts.skipped:
        text += f", {counts.skipped} skipped"
    known = set(baseline_keys)
    old = sum(1 for f in run.failures if f.test_id in known)
    if old:
        text += f" ({old} pre-existing)"
    return text
