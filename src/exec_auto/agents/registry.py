"""The explicit registry of agent backends, imported lazily so `--help` stays quick."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from exec_auto.agents.base import Agent
from exec_auto.config import AgentConfig
from exec_auto.errors import AgentNotConfiguredError

# name -> module; each module defines `create(config) -> Agent` and `available(config) -> bool`.
BACKENDS: dict[str, str] = {
    "command": "exec_auto.agents.command",
    "replay": "exec_auto.agents.replay",
    "claude": "exec_auto.agents.claude",
    "anthropic": "exec_auto.agents.anthropic_api",
    "openai": "exec_auto.agents.openai_api",
}

# `--agent auto` tries these in order.
AUTO_ORDER: tuple[str, ...] = ("claude", "anthropic", "openai")

AUTO_HINT = (
    "configure an agent: --agent claude (Claude Code), --agent anthropic with ANTHROPIC_API_KEY, "
    "--agent openai with OPENAI_API_KEY/--base-url, or --agent command --agent-command '...'"
)


def _module(name: str) -> object:
    if name not in BACKENDS:
        raise AgentNotConfiguredError(
            f"unknown agent backend {name!r}",
            hint=f"choose one of: auto, {', '.join(BACKENDS)}",
        )
    return importlib.import_module(BACKENDS[name])


def resolve_name(config: AgentConfig) -> str:
    """The backend `config.name` means; 'auto' picks the first available one."""
    if config.name != "auto":
        _module(config.name)
        return config.name
    for name in AUTO_ORDER:
        try:
            available: Callable[[AgentConfig], bool] = _module(name).available  # type: ignore[attr-defined]
        except (ImportError, AttributeError):
            continue
        if available(config):
            return name
    raise AgentNotConfiguredError("no agent backend is available", hint=AUTO_HINT)


def create_agent(config: AgentConfig) -> Agent:
    """Build the configured backend, raising AgentNotConfiguredError with a hint when it cannot."""
    name = resolve_name(config)
    try:
        factory: Callable[[AgentConfig], Agent] = _module(name).create  # type: ignore[attr-defined]
    except ImportError as exc:
        raise AgentNotConfiguredError(
            f"agent backend {name!r} cannot be loaded: {exc}",
            hint="install the extra: pip install 'exec-auto[api]' or 'exec-auto[claude]'",
        ) from exc
    return factory(config)
