"""What will judge a project's steps, for `exec-auto show`: environment, tools, versions, reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exec_auto.config import GatesConfig


def describe_gates(repo_root: Path, config: GatesConfig) -> dict[str, Any]:
    """The environment and each check's tool, version and where the choice came from."""
    from exec_auto.gates.discovery import discover
    from exec_auto.gates.environment import make_environment

    if not config.enabled:
        return {"enabled": False, "environment": None, "tools": []}
    env = make_environment(repo_root.resolve(), config.runner)
    found = discover(repo_root.resolve(), config)
    tools = [t.describe() for t in found.tools(env)]
    if config.test:
        tools.append(_runner_line(env, config))
    return {"enabled": True, "environment": env.describe(), "tools": tools}


def _runner_line(env: Any, config: GatesConfig) -> str:
    if config.test_command:
        return f"tests: {' '.join(config.test_command)} ([tool.exec-auto.gates] test_command)"
    from exec_auto.gates.runners import choose_runner

    return f"tests: {choose_runner(env).describe()}"
