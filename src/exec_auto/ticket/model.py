"""Typed records for what a ticket holds: plan steps, acceptance criteria, and progress state.

Plan and criteria records are immutable: they are parsed once at the edge. Progress records are
the run's mutable state document; the executor edits them and `progress.save` writes them whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from exec_auto.evidence.model import Proof, RedGreenRecord
from exec_auto.usage import Usage

StepStatus = Literal[
    "pending",
    "in_progress",
    "completed",
    "completed_with_warning",
    "failed",
    "skipped",
    # Parked: the step waits for a human decision (`exec-auto answer`), then runs again.
    "needs_decision",
]
FINISHED_STEP_STATUSES: frozenset[str] = frozenset(
    {"completed", "completed_with_warning", "failed", "skipped"}
)
CriterionStatus = Literal["met", "partial", "not_met", "unverified"]
Severity = Literal["high", "medium", "low"]
SPEC_STATUSES: tuple[str, ...] = (
    "draft",
    "defined",
    "planned",
    "in_progress",
    "completed",
    "archived",
)


class Step(BaseModel):
    """One executable plan step: the plan's own id and title, and its markdown verbatim."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    body: str
    phase: str | None = None
    # Ids of steps that must finish first (spec-kit "(depends on T012)", Kiro/cc-sdd _Depends:_, Taskmaster).
    depends_on: tuple[str, ...] = ()
    # The format marks the step as safe to run alongside its neighbours ([P], (P)).
    parallel: bool = False
    # Kiro's "- [ ]*": the parent counts as done without it.
    optional: bool = False
    # Already marked done in the format's own file when it was read.
    done: bool = False
    # How the step was read ("tasks.md:42 checkbox T001"), shown by `exec-auto show`.
    source: str = ""


class Plan(BaseModel):
    """plan.md parsed into its title, overview and ordered implementation steps."""

    model_config = ConfigDict(frozen=True)

    path: Path | None = None
    title: str = ""
    overview: str = ""
    steps: tuple[Step, ...]
    # Distribution names the plan's dependency section mentions (a source for safe auto-install).
    dependencies: tuple[str, ...] = ()


class Criterion(BaseModel):
    """One acceptance criterion, with the optional command that verifies it."""

    model_config = ConfigDict(frozen=True)

    text: str
    verify: str | None = None
    group: str | None = None
    tests: tuple[str, ...] = ()
    # How the criterion was read ("spec.md:20 US1 scenario 1"), shown by `exec-auto show`.
    source: str = ""


class FilesTouched(BaseModel):
    """Files a step created, modified and deleted (repo-relative, POSIX separators)."""

    created: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)

    def all(self) -> list[str]:
        """Created and modified files (the ones that still exist)."""
        return [*self.created, *self.modified]


class AgentUsage(Usage):
    """What the agent spent on a step (summed over attempts) and how its last call ended."""

    result: str | None = None

    def plus(self, usage: Usage, result: str | None) -> AgentUsage:
        """This step's usage after one more call that ended as `result`."""
        return AgentUsage(result=result, **(self + usage).model_dump())


DecisionKind = Literal["assumption", "deviation"]


class AgentDecision(BaseModel):
    """An assumption or a deviation from the plan the agent reported (for the human to ratify)."""

    kind: DecisionKind
    text: str
    # Which call reported it: "step", or "fix 1", "fix 2", ...
    source: str = "step"


class StepProgress(BaseModel):
    """A step's state in progress.yaml."""

    step_id: str
    description: str
    status: StepStatus = "pending"
    started_at: str | None = None
    completed_at: str | None = None
    files_touched: FilesTouched = Field(default_factory=FilesTouched)
    auto_actions: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    attempts: int = 0
    agent: AgentUsage = Field(default_factory=AgentUsage)
    # One summary line per gate after the step (e.g. "Black: Formatted 1 file").
    quality_gates: list[str] = Field(default_factory=list)
    decisions: list[AgentDecision] = Field(default_factory=list)
    # Wall-clock seconds of each gate's last run after the step, by gate name.
    gate_seconds: dict[str, float] = Field(default_factory=dict)


class ProgressIssue(BaseModel):
    """One logged problem, kept for manual review."""

    timestamp: str
    type: str
    step_id: str | None = None
    description: str
    details: str = ""
    severity: Severity = "medium"
    resolution: str | None = None
    resolved_at: str | None = None
    action_taken: str | None = None


class CriterionProgress(BaseModel):
    """An acceptance criterion's validated status and the evidence that decided it."""

    criterion: str
    status: CriterionStatus = "unverified"
    evidence: list[str] = Field(default_factory=list)
    # red_green: failed before the ticket, passes after; passing: passes, not shown to fail before.
    proof: Proof = "none"


class TicketProgress(BaseModel):
    """The run-level block of progress.yaml."""

    name: str
    type: str | None = None
    execution_mode: str = "autonomous"
    started_at: str | None = None
    completed_at: str | None = None
    status: str = "pending"
    # Names this run's step history; unique even for two runs started in the same second.
    run_id: str | None = None


class AutoActionsSummary(BaseModel):
    """Totals of what the run fixed or did by itself."""

    dependencies_installed: list[str] = Field(default_factory=list)
    formatting_applied: int = 0
    linting_fixed: int = 0
    fix_attempts: int = 0
    tests_run: int = 0
    tests_passed: int = 0
    tests_failed: int = 0


class ReadinessRecord(BaseModel):
    """The readiness check at the start of the run (see `exec_auto.readiness`)."""

    score: int
    threshold: int
    checked_at: str
    # True when the run started below the threshold because of --force (or --interactive).
    forced: bool = False
    reasons: list[str] = Field(default_factory=list)


class Decision(BaseModel):
    """A question a step needs a human to decide, and (once given) the answer, who and when."""

    step_id: str
    question: str
    options: list[str] = Field(default_factory=list)
    # "agent": the agent declared it mid-step; "plan": the step carries a pause marker.
    source: Literal["agent", "plan"] = "agent"
    asked_at: str
    answer: str | None = None
    answered_by: str | None = None
    answered_at: str | None = None


class Progress(BaseModel):
    """The whole progress.yaml document."""

    ticket: TicketProgress
    implementation_steps: list[StepProgress] = Field(default_factory=list)
    acceptance_criteria: list[CriterionProgress] = Field(default_factory=list)
    issues: list[ProgressIssue] = Field(default_factory=list)
    auto_actions_summary: AutoActionsSummary = Field(default_factory=AutoActionsSummary)
    # Quality-gate results of the run (baseline, final gate), keyed by gate name.
    quality_gates: dict[str, str] = Field(default_factory=dict)
    # Tests failing before the first step (None: no baseline recorded yet); kept for resumes.
    baseline_failures: list[str] | None = None
    readiness: ReadinessRecord | None = None
    decisions: list[Decision] = Field(default_factory=list)
    # Test ids that ran in the baseline (before step 1): compared with the final run's.
    baseline_tests: list[str] | None = None
    # The work tree's snapshot before the first step (the "before" of red/green evidence).
    base_tree: str | None = None
    # Tests and verify commands run before and after the ticket (None: not run yet, or switched off).
    red_green: RedGreenRecord | None = None
    # Wall-clock seconds of the run-level gates (keys as in quality_gates: "final: pytest").
    gate_seconds: dict[str, float] = Field(default_factory=dict)

    def step(self, step_id: str) -> StepProgress | None:
        """The progress record of a step, if any."""
        return next((s for s in self.implementation_steps if s.step_id == step_id), None)

    def pending_decisions(self) -> list[Decision]:
        """Decisions asked and not answered yet."""
        return [d for d in self.decisions if d.answer is None]

    def open_issues(self) -> list[ProgressIssue]:
        """Issues without a resolution."""
        return [i for i in self.issues if i.resolution is None]
