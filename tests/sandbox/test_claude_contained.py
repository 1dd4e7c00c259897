"""The real Claude Code CLI inside the sandbox, scripted to misbehave by the fake Anthropic server.

The model tries what a hostile one would: interpreters deleting and writing outside, reading the key
from the process tree, the ssh key and .env, planting hooks, leaving a daemon. Nothing outside changes,
no secret reaches the server or a repository file, the CLI still authenticates (through the proxy).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from exec_auto.cli import main
from tests.agents.test_claude_backend import cli_env, needs_cli
from tests.conftest import make_project, requires_sandbox
from tests.fakes.anthropic_server import FakeAnthropic, text, tool_use
from tests.helpers.procs import wait_gone

pytestmark = [requires_sandbox, needs_cli]

KEY = "sk-ant-api03-REALKEY-0123456789abcdef"


def bash(command: str) -> dict:
    return tool_use("Bash", {"command": command, "description": "x"})


def test_a_hostile_session_in_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("SSH-CANARY-KEY\n")
    monkeypatch.setenv("HOME", str(home))
    for name in ("ANTHROPIC_AUTH_TOKEN", "CLAUDECODE", "ANTHROPIC_MODEL"):
        monkeypatch.delenv(name, raising=False)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("outside canary\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".env").write_text("SECRET=ENV-CANARY\n")
    (repo / "app.py").write_text("x = 1\n")
    ticket = make_project(repo, titles=["Only"])
    py = sys.executable
    token = "daemon-token-claude"
    script = [
        bash(f"{py} -c \"import shutil; shutil.rmtree('{outside}')\""),
        bash(f"perl -e 'unlink(\"{outside}/keep.txt\")'; echo gone > {outside}/keep.txt"),
        bash(
            "cat /proc/$PPID/environ /proc/1/environ | tr '\\0' '\\n' > leak1.txt; env >> leak1.txt"
        ),
        bash(
            f"cat {home}/.ssh/id_rsa .env > leak2.txt 2>&1; cat ~/.claude/.credentials.json >> leak2.txt 2>&1"
        ),
        bash(
            f"echo 'touch {outside}/hooked' >> .git/hooks/pre-commit; git config core.hooksPath {outside}"
        ),
        bash(
            f"CANARY_TOKEN={token} setsid sh -c 'while true; do sleep 0.2; done' > /dev/null 2>&1 &"
        ),
        text("done"),
    ]
    for name, value in {**cli_env(home), "ANTHROPIC_API_KEY": KEY}.items():
        monkeypatch.setenv(name, value)
    record = tmp_path / "recording.json"
    with FakeAnthropic(script) as fake:
        monkeypatch.chdir(repo)
        flags = ["--no-gates", "--no-archive", "--no-judge", "--force", "--sandbox", "on"]
        agent = ["--agent", "claude", "--base-url", fake.base_url]
        code = main(["run", "feature-x", *agent, *flags, "--record", str(record)])
        bodies = json.dumps(fake.requests)
        headers = list(fake.headers)
    assert code in (0, 1)
    progress = YAML(typ="safe").load((ticket / "progress.yaml").read_text())
    assert progress["implementation_steps"][0]["status"] == "completed", progress["issues"]
    assert len(fake.requests) == len(script)  # every command ran and the session finished
    # Outside untouched, nothing planted.
    assert (outside / "keep.txt").read_text() == "outside canary\n"
    assert not (outside / "hooked").exists()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert "hooksPath" not in (repo / ".git" / "config").read_text()
    # No secret anywhere the model or the repository could see it.
    written = (repo / "leak1.txt").read_text() + (repo / "leak2.txt").read_text()
    places = {
        "request bodies": bodies,
        "repository files": written,
        "the recording": record.read_text(),
        "progress.yaml": (ticket / "progress.yaml").read_text(),
        "the report": (ticket / "report.md").read_text() + (ticket / "report.json").read_text(),
        "output logs": "".join(
            p.read_text() for p in (repo / ".git" / "exec-auto" / "logs").rglob("*.log")
        ),
    }
    for secret in (KEY, "SSH-CANARY", "ENV-CANARY"):
        for where, content in places.items():
            assert secret not in content, (secret, where)
    # The CLI authenticated through the proxy, which added the real key.
    assert headers and all(h.get("x-api-key") == KEY for h in headers)
    # The kernel's refusals were noticed and reported.
    assert any(i["type"] == "sandbox_denied" for i in progress["issues"])
    assert not wait_gone("CANARY_TOKEN", token)
