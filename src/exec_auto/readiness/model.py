"""Typed records of a readiness assessment: findings with their penalty, and the score."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

FindingKind = Literal[
    "vague_step",
    "open_question",
    "unverifiable_criterion",
    "no_criteria",
    "missing_file",
    "critical_area",
    "research_ticket",
    "history",
    "pause_marker",
]


class Finding(BaseModel):
    """One reason the score is lower than 100 (or a note worth showing, with penalty 0)."""

    model_config = ConfigDict(frozen=True)

    kind: FindingKind
    message: str
    step_id: str | None = None
    # Points this finding takes off, after its category's cap has been applied.
    penalty: int = 0
    hint: str = ""


class Readiness(BaseModel):
    """The assessment: a deterministic score, the threshold it is compared with, and why."""

    model_config = ConfigDict(frozen=True)

    ticket: str
    score: int
    threshold: int
    findings: tuple[Finding, ...] = ()

    @property
    def ready(self) -> bool:
        """True when the score reaches the threshold."""
        return self.score >= self.threshold

    def improvements(self, limit: int = 5) -> list[str]:
        """The hints of the costliest findings, deduplicated, costliest first."""
        seen: list[str] = []
        for finding in sorted(self.findings, key=lambda f: -f.penalty):
            if finding.penalty and finding.hint and finding.hint not in seen:
                seen.append(finding.hint)
        return seen[:limit]

    def summary(self) -> str:
        """One line: score, threshold and the verdict."""
        verdict = "ready for an unattended run" if self.ready else "too weak for an unattended run"
        return f"readiness {self.score}/100 (threshold {self.threshold}): {verdict}"
