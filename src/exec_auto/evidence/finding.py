"""One integrity finding: a check the step weakened, where, and what it looked like before and after."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

FindingKind = Literal[
    "test_removed",
    "test_not_collected",
    "skip_added",
    "test_disabled",
    "assert_removed",
    "assert_weakened",
    "config_weakened",
    "conftest_changed",
    "suppression_added",
    "ci_changed",
]

# Shown in the report and handed to the agent in a fix attempt.
KIND_LABEL: dict[str, str] = {
    "test_removed": "test removed",
    "test_not_collected": "test no longer collected",
    "skip_added": "skip/xfail added",
    "test_disabled": "test body disabled",
    "assert_removed": "assert removed",
    "assert_weakened": "assert weakened",
    "config_weakened": "check configuration relaxed",
    "conftest_changed": "conftest.py changes collection or outcomes",
    "suppression_added": "suppression comment added",
    "ci_changed": "CI configuration edited",
}

MAX_SNIPPET = 400


def snippet(text: str, limit: int = MAX_SNIPPET) -> str:
    """Text cut to `limit` characters for a before/after field."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 5] + " [...]"


@dataclass(frozen=True)
class IntegrityFinding:
    """A weakened check found in a step's diff."""

    kind: FindingKind
    path: str
    line: int | None
    description: str
    before: str
    after: str
    # Names a plan would use for this check (test name, file, setting, rule code): see authorise.
    subjects: tuple[str, ...] = ()
    # The plan's words that allow it; None when nothing in the step's text does.
    authorised_by: str | None = None

    @property
    def location(self) -> str:
        """path:line (path alone when the line is unknown)."""
        return f"{self.path}:{self.line}" if self.line else self.path

    @property
    def label(self) -> str:
        """A short human name for the kind."""
        return KIND_LABEL[self.kind]

    def summary(self) -> str:
        """One line: what and where."""
        return f"{self.label} at {self.location}: {self.description}"

    def details(self) -> str:
        """Before and after, for the issue's details and the fix prompt."""
        lines = [f"before: {snippet(self.before) or '(nothing)'}"]
        lines.append(f"after:  {snippet(self.after) or '(nothing)'}")
        if self.authorised_by:
            lines.append(f"authorised by the plan: {snippet(self.authorised_by, 300)}")
        return "\n".join(lines)

    def authorise(self, reason: str) -> IntegrityFinding:
        """The same finding, allowed by the plan's words `reason`."""
        return replace(self, authorised_by=reason)


def feedback(findings: list[IntegrityFinding]) -> str:
    """The fix-attempt text for unauthorised findings: restore the check, fix the code."""
    parts = [f"[integrity] {f.summary()}\n{f.details()}" for f in findings if not f.authorised_by]
    if not parts:
        return ""
    head = (
        "These checks were weakened in this step. Restore each check exactly as it was and fix"
        " the code so it passes; weakened checks are reported to the reviewer as integrity issues."
    )
    return head + "\n\n" + "\n\n".join(parts)
