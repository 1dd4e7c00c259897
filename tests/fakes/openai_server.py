"""A scripted fake of the OpenAI chat completions API on 127.0.0.1, for driving the real SDK.

`FakeOpenAI(script, default=...)` serves `POST /v1/chat/completions`, as one JSON body or as an
SSE stream of `chat.completion.chunk`s (content and `tool_calls` deltas, a usage chunk, `[DONE]`),
whichever the request asks for. Each request takes the next reply from `script` (or asks it, when
`script` is a function of the request body), then `default`, then `text("done")`. The reply builders
have the same names as the Anthropic fake's (`text`, `tool_use`, `tool_uses`, `message`, `status`,
`truncated`, `hang`), so the tests of both backends read alike. `base_url` ends in `/v1`, as the
OpenAI SDK expects.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

DEFAULT_USAGE = {"prompt_tokens": 100, "completion_tokens": 20, "cached_tokens": 0}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    404: "model_not_found",
    429: "rate_limit_exceeded",
}


@dataclass(frozen=True)
class ToolCall:
    """One function call in `tool_calls`."""

    name: str
    input: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one /v1/chat/completions request."""

    kind: str  # "message", "status", "truncated" or "hang"
    # The assistant's text (str) and tool calls, in order; texts are joined into `content`.
    blocks: tuple[str | ToolCall, ...] = ()
    usage: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_USAGE))
    finish_reason: str | None = None
    code: int = 200
    retry_after: float | None = None
    body: dict[str, Any] | None = None
    seconds: float = 0.0


def message(
    *blocks: str | ToolCall, usage: dict[str, int] | None = None, finish_reason: str | None = None
) -> Reply:
    """A reply of any text and tool calls."""
    return Reply(
        "message",
        blocks=blocks,
        usage={**DEFAULT_USAGE, **(usage or {})},
        finish_reason=finish_reason,
    )


def text(message: str, *, usage: dict[str, int] | None = None) -> Reply:
    """A final answer: the assistant says `message` and stops."""
    return Reply("message", blocks=(message,), usage={**DEFAULT_USAGE, **(usage or {})})


def tool_use(
    name: str,
    input: dict[str, Any],
    *,
    id: str | None = None,
    text: str | None = None,
    usage: dict[str, int] | None = None,
) -> Reply:
    """The assistant calls tool `name` with `input`, optionally saying `text` too."""
    return message(*((text,) if text else ()), ToolCall(name, input, id), usage=usage)


def tool_uses(*calls: tuple[str, dict[str, Any]] | ToolCall, text: str | None = None) -> Reply:
    """The assistant calls several tools in one turn."""
    blocks = [c if isinstance(c, ToolCall) else ToolCall(c[0], c[1]) for c in calls]
    return message(*((text,) if text else ()), *blocks)


def status(
    code: int, *, retry_after: float | None = None, body: dict[str, Any] | None = None
) -> Reply:
    """An HTTP error (429, 500, 503 ...) with an OpenAI-shaped error body."""
    return Reply("status", code=code, retry_after=retry_after, body=body)


def truncated() -> Reply:
    """A response whose connection drops after a partial chunk (or partial JSON body)."""
    return Reply("truncated")


def hang(seconds: float) -> Reply:
    """Say nothing for `seconds` (released early when the server stops), then close."""
    return Reply("hang", seconds=seconds)


Script = Sequence[Reply] | Callable[[dict[str, Any]], Reply]


class FakeOpenAI:
    """The fake server, as a context manager; point clients at `base_url`."""

    def __init__(self, script: Script = (), *, default: Reply | None = None):
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.calls: list[tuple[str, str]] = []
        self._script = script if callable(script) else iter(list(script))
        self._default = default
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval, at the end of every test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record(self, method: str, path: str) -> None:
        with self._lock:
            self.calls.append((method, path))

    def _next_reply(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if callable(self._script):
                return self._script(body)
            reply = next(self._script, None)
        return reply or self._default or text("done")

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_fake{next(self._ids):04d}"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self.fake._record("GET", self.path)
        if self.path.split("?", 1)[0].rstrip("/") == "/v1/models":
            self._send_json(
                200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]}
            )
        else:
            self._send_json(
                404, {"error": {"message": "not found", "type": "invalid_request_error"}}
            )

    def do_POST(self) -> None:
        self.fake._record("POST", self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?", 1)[0].rstrip("/") != "/v1/chat/completions":
            error = {"message": f"no route {self.path}", "type": "invalid_request_error"}
            self._send_json(404, {"error": error})
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_json(
                400, {"error": {"message": "bad JSON", "type": "invalid_request_error"}}
            )
            return
        reply = self.fake._next_reply(body, {k.lower(): v for k, v in self.headers.items()})
        self._answer(reply, body)

    def _answer(self, reply: Reply, body: dict[str, Any]) -> None:
        model = str(body.get("model", "gpt-4o-mini"))
        stream = bool(body.get("stream"))
        if reply.kind == "status":
            self._send_status(reply)
        elif reply.kind == "hang":
            self.fake._stop.wait(reply.seconds)
            self.close_connection = True
        elif reply.kind == "truncated":
            self._send_truncated(stream)
        elif stream:
            self._send_stream(reply, model)
        else:
            self._send_json(200, self._completion(reply, model))

    # --- bodies --------------------------------------------------------------------------------

    def _tool_calls(self, reply: Reply) -> list[dict[str, Any]]:
        return [
            {
                "id": block.id or self.fake._next_id("call"),
                "type": "function",
                "function": {"name": block.name, "arguments": json.dumps(block.input)},
            }
            for block in reply.blocks
            if isinstance(block, ToolCall)
        ]

    @staticmethod
    def _content(reply: Reply) -> str:
        return "".join(b for b in reply.blocks if isinstance(b, str))

    @staticmethod
    def _finish_reason(reply: Reply) -> str:
        if reply.finish_reason:
            return reply.finish_reason
        return "tool_calls" if any(isinstance(b, ToolCall) for b in reply.blocks) else "stop"

    @staticmethod
    def _usage(reply: Reply) -> dict[str, Any]:
        prompt, completion = reply.usage["prompt_tokens"], reply.usage["completion_tokens"]
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": reply.usage.get("cached_tokens", 0)},
        }

    def _completion(self, reply: Reply, model: str) -> dict[str, Any]:
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

    # --- wire ----------------------------------------------------------------------------------

    def _send_json(
        self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_status(self, reply: Reply) -> None:
        kind = _ERROR_TYPES.get(reply.code, "server_error")
        body = reply.body or {
            "error": {"message": f"scripted {reply.code}", "type": kind, "code": kind}
        }
        headers = {"x-request-id": self.fake._next_id("req")}
        if reply.retry_after is not None:
            # Both, as OpenAI sends them: whole seconds, and the exact wait in milliseconds.
            headers["retry-after"] = str(math.ceil(reply.retry_after))
            headers["retry-after-ms"] = f"{reply.retry_after * 1000:g}"
        self._send_json(reply.code, body, headers)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_stream(self, reply: Reply, model: str) -> None:
        self._start_stream()
        for chunk in self._chunks(reply, model):
            self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_truncated(self, stream: bool) -> None:
        """Promise more than is sent, then drop the connection: the client sees a broken read."""
        self.close_connection = True
        if not stream:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b'{"id": "chatcmpl_cut", "object": "chat.completion", "choices": [')
            self.wfile.flush()
            return
        self._start_stream()
        chunks = self._chunks(text("this answer is cut off"), "gpt-4o-mini")
        for _ in range(2):
            self._write_chunk(f"data: {json.dumps(next(chunks))}\n\n".encode())
        # A chunk header announcing bytes that never come, inside a half-written event.
        self.wfile.write(b'400\r\ndata: {"id": "chatcmpl_cut", "choi')
        self.wfile.flush()
