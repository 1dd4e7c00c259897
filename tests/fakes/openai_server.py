"""A scripted fake of the OpenAI chat completions API on 127.0.0.1, for driving the real SDK.

`FakeOpenAI(script, default=...)` serves `POST /v1/chat/completions`, as one JSON body or as an
SSE stream of `chat.completion.chunk`s (content and `tool_calls` deltas, a usage chunk, `[DONE]`),
whichever the request asks for. Each request takes the next reply from `script` (or asks it, when
`script` is a function of the request body), then `default`, then `text("done")`. The reply builders
are the Anthropic fake's (`text`, `tool_use`, `tool_uses`, `status`, `truncated`, `hang`, from
`scripted_server`; `message` takes `finish_reason` here), so the tests of both backends read alike.
`base_url` ends in `/v1`, as the OpenAI SDK expects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from tests.fakes.scripted_server import (
    Reply,
    Script,
    ScriptedHandler,
    ScriptedServer,
    ToolCall,
    hang,
    status,
    text,
    tool_use,
    tool_uses,
    truncated,
)

__all__ = [
    "DEFAULT_USAGE",
    "FakeOpenAI",
    "Reply",
    "Script",
    "ToolCall",
    "hang",
    "message",
    "status",
    "text",
    "tool_use",
    "tool_uses",
    "truncated",
]

DEFAULT_USAGE = {"prompt_tokens": 100, "completion_tokens": 20, "cached_tokens": 0}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    404: "model_not_found",
    429: "rate_limit_exceeded",
}


def message(
    *blocks: str | ToolCall, usage: dict[str, int] | None = None, finish_reason: str | None = None
) -> Reply:
    """A reply of any text and tool calls; the texts are joined into `content`."""
    return Reply("message", blocks=blocks, usage=dict(usage or {}), finish=finish_reason)


class _Handler(ScriptedHandler):
    scripted_route = "/v1/chat/completions"
    default_model = "gpt-4o-mini"
    request_id_header = "x-request-id"
    cut_json = b'{"id": "chatcmpl_cut", "object": "chat.completion", "choices": ['
    cut_events = 2  # the role chunk and the first piece of content
    cut_event = b'data: {"id": "chatcmpl_cut", "choi'

    def _side_get(self, route: str) -> None:
        if route == "/v1/models":
            self._send_json(
                200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]}
            )
        else:
            self._send_json(
                404, {"error": {"message": "not found", "type": "invalid_request_error"}}
            )

    def _side_post(self, route: str, raw: bytes) -> None:
        error = {"message": f"no route {self.path}", "type": "invalid_request_error"}
        self._send_json(404, {"error": error})

    def _error_body(self, code: int, message: str) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(code, "server_error")
        return {"error": {"message": message, "type": kind, "code": kind}}

    def _retry_headers(self, seconds: float) -> dict[str, str]:
        # Both, as OpenAI sends them: whole seconds, and the exact wait in milliseconds.
        return {"retry-after": str(math.ceil(seconds)), "retry-after-ms": f"{seconds * 1000:g}"}

    # --- bodies --------------------------------------------------------------------------------

    def _tool_calls(self, reply: Reply) -> list[dict[str, Any]]:
        return [
            {
                "id": call.id or self.fake._next_id("call"),
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.input)},
            }
            for call in reply.calls
        ]

    @staticmethod
    def _content(reply: Reply) -> str:
        return "".join(b for b in reply.blocks if isinstance(b, str))

    @staticmethod
    def _finish_reason(reply: Reply) -> str:
        return reply.finish or ("tool_calls" if reply.calls else "stop")

    @staticmethod
    def _usage(reply: Reply) -> dict[str, Any]:
        usage = {**DEFAULT_USAGE, **reply.usage}
        prompt, completion = usage["prompt_tokens"], usage["completion_tokens"]
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": usage["cached_tokens"]},
        }

    def _body(self, reply: Reply, model: str) -> dict[str, Any]:
        msg: dict[str, Any] = {"role": "assistant", "content": self._content(reply) or None}
        if calls := self._tool_calls(reply):
            msg["tool_calls"] = calls
        return {
            "id": self.fake._next_id("chatcmpl"),
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [{"index": 0, "message": msg, "finish_reason": self._finish_reason(reply)}],
            "usage": self._usage(reply),
        }

    def _events(self, reply: Reply, model: str) -> Iterator[bytes]:
        for chunk in self._chunks(reply, model):
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    def _chunks(self, reply: Reply, model: str) -> Iterator[dict[str, Any]]:
        base = {
            "id": self.fake._next_id("chatcmpl"),
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": model,
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        yield chunk({"role": "assistant", "content": ""})
        if content := self._content(reply):
            half = len(content) // 2
            # Two pieces, so clients really assemble text from deltas.
            yield chunk({"content": content[:half]})
            yield chunk({"content": content[half:]})
        for index, call in enumerate(self._tool_calls(reply)):
            arguments = call["function"]["arguments"]
            cut = len(arguments) // 2
            first = {**call, "index": index, "function": {**call["function"], "arguments": ""}}
            yield chunk({"tool_calls": [first]})
            for piece in (arguments[:cut], arguments[cut:]):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, self._finish_reason(reply))
        yield {**base, "choices": [], "usage": self._usage(reply)}


class FakeOpenAI(ScriptedServer):
    """The fake chat completions API, as a context manager; point clients at `base_url`."""

    handler = _Handler
    url_suffix = "/v1"
