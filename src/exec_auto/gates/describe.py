"""What will judge a project's steps, for `exec-auto show`: environment, tools, versions, reasons."""

from __future__ import annotations

import shlex
from dataclasses import asdict
from pathlib import Path
from typing import Any

from exec_auto.config import GatesConfig
from exec_auto.gates.base import ToolInfo


def describe_gates(repo_root: Path, config: GatesConfig) -> dict[str, Any]:
    """The environment and each check's tool, version and where the choice came from.

    `tools` holds one readable line per check; `checks` the same as records (tool, version,
    source, command) for `show --json`.
    """
    from exec_auto.gates.discovery import discover
    from exec_auto.gates.environment import make_environment
    from exec_auto.gates.precommit import hook_tools

    if not config.enabled:
        return {"enabled": False, "environment": None, "tools": [], "checks": []}
    env = make_environment(repo_root.resolve(), config.runner)
    found = discover(repo_root.resolve(), config)
    checks = list(found.tools(env))
    if found.source == "pre-commit" and (config.format or config.lint):
        checks += [
            ToolInfo(f"hook {h.tool}", h.version, h.source, h.command) for h in hook_tools(env)
        ]
    if config.test:
        checks.append(_runner(env, config))
    return {
        "enabled": True,
        "environment": env.describe(),
        "tools": [_line(c) for c in checks],
        "checks": [asdict(c) for c in checks],
    }


def _line(tool: ToolInfo) -> str:
    text = tool.describe()
    return f"{text}: {tool.command}" if tool.tool.startswith("tests") and tool.command else text


def _runner(env: Any, config: GatesConfig) -> ToolInfo:
    """The test runner that will judge, its version and command."""
    if config.test_command:
        command = " ".join(config.test_command)
        return ToolInfo("tests", "", "[tool.exec-auto.gates] test_command", command)
    from exec_auto.gates.runners import choose_runner

    runner = choose_runner(env)
    version = env.version("pytest") if runner.kind == "pytest" else ""
    module = "pytest" if runner.kind == "pytest" else shlex.join(["unittest", *runner.args])
    return ToolInfo(f"tests: {runner.kind}", version, runner.source, f"python -m {module}")
