"""Read Claude Code's `--output-format stream-json` transcript into what a step spent and ended with.

The final `result` line carries the authoritative subtype, turns, usage and cost. When the run was
killed (timeout, crash) there is no such line, so the assistant messages seen so far are counted
instead: a timed-out step still reports the turns and input tokens it used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Transcript:
    """What one Claude Code run printed."""

    result: dict[str, Any] | None = None
    # Distinct assistant messages and their usage, for runs that never printed a result.
    message_usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_text: str = ""
    # Lines that were not JSON (warnings, crashes), kept for the error message.
    noise: list[str] = field(default_factory=list)

    @property
    def turns(self) -> int:
        """Turns the CLI counted, or the assistant messages seen."""
        if self.result is not None and isinstance(self.result.get("num_turns"), int):
            return int(self.result["num_turns"])
        return len(self.message_usage)

    @property
    def usage(self) -> dict[str, int]:
        """Token counts: per-model totals, else the result's usage, else the messages seen."""
        result = self.result or {}
        model_usage = result.get("modelUsage")
        candidates = [
            # Summed over every model the session used (the result's `usage` is zero after a
            # budget stop, per-model totals are not).
            _sum(_tokens(u, _MODEL_USAGE_KEYS) for u in model_usage.values() if isinstance(u, dict))
            if isinstance(model_usage, dict)
            else None,
            _tokens(result["usage"]) if isinstance(result.get("usage"), dict) else None,
            _sum(_tokens(u) for u in self.message_usage.values()),
        ]
        for tokens in candidates:
            if tokens is not None and any(tokens.values()):
                return tokens
        return dict.fromkeys(_TOKEN_KEYS.values(), 0)

    @property
    def cost_usd(self) -> float:
        """Total cost the CLI reported (0 when it never got to say)."""
        cost = (self.result or {}).get("total_cost_usd")
        return float(cost) if isinstance(cost, int | float) else 0.0


_TOKEN_KEYS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_input_tokens": "cache_read_tokens",
    "cache_creation_input_tokens": "cache_write_tokens",
}


_MODEL_USAGE_KEYS = {
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "cacheReadInputTokens": "cache_read_tokens",
    "cacheCreationInputTokens": "cache_write_tokens",
}


def _tokens(usage: dict[str, Any], keys: dict[str, str] = _TOKEN_KEYS) -> dict[str, int]:
    return {
        ours: int(usage[theirs]) if isinstance(usage.get(theirs), int) else 0
        for theirs, ours in keys.items()
    }


def _sum(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(_TOKEN_KEYS.values(), 0)
    for part in parts:
        for key, value in part.items():
            total[key] += value
    return total


# Non-JSON lines kept for an error message: the last ones (a flood of junk stays bounded).
MAX_NOISE = 100


def parse_stream(stdout: str) -> Transcript:
    """Parse every JSON line; the last `result` line wins."""
    transcript = Transcript()
    for line in stdout.splitlines():
        feed(transcript, line)
    return transcript


def feed(transcript: Transcript, line: str) -> None:
    """Add one line of the stream as it arrives (`proc.run`'s on_line), so no line is missed."""
    line = line.strip()
    if not line:
        return
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        transcript.noise.append(line[:2000])
        if len(transcript.noise) > MAX_NOISE:
            del transcript.noise[0]
        return
    if not isinstance(event, dict):
        return
    if event.get("type") == "result":
        transcript.result = event
    elif event.get("type") == "assistant" and event.get("parent_tool_use_id") is None:
        _add_assistant(transcript, event.get("message") or {})


def _add_assistant(transcript: Transcript, message: dict[str, Any]) -> None:
    key = str(message.get("id") or len(transcript.message_usage))
    usage = message.get("usage")
    transcript.message_usage[key] = usage if isinstance(usage, dict) else {}
    for block in message.get("content") or []:
        if isinstance(block, dict) and block.get("type") == "text" and block.get("text"):
            transcript.last_text = str(block["text"])
