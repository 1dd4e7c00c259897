"""The Python quality gates: format, lint and test after each step; a baseline before; a final suite.

`PythonGates` composes the single-purpose modules of this package and satisfies the `Gates`
protocol. It keeps only caches that outlive one step (each repository's detected environment, the
import-graph cache, failed installs); which failures are already known comes in with the context.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from exec_auto.config import GatesConfig
from exec_auto.executor.snapshot import show_file
from exec_auto.gates import testmap as testmaps
from exec_auto.gates.base import Finding, GateContext, GateReport, GateResult
from exec_auto.gates.changes import regions_for
from exec_auto.gates.checks import CheckContext, Gate, build_checks
from exec_auto.gates.discovery import Discovery, discover
from exec_auto.gates.environment import Environment, make_environment
from exec_auto.gates.paths import clip, existing_python_files, plural, relative
from exec_auto.gates.precommit import PreCommitGate
from exec_auto.gates.pytest_gate import (
    DependencyState,
    TestGateOutcome,
    failure_finding,
    problem_keys,
    run_selection,
    run_test_gate,
    runner_tool,
    summarize,
    timeout_finding,
)
from exec_auto.gates.selection import WHOLE_SUITE, ImportGraph, Selection, select_tests
from exec_auto.gates.testing import TestRun
from exec_auto.gates.testmap import TestMap

FULL_SUITE = WHOLE_SUITE


class PythonGates:
    """Black/ruff format, ruff lint, pytest with affected-test selection, dependency recovery."""

    def __init__(
        self,
        config: GatesConfig,
        plan_dependencies: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.plan_dependencies = plan_dependencies
        self._envs: dict[tuple[Path, str], Environment] = {}
        self._discovered: dict[Path, Discovery] = {}
        self._graph = ImportGraph()
        self._dependencies = DependencyState()
        # Per repository: the test map recorded in the baseline (None: why there is none).
        self._maps: dict[Path, TestMap | None] = {}
        self._no_map: dict[Path, str] = {}

    def environment(self, repo_root: Path, config: GatesConfig | None = None) -> Environment:
        """The project's environment for repo_root, detected once per repository and runner."""
        runner = (config or self.config).runner
        key = (repo_root.resolve(), runner)
        if key not in self._envs:
            self._envs[key] = make_environment(key[0], runner)
        return self._envs[key]

    def baseline(self, ctx: GateContext) -> GateReport:
        """Run the whole suite before the first step; its problem_keys are the known failures."""
        cfg = ctx.config
        if not (cfg.enabled and cfg.test and cfg.baseline):
            return GateReport()
        env = self.environment(ctx.repo_root, cfg)
        env.probe()  # surfaces a broken environment in the summary below, before any step runs
        environment = GateResult("environment", True, f"Environment: {env.describe()}")
        try:
            run = run_selection(env, cfg, replace(FULL_SUITE, record=cfg.select_tests))
        except Exception as exc:  # no baseline is a logged problem, not the end of the run
            return GateReport(results=(environment, crashed("pytest", exc)))
        mapped = self._keep_map(ctx.repo_root, run) if cfg.select_tests else None
        findings = tuple(failure_finding(f, pre_existing=True) for f in run.failures)
        if run.timed_out:
            findings = (timeout_finding(run, cfg.gate_timeout), *findings)
        summary = summarize(run, cfg.gate_timeout).replace(
            f"{run.label}:", f"{run.label} baseline:", 1
        )
        result = GateResult(
            run.runner,
            not any(f.type == "gate_error" for f in findings),
            summary,
            findings=findings,
            duration=run.duration,
            tool=runner_tool(env, cfg, run),
        )
        return GateReport(
            results=(environment, *((mapped,) if mapped else ()), result),
            tests=run.counts,
            passed_tests=run.passed,
            failed_tests=tuple(f.test_id for f in run.failures if f.kind != "crash"),
            problem_keys=tuple(sorted(problem_keys(run))),
        )

    def discovery(self, repo_root: Path, config: GatesConfig | None = None) -> Discovery:
        """The project's own checks (discovered once per repository)."""
        key = repo_root.resolve()
        if key not in self._discovered:
            self._discovered[key] = discover(key, config or self.config)
        return self._discovered[key]

    def checks(self, ctx: GateContext) -> list[Gate]:
        """The ordered format and lint gates for this step's repository."""
        cfg = ctx.config
        env = self.environment(ctx.repo_root, cfg)
        found = self.discovery(ctx.repo_root, cfg)
        gates = build_checks(
            env, found, fmt=cfg.format, lint=cfg.lint, choice=cfg.formatter, commands=cfg.checks
        )
        if found.source == "pre-commit" and (cfg.format or cfg.lint):
            gates.insert(0, PreCommitGate())
        return gates

    def after_step(self, ctx: GateContext) -> GateReport:
        """Format and lint the step's lines, run the affected tests, install missing dependencies."""
        cfg = ctx.config
        if not cfg.enabled:
            return GateReport()
        repo_root = ctx.repo_root
        env = self.environment(repo_root, cfg)
        files = existing_python_files(repo_root, ctx.touched_files)
        before = content_before(repo_root, ctx.before_tree)
        regions = regions_for(files, lambda rel: _read(repo_root, rel), before)
        check_ctx = CheckContext(env, files, regions, before, cfg.gate_timeout)
        check_ctx = replace(check_ctx, touched=tuple(ctx.touched_files))
        results: list[GateResult] = []
        for gate in self.checks(ctx):
            try:
                results.append(gate.run(check_ctx))
            except Exception as exc:  # a gate logs and continues: that is the product's promise
                results.append(crashed(gate.name, exc))
        outcome = None
        if cfg.test:
            try:
                selection = self._select(env, cfg, ctx)
                outcome = self._tests(env, cfg, selection, ctx)
                results.extend(_outcome_results(outcome))
                self._refresh(repo_root, selection, outcome.run, ctx)
            except Exception as exc:
                results.append(crashed("pytest", exc))
        return _report(results, outcome)

    def final(self, ctx: GateContext) -> GateReport:
        """Run the whole suite once at the end of the ticket."""
        cfg = ctx.config
        if not (cfg.enabled and cfg.test and cfg.final_gate):
            return GateReport()
        env = self.environment(ctx.repo_root, cfg)
        try:
            outcome = self._tests(env, cfg, FULL_SUITE, ctx)
        except Exception as exc:  # the final gate logs and continues like every other gate
            return GateReport(results=(crashed("pytest", exc),))
        return _report(_outcome_results(outcome), outcome)

    def _keep_map(self, repo_root: Path, run: TestRun) -> GateResult:
        """Keep (and save) the map the baseline recorded; say what it holds or why there is none."""
        key = repo_root.resolve()
        unusable = str(run.recorded.get("unusable") or "") if run.recorded else ""
        if run.recorded is None or unusable:
            why = unusable or "the baseline run wrote no test map"
            if run.runner != "pytest":
                why = f"the {run.runner} runner records no test map"
            self._maps[key], self._no_map[key] = None, why
            return GateResult("test map", True, f"Test map: none ({why}); import graph selects")
        recorded = testmaps.from_plugin(run.recorded, key)
        self._maps[key] = recorded
        testmaps.save(key, recorded)
        functions = sum(len(e.functions) for e in recorded.sources.values())
        if recorded.has_coverage:
            what = f"{plural(functions, 'function')} in {plural(len(recorded.sources), 'file')}"
            what += f" ({recorded.coverage})"
        else:
            what = f"no executed code ({recorded.why_not}): the import graph selects"
        reads = len(recorded.reads) + len(recorded.listed)
        summary = (
            f"Test map: {plural(len(recorded.tests), 'test')}; {what};"
            f" {reads} non-Python files and directories read"
        )
        return GateResult("test map", True, summary)

    def _testmap(self, repo_root: Path) -> tuple[TestMap | None, str]:
        """The map for repo_root: this run's, or the one saved by the run being resumed."""
        key = repo_root.resolve()
        if key not in self._maps:
            loaded = testmaps.load(key)
            self._maps[key] = loaded
            if loaded is None:
                self._no_map[key] = "no baseline recorded one"
        return self._maps[key], self._no_map.get(key, "")

    def _select(self, env: Environment, cfg: GatesConfig, ctx: GateContext) -> Selection:
        touched = ctx.touched_files
        if not cfg.select_tests:
            return replace(FULL_SUITE, reason="selection is off (gates.select_tests = false)")
        testmon = (env.repo_root / ".testmondata").exists() and env.has_module("testmon")
        found, why = self._testmap(env.repo_root)
        selection = select_tests(
            env.repo_root,
            touched,
            self._graph,
            testmon=testmon,
            testmap=found,
            no_map=why,
            before=content_before(env.repo_root, ctx.before_tree),
            step=ctx.step_id,
        )
        return replace(selection, record=found is not None and not selection.testmon)

    def _refresh(
        self, repo_root: Path, selection: Selection, run: TestRun | None, ctx: GateContext
    ) -> None:
        """Fold what the step's run recorded into the map; files the run did not see move on too."""
        found, _ = self._testmap(repo_root)
        if found is None or not selection.record:
            return
        key = repo_root.resolve()
        if run is None and selection.nothing:
            fresh = TestMap(coverage=found.coverage)
        elif run is not None and run.recorded is not None and not run.recorded.get("unusable"):
            fresh = testmaps.from_plugin(run.recorded, key)
        else:
            return  # the run recorded nothing (it crashed): the touched files stay stale
        touched_rels = [relative(key, t) for t in ctx.touched_files]
        found.merge(
            fresh,
            (*run.passed, *(f.test_id for f in run.failures)) if run else (),
            key,
            touched_rels,
            ctx.step_id,
        )
        testmaps.save(key, found)

    def _tests(
        self, env: Environment, cfg: GatesConfig, selection: Selection, ctx: GateContext
    ) -> TestGateOutcome:
        plan = tuple(dict.fromkeys((*self.plan_dependencies, *ctx.plan_dependencies)))
        return run_test_gate(
            env,
            cfg,
            selection,
            baseline_keys=set(ctx.known_failures),
            plan_dependencies=plan,
            state=self._dependencies,
            broken_before=ctx.broken_before,
        )


def content_before(repo_root: Path, tree: str | None) -> Callable[[str], str | None] | None:
    """A lookup of a file's content in `tree` (the work tree before the step); None for new files."""
    if tree is None:
        return None

    def lookup(path: str) -> str | None:
        # Snapshot trees live in exec-auto's snapshot stores, not in the repository's objects.
        return show_file(repo_root, tree, path)

    return lookup


def crashed(name: str, exc: Exception) -> GateResult:
    """A gate that raised: recorded as a runtime_error with the exception, the other gates still run."""
    finding = Finding(
        type="gate_error",
        severity="high",
        description=f"The {name} gate crashed: {type(exc).__name__}: {exc}",
        details=clip(traceback.format_exc()),
        agent_fixable=False,
    )
    return GateResult(
        name, False, f"{name}: gate crashed ({type(exc).__name__})", findings=(finding,)
    )


def _outcome_results(outcome: TestGateOutcome) -> list[GateResult]:
    return [r for r in (outcome.dependency_result, outcome.result) if r is not None]


def _read(repo_root: Path, rel: str) -> str | None:
    try:
        return (repo_root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _report(results: list[GateResult], outcome: TestGateOutcome | None) -> GateReport:
    run = outcome.run if outcome else None
    return GateReport(
        results=tuple(results),
        formatted_files=sum(r.formatted for r in results),
        lint_fixed=sum(r.fixed for r in results),
        dependencies_installed=tuple(outcome.installed) if outcome else (),
        tests=run.counts if run else GateReport().tests,
        passed_tests=run.passed if run else (),
        failed_tests=tuple(f.test_id for f in run.failures if f.kind != "crash") if run else (),
        problem_keys=tuple(sorted(problem_keys(run))) if run else (),
    )
