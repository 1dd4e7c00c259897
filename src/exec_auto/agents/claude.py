"""Claude Code backend: one fresh, non-interactive Claude Code session per step, in the repository.

The CLI is the one `claude-agent-sdk` bundles (the `[claude]` extra) or a `claude` found on PATH.
It runs through `proc.run` like every other subprocess, so a step timeout or Ctrl-C kills the whole
process group, including any test run the agent left hanging in its Bash tool, and stdin is
/dev/null. Edits are accepted without asking (`acceptEdits`, never `bypassPermissions`); a
PreToolUse hook (`claude_hook`) refuses file paths outside the repository and destructive shell
commands, because the allow-list alone does not stop writes outside the working directory. Each
refusal becomes an incident. Limits per step: max turns, max budget in USD, wall-clock timeout; the
final `result` line gives subtype, turns, tokens and cost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from exec_auto import proc, tempdirs
from exec_auto.agents.base import AgentEvent, AgentResult, AgentTask
from exec_auto.agents.claude_hook import CHECKED_TOOLS, describe
from exec_auto.agents.claude_stream import Transcript, feed
from exec_auto.config import AgentConfig
from exec_auto.names import file_name
from exec_auto.sandbox.denials import DenialScanner
from exec_auto.sandbox.proxy import DEFAULT_UPSTREAM, anthropic_credential, key_proxy
from exec_auto.streams import LineCallback
from exec_auto.usage import Usage

TOOLS = ("Read", "Write", "Edit", "Glob", "Grep", "Bash")
# Judging acceptance criteria must not change the code it judges.
READ_ONLY_TOOLS = ("Read", "Glob", "Grep")
LIMIT_SUBTYPES = frozenset({"error_max_turns", "error_max_budget_usd"})
# Linux caps one argv string at 128 KiB; longer prompts are handed over in a file.
_MAX_PROMPT_ARG_BYTES = 100_000
# Set inside a Claude Code session; a nested CLI refuses to start under it.
_DROP_ENV = ("CLAUDECODE",)
_TAIL_CHARS = 800
# The CLI's own settings that are passed into the sandbox (its environment is an allowlist).
_CLI_ENV_PREFIXES = ("ANTHROPIC_", "CLAUDE_", "DISABLE_")
# Never passed into the sandbox: the proxy adds the real one.
_CREDENTIAL_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
# Copied from the user's Claude Code config into the per-run one; never .credentials.json.
_SEEDED = ("settings.json", "CLAUDE.md", "agents", "commands")
# Settings keys that can hold or fetch credentials, dropped from the copied settings.json.
_SECRET_SETTINGS = ("apiKeyHelper", "env", "awsAuthRefresh", "awsCredentialExport")


def find_cli() -> str | None:
    """The Claude Code executable: the one bundled with claude-agent-sdk, else `claude` on PATH."""
    # find_spec locates the package without importing it (the SDK is heavy).
    spec = importlib.util.find_spec("claude_agent_sdk")
    for location in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(location) / "_bundled" / "claude"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    return shutil.which("claude")


def _has_credentials() -> bool:
    """Claude Code can authenticate: an API key/token in the environment or a logged-in config."""
    if any(
        os.environ.get(k)
        for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
    ):
        return True
    config_dir = Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    return (config_dir / ".credentials.json").is_file()


def available(config: AgentConfig) -> bool:
    """True when a Claude Code CLI can be started (bundled or on PATH) and can authenticate.

    Without credentials `--agent auto` moves on to the next backend instead of failing every step.
    """
    return find_cli() is not None and _has_credentials()


def create(config: AgentConfig) -> ClaudeAgent:
    """The Claude Code backend for this configuration."""
    return ClaudeAgent(config)


class ClaudeAgent:
    """Runs each task as one `claude -p` session with limits, guard hook and cost accounting."""

    name = "claude"

    def __init__(
        self,
        config: AgentConfig,
        *,
        cli: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.cli = cli
        self.extra_env = dict(extra_env or {})

    def run(self, task: AgentTask) -> AgentResult:
        """Carry out the task; limits, timeouts and CLI failures come back as a status, not raised."""
        cli = self.cli or find_cli()
        if cli is None:
            return AgentResult(
                "error", error="Claude Code CLI not found: pip install 'exec-auto[claude]'"
            )
        timeout = task.timeout if task.timeout is not None else self.config.step_timeout
        repo = task.repo_root.resolve()
        # The stream is parsed line by line as it arrives: a flood of output that proc keeps
        # only the start and end of in memory still yields every turn and the final result.
        transcript, scanner = Transcript(), DenialScanner()

        def on_line(stream: str, line: str) -> None:
            if stream == "stdout":
                feed(transcript, line)
                scanner.feed(line)

        with tempfile.TemporaryDirectory(prefix=tempdirs.prefix("claude")) as tmp:
            log = Path(tmp) / "refusals.jsonl"
            log.touch()
            env = self._env()
            if task.sandbox is None:
                key_file = _key_to_helper(env, Path(tmp))
                argv = self.argv(cli, task, repo, log, key_file)
                finished = proc.run(
                    argv, cwd=repo, env=env, timeout=timeout, sandbox=None, on_line=on_line
                )
            else:
                argv = self.argv(cli, task, repo, log)
                finished = self._run_contained(argv, task, env, Path(tmp), timeout, on_line)
            refusals = _read_refusals(log)
        incidents = _incidents(refusals, transcript)
        result = to_result(transcript, finished, incidents, timeout)
        if task.sandbox is not None:
            denied = tuple(AgentEvent("sandbox_denied", d) for d in scanner.denials())
            result = dataclasses.replace(result, events=(*result.events, *denied))
        return result

    def _run_contained(
        self,
        argv: list[str],
        task: AgentTask,
        env: dict[str, str],
        tmp: Path,
        timeout: float,
        on_line: LineCallback,
    ) -> proc.ProcResult:
        """Run the CLI in the task's sandbox; the real key stays here, behind a local proxy.

        The CLI gets the proxy's URL and a dummy key, a per-run config dir seeded without
        credentials, and only its own settings from the environment (the sandbox's allowlist).
        """
        assert task.sandbox is not None
        explicit = {k: v for k, v in env.items() if k.startswith(_CLI_ENV_PREFIXES)}
        explicit.update(self.extra_env)
        for name in _CREDENTIAL_ENV:
            explicit.pop(name, None)
        explicit["CLAUDE_CONFIG_DIR"] = str(seed_config_dir(task.sandbox.policy.home))
        credential = anthropic_credential({**env, **self.extra_env})
        upstream = (
            self.config.base_url or env.get("ANTHROPIC_BASE_URL") or DEFAULT_UPSTREAM["anthropic"]
        )
        with contextlib.ExitStack() as stack:
            if credential is not None:
                proxy = stack.enter_context(key_proxy(upstream, credential))
                explicit["ANTHROPIC_BASE_URL"] = proxy.url
                explicit["ANTHROPIC_API_KEY"] = proxy.token
            return proc.run(
                argv,
                cwd=task.repo_root.resolve(),
                env=env,
                extra_env=explicit,
                timeout=timeout,
                sandbox=task.sandbox,
                writable=[tmp],
                on_line=on_line,
            )

    def argv(
        self, cli: str, task: AgentTask, repo: Path, log: Path, key_file: Path | None = None
    ) -> list[str]:
        """The full command line for one step."""
        tools = ",".join(READ_ONLY_TOOLS if task.kind == "judge" else TOOLS)
        argv = [
            cli,
            "--print",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "acceptEdits",
            "--tools",
            tools,
            "--allowedTools",
            tools,
            "--max-turns",
            str(self.config.max_turns),
            "--settings",
            hook_settings(repo, log, key_file),
        ]
        if self.config.model:
            argv += ["--model", self.config.model]
        if self.config.max_budget_usd is not None:
            argv += ["--max-budget-usd", f"{self.config.max_budget_usd:g}"]
        # `--` ends the variadic tool lists, and lets a prompt start with a dash.
        return [*argv, "--", _prompt_argument(task, repo)]

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
        if self.config.base_url:
            env["ANTHROPIC_BASE_URL"] = self.config.base_url
        env.update(self.extra_env)
        return env


def seed_config_dir(home: Path) -> Path:
    """A writable per-run Claude Code config dir in the sandbox's HOME, seeded without credentials.

    Settings, memory, agents and commands come from the user's config (CLAUDE_CONFIG_DIR or
    ~/.claude); credentials and settings that hold or fetch keys are left behind.
    """
    target = home / ".claude"
    if target.is_dir():
        return target
    target.mkdir(parents=True)
    source = Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    for name in _SEEDED:
        item = source / name
        try:
            if name == "settings.json" and item.is_file():
                data = json.loads(item.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    clean = {k: v for k, v in data.items() if k not in _SECRET_SETTINGS}
                    (target / name).write_text(json.dumps(clean, indent=2), encoding="utf-8")
            elif item.is_file():
                shutil.copy2(item, target / name)
            elif item.is_dir():
                shutil.copytree(item, target / name, symlinks=False)
        except (OSError, ValueError):
            continue  # an unreadable user setting is left out, never fatal
    return target


def _key_to_helper(env: dict[str, str], folder: Path) -> Path | None:
    """Move the API key out of the CLI's environment into a private file read by `apiKeyHelper`.

    Claude Code's Bash tool inherits the CLI's environment; without the key there, commands the
    agent runs (a test printing os.environ, `env`) cannot reveal it.
    """
    key = env.pop("ANTHROPIC_API_KEY", None) or env.pop("ANTHROPIC_AUTH_TOKEN", None)
    env.pop("ANTHROPIC_AUTH_TOKEN", None)
    if not key:
        return None
    path = folder / "api-key"
    path.touch(mode=0o600)
    path.write_text(key, encoding="utf-8")
    return path


def hook_settings(repo: Path, log: Path, key_file: Path | None = None) -> str:
    """Claude Code `--settings` JSON: the guard as a PreToolUse command hook, and the key helper."""
    # The package root on PYTHONPATH lets the hook import exec_auto from a source checkout too.
    package_parent = Path(__file__).resolve().parents[2]
    command = (
        f"PYTHONPATH={shlex.quote(str(package_parent))} {shlex.quote(sys.executable)} "
        f"-m exec_auto.agents.claude_hook --repo {shlex.quote(str(repo))} "
        f"--log {shlex.quote(str(log))}"
        # A hook that fails to run must block (exit 2), not wave the call through.
        " || exit 2"
    )
    hook = {"type": "command", "command": command, "timeout": 60}
    matcher = {"matcher": "|".join(CHECKED_TOOLS), "hooks": [hook]}
    settings: dict[str, Any] = {"hooks": {"PreToolUse": [matcher]}}
    if key_file is not None:
        settings["apiKeyHelper"] = f"cat {shlex.quote(str(key_file))}"
    return json.dumps(settings)


def _prompt_argument(task: AgentTask, repo: Path) -> str:
    """The prompt itself, or for a huge prompt a pointer to the prompt file inside the repo."""
    if len(task.prompt.encode("utf-8")) <= _MAX_PROMPT_ARG_BYTES:
        return task.prompt
    path = task.prompt_file
    if path is None or not path.resolve().is_relative_to(repo):
        # Inside .git/ the file is readable by the agent but never committed or linted.
        folder = repo / ".git" if (repo / ".git").is_dir() else repo
        path = folder / file_name("exec-auto-prompt", task.step_id, suffix=".md")
        path.write_text(task.prompt, encoding="utf-8")
    return (
        f"Your instructions for this step are in the file {path}. Read all of it with the Read "
        "tool (in several parts if needed), then carry it out exactly."
    )


def to_result(
    transcript: Transcript, finished: proc.ProcResult, incidents: list[str], timeout: float
) -> AgentResult:
    """Map what the CLI printed and how it ended to an AgentResult."""
    usage = transcript.usage
    spent: dict[str, Any] = {
        # Claude Code reports its own cost: measured, as far as exec-auto can tell.
        "usage": Usage(turns=transcript.turns, cost_usd=transcript.cost_usd, **usage),
        "incidents": tuple(incidents),
    }
    result = transcript.result
    subtype = str(result.get("subtype")) if result else None
    summary = str(result.get("result") or "") if result else transcript.last_text
    if finished.timed_out:
        error = f"Claude Code did not finish within {timeout:g}s and was stopped"
        return AgentResult("timeout", summary, error=error, subtype=subtype, **spent)
    if result is None:
        error = f"Claude Code exited {finished.returncode} without a result: {_tail(finished, transcript)}"
        return AgentResult("error", summary, error=error, **spent)
    if subtype in LIMIT_SUBTYPES:
        error = f"Claude Code stopped at a limit ({subtype}) after {transcript.turns} turns"
        return AgentResult("limit", summary, error=error, subtype=subtype, **spent)
    if subtype == "success" and not result.get("is_error"):
        return AgentResult("ok", summary, subtype=subtype, **spent)
    errors = result.get("errors")
    detail = "; ".join(map(str, errors)) if isinstance(errors, list) and errors else summary
    kind = "" if subtype == "success" else f" ({subtype})"
    error = f"Claude Code failed{kind}: {detail or 'no detail'}"[:2000]
    return AgentResult("error", summary, error=error, subtype=subtype, **spent)


def _tail(finished: proc.ProcResult, transcript: Transcript) -> str:
    text = "\n".join([*transcript.noise, finished.stderr]).strip()
    return text[-_TAIL_CHARS:] or "no output"


def _read_refusals(log: Path) -> list[dict[str, Any]]:
    refusals = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            refusals.append(record)
    return refusals


def _incidents(refusals: list[dict[str, Any]], transcript: Transcript) -> list[str]:
    """One line per refused tool call: the guard's, then any other denial Claude Code reported."""
    incidents = [
        f"refused {r.get('tool')} {r.get('target')!r}: {r.get('reason')}" for r in refusals
    ]
    seen = {r.get("id") for r in refusals}
    denials = (transcript.result or {}).get("permission_denials") or []
    for denial in denials if isinstance(denials, list) else []:
        if not isinstance(denial, dict) or denial.get("tool_use_id") in seen:
            continue
        tool = str(denial.get("tool_name", "?"))
        raw_input = denial.get("tool_input")
        tool_input: dict[str, Any] = raw_input if isinstance(raw_input, dict) else {}
        incidents.append(f"Claude Code denied {tool} {describe(tool, tool_input)!r}")
    return incidents
