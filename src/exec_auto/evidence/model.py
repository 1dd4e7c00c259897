"""Records of red/green evidence kept in progress.yaml: each test or verify command, before and after."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["passed", "failed", "error", "not_run"]
Verdict = Literal["proven", "passes_before", "fails_after", "inconclusive"]
Proof = Literal["red_green", "passing", "none"]

# How each proof reads to a reviewer: the report's sections and the HTML criteria table say the same.
PROOF_TEXT: dict[str, str] = {
    "red_green": "proven: fails before the ticket, passes after",
    "passing": "only passing: not shown to fail before the ticket",
    "none": "nothing the tool could check",
}


class SideResult(BaseModel):
    """One side of a red/green pair: how a test (or command) ended, and a line saying why."""

    outcome: Outcome
    detail: str = ""

    def describe(self) -> str:
        """'failed (AssertionError: ...)' / 'passed' / 'not run (...)'."""
        word = {"not_run": "did not run"}.get(self.outcome, self.outcome)
        return f"{word} ({self.detail})" if self.detail else word


def verdict_of(before: SideResult, after: SideResult) -> Verdict:
    """Proven only when it failed before the ticket and passes after it."""
    if after.outcome != "passed":
        return "fails_after" if after.outcome in ("failed", "error") else "inconclusive"
    if before.outcome in ("failed", "error"):
        return "proven"
    if before.outcome == "passed":
        return "passes_before"
    return "inconclusive"


class TestEvidence(BaseModel):
    """A test run against the code before the ticket and after it."""

    __test__ = False

    test_id: str
    # Why it was run: "criterion: <text>" or "added in step <id>".
    origin: str
    before: SideResult
    after: SideResult
    verdict: Verdict


class VerifyEvidence(BaseModel):
    """A criterion's verify command run before the ticket and after it."""

    criterion: str
    command: str
    before: SideResult
    after: SideResult
    verdict: Verdict


class RedGreenRecord(BaseModel):
    """What the red/green runs did: the trees compared and every pair of results."""

    base_tree: str | None = None
    # The base tree with the ticket's test files laid over it: what "before" ran on.
    before_tree: str | None = None
    overlaid: list[str] = Field(default_factory=list)
    tests: list[TestEvidence] = Field(default_factory=list)
    verify: list[VerifyEvidence] = Field(default_factory=list)
    # Why a side could not run (no base snapshot, checkout failed, pytest crashed, ...).
    notes: list[str] = Field(default_factory=list)
