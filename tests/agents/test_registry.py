"""`--agent auto`: Claude Code if it can run, else Anthropic with a key, else an OpenAI-compatible endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from exec_auto.agents.claude import find_cli
from exec_auto.agents.registry import resolve_name
from exec_auto.config import AgentConfig
from exec_auto.errors import AgentNotConfiguredError

KEYS = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "no-claude-login"))


def test_nothing_configured_is_an_error_with_a_hint() -> None:
    with pytest.raises(AgentNotConfiguredError) as err:
        resolve_name(AgentConfig())
    assert err.value.hint and "--agent claude" in err.value.hint


def test_an_openai_compatible_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    assert resolve_name(AgentConfig()) == "openai"
    assert resolve_name(AgentConfig(base_url="http://127.0.0.1:8000/v1")) == "openai"


def test_an_anthropic_key_prefers_claude_code_when_it_can_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-registry-0123456789")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-registry-0123456789")
    assert resolve_name(AgentConfig()) == ("claude" if find_cli() else "anthropic")


def test_an_explicit_name_is_taken_as_given() -> None:
    assert resolve_name(AgentConfig(name="command", command="true")) == "command"
    with pytest.raises(AgentNotConfiguredError, match="unknown agent backend"):
        resolve_name(AgentConfig(name="gpt-engineer"))
