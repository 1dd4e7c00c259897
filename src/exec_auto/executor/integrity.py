"""The executor's side of the integrity audit: audit a step's diff, log what it found.

The audit itself lives in `exec_auto.evidence`; this module runs it against the step's snapshots
and turns findings into `integrity` issues: high severity, or low when the plan's words authorise
the change (the reason is kept). An unauthorised finding leaves the step at best
`completed_with_warning`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exec_auto.evidence.audit import Auditor
from exec_auto.evidence.authorise import authorise
from exec_auto.evidence.finding import IntegrityFinding
from exec_auto.evidence.vanished import vanished_tests
from exec_auto.executor.state import ProgressStore
from exec_auto.gates.base import GateReport
from exec_auto.ticket.model import Severity, Step, StepProgress, StepStatus

if TYPE_CHECKING:
    from exec_auto.executor.steps import StepEnv


def audit_step(
    auditor: Auditor | None, store: ProgressStore, step: Step, before: str, after: str
) -> list[IntegrityFinding] | None:
    """The step's integrity findings between two snapshot trees; None when the audit crashed.

    A crash is logged as a runtime_error, never raised: the audit logs and the run goes on.
    """
    if auditor is None or before == after:
        return []
    try:
        return auditor.audit(before, after, f"{step.title}\n{step.body}")
    except Exception as exc:  # the audit is a gate: it logs and the run goes on
        store.log_issue(
            "runtime_error",
            f"integrity audit crashed: {type(exc).__name__}: {exc}",
            step_id=step.id,
            severity="high",
            action_taken="This step's diff was not audited",
        )
        return None


def blocking(findings: list[IntegrityFinding] | None) -> list[IntegrityFinding]:
    """Findings the plan did not authorise: handed back to the agent, logged high."""
    return [f for f in findings or () if not f.authorised_by]


def summary_line(findings: list[IntegrityFinding]) -> str:
    """The audit's line among the step's quality gates."""
    if not findings:
        return "Integrity: no weakened checks"
    allowed = len(findings) - len(blocking(findings))
    text = f"Integrity: {len(findings)} weakened check(s)"
    return text + (f" ({allowed} authorised by the plan)" if allowed else "")


def log_integrity(
    store: ProgressStore,
    step: Step,
    record: StepProgress,
    findings: list[IntegrityFinding] | None,
    status: StepStatus,
    fix_attempts: int,
) -> StepStatus:
    """Log each finding as an `integrity` issue; the step's status with them taken into account."""
    if findings is None:
        record.quality_gates.append("Integrity: audit crashed, diff not audited (see issues)")
        return "completed_with_warning" if status == "completed" else status
    record.quality_gates.append(summary_line(findings))
    for finding in findings:
        severity: Severity
        if finding.authorised_by:
            severity, action = "low", "Authorised by the plan's step text; logged for review"
        else:
            severity = "high"
            action = (
                f"Handed back to the agent in {fix_attempts} fix attempt(s); still weakened:"
                " restore the check and fix the code"
                if fix_attempts
                else "Logged; restore the check and fix the code"
            )
        store.log_issue(
            "integrity",
            finding.summary(),
            step_id=step.id,
            severity=severity,
            details=finding.details(),
            action_taken=action,
        )
        if not finding.authorised_by:
            record.warnings.append(f"integrity: {finding.summary()} - requires manual review")
    # What the plan asked for is logged (low) but does not downgrade the step.
    if blocking(findings) and status == "completed":
        return "completed_with_warning"
    return status


def log_vanished(env: StepEnv, final: GateReport) -> None:
    """Tests that ran in the baseline and not in the (completed) final run: integrity issues."""
    progress = env.store.progress
    baseline = progress.baseline_tests
    if env.auditor is None or not baseline or not (final.passed_tests or final.failed_tests):
        return
    if final.gate_errors or any(k.startswith("timeout:") for k in final.problem_keys):
        return  # a run that did not complete leaves tests out for its own reasons
    reported = [f"{i.description}\n{i.details}" for i in progress.issues if i.type == "integrity"]
    found = vanished_tests(baseline, [*final.passed_tests, *final.failed_tests], reported)
    plan = "\n".join(f"{s.title}\n{s.body}" for s in env.prompts.plan.steps)
    for finding in authorise(found, plan):
        allowed = finding.authorised_by is not None
        env.store.log_issue(
            "integrity",
            finding.summary(),
            step_id=None,
            severity="low" if allowed else "high",
            details=finding.details(),
            action_taken="Authorised by the plan; logged for review"
            if allowed
            else "Logged: find which step stopped it from running and restore it",
        )
