"""The step prompt tells the agent how each criterion is checked: its verify command and tests."""

from __future__ import annotations

from exec_auto.executor.prompt import PromptContext
from exec_auto.ticket.model import Criterion, Plan, Step


def test_prompt_lists_verify_commands_and_named_tests() -> None:
    plan = Plan(steps=(Step(id="1", title="Do it", body="Do it."),))
    criteria = (
        Criterion(text="CLI prints the version", verify="python -m app --version"),
        Criterion(text="parsing works", tests=("test_parse", "test_empty")),
        Criterion(text="docs are clear"),
    )
    prefix = PromptContext("t", plan, criteria, "").prefix()
    assert "- CLI prints the version (verify: `python -m app --version`)" in prefix
    assert "- parsing works (tests: test_parse, test_empty)" in prefix
    assert "- docs are clear\n" in prefix
