"""What agent calls spent: the one record of tokens, turns and cost, added up everywhere.

Cost comes in two kinds that are never mixed: `cost_usd` is what the backend itself reported for
the calls it made (Claude Code's `total_cost_usd`), `estimated_cost_usd` is exec-auto's estimate
from token counts and a public price table (the API backends, through pydantic-ai's prices).
A backend that reports neither (a CLI agent, a local model, a replay) costs 0 in both.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

# Rounding of summed money: float addition must not print $0.30000000000000004.
_CENTS_DIGITS = 6


class Usage(BaseModel):
    """Tokens, turns and cost (measured and estimated kept apart) of one or more agent calls."""

    model_config = ConfigDict(frozen=True)

    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    estimated_cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        """The usage of both together (any subclass's extra fields are dropped)."""
        return Usage(
            turns=self.turns + other.turns,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, _CENTS_DIGITS),
            estimated_cost_usd=round(
                self.estimated_cost_usd + other.estimated_cost_usd, _CENTS_DIGITS
            ),
        )

    @classmethod
    def total(cls, items: Iterable[Usage]) -> Usage:
        """The sum of many usages (zero for none)."""
        out = Usage()
        for item in items:
            out = out + item
        return out

    @property
    def tokens(self) -> int:
        """Every token counted: input, output and cache."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )

    @property
    def spend_usd(self) -> float:
        """Measured plus estimated cost: what a budget must count."""
        return round(self.cost_usd + self.estimated_cost_usd, _CENTS_DIGITS)

    def only(self) -> Usage:
        """This usage as a plain Usage (without a subclass's extra fields)."""
        return self + Usage()

    def short_cost(self, digits: int = 4) -> str:
        """'$0.12', '~$0.01' (estimated) or '$0.12 + ~$0.01' for a table cell."""
        parts = []
        if self.cost_usd or not self.estimated_cost_usd:
            parts.append(f"${self.cost_usd:.{digits}f}")
        if self.estimated_cost_usd:
            parts.append(f"~${self.estimated_cost_usd:.{digits}f}")
        return " + ".join(parts)

    def cost_text(self) -> str:
        """'$0.1234 measured, ~$0.0100 estimated' (the parts that are not zero; '$0' for none)."""
        parts = []
        if self.cost_usd:
            parts.append(f"${self.cost_usd:.4f} measured")
        if self.estimated_cost_usd:
            parts.append(f"~${self.estimated_cost_usd:.4f} estimated")
        return ", ".join(parts) or "$0 (not reported)"
