"""The `command` backend: any CLI agent (aider, codex exec, gemini, a script) run once per attempt.

The command runs through the shell in the repository root with the step prompt in a file named by
EXEC_AUTO_PROMPT_FILE; a per-step timeout kills its whole process group. In a sandbox it never
gets an API key: each key in exec-auto's environment is served by a local proxy instead, and the
command gets the proxy's URL and a dummy key (`proxied_api_env`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping

from exec_auto.agents.base import Agent, AgentEvent, AgentResult, AgentTask
from exec_auto.config import AgentConfig
from exec_auto.errors import AgentNotConfiguredError
from exec_auto.proc import run
from exec_auto.sandbox.denials import DenialScanner

TAIL_CHARS = 2000


class CommandAgent:
    """Runs a user-given shell command for each agent task."""

    name = "command"

    def __init__(self, command: str):
        self.command = command

    def run(self, task: AgentTask) -> AgentResult:
        """Run the command; exit 0 is success, anything else an error with the output's tail."""
        env = {
            "EXEC_AUTO_PROMPT_FILE": str(task.prompt_file or ""),
            "EXEC_AUTO_STEP_ID": task.step_id,
            "EXEC_AUTO_STEP_TITLE": task.step_title,
            "EXEC_AUTO_TICKET": task.ticket,
            "EXEC_AUTO_ATTEMPT": str(task.attempt),
            "EXEC_AUTO_TASK_KIND": task.kind,
        }
        # Every line is scanned as it arrives: a refusal in the middle of a flood is not missed.
        scanner = DenialScanner()
        with contextlib.ExitStack() as stack:
            if task.sandbox is not None:
                env.update(proxied_api_env(stack, os.environ))
            result = run(
                self.command,
                shell=True,
                cwd=task.repo_root,
                extra_env=env,
                timeout=task.timeout,
                # Inside the run's sandbox (agent variant: its network policy) when there is one.
                sandbox=task.sandbox,
                on_line=(lambda _stream, line: scanner.feed(line)) if task.sandbox else None,
            )
        tail = result.output[-TAIL_CHARS:]
        events = tuple(AgentEvent("sandbox_denied", d) for d in scanner.denials())
        if result.timed_out:
            return AgentResult(
                "timeout",
                summary=tail,
                error=f"agent command timed out after {task.timeout:.0f}s and was killed",
                events=events,
            )
        if result.returncode != 0:
            return AgentResult(
                "error",
                summary=tail,
                error=f"agent command exited {result.returncode}: {tail[-500:]}",
                events=events,
            )
        return AgentResult("ok", summary=tail, events=events)


def proxied_api_env(stack: contextlib.ExitStack, source: Mapping[str, str]) -> dict[str, str]:
    """For each API key in source, a local key proxy; the variables that point an agent at it.

    The agent sees the usual variables (ANTHROPIC_BASE_URL/ANTHROPIC_API_KEY, OPENAI_BASE_URL/
    OPENAI_API_BASE/OPENAI_API_KEY) with the proxy's URL and a dummy key, and the same under
    EXEC_AUTO_* names for commands that take them as options.
    """
    # Imported here: the proxy's HTTP server (http, ssl, socket) is needed only with a key.
    from exec_auto.sandbox.proxy import (
        DEFAULT_UPSTREAM,
        anthropic_credential,
        key_proxy,
        openai_credential,
    )

    env: dict[str, str] = {}
    anthropic = anthropic_credential(source)
    if anthropic is not None:
        upstream = source.get("ANTHROPIC_BASE_URL") or DEFAULT_UPSTREAM["anthropic"]
        proxy = stack.enter_context(key_proxy(upstream, anthropic))
        env.update(
            ANTHROPIC_BASE_URL=proxy.url,
            ANTHROPIC_API_KEY=proxy.token,
            EXEC_AUTO_ANTHROPIC_BASE_URL=proxy.url,
            EXEC_AUTO_ANTHROPIC_API_KEY=proxy.token,
        )
    openai = openai_credential(source)
    if openai is not None:
        upstream = (
            source.get("OPENAI_BASE_URL")
            or source.get("OPENAI_API_BASE")
            or DEFAULT_UPSTREAM["openai"]
        )
        proxy = stack.enter_context(key_proxy(upstream, openai))
        env.update(
            OPENAI_BASE_URL=proxy.url,
            OPENAI_API_BASE=proxy.url,
            OPENAI_API_KEY=proxy.token,
            EXEC_AUTO_OPENAI_BASE_URL=proxy.url,
            EXEC_AUTO_OPENAI_API_KEY=proxy.token,
        )
    return env


def available(config: AgentConfig) -> bool:
    """Available whenever a command is configured."""
    return bool(config.command)


def create(config: AgentConfig) -> Agent:
    """Build the backend from --agent-command / [tool.exec-auto.agent] command."""
    if not config.command:
        raise AgentNotConfiguredError(
            "the command backend needs a command",
            hint="pass --agent-command 'your-agent --message-file \"$EXEC_AUTO_PROMPT_FILE\"'",
        )
    return CommandAgent(config.command)
