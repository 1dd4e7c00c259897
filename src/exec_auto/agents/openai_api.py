"""The `openai` backend: any OpenAI-compatible chat completions endpoint, via pydantic-ai.

OpenAI itself, or Ollama, vLLM, llama.cpp, LM Studio, OpenRouter through a base URL. Model, base URL
and key come from the config (`--model`, `--base-url`) and the environment (`OPENAI_API_KEY`,
`OPENAI_BASE_URL`); a local server without a key gets a placeholder one. These servers cache
prompt prefixes on their own, so the prompt goes out whole, fixed part first.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from exec_auto.agents.api_agent import ApiAgent
from exec_auto.config import AgentConfig
from exec_auto.errors import AgentNotConfiguredError

if TYPE_CHECKING:
    from pydantic_ai.models import Model

DEFAULT_MODEL = "gpt-4o-mini"


def base_url(config: AgentConfig) -> str | None:
    """The endpoint: --base-url / [tool.exec-auto] first, then OPENAI_BASE_URL."""
    return config.base_url or os.environ.get("OPENAI_BASE_URL") or None


def available(config: AgentConfig) -> bool:
    """True when an OpenAI key or an OpenAI-compatible base URL is configured."""
    return bool(os.environ.get("OPENAI_API_KEY") or base_url(config))


def create(config: AgentConfig) -> ApiAgent:
    """An ApiAgent talking to an OpenAI-compatible endpoint."""
    if not available(config):
        raise AgentNotConfiguredError(
            "the openai backend needs OPENAI_API_KEY or a base URL",
            hint="export OPENAI_API_KEY=..., or pass --base-url http://localhost:11434/v1 (Ollama)",
        )
    model_name = (config.model or DEFAULT_MODEL).removeprefix("openai:")
    url = base_url(config)

    def build_model() -> Model:
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        # A local server needs no key, but the SDK insists on one.
        key = os.environ.get("OPENAI_API_KEY") or "not-needed"
        return OpenAIChatModel(model_name, provider=OpenAIProvider(base_url=url, api_key=key))

    return ApiAgent(config, name="openai", build_model=build_model)
