"""The openai backend: the real SDK through pydantic-ai against a scripted chat completions server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exec_auto.agents import openai_api
from exec_auto.agents.api_agent import SYSTEM_PROMPT
from exec_auto.agents.api_tools import REPEAT_LIMIT
from exec_auto.agents.base import AgentResult
from exec_auto.agents.registry import create_agent
from exec_auto.config import AgentConfig
from exec_auto.errors import AgentNotConfiguredError
from tests.agents.api_support import (
    DOTENV_SECRET,
    OPENAI_KEY,
    Workspace,
    bodies_text,
    make_task,
    make_workspace,
    run_step,
)
from tests.fakes.openai_server import (
    FakeOpenAI,
    Reply,
    hang,
    status,
    text,
    tool_use,
    truncated,
)

WRITE = tool_use("write_file", {"path": "hello.py", "content": "print('hi')\n"})
DONE = text("Added hello.py.")


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return make_workspace(tmp_path, monkeypatch)


def run(ws: Workspace, script: list[Reply], **options: Any) -> tuple[AgentResult, FakeOpenAI]:
    """One step through the openai backend against a fake serving `script`."""
    return run_step(FakeOpenAI, openai_api.create, ws, script, name="openai", **options)


def test_a_whole_step_writes_edits_runs_and_answers(ws: Workspace) -> None:
    script = [
        tool_use("write_file", {"path": "hello.py", "content": "print('hi')\n"}),
        tool_use("edit_file", {"path": "hello.py", "old_string": "'hi'", "new_string": "'hello'"}),
        tool_use("run_command", {"command": "python3 hello.py"}, text="Checking it runs."),
        text(
            "Added hello.py; it prints hello.", usage={"prompt_tokens": 900, "cached_tokens": 600}
        ),
    ]
    result, fake = run(ws, script)
    assert (ws.repo / "hello.py").read_text() == "print('hello')\n"
    assert result.status == "ok"
    assert result.summary == "Added hello.py; it prints hello."
    assert result.usage.turns == 4
    # Cached prompt tokens are reported apart from the uncached ones.
    assert (result.usage.input_tokens, result.usage.cache_read_tokens) == (300 + 300, 600)
    assert result.usage.output_tokens == 80
    assert result.usage.estimated_cost_usd > 0
    assert result.incidents == ()
    tool_messages = [r["messages"][-1] for r in fake.requests[1:]]
    assert [m["role"] for m in tool_messages] == ["tool"] * 3
    assert tool_messages[2]["content"] == "exit code 0\nhello"
    assert fake.requests[0]["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT.strip()}
    assert ws.untouched_outside()


def test_the_prompt_goes_out_whole_prefix_first(ws: Workspace) -> None:
    _, fake = run(ws, [DONE])
    user = fake.requests[0]["messages"][1]
    assert user["role"] == "user"
    assert user["content"].startswith("# Ticket feature-x\n")
    assert "exec-auto:step" not in user["content"]
    assert user["content"].endswith("Create hello.py.\n")


def test_rate_limit_is_retried_after_the_given_delay(ws: Workspace) -> None:
    result, fake = run(ws, [status(429, retry_after=0.05), WRITE, DONE])
    assert result.status == "ok"
    assert (ws.repo / "hello.py").exists()
    assert len(fake.requests) == 3
    assert "HTTP 429" in result.events[0].text
    assert "after 0.05 s" in result.events[0].text


def test_server_errors_twice_then_success(ws: Workspace) -> None:
    result, fake = run(ws, [status(500), status(503), DONE])
    assert result.status == "ok"
    assert len(fake.requests) == 3
    assert [e.kind for e in result.events] == ["agent_retry", "agent_retry"]
    assert result.incidents == ()


def test_persistent_server_errors_give_up_after_the_configured_retries(ws: Workspace) -> None:
    result, fake = run(ws, [], default=status(502), retries=1)
    assert (result.status, result.subtype) == ("error", "error_api")
    assert result.error is not None
    assert "HTTP 502" in result.error
    assert len(fake.requests) == 2


def test_a_truncated_response_is_retried(ws: Workspace) -> None:
    result, fake = run(ws, [truncated(), DONE])
    assert result.status == "ok"
    assert len(fake.requests) == 2


def test_a_hanging_server_times_out_the_step(ws: Workspace) -> None:
    result, _ = run(ws, [hang(60)], timeout=1.0)
    assert result.status == "timeout"
    assert result.usage.turns == 0


def test_a_model_repeating_one_tool_call_is_stopped(ws: Workspace) -> None:
    result, fake = run(ws, [], default=tool_use("run_command", {"command": "ls"}))
    assert (result.status, result.subtype) == ("limit", "error_repeated_tool_call")
    assert len(fake.requests) == REPEAT_LIMIT
    assert [e.kind for e in result.events] == ["agent_loop"]
    assert "run_command" in result.events[-1].text


def test_escapes_are_refused_recorded_and_the_step_goes_on(ws: Workspace) -> None:
    script = [
        tool_use("write_file", {"path": "../outside.txt", "content": "escaped"}),
        tool_use("write_file", {"path": str(ws.sentinel), "content": "overwritten"}),
        tool_use("run_command", {"command": "rm -rf ~"}),
        tool_use("run_command", {"command": "git reset --hard"}),
        text("Some things were refused."),
    ]
    result, fake = run(ws, script)
    assert result.status == "ok"
    assert ws.untouched_outside()
    assert len(result.incidents) == 4
    assert all("refused:" in r["messages"][-1]["content"] for r in fake.requests[1:5])


def test_secrets_never_reach_the_result(ws: Workspace) -> None:
    (ws.repo / ".env").write_text(f"DB_PASSWORD={DOTENV_SECRET}\n")
    script = [
        tool_use("run_command", {"command": "cat .env; echo key=$OPENAI_API_KEY"}),
        text(f"Key {OPENAI_KEY}, password {DOTENV_SECRET}."),
    ]
    result, fake = run(ws, script)
    assert result.summary == "Key [REDACTED], password [REDACTED]."
    assert DOTENV_SECRET not in bodies_text(fake.requests[1:])
    assert OPENAI_KEY not in bodies_text(fake.requests[1:])


def test_a_local_server_needs_no_key(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with FakeOpenAI([DONE]) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        config = AgentConfig(name="openai", model="llama3.2")
        result = create_agent(config).run(make_task(ws.repo))
    assert result.status == "ok"
    assert fake.requests[0]["model"] == "llama3.2"
    # A model with no known price costs nothing we can measure.
    assert result.usage.estimated_cost_usd == 0.0


def test_available_needs_a_key_or_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert not openai_api.available(AgentConfig(name="openai"))
    with pytest.raises(AgentNotConfiguredError, match="OPENAI_API_KEY"):
        create_agent(AgentConfig(name="openai"))
    assert openai_api.available(AgentConfig(name="openai", base_url="http://127.0.0.1:1/v1"))
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    assert openai_api.available(AgentConfig(name="openai"))


def test_a_judge_gets_read_only_tools(ws: Workspace) -> None:
    from dataclasses import replace

    with FakeOpenAI([WRITE, text('{"status": "met"}')]) as fake:
        agent_config = AgentConfig(name="openai", base_url=fake.base_url, retry_backoff=0.01)
        judge = replace(make_task(ws.repo), kind="judge")
        result = openai_api.create(agent_config).run(judge)
    offered = {t["function"]["name"] for t in fake.requests[0]["tools"]}
    assert offered == {"read_file", "list_files", "grep"}
    assert not (ws.repo / "hello.py").exists()  # the write call had no tool to run
    # The unknown tool call went back to the model as an error; its verdict still comes through.
    assert (result.status, result.summary) == ("ok", '{"status": "met"}')


def test_a_stream_that_ends_before_its_final_chunk_fails_the_step(ws: Workspace) -> None:
    from tests.fakes.scripted_server import ended_early

    # This backend asks for whole JSON answers: a short body is a decode error, never "done".
    result, _ = run(ws, [ended_early()], default=ended_early(), retries=0)
    assert result.status == "error", result
    assert result.error
