"""The seam between the executor and the quality gates.

The executor calls `Gates.after_step` after each agent attempt. Findings the agent could fix are fed
back to it (the executor owns the bounded fix loop, since it owns the agent); whatever is left is
logged to progress.yaml as issues. `final` runs the whole suite once at the end of the ticket.

Known failures (the baseline's, and those a step already logged) live in the progress store and
come in through `GateContext.known_failures`; the gates keep no verdict state of their own. A gate
that could not run returns a `gate_error` finding, which is never pre-existing and never "known".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from exec_auto.config import GatesConfig

FindingType = Literal[
    "test_failure",
    "lint_error",
    "format_error",
    "runtime_error",
    "dependency_error",
    "timeout",
    "warning",
    # A gate that could not run (missing tool, crash, timeout): never a pass, never pre-existing.
    "gate_error",
    # A test that flipped between two identical runs: reported, never blamed on the step.
    "flaky",
]
Severity = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class Finding:
    """A problem a gate found and could not fix by itself."""

    type: FindingType
    severity: Severity
    description: str
    details: str = ""
    # Worth handing back to the agent (a failing test, an unfixable lint); a failed install is not.
    agent_fixable: bool = True
    # Present before the run started (from the baseline): reported, never blamed on the step.
    pre_existing: bool = False
    # Dependency errors that the seed says skip the step.
    skip_step: bool = False
    # The failing test's id (test_failure and flaky findings), for bisection and criteria.
    test_id: str = ""

    @property
    def blamed(self) -> bool:
        """True when the finding counts against the step (new, and not a flaky test)."""
        return not self.pre_existing and self.type != "flaky"


@dataclass(frozen=True)
class ToolInfo:
    """Which tool judged, at which version, and where that choice came from (for show and report)."""

    tool: str
    version: str = ""
    source: str = ""
    command: str = ""

    def describe(self) -> str:
        """'flake8 7.1.1 (project environment, configured in .flake8)'."""
        text = f"{self.tool} {self.version}".strip()
        return f"{text} ({self.source})" if self.source else text


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome, e.g. name='black', summary='Formatted 1 file'."""

    name: str
    passed: bool
    summary: str
    auto_actions: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    skipped: bool = False
    # Wall-clock seconds the gate's tool(s) took.
    duration: float = 0.0
    tool: ToolInfo | None = None
    # Files a formatter changed and violations a fixer removed (summed into the run's auto-actions).
    formatted: int = 0
    fixed: int = 0

    def line(self) -> str:
        """The summary with the gate's duration and the tool that judged, for progress and report."""
        extra = [f"{self.duration:.1f} s"] if self.duration else []
        if self.tool is not None:
            extra.append(self.tool.describe())
        return f"{self.summary} [{'; '.join(extra)}]" if extra else self.summary


@dataclass(frozen=True)
class TestCounts:
    """Per-run pytest counts."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def run(self) -> int:
        """Tests that ran to an outcome (skips excluded)."""
        return self.passed + self.failed + self.errors


@dataclass(frozen=True)
class GateReport:
    """Everything the gates did after one step attempt (or at the end of the ticket)."""

    results: tuple[GateResult, ...] = ()
    formatted_files: int = 0
    lint_fixed: int = 0
    dependencies_installed: tuple[str, ...] = ()
    tests: TestCounts = field(default_factory=TestCounts)
    # Test ids that ran and passed (evidence for acceptance criteria).
    passed_tests: tuple[str, ...] = ()
    failed_tests: tuple[str, ...] = ()
    # Keys of the test run's problems (failed ids, "timeout:<id>"), comparable with baseline_failures.
    problem_keys: tuple[str, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """All findings of all gates."""
        return tuple(f for r in self.results for f in r.findings)

    @property
    def new_findings(self) -> tuple[Finding, ...]:
        """Findings not already present before the run."""
        return tuple(f for f in self.findings if not f.pre_existing)

    @property
    def blamed_findings(self) -> tuple[Finding, ...]:
        """New findings that count against the step (flaky tests are reported, not blamed)."""
        return tuple(f for f in self.findings if f.blamed)

    @property
    def gate_errors(self) -> tuple[Finding, ...]:
        """Gates that could not run."""
        return tuple(f for f in self.findings if f.type == "gate_error")

    @property
    def passed(self) -> bool:
        """True when no gate left a new problem and every gate could run."""
        return not self.blamed_findings

    def feedback(self) -> str:
        """The failure text handed back to the agent for a fix attempt."""
        parts = [
            f"[{f.type}] {f.description}\n{f.details}".strip()
            for f in self.blamed_findings
            if f.agent_fixable
        ]
        return "\n\n".join(parts)


@dataclass(frozen=True)
class GateContext:
    """What the gates need to know about the step that just ran."""

    repo_root: Path
    # Created, modified and deleted files (deleted ones matter for test selection).
    touched_files: tuple[str, ...]
    step_id: str | None
    config: GatesConfig
    # Distribution names from the plan's dependency section: the only guesses allowed to install.
    plan_dependencies: tuple[str, ...] = ()
    # Git tree of the work tree before the step: lint problems already there are not the step's.
    before_tree: str | None = None
    # Test ids failing before this step (baseline, or logged by an earlier step): never blamed.
    # Owned by the progress store; only real test ids, never a run that could not start.
    known_failures: frozenset[str] = frozenset()
    # Causes of gate errors the baseline already had: still reported, but not handed to the agent.
    broken_before: frozenset[str] = frozenset()


class Gates(Protocol):
    """Quality gates the executor runs."""

    def baseline(self, ctx: GateContext) -> GateReport:
        """Run the suite before the first step; its problem_keys become the known failures."""
        ...

    def after_step(self, ctx: GateContext) -> GateReport:
        """Format, lint and test what the step touched; install missing dependencies."""
        ...

    def final(self, ctx: GateContext) -> GateReport:
        """Run the whole suite once at the end of the ticket."""
        ...


class NoGates:
    """Gates switched off (`--no-gates`): every step passes unchecked."""

    # No command runs, so no file can change: the executor needs no snapshot after "the gates".
    runs_commands = False

    def baseline(self, ctx: GateContext) -> GateReport:
        """Nothing to record."""
        return GateReport()

    def after_step(self, ctx: GateContext) -> GateReport:
        """Nothing checked."""
        return GateReport()

    def final(self, ctx: GateContext) -> GateReport:
        """Nothing checked."""
        return GateReport()
