"""The seam between the executor and the quality gates.

The executor calls `Gates.after_step` after each agent attempt. Findings the agent could fix are fed
back to it (the executor owns the bounded fix loop, since it owns the agent); whatever is left is
logged to progress.yaml as issues. `final` runs the whole suite once at the end of the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from exec_auto.config import GatesConfig

FindingType = Literal[
    "test_failure", "lint_error", "runtime_error", "dependency_error", "timeout", "warning"
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
    def passed(self) -> bool:
        """True when no gate left a new problem."""
        return not self.new_findings

    def feedback(self) -> str:
        """The failure text handed back to the agent for a fix attempt."""
        parts = [
            f"[{f.type}] {f.description}\n{f.details}".strip()
            for f in self.new_findings
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


class Gates(Protocol):
    """Quality gates the executor runs."""

    # Test ids failing before the run; the executor persists them so a resume keeps them.
    baseline_failures: set[str]

    def baseline(self, repo_root: Path) -> GateReport:
        """Run the suite before the first step; later failures already here are pre-existing."""
        ...

    def after_step(self, ctx: GateContext) -> GateReport:
        """Format, lint and test what the step touched; install missing dependencies."""
        ...

    def final(self, ctx: GateContext) -> GateReport:
        """Run the whole suite once at the end of the ticket."""
        ...


class NoGates:
    """Gates switched off (`--no-gates`): every step passes unchecked."""

    def __init__(self) -> None:
        self.baseline_failures: set[str] = set()

    def baseline(self, repo_root: Path) -> GateReport:
        """Nothing to record."""
        return GateReport()

    def after_step(self, ctx: GateContext) -> GateReport:
        """Nothing checked."""
        return GateReport()

    def final(self, ctx: GateContext) -> GateReport:
        """Nothing checked."""
        return GateReport()
