"""What the past runs teach: the report `exec-auto insights` prints, and the prompt's pitfalls.

Everything here is computed from `collect.PastTicket` records, deterministically (sorted ties),
so the same progress files always give the same report, score and prompt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.insights.collect import PastTicket, failed_installs, kind_stats
from exec_auto.readiness.kinds import step_kind

# A lesson needs this many steps (or tickets) agreeing before it is called a pattern.
MIN_EVIDENCE = 2
MAX_PITFALLS = 6
MAX_PITFALL_CHARS = 1200
UNVERIFIED = frozenset({"unverified", "not_met", "partial"})
ADVICE = {
    "test_failure": "run the tests the step touches yourself before you finish",
    "lint_error": "follow the project's lint rules; the linter runs after every step",
    "dependency_error": "do not import packages the project does not declare",
    "integrity": "never weaken, skip or delete tests, asserts or checks to make them pass",
    "timeout": "keep commands short and never start servers that do not exit",
    "gate_error": "keep the test suite importable and collectable",
    "runtime_error": "check that the code you write runs before you finish",
    "agent_error": "finish the step within its budget; do the smallest change that works",
    "refused_action": "stay inside the repository; destructive git and shell commands are refused",
}


@dataclass(frozen=True)
class KindLesson:
    """One step kind across the past runs."""

    kind: str
    steps: int
    troubled: int
    issue_types: dict[str, int]
    fix_attempts: int
    fixes_that_helped: int
    decisions: int


@dataclass(frozen=True)
class Insights:
    """Everything `exec-auto insights` reports."""

    tickets: int
    archived: int
    steps: int
    kinds: tuple[KindLesson, ...]
    failed_installs: dict[str, int]
    unverified_criteria: tuple[tuple[str, str, str], ...]  # (ticket, status, criterion)
    decisions: tuple[tuple[str, str, str, str], ...]  # (ticket, step, kind, question)
    issue_types: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "tickets": self.tickets,
            "archived": self.archived,
            "steps": self.steps,
            "issue_types": self.issue_types,
            "by_kind": [k.__dict__ for k in self.kinds],
            "fixes_that_never_helped": [
                k.kind for k in self.kinds if k.fix_attempts and not k.fixes_that_helped
            ],
            "failed_installs": self.failed_installs,
            "unverified_criteria": [
                {"ticket": t, "status": s, "criterion": c} for t, s, c in self.unverified_criteria
            ],
            "decisions": [
                {"ticket": t, "step": s, "kind": k, "question": q} for t, s, k, q in self.decisions
            ],
        }


def learn(tickets: Sequence[PastTicket]) -> Insights:
    """The lessons of these progress files."""
    stats = kind_stats(tickets)
    kinds = tuple(
        KindLesson(
            kind=s.kind,
            steps=s.steps,
            troubled=s.troubled,
            issue_types=dict(sorted(s.issue_types.items(), key=lambda kv: (-kv[1], kv[0]))),
            fix_attempts=s.fix_attempts,
            fixes_that_helped=s.fixes_that_helped,
            decisions=s.decisions,
        )
        for s in sorted(stats.values(), key=lambda s: (-s.troubled, -s.steps, s.kind))
    )
    types: Counter[str] = Counter()
    for lesson in kinds:
        types.update(lesson.issue_types)
    unverified = tuple(
        (p.name, c.status, c.criterion)
        for p in tickets
        for c in p.progress.acceptance_criteria
        if c.status in UNVERIFIED
    )
    titles = {
        (p.name, s.step_id): s.description for p in tickets for s in p.progress.implementation_steps
    }
    decisions = tuple(
        (p.name, d.step_id, step_kind(titles.get((p.name, d.step_id), "")), d.question)
        for p in tickets
        for d in p.progress.decisions
    )
    installs = failed_installs(tickets)
    return Insights(
        tickets=len(tickets),
        archived=sum(1 for p in tickets if p.archived),
        steps=sum(k.steps for k in kinds),
        kinds=kinds,
        failed_installs=dict(sorted(installs.items(), key=lambda kv: (-kv[1], kv[0]))),
        unverified_criteria=unverified,
        decisions=decisions,
        issue_types=dict(sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def pitfalls(insights: Insights) -> list[str]:
    """Short lessons for the agent, strongest first, at most MAX_PITFALLS."""
    lines: list[str] = []
    for lesson in insights.kinds:
        if lesson.troubled < MIN_EVIDENCE or not lesson.issue_types:
            continue
        top, count = next(iter(lesson.issue_types.items()))
        advice = ADVICE.get(top, "check the result carefully before you finish")
        lines.append(
            f"- '{lesson.kind}' steps had problems in {lesson.troubled} of {lesson.steps} earlier "
            f"steps (most often {top}, {count}x): {advice}."
        )
        if lesson.fix_attempts >= MIN_EVIDENCE and not lesson.fixes_that_helped:
            lines.append(
                f"- fix attempts on '{lesson.kind}' steps never helped here ({lesson.fix_attempts} "
                "made): read the failure before changing code, and get it right the first time."
            )
    for requirement, count in insights.failed_installs.items():
        if count >= MIN_EVIDENCE:
            lines.append(
                f"- `{requirement}` failed to install in {count} earlier runs: do not depend on it."
            )
    return lines[:MAX_PITFALLS]


def pitfalls_section(insights: Insights) -> str:
    """The prompt's bounded "Known pitfalls in this repository" section ("" when none)."""
    lines = pitfalls(insights)
    if not lines:
        return ""
    text = "## Known pitfalls in this repository (from earlier exec-auto runs)\n" + "\n".join(lines)
    if len(text) > MAX_PITFALL_CHARS:
        text = text[: MAX_PITFALL_CHARS - 1].rsplit("\n", 1)[0]
    return text


def render(insights: Insights) -> str:
    """The insights as text for the terminal."""
    out = [
        f"Insights from {insights.tickets} ticket(s) ({insights.archived} archived), "
        f"{insights.steps} step(s) run"
    ]
    if not insights.tickets:
        return out[0] + ": no progress files yet."
    out.append("\nProblems by kind of step:")
    for k in insights.kinds:
        types = ", ".join(f"{t} {n}" for t, n in k.issue_types.items()) or "none"
        fixes = (
            f"; fix attempts {k.fix_attempts}, helped {k.fixes_that_helped}"
            if k.fix_attempts
            else ""
        )
        out.append(f"  {k.kind:<13} {k.troubled}/{k.steps} with problems ({types}){fixes}")
    never = [k for k in insights.kinds if k.fix_attempts and not k.fixes_that_helped]
    out.append("\nFix attempts that never helped:")
    out += [f"  {k.kind}: {k.fix_attempts} attempt(s), none passed" for k in never] or ["  none"]
    out.append("\nDependencies that failed to install:")
    out += [f"  {r}: {n} ticket(s)" for r, n in insights.failed_installs.items()] or ["  none"]
    out.append(f"\nCriteria that ended unverified or unmet ({len(insights.unverified_criteria)}):")
    out += [f"  {t}: [{s}] {c[:100]}" for t, s, c in insights.unverified_criteria[:20]] or [
        "  none"
    ]
    out.append(f"\nSteps that needed a decision ({len(insights.decisions)}):")
    out += [f"  {t} step {s} ({k}): {q[:100]}" for t, s, k, q in insights.decisions[:20]] or [
        "  none"
    ]
    section = pitfalls_section(insights)
    out.append("\nWhat the next runs are told (the step prompt's pitfalls):")
    out += [f"  {line}" for line in section.splitlines()[1:]] or ["  nothing yet"]
    return "\n".join(out)


def prompt_pitfalls(root: Path, ticket: str, enabled: bool = True) -> str:
    """The pitfalls section for a run of ticket (other tickets' history only; "" when off)."""
    if not enabled:
        return ""
    from exec_auto.insights.collect import collect

    return pitfalls_section(learn(collect(root, exclude=[ticket])))
