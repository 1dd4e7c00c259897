"""The `anthropic` backend: Claude through the Messages API, via pydantic-ai.

Model, base URL and key come from the config (`--model`, `--base-url`) and the environment
(`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`). The prompt's fixed prefix (everything before
`STEP_MARKER`, byte-identical across steps) is sent as its own block with a cache breakpoint, next
to cached tool definitions and instructions, so every step after the first reads it from cache.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from exec_auto.agents.api_agent import ApiAgent, split_prompt
from exec_auto.config import AgentConfig
from exec_auto.errors import AgentNotConfiguredError

if TYPE_CHECKING:
    from pydantic_ai.messages import UserContent
    from pydantic_ai.models import Model

# claude-sonnet-4-5 reaches end of life on 2026-11-30 (the SDK warns on every request).
DEFAULT_MODEL = "claude-sonnet-4-6"


def available(config: AgentConfig) -> bool:
    """True when an Anthropic API key is set."""
    return bool(os.environ.get("ANTHROPIC_API_KEY"))


def create(config: AgentConfig) -> ApiAgent:
    """An ApiAgent talking to Claude; AgentNotConfiguredError without ANTHROPIC_API_KEY."""
    if not available(config):
        raise AgentNotConfiguredError(
            "the anthropic backend needs ANTHROPIC_API_KEY",
            hint="export ANTHROPIC_API_KEY=..., or choose another --agent",
        )
    model_name = (config.model or DEFAULT_MODEL).removeprefix("anthropic:")

    def build_model() -> Model:
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        provider = AnthropicProvider(
            api_key=os.environ["ANTHROPIC_API_KEY"], base_url=config.base_url
        )
        return AnthropicModel(model_name, provider=provider)

    settings = {
        "anthropic_cache_tool_definitions": True,
        "anthropic_cache_instructions": True,
        # A moving breakpoint on the conversation, so each turn of a step reads the previous ones.
        "anthropic_cache": True,
    }
    return ApiAgent(
        config,
        name="anthropic",
        build_model=build_model,
        model_settings=settings,
        shape_prompt=cached_prefix_prompt,
    )


def cached_prefix_prompt(prompt: str) -> str | Sequence[UserContent]:
    """The prompt as [prefix, cache point, step part], or the plain prompt without a marker."""
    from pydantic_ai.messages import CachePoint

    prefix, step = split_prompt(prompt)
    if not prefix.strip():
        return step
    return [prefix, CachePoint(), step]
