"""The agent's reported assumptions and deviations: parsed from its answer, kept per step."""

from __future__ import annotations

from exec_auto.executor.decisions import PROMPT_RULE, parse_decisions
from exec_auto.executor.prompt import RULES


def test_decision_lines_in_the_fixed_format_are_parsed_with_tolerance_for_markdown():
    text = """Done. I added the logger.

ASSUMPTION: logs go to stderr, the plan does not say where
- **DEVIATION:** used logging.handlers instead of a custom handler
deviation: lower case is fine too
ASSUMPTION:
Not a decision: ASSUMPTION in the middle of a line
"""
    found = parse_decisions(text, "fix 1")
    assert [(d.kind, d.text, d.source) for d in found] == [
        ("assumption", "logs go to stderr, the plan does not say where", "fix 1"),
        ("deviation", "used logging.handlers instead of a custom handler", "fix 1"),
        ("deviation", "lower case is fine too", "fix 1"),
    ]


def test_the_step_prompt_asks_for_the_format_the_parser_reads():
    assert PROMPT_RULE in RULES
    assert "ASSUMPTION: <" in PROMPT_RULE and "DEVIATION: <" in PROMPT_RULE
    assert len(parse_decisions("ASSUMPTION: x\n" * 50, "step")) == 20
