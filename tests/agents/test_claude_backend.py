"""The Claude Code backend, driving the real Claude Code CLI against the fake Anthropic server."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from exec_auto.agents.base import AgentTask
from exec_auto.agents.claude import ClaudeAgent, available, find_cli
from exec_auto.config import AgentConfig
from tests.conftest import init_repo
from tests.fakes.anthropic_server import FakeAnthropic, hang, status, text, tool_use

USAGE = {
    "input_tokens": 1000,
    "output_tokens": 50,
    "cache_read_input_tokens": 200,
    "cache_creation_input_tokens": 10,
}
# Environment that would point the CLI somewhere other than the fake.
_FOREIGN_ENV = (
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_MODEL",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDECODE",
)


def _cli_problem() -> str | None:
    cli = find_cli()
    if cli is None:
        return "no Claude Code CLI: install the [claude] or [test] extra"
    try:
        version = subprocess.run(
            [cli, "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        return f"Claude Code CLI cannot start on this machine: {exc}"
    if version.returncode != 0:
        return f"Claude Code CLI cannot start on this machine: {version.stderr.strip()[:200]}"
    return None


needs_cli = pytest.mark.skipif(_cli_problem() is not None, reason=str(_cli_problem()))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed git repository the agent works in."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README.md").write_text("# demo\n")
    init_repo(root)
    return root


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME, so the CLI reads no user config or login and writes nowhere real."""
    path = tmp_path / "home"
    path.mkdir()
    for name in _FOREIGN_ENV:
        monkeypatch.delenv(name, raising=False)
    return path


def cli_env(home: Path) -> dict[str, str]:
    """Environment for a Claude Code CLI that talks only to a fake server and keeps state in home."""
    return {
        "ANTHROPIC_API_KEY": "test-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
    }


@pytest.fixture
def fake_env(home: Path) -> Iterator[dict[str, str]]:
    """The CLI environment pointing at a fake server (the test fills in the base URL)."""
    yield cli_env(home)


def agent(fake: FakeAnthropic, env: dict[str, str], **config: object) -> ClaudeAgent:
    """A Claude backend talking to `fake`."""
    settings = AgentConfig.model_validate({"name": "claude", "base_url": fake.base_url, **config})
    return ClaudeAgent(settings, extra_env=env)


def task(
    repo: Path, prompt: str = "Create hello.py and run it.", *, timeout: float | None = None
) -> AgentTask:
    """A step task in repo."""
    return AgentTask("demo", "1", "Hello", prompt, repo, timeout=timeout)


def tool_results(fake: FakeAnthropic) -> list[str]:
    """Every tool_result text the CLI sent back to the model, in order."""
    out = []
    for message in fake.requests[-1]["messages"]:
        for block in message.get("content") if isinstance(message.get("content"), list) else []:
            if block.get("type") == "tool_result":
                content = block.get("content")
                out.append(content if isinstance(content, str) else str(content))
    return out


def test_available_needs_the_cli_and_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path))
    assert available(AgentConfig()) is False  # no credentials: --agent auto moves on
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    assert available(AgentConfig()) is (find_cli() is not None)


@needs_cli
def test_write_edit_bash_session_changes_files_and_records_spending(
    repo: Path, fake_env: dict[str, str]
) -> None:
    hello = str(repo / "hello.py")
    run_it = f"{shlex.quote(sys.executable)} hello.py > out.txt"
    script = [
        tool_use("Write", {"file_path": hello, "content": 'print("hello")\n'}, usage=USAGE),
        tool_use(
            "Edit",
            {"file_path": hello, "old_string": '"hello"', "new_string": '"hello, world"'},
            usage=USAGE,
        ),
        tool_use("Bash", {"command": run_it, "description": "run it"}, usage=USAGE),
        text("Created hello.py and ran it.", usage=USAGE),
    ]
    with FakeAnthropic(script) as fake:
        result = agent(fake, fake_env, max_turns=10).run(task(repo, "Step 1: say hello"))

    assert result.status == "ok", result.error
    assert result.subtype == "success"
    assert result.summary == "Created hello.py and ran it."
    assert (repo / "hello.py").read_text() == 'print("hello, world")\n'
    assert (repo / "out.txt").read_text() == "hello, world\n"
    assert result.usage.turns == 4
    assert (result.usage.input_tokens, result.usage.output_tokens) == (4000, 200)
    assert (result.usage.cache_read_tokens, result.usage.cache_write_tokens) == (800, 40)
    assert result.usage.cost_usd > 0
    assert result.incidents == ()
    assert len(fake.requests) == 4
    assert "Step 1: say hello" in str(fake.requests[0]["messages"])
    assert len(tool_results(fake)) == 3


@needs_cli
def test_the_agents_commands_never_see_the_api_key(repo: Path, fake_env: dict[str, str]) -> None:
    env = {**fake_env, "ANTHROPIC_API_KEY": "sk-ant-test-secret-0123456789"}
    script = [
        tool_use("Bash", {"command": "env > seen-env.txt", "description": "dump env"}),
        text("Done."),
    ]
    with FakeAnthropic(script) as fake:
        result = agent(fake, env, max_turns=5).run(task(repo, "Step 1: look around"))
    assert result.status == "ok", result.error
    seen = (repo / "seen-env.txt").read_text()
    assert "HOME=" in seen and "sk-ant-test-secret" not in seen
    # The CLI itself still authenticates, through the apiKeyHelper.
    assert fake.headers
    assert all(h.get("x-api-key") == "sk-ant-test-secret-0123456789" for h in fake.headers)


@needs_cli
def test_writes_outside_the_repository_are_refused_and_recorded(
    repo: Path, fake_env: dict[str, str], tmp_path: Path, home: Path
) -> None:
    outside = tmp_path / "outside" / "x.txt"
    script = [
        tool_use("Write", {"file_path": str(outside), "content": "escaped\n"}),
        tool_use("Write", {"file_path": "~/.bashrc", "content": "alias ls=rm\n"}),
        tool_use("Bash", {"command": "echo pwned >> ~/.bashrc", "description": "x"}),
        tool_use("Write", {"file_path": str(repo / "inside.txt"), "content": "fine\n"}),
        text("gave up on the outside"),
    ]
    with FakeAnthropic(script) as fake:
        result = agent(fake, fake_env).run(task(repo))

    assert result.status == "ok", result.error
    assert not outside.exists()
    assert not (home / ".bashrc").exists()
    assert (repo / "inside.txt").read_text() == "fine\n"
    assert len(result.incidents) == 3
    assert "x.txt" in result.incidents[0]
    assert all("outside the repository" in i for i in result.incidents)
    refusals = [r for r in tool_results(fake) if "exec-auto refused" in r]
    assert len(refusals) == 3


@needs_cli
@pytest.mark.parametrize(
    ("limits", "subtype"),
    [
        ({"max_turns": 2}, "error_max_turns"),
        ({"max_turns": 20, "max_budget_usd": 0.001}, "error_max_budget_usd"),
    ],
)
def test_a_model_that_never_stops_hits_the_limit(
    repo: Path, fake_env: dict[str, str], limits: dict[str, object], subtype: str
) -> None:
    forever = tool_use("Bash", {"command": "echo again", "description": "loop"}, usage=USAGE)
    with FakeAnthropic([], default=forever) as fake:
        result = agent(fake, fake_env, **limits).run(task(repo))

    assert result.status == "limit"
    assert result.subtype == subtype
    assert result.usage.turns >= 1
    assert result.usage.input_tokens > 0
    assert result.error is not None
    assert subtype in result.error
    assert len(fake.requests) < 20


@needs_cli
def test_api_errors_end_the_step_with_an_error(repo: Path, fake_env: dict[str, str]) -> None:
    with FakeAnthropic([], default=status(401)) as fake:
        result = agent(fake, fake_env).run(task(repo))

    assert result.status == "error"
    assert result.error


@needs_cli
def test_a_step_that_outlives_its_timeout_is_stopped(repo: Path, fake_env: dict[str, str]) -> None:
    with FakeAnthropic([hang(120)]) as fake:
        result = agent(fake, fake_env).run(task(repo, timeout=2))

    assert result.status == "timeout"
    assert result.error is not None
    assert "did not finish" in result.error


def test_a_missing_cli_is_an_error_not_a_crash(repo: Path, tmp_path: Path) -> None:
    missing = ClaudeAgent(AgentConfig(name="claude"), cli=str(tmp_path / "no-such-claude"))
    result = missing.run(task(repo))
    assert result.status == "error"
    assert result.error is not None
    assert "without a result" in result.error


def test_command_line_accepts_edits_never_bypasses_and_passes_limits(
    repo: Path, tmp_path: Path
) -> None:
    config = AgentConfig(name="claude", model="claude-test", max_turns=7, max_budget_usd=0.5)
    argv = ClaudeAgent(config).argv(
        "claude", task(repo, "-starts with a dash"), repo, tmp_path / "log"
    )
    joined = " ".join(argv)
    assert argv[argv.index("--permission-mode") + 1] == "acceptEdits"
    assert "bypassPermissions" not in joined
    assert "dangerously" not in joined
    assert argv[argv.index("--max-turns") + 1] == "7"
    assert argv[argv.index("--max-budget-usd") + 1] == "0.5"
    assert argv[argv.index("--model") + 1] == "claude-test"
    assert argv[-2:] == ["--", "-starts with a dash"]
    hooks = json.loads(argv[argv.index("--settings") + 1])["hooks"]["PreToolUse"]
    assert "Write" in hooks[0]["matcher"]
    assert "Bash" in hooks[0]["matcher"]


def test_a_huge_prompt_is_handed_over_in_a_file(repo: Path, tmp_path: Path) -> None:
    prompt = "Implement the plan.\n" + "x" * 200_000
    argv = ClaudeAgent(AgentConfig(name="claude")).argv(
        "claude", task(repo, prompt), repo, tmp_path / "log"
    )
    pointer = argv[-1]
    assert len(pointer) < 1000
    written = repo / ".git" / "exec-auto-prompt-1.md"
    assert str(written) in pointer
    assert written.read_text() == prompt
