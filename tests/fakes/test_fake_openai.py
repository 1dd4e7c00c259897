"""The fake OpenAI server speaks chat completions well enough for the official SDK."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.fakes.openai_server import (
    FakeOpenAI,
    ToolCall,
    message,
    status,
    text,
    tool_use,
    tool_uses,
)

USER: Any = [{"role": "user", "content": "hi"}]
TOOLS: Any = [
    {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}
]


def client(fake: FakeOpenAI, **kwargs: Any) -> openai.OpenAI:
    """An SDK client pointed at the fake, without retries unless asked."""
    return openai.OpenAI(base_url=fake.base_url, api_key="test-key", **{"max_retries": 0, **kwargs})


def test_non_streaming_text_with_usage() -> None:
    usage = {"prompt_tokens": 321, "completion_tokens": 12, "cached_tokens": 40}
    with FakeOpenAI([text("hello there", usage=usage)]) as fake:
        reply = client(fake).chat.completions.create(model="gpt-x", messages=USER)
    assert reply.choices[0].message.content == "hello there"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == "gpt-x"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (321, 12)
    assert reply.usage.prompt_tokens_details is not None
    assert reply.usage.prompt_tokens_details.cached_tokens == 40
    assert fake.requests == [{"model": "gpt-x", "messages": USER}]
    assert fake.headers[0]["authorization"] == "Bearer test-key"


def test_streaming_text_assembles_deltas_and_reports_usage() -> None:
    with FakeOpenAI([text("a streamed answer", usage={"completion_tokens": 7})]) as fake:
        chunks = list(
            client(fake).chat.completions.create(
                model="gpt-x", messages=USER, stream=True, stream_options={"include_usage": True}
            )
        )
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) == 2
    assert "".join(pieces) == "a streamed answer"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 7
    assert fake.requests[0]["stream"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_tool_call_round_trip(stream: bool) -> None:
    script = [
        tool_use("read_file", {"path": "a.py", "lines": [1, 2]}, id="call_1", text="Looking."),
        text("The file is fine."),
    ]
    with FakeOpenAI(script) as fake:
        sdk = client(fake)
        if stream:
            chunks = list(
                sdk.chat.completions.create(model="m", messages=USER, tools=TOOLS, stream=True)
            )
            deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or []]
            call_id, name = deltas[0].id, deltas[0].function and deltas[0].function.name
            arguments = "".join((d.function and d.function.arguments) or "" for d in deltas)
            finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
            said = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            first = sdk.chat.completions.create(model="m", messages=USER, tools=TOOLS)
            msg = first.choices[0].message
            assert msg.tool_calls is not None
            call = msg.tool_calls[0]
            assert call.type == "function"
            call_id, name, arguments = call.id, call.function.name, call.function.arguments
            finish, said = first.choices[0].finish_reason, msg.content
        assert (call_id, name, json.loads(arguments)) == (
            "call_1",
            "read_file",
            {"path": "a.py", "lines": [1, 2]},
        )
        assert (finish, said) == ("tool_calls", "Looking.")
        assistant = {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ],
        }
        history: Any = [*USER, assistant, {"role": "tool", "tool_call_id": call_id, "content": "x"}]
        second = sdk.chat.completions.create(model="m", messages=history, tools=TOOLS)
    assert second.choices[0].message.content == "The file is fine."
    assert fake.requests[1]["messages"][2]["tool_call_id"] == "call_1"


def test_several_tool_calls_in_one_reply_get_distinct_ids() -> None:
    reply = tool_uses(("a", {"x": 1}), ToolCall("b", {"y": 2}), text="two calls")
    with FakeOpenAI([reply]) as fake:
        answer = client(fake).chat.completions.create(model="m", messages=USER)
    calls = answer.choices[0].message.tool_calls or []
    pairs = [
        (c.function.name, json.loads(c.function.arguments)) for c in calls if c.type == "function"
    ]
    assert pairs == [("a", {"x": 1}), ("b", {"y": 2})]
    assert calls[0].id != calls[1].id


def test_custom_finish_reason() -> None:
    with FakeOpenAI([message("cut", finish_reason="length")]) as fake:
        reply = client(fake).chat.completions.create(model="m", messages=USER)
    assert reply.choices[0].finish_reason == "length"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
        (401, openai.AuthenticationError),
    ],
)
def test_error_statuses_raise_the_sdk_errors(code: int, error: type[Exception]) -> None:
    with FakeOpenAI([status(code, retry_after=2.5)]) as fake, pytest.raises(error) as info:
        client(fake).chat.completions.create(model="m", messages=USER)
    assert isinstance(info.value, openai.APIStatusError)
    assert info.value.status_code == code
    assert info.value.response.headers["retry-after"] == "3"
    assert info.value.response.headers["retry-after-ms"] == "2500"


def test_models_list_answers_without_consuming_the_script() -> None:
    with FakeOpenAI([text("scripted")]) as fake:
        sdk = client(fake)
        models = [m.id for m in sdk.models.list()]
        reply = sdk.chat.completions.create(model="m", messages=USER)
    assert models == ["gpt-4o-mini"]
    assert reply.choices[0].message.content == "scripted"
    assert len(fake.requests) == 1
    assert ("GET", "/v1/models") in fake.calls
