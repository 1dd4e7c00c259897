"""A command agent speaking the OpenAI API gets a proxy and a dummy key; the real key stays outside."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import make_project, requires_sandbox, run_cli
from tests.fakes.openai_server import FakeOpenAI, text

pytestmark = requires_sandbox

AGENT = Path(__file__).parents[1] / "helpers" / "openai_cli_agent.py"
KEY = "sk-proj-REALKEY-0123456789abcdef"


def test_the_key_reaches_the_server_only_through_the_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    root = tmp_path / "proj"
    root.mkdir()
    ticket = make_project(root, titles=["Only"])
    with FakeOpenAI([text("streamed answer")]) as fake:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        run_cli(root, monkeypatch, f"{sys.executable} {AGENT}", "--no-gates", "--no-archive")
        bodies, headers = json.dumps(fake.requests), list(fake.headers)
    assert (root / "answer.txt").read_text() == "streamed answer"  # SSE passed through
    assert headers and all(h.get("authorization") == f"Bearer {KEY}" for h in headers)
    seen = (root / "seen.txt").read_text()
    assert "OPENAI_BASE_URL=http://127.0.0.1:" in seen and "exec-auto-proxy-" in seen
    for place in (
        seen,
        bodies,
        (ticket / "progress.yaml").read_text(),
        (ticket / "report.md").read_text(),
    ):
        assert KEY not in place
