"""One lifecycle for every registered backend: built by the registry, given a step, it edits the repo.

Each backend gets the same task ("create hello.py") and must report `ok`, leave the file, and spend
nothing outside the repository. Network backends talk to the scripted fakes on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exec_auto.agents.base import AgentResult, AgentTask
from exec_auto.agents.registry import BACKENDS, create_agent
from exec_auto.agents.replay import FORMAT_VERSION
from exec_auto.config import AgentConfig
from exec_auto.executor.snapshot import Snapshotter
from tests.agents.api_support import SENTINEL_TEXT, Workspace, make_task, make_workspace
from tests.agents.test_claude_backend import _FOREIGN_ENV, cli_env, needs_cli
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.scripted_server import text, tool_use

CONTENT = "print('hello')\n"
Setup = Callable[[Workspace, pytest.MonkeyPatch], contextlib.AbstractContextManager[AgentConfig]]


@contextlib.contextmanager
def _command(ws: Workspace, mp: pytest.MonkeyPatch) -> Iterator[AgentConfig]:
    script = ws.repo.parent / "agent.py"
    script.write_text(f"from pathlib import Path\nPath('hello.py').write_text({CONTENT!r})\n")
    yield AgentConfig(name="command", command=f"{sys.executable} {script}")


@contextlib.contextmanager
def _replay(ws: Workspace, mp: pytest.MonkeyPatch) -> Iterator[AgentConfig]:
    snaps = Snapshotter(ws.repo)
    before = snaps.take()
    (ws.repo / "hello.py").write_text(CONTENT)
    patch = snaps.patch(before, snaps.take())
    (ws.repo / "hello.py").unlink()
    recording = ws.repo.parent / "rec.json"
    call = {
        "status": "ok",
        "summary": "wrote hello.py",
        "error": None,
        "subtype": None,
        "patch": patch,
    }
    recording.write_text(json.dumps({"version": FORMAT_VERSION, "calls": {"step:1:1": call}}))
    yield AgentConfig(name="replay", replay_file=recording)


def _write_script(path: str) -> list:  # type: ignore[type-arg]
    return [
        tool_use(
            "Write" if path.startswith("/") else "write_file",
            {"file_path": path, "content": CONTENT}
            if path.startswith("/")
            else {"path": path, "content": CONTENT},
        ),
        text("Created hello.py."),
    ]


@contextlib.contextmanager
def _anthropic(ws: Workspace, mp: pytest.MonkeyPatch) -> Iterator[AgentConfig]:
    mp.setenv("ANTHROPIC_API_KEY", "sk-ant-test-contract-0123456789")
    with FakeAnthropic(_write_script("hello.py")) as fake:
        yield AgentConfig(
            name="anthropic", base_url=fake.base_url, model="claude-sonnet-4-6", retry_backoff=0.01
        )


@contextlib.contextmanager
def _openai(ws: Workspace, mp: pytest.MonkeyPatch) -> Iterator[AgentConfig]:
    mp.setenv("OPENAI_API_KEY", "sk-test-contract-0123456789")
    with FakeOpenAI(_write_script("hello.py")) as fake:
        yield AgentConfig(name="openai", base_url=fake.base_url, retry_backoff=0.01)


@contextlib.contextmanager
def _claude(ws: Workspace, mp: pytest.MonkeyPatch) -> Iterator[AgentConfig]:
    for key, value in cli_env(ws.home).items():
        mp.setenv(key, value)
    for name in _FOREIGN_ENV:
        mp.delenv(name, raising=False)
    with FakeAnthropic(_write_script(str(ws.repo / "hello.py"))) as fake:
        yield AgentConfig(name="claude", base_url=fake.base_url)


SETUPS: dict[str, Setup] = {
    "command": _command,
    "replay": _replay,
    "anthropic": _anthropic,
    "openai": _openai,
    "claude": _claude,
}


def test_every_registered_backend_is_covered() -> None:
    assert set(SETUPS) == set(BACKENDS)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=needs_cli) if n == "claude" else n for n in SETUPS]
)
def test_backend_lifecycle(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_workspace(tmp_path, monkeypatch)
    with SETUPS[name](ws, monkeypatch) as config:
        agent = create_agent(config)
        task: AgentTask = make_task(ws.repo, timeout=60)
        result = agent.run(task)
    assert agent.name == name
    assert isinstance(result, AgentResult)
    assert result.status == "ok", result.error
    assert (ws.repo / "hello.py").read_text() == CONTENT
    # The CLI keeps its own state in CLAUDE_CONFIG_DIR beside the repo; nothing else outside changes.
    assert ws.sentinel.read_text() == SENTINEL_TEXT
    assert (ws.home / "sentinel.txt").read_text() == SENTINEL_TEXT
