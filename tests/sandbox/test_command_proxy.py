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
        record = tmp_path / "recording.json"
        run_cli(
            root,
            monkeypatch,
            f"{sys.executable} {AGENT}",
            "--no-gates",
            "--no-archive",
            "--record",
            str(record),
        )
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
        record.read_text(),
    ):
        assert KEY not in place


@pytest.mark.parametrize("mode", ["on", "off"])
def test_a_hostile_command_agent_leaks_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
):
    """On: nothing secret is even visible. Off: what exec-auto writes itself is still redacted."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("SSH-CANARY-KEY\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".env").write_text("DB_PASSWORD=ENV-CANARY-VALUE\n")
    ticket = make_project(root, titles=["Only"])
    # Everything it can reach, into a repository file, onto stdout and stderr, and into its error.
    grab = (
        f"cat /proc/$PPID/environ /proc/1/environ | tr '\\0' '\\n'; env; cat {home}/.ssh/id_rsa; "
        "cat .env; cat ~/.ssh/id_rsa"
    )
    agent = f"({grab}) > leak.txt 2>&1; cat leak.txt; cat leak.txt >&2; echo work > a.txt; exit 3"
    record = tmp_path / "recording.json"
    run_cli(
        root, monkeypatch, agent, "--no-gates", "--no-archive", "--record", str(record),
        "--sandbox", mode,
    )  # fmt: skip
    assert (root / "a.txt").read_text() == "work\n"
    leak = (root / "leak.txt").read_text()
    if mode == "off":  # with full user rights the agent reads them: the file is its own doing
        assert KEY in leak and "ENV-CANARY-VALUE" in leak
    places = [
        ticket / "progress.yaml",
        ticket / "report.md",
        ticket / "report.json",
        record,
        *sorted((root / ".git" / "exec-auto" / "logs").rglob("*.log")),
    ]
    assert len(places) > 5  # the agent's output logs are checked too
    if mode == "off":  # the value was there to leak, and was redacted
        assert "DB_PASSWORD=[REDACTED]" in record.read_text()
    secrets = (KEY, "ENV-CANARY-VALUE") if mode == "off" else (KEY, "SSH-CANARY", "ENV-CANARY")
    for place in places if mode == "off" else [root / "leak.txt", *places]:
        text = place.read_text()
        for secret in secrets:
            assert secret not in text, (secret, place)
