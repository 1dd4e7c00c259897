"""Step prompts: a fixed prefix identical for every step, then the part that is about this step.

The prefix (rules, plan overview, acceptance criteria, conventions) comes first and is byte-identical
across steps so API backends can cache it; the per-step part holds a bounded summary of earlier
steps, so a prompt does not grow with the number of steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from exec_auto.agents.base import STEP_MARKER
from exec_auto.decisions.markers import PROMPT_SECTION as DECISION_PROTOCOL
from exec_auto.executor.decisions import PROMPT_RULE as DECISIONS_RULE
from exec_auto.ticket.model import Criterion, Plan, Step, StepProgress

MAX_CONVENTIONS_CHARS = 12_000
MAX_HISTORY_LINES = 12
MAX_FEEDBACK_CHARS = 8_000

RULES = (
    """\
You are an autonomous coding agent executing one step of an implementation plan in this repository.
Nobody is watching: never wait for input; make reasonable decisions and finish (one fixed way to
ask for a human decision is described below; use it only when the step truly needs one).
Work only inside the repository. Do not run `git reset`, `git clean`, `git stash`, `git checkout -- .`
or `git push`, and do not commit: the harness records what you change.
Do not edit the ticket's own files (plan.md, spec.yaml, progress.yaml under specs/): the harness keeps them.
Do only this step; later steps will be given to you separately. Follow the project conventions below.
Formatting, linting and tests are run by the harness after you finish.
Weakened checks are detected and reported: the harness audits your diff for deleted, renamed,
skipped or xfailed tests, removed or loosened asserts, new `# noqa`/`# type: ignore`/
`# pragma: no cover` comments, and relaxed pytest, coverage, lint, type-check or CI configuration.
Each one is logged as an integrity issue for the reviewer unless this step's text asks for it.
Make failing checks pass by fixing the code, never by weakening the check.

"""
    + DECISIONS_RULE
)


@dataclass(frozen=True)
class PromptContext:
    """Everything about the ticket that is the same for every step."""

    ticket: str
    plan: Plan
    criteria: Sequence[Criterion]
    conventions: str
    # "Known pitfalls in this repository" from earlier runs (see exec_auto.insights), bounded.
    pitfalls: str = ""

    def prefix(self) -> str:
        """The fixed part: identical bytes for every step of the ticket."""
        parts = [RULES, f"# Ticket: {self.ticket}"]
        if self.plan.title:
            parts.append(f"## Plan: {self.plan.title}")
        if self.plan.overview:
            parts.append(f"## Overview\n{self.plan.overview.strip()}")
        outline = "\n".join(f"- Step {s.id}: {s.title}" for s in self.plan.steps)
        parts.append(f"## All steps of the plan\n{outline}")
        if self.criteria:
            crit = "\n".join(criterion_line(c) for c in self.criteria)
            parts.append(
                "## Acceptance criteria of the ticket\n"
                "Each is checked by the harness: a `verify` command must exit 0, named tests must pass.\n"
                f"{crit}"
            )
        if self.conventions.strip():
            text = self.conventions.strip()
            if len(text) > MAX_CONVENTIONS_CHARS:
                text = text[:MAX_CONVENTIONS_CHARS] + "\n[... conventions truncated ...]"
            parts.append(f"## Project conventions\n{text}")
        if self.pitfalls.strip():
            parts.append(self.pitfalls.strip())
        parts.append(DECISION_PROTOCOL)
        return "\n\n".join(parts) + "\n\n" + STEP_MARKER + "\n"


def criterion_line(criterion: Criterion) -> str:
    """'- text (verify: `cmd`; tests: test_a, test_b)'."""
    checks = []
    if criterion.verify:
        checks.append(f"verify: `{criterion.verify}`")
    if criterion.tests:
        checks.append("tests: " + ", ".join(criterion.tests))
    return f"- {criterion.text}" + (f" ({'; '.join(checks)})" if checks else "")


def history(steps: Sequence[StepProgress], current: str) -> str:
    """One line per earlier finished step, at most MAX_HISTORY_LINES (the most recent ones)."""
    done = [s for s in steps if s.step_id != current and s.status != "pending"]
    lines = []
    for s in done[-MAX_HISTORY_LINES:]:
        files = s.files_touched.created + s.files_touched.modified
        shown = ", ".join(files[:4]) + (f" (+{len(files) - 4} more)" if len(files) > 4 else "")
        lines.append(
            f"- Step {s.step_id} ({s.status}): {s.description[:80]}"
            + (f" — {shown}" if shown else "")
        )
    if len(done) > MAX_HISTORY_LINES:
        lines.insert(0, f"- ... {len(done) - MAX_HISTORY_LINES} earlier steps omitted")
    return "\n".join(lines)


def step_prompt(
    ctx: PromptContext, step: Step, earlier: Sequence[StepProgress], *, resumed: bool = False
) -> str:
    """The prompt for carrying out one step."""
    parts = [ctx.prefix()]
    summary = history(earlier, step.id)
    if summary:
        parts.append(f"## Earlier steps (already done; do not redo them)\n{summary}\n")
    if resumed:
        parts.append(
            "## Note: resumed step\nA previous run was interrupted while doing this step. Some of"
            " its changes may already be in the files: check what exists, then complete the step.\n"
        )
    parts.append(f"## Your step: Step {step.id}: {step.title}\n\n{step.body.strip()}\n")
    return "\n".join(parts)


def fix_prompt(
    ctx: PromptContext, step: Step, feedback: str, attempt: int, max_attempts: int
) -> str:
    """The prompt for a fix attempt after the quality gates failed."""
    if len(feedback) > MAX_FEEDBACK_CHARS:
        half = MAX_FEEDBACK_CHARS // 2
        feedback = feedback[:half] + "\n[... output cut ...]\n" + feedback[-half:]
    return (
        ctx.prefix()
        + f"\n## Fix attempt {attempt} of {max_attempts} for Step {step.id}: {step.title}\n\n"
        + "The quality gates or the integrity audit failed after this step. Fix the problems below"
        + " (change the code, not the tests, unless a test is itself wrong for this step; restore"
        + " any check reported as weakened).\n\n"
        + f"### Step text\n{step.body.strip()}\n\n### Gate output\n{feedback}\n"
    )
