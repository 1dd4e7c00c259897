"""The fake Anthropic server speaks the Messages API well enough for the official SDK."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import anthropic
import pytest

from tests.fakes.anthropic_server import (
    FakeAnthropic,
    ToolCall,
    message,
    status,
    text,
    tool_use,
    tool_uses,
)

USER: Any = [{"role": "user", "content": "hi"}]


def client(fake: FakeAnthropic, **kwargs: Any) -> anthropic.Anthropic:
    """An SDK client pointed at the fake, without retries unless asked."""
    return anthropic.Anthropic(
        base_url=fake.base_url, api_key="test-key", **{"max_retries": 0, **kwargs}
    )


def fetch(url: str, *, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    """A plain HTTP call to one of the fake's side endpoints."""
    request = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def test_non_streaming_text_with_usage() -> None:
    usage = {"input_tokens": 321, "output_tokens": 12, "cache_read_input_tokens": 40}
    with FakeAnthropic([text("hello there", usage=usage)]) as fake:
        reply = client(fake).messages.create(model="claude-x", max_tokens=50, messages=USER)
    assert reply.content[0].type == "text"
    assert reply.content[0].text == "hello there"
    assert reply.stop_reason == "end_turn"
    assert reply.model == "claude-x"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (321, 12)
    assert reply.usage.cache_read_input_tokens == 40
    assert fake.requests == [{"model": "claude-x", "max_tokens": 50, "messages": USER}]
    # This SDK generation sends the key as a bearer token; older ones as x-api-key.
    sent = fake.headers[0].get("x-api-key") or fake.headers[0]["authorization"]
    assert sent.removeprefix("Bearer ") == "test-key"


def test_streaming_text_assembles_deltas() -> None:
    with (
        FakeAnthropic([text("a streamed answer", usage={"output_tokens": 7})]) as fake,
        client(fake).messages.stream(model="claude-x", max_tokens=50, messages=USER) as stream,
    ):
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) == 2
    assert "".join(pieces) == "a streamed answer"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 7
    assert fake.requests[0]["stream"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_tool_use_round_trip(stream: bool) -> None:
    script = [
        tool_use("read_file", {"path": "a.py", "lines": [1, 2]}, id="toolu_1", text="Looking."),
        text("The file is fine."),
    ]
    with FakeAnthropic(script) as fake:
        sdk = client(fake)
        tools: Any = [
            {"name": "read_file", "description": "read", "input_schema": {"type": "object"}}
        ]
        args: dict[str, Any] = {"model": "claude-x", "max_tokens": 50, "tools": tools}
        if stream:
            with sdk.messages.stream(messages=USER, **args) as s:
                first = s.get_final_message()
        else:
            first = sdk.messages.create(messages=USER, **args)
        assert first.stop_reason == "tool_use"
        assert [b.type for b in first.content] == ["text", "tool_use"]
        call = first.content[1]
        assert call.type == "tool_use"
        assert (call.id, call.name, call.input) == (
            "toolu_1",
            "read_file",
            {"path": "a.py", "lines": [1, 2]},
        )
        result = {"type": "tool_result", "tool_use_id": call.id, "content": "x = 1"}
        history: Any = [
            *USER,
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [result]},
        ]
        second = sdk.messages.create(messages=history, **args)
    assert second.content[0].type == "text"
    assert second.content[0].text == "The file is fine."
    assert fake.requests[1]["messages"][2]["content"][0]["tool_use_id"] == "toolu_1"


def test_several_tool_calls_in_one_reply_get_distinct_ids() -> None:
    reply = tool_uses(("a", {"x": 1}), ToolCall("b", {"y": 2}), text="two calls")
    with (
        FakeAnthropic([reply]) as fake,
        client(fake).messages.stream(model="m", max_tokens=5, messages=USER) as stream,
    ):
        final = stream.get_final_message()
    calls = [b for b in final.content if b.type == "tool_use"]
    assert [(c.name, c.input) for c in calls] == [("a", {"x": 1}), ("b", {"y": 2})]
    assert calls[0].id != calls[1].id


def test_custom_stop_reason() -> None:
    with FakeAnthropic([message("cut", stop_reason="max_tokens")]) as fake:
        reply = client(fake).messages.create(model="m", max_tokens=5, messages=USER)
    assert reply.stop_reason == "max_tokens"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
        (529, anthropic.APIStatusError),
        (401, anthropic.AuthenticationError),
    ],
)
def test_error_statuses_raise_the_sdk_errors(code: int, error: type[Exception]) -> None:
    with FakeAnthropic([status(code, retry_after=3)]) as fake, pytest.raises(error) as info:
        client(fake).messages.create(model="m", max_tokens=5, messages=USER)
    assert isinstance(info.value, anthropic.APIStatusError)
    assert info.value.status_code == code
    if code == 429:
        assert info.value.response.headers["retry-after"] == "3"


def test_custom_error_body() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    with (
        FakeAnthropic([status(529, body=body)]) as fake,
        pytest.raises(anthropic.APIStatusError) as info,
    ):
        client(fake).messages.create(model="m", max_tokens=5, messages=USER)
    assert "busy" in str(info.value)


def test_side_endpoints_answer_without_consuming_the_script() -> None:
    with FakeAnthropic([text("scripted")]) as fake:
        sdk = client(fake)
        counted = sdk.messages.count_tokens(model="m", messages=USER)
        head = fetch(fake.base_url + "/", method="HEAD")
        telemetry = fetch(fake.base_url + "/api/event_logging/batch", method="POST", data=b"{}")
        models = fetch(fake.base_url + "/v1/models")
        reply = sdk.messages.create(model="m", max_tokens=5, messages=USER)
    assert counted.input_tokens > 0
    assert (head[0], telemetry[0], models[0]) == (200, 200, 200)
    assert json.loads(models[1])["data"]
    assert reply.content[0].type == "text"
    assert reply.content[0].text == "scripted"
    assert len(fake.requests) == 1
    assert ("POST", "/v1/messages/count_tokens") in fake.calls
