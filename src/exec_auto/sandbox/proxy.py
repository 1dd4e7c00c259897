"""A forwarding proxy on 127.0.0.1 that adds the real API key, so the key never enters a sandbox.

An agent CLI in the sandbox (Claude Code, aider, codex, ...) gets the proxy's URL and a per-call
dummy key. The proxy, running in exec-auto's own process, accepts only requests carrying that
dummy key, swaps in the real credential for the wire format (Anthropic: `x-api-key` or a bearer
token; OpenAI: `Authorization: Bearer`), and streams the upstream response back chunk by chunk,
so server-sent events arrive as they are produced.
"""

from __future__ import annotations

import http.client
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

Wire = Literal["anthropic", "openai"]

DEFAULT_UPSTREAM: dict[Wire, str] = {
    "anthropic": "https://api.anthropic.com",
    "openai": "https://api.openai.com/v1",
}
# Headers that describe one connection, not the message: never forwarded.
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_AUTH = frozenset({"x-api-key", "authorization", "api-key"})
_UPSTREAM_TIMEOUT = 600.0
_CHUNK = 65536


@dataclass(frozen=True)
class Credential:
    """The real credential and how it is sent upstream."""

    wire: Wire
    secret: str
    # Anthropic auth tokens (ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN) go as a bearer token.
    bearer: bool = False
    oauth: bool = False

    def headers(self) -> dict[str, str]:
        """The upstream authentication headers."""
        if self.wire == "openai" or self.bearer:
            out = {"Authorization": f"Bearer {self.secret}"}
            if self.oauth:
                out["anthropic-beta"] = "oauth-2025-04-20"
            return out
        return {"x-api-key": self.secret}


class KeyProxy:
    """One proxy listening on 127.0.0.1 for one upstream; `url` and `token` go to the agent."""

    def __init__(self, upstream: str, credential: Credential) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {upstream!r}")
        self.upstream = parts
        self.credential = credential
        self.token = f"exec-auto-proxy-{secrets.token_hex(16)}"
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL the agent uses: the proxy's address plus the upstream's path prefix."""
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{self.upstream.path.rstrip('/')}"

    def close(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()

    def authorised(self, headers: Mapping[str, str]) -> bool:
        """True when the request carries this proxy's dummy key (in any usual header)."""
        for name in ("x-api-key", "api-key"):
            if headers.get(name) == self.token:
                return True
        auth = headers.get("authorization", "")
        return auth.removeprefix("Bearer ").strip() == self.token

    def connect(self) -> http.client.HTTPConnection:
        """A fresh connection to the upstream."""
        host, port = self.upstream.hostname or "", self.upstream.port
        if self.upstream.scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=_UPSTREAM_TIMEOUT)
        return http.client.HTTPConnection(host, port, timeout=_UPSTREAM_TIMEOUT)


def _handler(proxy: KeyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return  # the agent's traffic is not exec-auto's console output

        def do_GET(self) -> None:
            self._forward()

        def do_POST(self) -> None:
            self._forward()

        def do_PUT(self) -> None:
            self._forward()

        def do_DELETE(self) -> None:
            self._forward()

        def _forward(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            length = int(headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            if not proxy.authorised(headers):
                self._reply(401, b'{"error": "exec-auto proxy: unknown key"}')
                return
            out = {k: v for k, v in self.headers.items() if k.lower() not in _HOP | _AUTH}
            out.update(proxy.credential.headers())
            out["Host"] = proxy.upstream.netloc
            conn = proxy.connect()
            try:
                conn.request(self.command, self.path, body=body or None, headers=out)
                response = conn.getresponse()
            except OSError as exc:
                conn.close()
                self._reply(502, f'{{"error": "exec-auto proxy: upstream: {exc}"}}'.encode())
                return
            try:
                self._relay(response)
            finally:
                conn.close()

        def _relay(self, response: http.client.HTTPResponse) -> None:
            self.send_response(response.status, response.reason)
            length = response.getheader("content-length")
            for name, value in response.getheaders():
                if name.lower() not in _HOP:
                    self.send_header(name, value)
            if length is not None:
                self.send_header("Content-Length", length)
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while True:
                chunk = response.read1(_CHUNK)
                if not chunk:
                    break
                if length is None:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                else:
                    self.wfile.write(chunk)
                self.wfile.flush()
            if length is None:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def key_proxy(upstream: str, credential: Credential) -> Iterator[KeyProxy]:
    """A running proxy for the block."""
    proxy = KeyProxy(upstream, credential)
    try:
        yield proxy
    finally:
        proxy.close()


def anthropic_credential(env: Mapping[str, str]) -> Credential | None:
    """The Anthropic credential in env: an API key, else an auth/OAuth token."""
    if env.get("ANTHROPIC_API_KEY"):
        return Credential("anthropic", env["ANTHROPIC_API_KEY"])
    if env.get("ANTHROPIC_AUTH_TOKEN"):
        return Credential("anthropic", env["ANTHROPIC_AUTH_TOKEN"], bearer=True)
    if env.get("CLAUDE_CODE_OAUTH_TOKEN"):
        return Credential("anthropic", env["CLAUDE_CODE_OAUTH_TOKEN"], bearer=True, oauth=True)
    return None


def openai_credential(env: Mapping[str, str]) -> Credential | None:
    """The OpenAI credential in env."""
    key = env.get("OPENAI_API_KEY")
    return Credential("openai", key) if key else None
