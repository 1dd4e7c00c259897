"""A scripted fake of the Anthropic Messages API on 127.0.0.1, for the real SDK and Claude Code CLI.

`FakeAnthropic(script, default=...)` serves `POST /v1/messages`, as one JSON body or as an SSE
stream (`message_start`, `content_block_*` with `text_delta` / `input_json_delta`, `message_delta`,
`message_stop`), whichever the request asks for. Each request takes the next reply from `script`
(or asks it, when `script` is a function of the request body), then `default`, then `text("done")`.
Everything else a client calls (`count_tokens`, model lists, telemetry, `HEAD /`) gets a harmless
answer and consumes nothing.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

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


@dataclass(frozen=True)
class ToolCall:
    """One tool_use content block."""

    name: str
    input: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one /v1/messages request."""

    kind: str  # "message", "status", "truncated" or "hang"
    # Content blocks in order: a str is a text block, a ToolCall a tool_use block.
    blocks: tuple[str | ToolCall, ...] = ()
    usage: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_USAGE))
    stop_reason: str | None = None
    code: int = 200
    retry_after: float | None = None
    body: dict[str, Any] | None = None
    seconds: float = 0.0


def message(
    *blocks: str | ToolCall, usage: dict[str, int] | None = None, stop_reason: str | None = None
) -> Reply:
    """A reply of any content blocks (text and tool_use, in order)."""
    return Reply(
        "message", blocks=blocks, usage={**DEFAULT_USAGE, **(usage or {})}, stop_reason=stop_reason
    )


def text(message: str, *, usage: dict[str, int] | None = None) -> Reply:
    """A final answer: the assistant says `message` and ends its turn."""
    return Reply("message", blocks=(message,), usage={**DEFAULT_USAGE, **(usage or {})})


def tool_use(
    name: str,
    input: dict[str, Any],
    *,
    id: str | None = None,
    text: str | None = None,
    usage: dict[str, int] | None = None,
) -> Reply:
    """The assistant calls tool `name` with `input`, optionally saying `text` first."""
    blocks: tuple[str | ToolCall, ...] = (ToolCall(name, input, id),)
    return message(*((text,) if text else ()), *blocks, usage=usage)


def tool_uses(*calls: tuple[str, dict[str, Any]] | ToolCall, text: str | None = None) -> Reply:
    """The assistant calls several tools in one turn."""
    blocks = [c if isinstance(c, ToolCall) else ToolCall(c[0], c[1]) for c in calls]
    return message(*((text,) if text else ()), *blocks)


def status(
    code: int, *, retry_after: float | None = None, body: dict[str, Any] | None = None
) -> Reply:
    """An HTTP error (429, 500, 529 ...) with an Anthropic-shaped error body."""
    return Reply("status", code=code, retry_after=retry_after, body=body)


def truncated() -> Reply:
    """A response whose connection drops after a partial event (or partial JSON body)."""
    return Reply("truncated")


def hang(seconds: float) -> Reply:
    """Say nothing for `seconds` (released early when the server stops), then close."""
    return Reply("hang", seconds=seconds)


Script = Sequence[Reply] | Callable[[dict[str, Any]], Reply]


class FakeAnthropic:
    """The fake server, as a context manager; point clients at `base_url`."""

    def __init__(self, script: Script = (), *, default: Reply | None = None):
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        # Every (method, path) received, /v1/messages included: what a client really calls.
        self.calls: list[tuple[str, str]] = []
        self._script = script if callable(script) else iter(list(script))
        self._default = default
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"

    def __enter__(self) -> FakeAnthropic:
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
    fake: FakeAnthropic
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    # --- routing -------------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self.fake._record("HEAD", self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.fake._record("GET", self.path)
        route = self.path.split("?", 1)[0].rstrip("/")
        if route == "/v1/models":
            models = [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Fake"}]
            self._send_json(
                200, {"data": models, "has_more": False, "first_id": None, "last_id": None}
            )
        else:
            self._send_json(200, {})

    def do_POST(self) -> None:
        self.fake._record("POST", self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        route = self.path.split("?", 1)[0].rstrip("/")
        if route == "/v1/messages/count_tokens":
            self._send_json(200, {"input_tokens": max(1, len(raw) // 4)})
            return
        if route != "/v1/messages":
            self._send_json(200, {})
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_error(
                400,
                {
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": "bad JSON"},
                },
            )
            return
        reply = self.fake._next_reply(body, {k.lower(): v for k, v in self.headers.items()})
        self._answer(reply, body)

    def _answer(self, reply: Reply, body: dict[str, Any]) -> None:
        model = str(body.get("model", "claude-sonnet-4-5"))
        stream = bool(body.get("stream"))
        if reply.kind == "status":
            self._send_status(reply)
        elif reply.kind == "hang":
            self.fake._stop.wait(reply.seconds)
            self.close_connection = True
        elif reply.kind == "truncated":
            self._send_truncated(stream, model)
        elif stream:
            self._send_stream(reply, model)
        else:
            self._send_json(
                200, self._message(reply, model), {"request-id": self.fake._next_id("req")}
            )

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
        if reply.stop_reason:
            return reply.stop_reason
        return "tool_use" if any(isinstance(b, ToolCall) for b in reply.blocks) else "end_turn"

    def _message(self, reply: Reply, model: str) -> dict[str, Any]:
        return {
            "id": self.fake._next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": self._blocks(reply),
            "stop_reason": self._stop_reason(reply),
            "stop_sequence": None,
            "usage": dict(reply.usage),
        }

    def _events(self, reply: Reply, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
        start_usage = {**reply.usage, "output_tokens": 1}
        shell = {
            **self._message(reply, model),
            "content": [],
            "stop_reason": None,
            "usage": start_usage,
        }
        yield "message_start", {"type": "message_start", "message": shell}
        yield "ping", {"type": "ping"}
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
            yield (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
            for delta in deltas:
                yield (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        stop = {"stop_reason": self._stop_reason(reply), "stop_sequence": None}
        yield "message_delta", {"type": "message_delta", "delta": stop, "usage": dict(reply.usage)}
        yield "message_stop", {"type": "message_stop"}

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
        kind = _ERROR_TYPES.get(reply.code, "api_error")
        body = reply.body or {
            "type": "error",
            "error": {"type": kind, "message": f"scripted {reply.code}"},
        }
        headers = {"request-id": self.fake._next_id("req")}
        if reply.retry_after is not None:
            headers["retry-after"] = f"{reply.retry_after:g}"
        self._send_json(reply.code, body, headers)

    def _send_error(self, code: int, body: dict[str, Any]) -> None:
        self._send_json(code, body)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", self.fake._next_id("req"))
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _write_event(self, name: str, payload: dict[str, Any]) -> None:
        self._write_chunk(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode())

    def _send_stream(self, reply: Reply, model: str) -> None:
        self._start_stream()
        for name, payload in self._events(reply, model):
            self._write_event(name, payload)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_truncated(self, stream: bool, model: str) -> None:
        """Promise more than is sent, then drop the connection: the client sees a broken read."""
        self.close_connection = True
        if not stream:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b'{"id": "msg_cut", "type": "message", "content": [')
            self.wfile.flush()
            return
        self._start_stream()
        events = self._events(text("this answer is cut off", usage=None), model)
        for _ in range(3):  # message_start, ping, content_block_start
            self._write_event(*next(events))
        # A chunk header announcing bytes that never come, inside a half-written event.
        self.wfile.write(b'400\r\nevent: content_block_delta\ndata: {"type": "content_bl')
        self.wfile.flush()
