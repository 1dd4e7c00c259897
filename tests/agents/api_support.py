"""Shared setup for the API backend tests: a temp git repo with a sentinel outside it, and tasks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from exec_auto.agents.api_agent import STEP_MARKER
from exec_auto.agents.base import Agent, AgentResult, AgentTask
from exec_auto.config import AgentConfig
from tests.conftest import init_repo
from tests.fakes.scripted_server import Reply, ScriptedServer

Fake = TypeVar("Fake", bound=ScriptedServer)

FIXED_PREFIX = "# Ticket feature-x\n\nConventions: keep it simple.\n\n"
PROMPT = f"{FIXED_PREFIX}{STEP_MARKER}\n## Step 1: Add the greeting\n\nCreate hello.py.\n"
SENTINEL_TEXT = "outside the repository; must never change\n"
# A fake key in the shape Anthropic issues, so shape-based redaction is exercised too.
ANTHROPIC_KEY = "sk-ant-test-0123456789abcdefXYZ"
OPENAI_KEY = "sk-test-openai-0123456789abcdef"
DOTENV_SECRET = "hunter2-database-password"


@dataclass(frozen=True)
class Workspace:
    """A repository under test and what lies around it."""

    repo: Path
    home: Path
    sentinel: Path

    def untouched_outside(self) -> bool:
        """True when nothing outside the repo was created, changed or removed."""
        outside = sorted(
            p.relative_to(self.repo.parent)
            for p in self.repo.parent.rglob("*")
            if self.repo != p and self.repo not in p.parents
        )
        expected = [Path("home"), Path("home/sentinel.txt"), Path("sentinel.txt")]
        return (
            outside == expected
            and self.sentinel.read_text() == SENTINEL_TEXT
            and (self.home / "sentinel.txt").read_text() == SENTINEL_TEXT
        )


def make_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A committed git repo in tmp_path/repo; HOME and a sentinel file sit beside it."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "sentinel.txt").write_text(SENTINEL_TEXT)
    # Even if the guard failed, `rm -rf ~` could only reach this throwaway HOME.
    monkeypatch.setenv("HOME", str(home))
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text(SENTINEL_TEXT)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("# Demo\n")
    init_repo(repo)
    return Workspace(repo, home, sentinel)


def make_task(repo: Path, *, prompt: str = PROMPT, timeout: float = 30.0) -> AgentTask:
    """Step 1 of ticket feature-x, with the executor's prefix marker."""
    return AgentTask(
        ticket="feature-x",
        step_id="1",
        step_title="Add the greeting",
        prompt=prompt,
        repo_root=repo,
        timeout=timeout,
    )


def bodies_text(bodies: list[dict[str, object]]) -> str:
    """Every request body as one string, for 'never sent' assertions."""
    return "\n".join(str(b) for b in bodies)


def run_step(
    fake_type: type[Fake],
    create: Callable[[AgentConfig], Agent],
    ws: Workspace,
    script: list[Reply],
    *,
    default: Reply | None = None,
    timeout: float = 30.0,
    **config: Any,
) -> tuple[AgentResult, Fake]:
    """One step through the backend `create` makes, against a `fake_type` serving `script`."""
    with fake_type(script, default=default) as fake:
        agent_config = AgentConfig(base_url=fake.base_url, retry_backoff=0.01, **config)
        result = create(agent_config).run(make_task(ws.repo, timeout=timeout))
    return result, fake
