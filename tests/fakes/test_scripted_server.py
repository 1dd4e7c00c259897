"""What both fakes do alike (the `scripted_server` machinery), through each official SDK."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import anthropic
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.scripted_server import ScriptedServer, hang, status, text, truncated

USER: Any = [{"role": "user", "content": "hi"}]


def ask_anthropic(fake: ScriptedServer, *, stream: bool = False, **client: Any) -> str:
    """One question through the Anthropic SDK, without retries unless asked; the answer's text."""
    sdk = anthropic.Anthropic(
        base_url=fake.base_url, api_key="test-key", **{"max_retries": 0, **client}
    )
    reply: anthropic.types.Message
    if stream:
        with sdk.messages.stream(model="m", max_tokens=5, messages=USER) as s:
            reply = s.get_final_message()
    else:
        reply = sdk.messages.create(model="m", max_tokens=5, messages=USER)
    assert reply.content[0].type == "text"
    return reply.content[0].text


def ask_openai(fake: ScriptedServer, *, stream: bool = False, **client: Any) -> str | None:
    """One question through the OpenAI SDK, without retries unless asked; the answer's text."""
    sdk = openai.OpenAI(base_url=fake.base_url, api_key="test-key", **{"max_retries": 0, **client})
    if stream:
        chunks = sdk.chat.completions.create(model="m", messages=USER, stream=True)
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return sdk.chat.completions.create(model="m", messages=USER).choices[0].message.content


@dataclass(frozen=True)
class Api:
    """One protocol: its fake, its SDK module, and a question asked through that SDK."""

    fake: type[ScriptedServer]
    sdk: ModuleType
    ask: Callable[..., str | None]


@pytest.fixture(
    params=[
        pytest.param(Api(FakeAnthropic, anthropic, ask_anthropic), id="anthropic"),
        pytest.param(Api(FakeOpenAI, openai, ask_openai), id="openai"),
    ]
)
def api(request: pytest.FixtureRequest) -> Api:
    return request.param  # type: ignore[no-any-return]


def test_default_reply_after_the_script_and_callable_scripts(api: Api) -> None:
    with api.fake([text("first")], default=text("again")) as fake:
        answers = [api.ask(fake) for _ in range(3)]
    assert answers == ["first", "again", "again"]

    def echo(body: dict[str, Any]) -> Any:
        return text(f"you said {body['messages'][-1]['content']}")

    with api.fake(echo) as fake:
        assert api.ask(fake) == "you said hi"


def test_exhausted_script_without_default_says_done(api: Api) -> None:
    with api.fake([]) as fake:
        assert api.ask(fake) == "done"


@pytest.mark.parametrize("stream", [False, True])
def test_rate_limit_then_success_is_retried_by_the_sdk(api: Api, stream: bool) -> None:
    with api.fake([status(429, retry_after=0.01), text("ok")]) as fake:
        assert api.ask(fake, stream=stream, max_retries=1) == "ok"
    assert len(fake.requests) == 2


@pytest.mark.parametrize("stream", [False, True])
def test_truncated_response_is_a_connection_error(api: Api, stream: bool) -> None:
    with api.fake([truncated()]) as fake:
        # Mid-stream the SDK lets the transport's own protocol error through.
        with pytest.raises(Exception, match=r"(?i)connection|incomplete|closed") as info:
            api.ask(fake, stream=stream)
        assert not isinstance(info.value, api.sdk.APIStatusError)


def test_hang_outlasts_the_client_timeout(api: Api) -> None:
    with api.fake([hang(30)]) as fake, pytest.raises(api.sdk.APITimeoutError):
        api.ask(fake, timeout=0.3)


def test_requests_headers_and_calls_are_recorded(api: Api) -> None:
    with api.fake([text("one"), text("two")]) as fake:
        api.ask(fake)
        api.ask(fake, stream=True)
    assert [r["messages"] for r in fake.requests] == [USER, USER]
    assert fake.requests[1]["stream"] is True
    assert all(h["content-type"] == "application/json" for h in fake.headers)
    assert [method for method, _ in fake.calls] == ["POST", "POST"]
