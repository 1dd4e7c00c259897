"""The machinery both scripted API fakes share: a threaded HTTP server on 127.0.0.1 whose model
route answers each request with the next scripted `Reply`.

Each request to the model route takes the next reply from the script (or asks it, when the script
is a function of the request body), then `default`, then `text("done")`, and records the body and
headers. `status`, `truncated` and `hang` are faults every protocol answers alike: an HTTP error, a
response that breaks off mid-read, silence. A protocol module (`anthropic_server`,
`openai_server`) subclasses `ScriptedServer` and `ScriptedHandler` and says only what its API
says differently: routes, answer and error shapes, the SSE encoding, usage and retry headers.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class ToolCall:
    """One tool call: an Anthropic tool_use block, an OpenAI `tool_calls` entry."""

    name: str
    input: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one model request."""

    kind: str  # "message", "status", "truncated", "ended" or "hang"
    # What the assistant says (str) and calls (ToolCall), in order.
    blocks: tuple[str | ToolCall, ...] = ()
    # Overrides of the protocol's DEFAULT_USAGE.
    usage: dict[str, int] = field(default_factory=dict)
    # The stop_reason / finish_reason to report; None derives it from the blocks.
    finish: str | None = None
    code: int = 200
    retry_after: float | None = None
    body: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        """The tool calls among the blocks."""
        return tuple(b for b in self.blocks if isinstance(b, ToolCall))


Script = Sequence[Reply] | Callable[[dict[str, Any]], Reply]


def text(message: str, *, usage: dict[str, int] | None = None) -> Reply:
    """A final answer: the assistant says `message` and ends its turn."""
    return Reply("message", blocks=(message,), usage=dict(usage or {}))


def tool_use(
    name: str,
    input: dict[str, Any],
    *,
    id: str | None = None,
    text: str | None = None,
    usage: dict[str, int] | None = None,
) -> Reply:
    """The assistant calls tool `name` with `input`, optionally saying `text` first."""
    said = (text,) if text else ()
    return Reply("message", blocks=(*said, ToolCall(name, input, id)), usage=dict(usage or {}))


def tool_uses(*calls: tuple[str, dict[str, Any]] | ToolCall, text: str | None = None) -> Reply:
    """The assistant calls several tools in one turn."""
    said = (text,) if text else ()
    blocks = [c if isinstance(c, ToolCall) else ToolCall(c[0], c[1]) for c in calls]
    return Reply("message", blocks=(*said, *blocks))


def status(
    code: int, *, retry_after: float | None = None, body: dict[str, Any] | None = None
) -> Reply:
    """An HTTP error (429, 500, 529 ...) with the protocol's error body (or `body`)."""
    return Reply("status", code=code, retry_after=retry_after, body=body)


def truncated() -> Reply:
    """A response whose connection drops after a partial event (or partial JSON body)."""
    return Reply("truncated")


def ended_early() -> Reply:
    """A stream that ends cleanly (the HTTP body is complete) before its final event."""
    return Reply("ended")


def hang(seconds: float) -> Reply:
    """Say nothing for `seconds` (released early when the server stops), then close."""
    return Reply("hang", seconds=seconds)


class ScriptedServer:
    """A scripted fake server, as a context manager; point clients at `base_url`."""

    handler: ClassVar[type[ScriptedHandler]]
    url_suffix: ClassVar[str] = ""

    def __init__(self, script: Script = (), *, default: Reply | None = None):
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        # Every (method, path) received, the model route included: what a client really calls.
        self.calls: list[tuple[str, str]] = []
        self._script = script if callable(script) else iter(list(script))
        self._default = default
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        bound = type("_BoundHandler", (self.handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval, at the end of every test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}{self.url_suffix}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()  # releases hanging replies
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


class ScriptedHandler(BaseHTTPRequestHandler):
    """One request: routing, the scripted answer or fault, and the wire (JSON, chunked SSE)."""

    fake: ScriptedServer
    protocol_version = "HTTP/1.1"
    # Set by each protocol: the route that consumes the script, the model echoed when a request
    # names none, the header carrying a request id, and where a truncated answer breaks off.
    scripted_route: ClassVar[str]
    default_model: ClassVar[str]
    request_id_header: ClassVar[str]
    cut_json: ClassVar[bytes]  # the start of a JSON body that never ends
    cut_events: ClassVar[int]  # whole stream events sent before the cut
    cut_event: ClassVar[bytes]  # the half-written event the stream stops in

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    # --- what a protocol says ------------------------------------------------------------------

    def _side_get(self, route: str) -> None:
        raise NotImplementedError

    def _side_post(self, route: str, raw: bytes) -> None:
        raise NotImplementedError

    def _body(self, reply: Reply, model: str) -> dict[str, Any]:
        """The whole answer as one JSON body."""
        raise NotImplementedError

    def _events(self, reply: Reply, model: str) -> Iterator[bytes]:
        """The answer as encoded SSE events, one chunk each."""
        raise NotImplementedError

    def _error_body(self, code: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def _retry_headers(self, seconds: float) -> dict[str, str]:
        raise NotImplementedError

    # --- routing -------------------------------------------------------------------------------

    @property
    def _route(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    def do_GET(self) -> None:
        self.fake._record("GET", self.path)
        self._side_get(self._route)

    def do_POST(self) -> None:
        self.fake._record("POST", self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self._route != self.scripted_route:
            self._side_post(self._route, raw)
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, self._error_body(400, "bad JSON"))
            return
        reply = self.fake._next_reply(body, {k.lower(): v for k, v in self.headers.items()})
        model = str(body.get("model", self.default_model))
        self._answer(reply, model, stream=bool(body.get("stream")))

    def _answer(self, reply: Reply, model: str, *, stream: bool) -> None:
        if reply.kind == "status":
            headers = self._request_id()
            if reply.retry_after is not None:
                headers.update(self._retry_headers(reply.retry_after))
            body = reply.body or self._error_body(reply.code, f"scripted {reply.code}")
            self._send_json(reply.code, body, headers)
        elif reply.kind == "hang":
            self.fake._stop.wait(reply.seconds)
            self.close_connection = True
        elif reply.kind == "truncated":
            self._send_truncated(model, stream=stream)
        elif reply.kind == "ended":
            self._send_ended(model, stream=stream)
        elif stream:
            self._start_stream()
            for event in self._events(reply, model):
                self._write_chunk(event)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        else:
            self._send_json(200, self._body(reply, model), self._request_id())

    # --- wire ----------------------------------------------------------------------------------

    def _request_id(self) -> dict[str, str]:
        return {self.request_id_header: self.fake._next_id("req")}

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

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in self._request_id().items():
            self.send_header(key, value)
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_ended(self, model: str, *, stream: bool) -> None:
        """The first whole events of an answer, then a proper end of body: no final event."""
        if not stream:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self.cut_json)))
            self.end_headers()
            self.wfile.write(self.cut_json)
            return
        self._start_stream()
        events = self._events(text("this answer ends early"), model)
        for event in itertools.islice(events, self.cut_events + 1):
            self._write_chunk(event)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_truncated(self, model: str, *, stream: bool) -> None:
        """Promise more than is sent, then drop the connection: the client sees a broken read."""
        self.close_connection = True
        if not stream:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(self.cut_json)
        else:
            self._start_stream()
            events = self._events(text("this answer is cut off"), model)
            for event in itertools.islice(events, self.cut_events):
                self._write_chunk(event)
            # A chunk header announcing bytes that never come, inside a half-written event.
            self.wfile.write(b"400\r\n" + self.cut_event)
        self.wfile.flush()
