"""A scripted fake of the Anthropic Messages API on 127.0.0.1, for the real SDK and Claude Code CLI.

`FakeAnthropic(script, default=...)` serves `POST /v1/messages`, as one JSON body or as an SSE
stream (`message_start`, `content_block_*` with `text_delta` / `input_json_delta`, `message_delta`,
`message_stop`), whichever the request asks for. Each request takes the next reply from `script`
(or asks it, when `script` is a function of the request body), then `default`, then `text("done")`.
Everything else a client calls (`count_tokens`, model lists, telemetry, `HEAD /`) gets a harmless
answer and consumes nothing. The server machinery and the reply builders other than `message` live
in `scripted_server`, shared with the OpenAI fake.
"""

from __future__ import annotations

import json
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
    "FakeAnthropic",
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

DEFAULT_USAGE = {
    "input_tokens": 100,
    "output_tokens": 20,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def message(
    *blocks: str | ToolCall, usage: dict[str, int] | None = None, stop_reason: str | None = None
) -> Reply:
    """A reply of any content blocks (text and tool_use, in order)."""
    return Reply("message", blocks=blocks, usage=dict(usage or {}), finish=stop_reason)


class _Handler(ScriptedHandler):
    scripted_route = "/v1/messages"
    default_model = "claude-sonnet-4-5"
    request_id_header = "request-id"
    cut_json = b'{"id": "msg_cut", "type": "message", "content": ['
    cut_events = 3  # message_start, ping, content_block_start
    cut_event = b'event: content_block_delta\ndata: {"type": "content_bl'

    def do_HEAD(self) -> None:
        self.fake._record("HEAD", self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _side_get(self, route: str) -> None:
        if route == "/v1/models":
            models = [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Fake"}]
            self._send_json(
                200, {"data": models, "has_more": False, "first_id": None, "last_id": None}
            )
        else:
            self._send_json(200, {})

    def _side_post(self, route: str, raw: bytes) -> None:
        if route == "/v1/messages/count_tokens":
            self._send_json(200, {"input_tokens": max(1, len(raw) // 4)})
        else:
            self._send_json(200, {})  # telemetry and the like

    def _error_body(self, code: int, message: str) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(code, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def _retry_headers(self, seconds: float) -> dict[str, str]:
        return {"retry-after": f"{seconds:g}"}

    # --- bodies --------------------------------------------------------------------------------

    def _blocks(self, reply: Reply) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for block in reply.blocks:
            if isinstance(block, ToolCall):
                call_id = block.id or self.fake._next_id("toolu")
                out.append(
                    {"type": "tool_use", "id": call_id, "name": block.name, "input": block.input}
                )
            else:
                out.append({"type": "text", "text": block})
        return out

    @staticmethod
    def _stop_reason(reply: Reply) -> str:
        return reply.finish or ("tool_use" if reply.calls else "end_turn")

    def _body(self, reply: Reply, model: str) -> dict[str, Any]:
        return {
            "id": self.fake._next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": self._blocks(reply),
            "stop_reason": self._stop_reason(reply),
            "stop_sequence": None,
            "usage": {**DEFAULT_USAGE, **reply.usage},
        }

    def _events(self, reply: Reply, model: str) -> Iterator[bytes]:
        for payload in self._payloads(reply, model):
            yield f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()

    def _payloads(self, reply: Reply, model: str) -> Iterator[dict[str, Any]]:
        usage = {**DEFAULT_USAGE, **reply.usage}
        shell = {
            **self._body(reply, model),
            "content": [],
            "stop_reason": None,
            "usage": {**usage, "output_tokens": 1},
        }
        yield {"type": "message_start", "message": shell}
        yield {"type": "ping"}
        for index, block in enumerate(self._blocks(reply)):
            if block["type"] == "text":
                start: dict[str, Any] = {"type": "text", "text": ""}
                half = len(block["text"]) // 2
                # Two pieces, so clients really assemble text from deltas.
                pieces = [block["text"][:half], block["text"][half:]]
                deltas = [{"type": "text_delta", "text": p} for p in pieces if p]
            else:
                start = {**block, "input": {}}
                encoded = json.dumps(block["input"])
                cut = len(encoded) // 2
                deltas = [
                    {"type": "input_json_delta", "partial_json": p}
                    for p in (encoded[:cut], encoded[cut:])
                ]
            yield {"type": "content_block_start", "index": index, "content_block": start}
            for delta in deltas:
                yield {"type": "content_block_delta", "index": index, "delta": delta}
            yield {"type": "content_block_stop", "index": index}
        stop = {"stop_reason": self._stop_reason(reply), "stop_sequence": None}
        yield {"type": "message_delta", "delta": stop, "usage": usage}
        yield {"type": "message_stop"}


class FakeAnthropic(ScriptedServer):
    """The fake Messages API, as a context manager; point clients at `base_url`."""

    handler = _Handler
