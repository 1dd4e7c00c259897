"""The readiness rules: each reads the typed ticket and returns findings with raw penalties.

`score` caps each kind of finding and adds them up; the rules only say what they saw and what
it would cost. They read the parsed `Plan` and `Criterion` records, never a file format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from exec_auto.executor.criteria import TEST_NAME
from exec_auto.readiness.kinds import step_kind
from exec_auto.readiness.model import Finding
from exec_auto.readiness.paths import RepoFiles, mentions
from exec_auto.readiness.text import (
    CRITICAL_AREAS,
    OUTCOME_FIELD,
    VAGUE_CRITERION,
    critical_hits,
    decision_hits,
    fold,
    scrub,
)
from exec_auto.ticket.model import Criterion, Plan, Step

RESEARCH_TYPES = frozenset({"spike", "research", "investigation", "pesquisa", "investigacao"})
# A step with this many words of prose beyond its title is concrete even without a file name.
DETAILED_WORDS = 40
# An **Outcome:** line in this many words is concrete enough on its own.
OUTCOME_WORDS = 8
VAGUE_WEIGHT = 45
QUESTION_PENALTY = 8
CRITERIA_WEIGHT = 25
VAGUE_WORDING_PENALTY = 3
NO_CRITERIA_PENALTY = 15
MISSING_FILE_PENALTY = 6
CRITICAL_PENALTY = 10
RESEARCH_PENALTY = 15
HISTORY_WEIGHT = 10


@dataclass(frozen=True)
class KindHistory:
    """How steps of one kind went in earlier runs of this repository."""

    kind: str
    steps: int
    troubled: int
    # The issue types those steps logged most (for the reason shown to the user).
    issue_types: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        """The share of steps of this kind that ended with a problem."""
        return self.troubled / self.steps if self.steps else 0.0


@dataclass(frozen=True)
class ReadinessInput:
    """Everything the rules look at."""

    ticket: str
    plan: Plan
    criteria: Sequence[Criterion]
    ticket_type: str | None
    files: RepoFiles | None
    critical_areas: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(CRITICAL_AREAS))
    history: dict[str, KindHistory] = field(default_factory=dict)


Rule = Callable[[ReadinessInput], list[Finding]]


def _has_outcome(step: Step) -> bool:
    return any(OUTCOME_FIELD.match(fold(line)) for line in step.body.splitlines())


def _anchors(step: Step) -> bool:
    """The step names something concrete: a file, a module, code, or a command."""
    parts = scrub(step.body)
    return bool(parts.spans or parts.has_code_block or mentions(step))


def _prose_words(step: Step) -> int:
    body = "\n".join(scrub(step.body).prose[1:])  # the first line is the heading
    return len([w for w in body.split() if any(c.isalpha() for c in w)])


def _concrete(step: Step) -> bool:
    """Names a file, code or command; or states an outcome in words; or is long enough prose."""
    words = _prose_words(step)
    return (
        _anchors(step) or (_has_outcome(step) and words >= OUTCOME_WORDS) or words >= DETAILED_WORDS
    )


def vague_steps(ctx: ReadinessInput) -> list[Finding]:
    """Steps with neither a stated outcome nor anything concrete (files, code, commands)."""
    steps = ctx.plan.steps
    vague = [s for s in steps if not _concrete(s)]
    each = round(VAGUE_WEIGHT / len(steps)) if steps else 0
    return [
        Finding(
            kind="vague_step",
            step_id=s.id,
            message=f"step {s.id} ({s.title}) has no concrete outcome and names no file",
            penalty=each,
            hint="give every step an **Outcome:** line and the files it creates or changes",
        )
        for s in vague
    ]


def open_questions(ctx: ReadinessInput) -> list[Finding]:
    """Questions, decision words and alternatives left open in the title, overview and steps."""
    sources: list[tuple[str | None, str, str]] = [(None, "title", ctx.plan.title)]
    sources += [(None, "overview", line) for line in scrub(ctx.plan.overview).prose]
    for step in ctx.plan.steps:
        sources += [(step.id, f"step {step.id}", line) for line in scrub(step.body).prose]
    found = []
    for step_id, where, line in sources:
        hits = decision_hits(line)
        if hits:
            quoted = " ".join(line.replace("CODE", "…").split())[:100]
            found.append(
                Finding(
                    kind="open_question",
                    step_id=step_id,
                    message=f"{where}: {', '.join(dict.fromkeys(hits))}: “{quoted}”",
                    penalty=QUESTION_PENALTY,
                    hint="decide open questions in the plan (or mark the step with a pause point)",
                )
            )
    return found


def unverifiable_criteria(ctx: ReadinessInput) -> list[Finding]:
    """Criteria without a verify command or tests, worse when worded vaguely."""
    if not ctx.criteria:
        return [
            Finding(
                kind="no_criteria",
                message="no acceptance criteria: nothing can check the result",
                penalty=NO_CRITERIA_PENALTY,
                hint="add acceptance criteria to spec.yaml, each with `verify:` or `tests:`",
            )
        ]
    each = round(CRITERIA_WEIGHT / len(ctx.criteria))
    found = []
    for criterion in ctx.criteria:
        # A test named in the text is evidence the validator checks (executor.criteria._by_tests).
        if criterion.verify or criterion.tests or TEST_NAME.search(criterion.text):
            continue
        vague = list(
            dict.fromkeys(m.group(0) for m in VAGUE_CRITERION.finditer(fold(criterion.text)))
        )
        wording = f"; vague wording {', '.join(repr(w) for w in vague)}" if vague else ""
        found.append(
            Finding(
                kind="unverifiable_criterion",
                message=f"criterion has no verify command or tests{wording}: “{criterion.text[:100]}”",
                penalty=each + (VAGUE_WORDING_PENALTY if vague else 0),
                hint="give each criterion a `verify:` command or `tests:` that prove it",
            )
        )
    return found


def missing_files(ctx: ReadinessInput) -> list[Finding]:
    """Files and modules the steps name that do not exist and that no step creates."""
    if ctx.files is None:
        return []
    all_mentions = [m for step in ctx.plan.steps for m in mentions(step)]
    created = {m.name.strip("/") for m in all_mentions if m.creates and not m.is_module}
    found, seen = [], set()
    for m in all_mentions:
        if m.name in seen or m.creates:
            continue
        if m.is_module:
            candidates = ctx.files.module_paths(m.name)
            if candidates is None or any(ctx.files.has_path(c) or c in created for c in candidates):
                continue
        elif (
            ctx.files.has_path(m.name)
            or m.name.strip("/") in created
            or any(c.endswith("/" + m.name) for c in created)
        ):
            continue
        seen.add(m.name)
        what = "module" if m.is_module else "file"
        found.append(
            Finding(
                kind="missing_file",
                step_id=m.step_id,
                message=f"step {m.step_id} names {what} `{m.name}`, which does not exist and no step creates",
                penalty=MISSING_FILE_PENALTY,
                hint="check the paths the plan names (or say which step creates each new file)",
            )
        )
    return found


def critical_areas(ctx: ReadinessInput) -> list[Finding]:
    """Steps touching areas an unattended run should not change alone (auth, payments, ...)."""
    by_area: dict[str, list[str]] = {}
    for step in ctx.plan.steps:
        text = step.title + "\n" + "\n".join(scrub(step.body).prose + scrub(step.body).spans)
        for area in critical_hits(text, ctx.critical_areas):
            by_area.setdefault(area, []).append(step.id)
    return [
        Finding(
            kind="critical_area",
            step_id=ids[0],
            message=f"step(s) {', '.join(ids)} touch {area}, a critical area",
            penalty=CRITICAL_PENALTY,
            hint="run tickets touching critical areas with --interactive, or review those steps",
        )
        for area, ids in by_area.items()
    ]


def research_ticket(ctx: ReadinessInput) -> list[Finding]:
    """A spike or research ticket's outcome is a decision, not code."""
    if ctx.ticket_type is None or fold(ctx.ticket_type).strip() not in RESEARCH_TYPES:
        return []
    return [
        Finding(
            kind="research_ticket",
            message=f"the ticket is a {ctx.ticket_type}: its outcome is a decision a human makes",
            penalty=RESEARCH_PENALTY,
            hint="run spikes with --interactive",
        )
    ]


def history(ctx: ReadinessInput) -> list[Finding]:
    """Steps of a kind that went wrong in earlier runs of this repository."""
    found = []
    for step in ctx.plan.steps:
        past = ctx.history.get(step_kind(step.title))
        if past is None or not past.troubled:
            continue
        types = f" ({', '.join(past.issue_types[:3])})" if past.issue_types else ""
        found.append(
            Finding(
                kind="history",
                step_id=step.id,
                message=(
                    f"step {step.id} is a '{past.kind}' step; {past.troubled} of {past.steps} "
                    f"such steps had problems in earlier runs{types}"
                ),
                penalty=max(2, round(HISTORY_WEIGHT * past.rate)),
                hint="see `exec-auto insights` for what went wrong before in such steps",
            )
        )
    return found


RULES: tuple[Rule, ...] = (
    vague_steps,
    open_questions,
    unverifiable_criteria,
    missing_files,
    critical_areas,
    research_ticket,
    history,
)
