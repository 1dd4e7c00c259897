"""The one Usage model: addition, totals, measured and estimated cost kept apart."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from exec_auto.ticket.model import AgentUsage
from exec_auto.usage import Usage


def test_addition_sums_every_field_and_keeps_costs_apart():
    a = Usage(turns=2, input_tokens=10, output_tokens=5, cache_read_tokens=3, cost_usd=0.1)
    b = Usage(turns=1, input_tokens=1, cache_write_tokens=4, estimated_cost_usd=0.2)
    total = a + b
    assert total == Usage(
        turns=3,
        input_tokens=11,
        output_tokens=5,
        cache_read_tokens=3,
        cache_write_tokens=4,
        cost_usd=0.1,
        estimated_cost_usd=0.2,
    )
    assert total.tokens == 23 and total.spend_usd == pytest.approx(0.3)


def test_total_rounds_float_noise_and_is_zero_for_nothing():
    assert Usage.total([]) == Usage()
    assert Usage.total(Usage(cost_usd=0.1) for _ in range(3)).cost_usd == 0.3


def test_usage_is_immutable():
    with pytest.raises(ValidationError):
        Usage().turns = 3  # type: ignore[misc]


def test_step_usage_accumulates_calls_and_remembers_the_last_result():
    step = AgentUsage().plus(Usage(turns=2, cost_usd=0.5), "success")
    step = step.plus(Usage(turns=1, estimated_cost_usd=0.25), "error_max_turns")
    assert (step.turns, step.cost_usd, step.estimated_cost_usd) == (3, 0.5, 0.25)
    assert step.result == "error_max_turns" and step.only() == Usage(
        turns=3, cost_usd=0.5, estimated_cost_usd=0.25
    )


def test_cost_text_says_which_kind_of_cost_it_is():
    assert Usage().cost_text() == "$0 (not reported)"
    assert Usage(cost_usd=0.12).short_cost(2) == "$0.12"
    assert Usage(estimated_cost_usd=0.01).short_cost(2) == "~$0.01"
    both = Usage(cost_usd=0.12, estimated_cost_usd=0.01)
    assert both.short_cost(2) == "$0.12 + ~$0.01"
    assert both.cost_text() == "$0.1200 measured, ~$0.0100 estimated"
