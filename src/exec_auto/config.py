"""One typed configuration, merged from defaults, pyproject.toml [tool.exec-auto], env and CLI flags."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exec_auto.errors import ConfigError
from exec_auto.safe_read import CONFIG_LIMIT, decode_utf8, read_limited

# Durations and amounts: finite and positive (an `inf`, `nan`, 0 or negative timeout would make
# every step fail at once, or never time out).
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Amount = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]


class CheckCommand(BaseModel):
    """A project check set in `[[tool.exec-auto.gates.checks]]`: exit 0 passes."""

    model_config = ConfigDict(extra="forbid")

    name: str
    command: str
    # Append the step's touched .py files to the command (off: the command picks its own files).
    pass_files: bool = True


class GatesConfig(BaseModel):
    """Quality gates after each step."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    format: bool = True
    lint: bool = True
    test: bool = True
    # "auto" detects Black from the project's config, else ruff format; "none" formats nothing.
    formatter: Literal["auto", "black", "ruff", "none"] = "auto"
    # The project's own checks, judged instead of discovered linters and formatters.
    checks: list[CheckCommand] = []
    # Run the project's .pre-commit-config.yaml (through pre-commit) when it has one.
    pre_commit: bool = True
    # Tool runner: "auto" detects poetry/uv/pdm/hatch/.venv from the project's files.
    runner: Literal["auto", "poetry", "uv", "pdm", "hatch", "venv", "plain"] = "auto"
    test_command: list[str] | None = None
    fix_attempts: Count = 2
    install: bool = True
    gate_timeout: Seconds = 600.0
    select_tests: bool = True
    final_gate: bool = True
    baseline: bool = True
    # PYTHONHASHSEED and pytest-randomly's seed, the same for baseline, step and final runs.
    seed: int = 0
    # Re-run new failures once, identically: a test that then passes is reported flaky, not blamed.
    rerun_failures: bool = True
    # Blame by bisection: final-gate failures no step saw are run on the step snapshots.
    bisect: bool = True
    # Caps on the bisection: test runs and wall-clock seconds for the whole search.
    bisect_runs: Count = 12
    bisect_seconds: Seconds = 600.0


class AgentConfig(BaseModel):
    """Which coding agent backend runs the steps, and its limits."""

    model_config = ConfigDict(extra="forbid")

    name: str = "auto"
    command: str | None = None
    replay_file: Path | None = None
    record_file: Path | None = None
    model: str | None = None
    base_url: str | None = None
    step_timeout: Seconds = 1800.0
    max_turns: Positive = 50
    max_budget_usd: Amount | None = None
    max_requests: Positive = 200
    max_tokens: Positive | None = None
    retries: Count = 3
    # Seconds before the first retry of a failed model request; doubles with each retry.
    retry_backoff: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 2.0
    judge: bool = True


def _env_mode() -> Literal["auto", "on", "off"]:
    value = os.environ.get("EXEC_AUTO_SANDBOX", "auto").strip().lower() or "auto"
    if value not in ("auto", "on", "off"):
        raise ConfigError(
            f"EXEC_AUTO_SANDBOX={value!r} is not auto, on or off", hint="unset it or fix the value"
        )
    return value  # type: ignore[return-value]


class SandboxConfig(BaseModel):
    """Kernel-enforced containment of agent processes and gates ([tool.exec-auto.sandbox])."""

    model_config = ConfigDict(extra="forbid")

    # auto/on: contain every agent process and gate, refuse to run without a usable sandbox;
    # off: run with the user's full rights (the report says so on its first line).
    # The default comes from EXEC_AUTO_SANDBOX when set (a machine-wide choice, e.g. in CI).
    mode: Literal["auto", "on", "off"] = Field(default_factory=lambda: _env_mode())
    # Network for agent CLIs (claude, command): they need their API.
    network: bool = True
    # Network for gates, verify commands and the API backends' shell tool.
    tools_network: bool = False
    # Extra environment variables passed into the sandbox (besides PATH, locale, TERM, ...).
    env: list[str] = []
    # Let the sandbox see the repository's .env* files.
    dotenv: bool = False
    # Let the sandbox see the user's real HOME (read-only).
    show_home: bool = False
    # Paths under a hidden place (HOME) to show read-only, e.g. a shared cache the tests need.
    expose: list[str] = []
    # Extra read-only paths inside the repository, and extra writable paths anywhere.
    readonly: list[str] = []
    writable: list[str] = []


class BatchConfig(BaseModel):
    """Batch and parallel runs."""

    model_config = ConfigDict(extra="forbid")

    parallel: Positive = 1
    merge: bool = False
    report_dir: Path | None = None
    budget_usd: Amount | None = None
    budget_seconds: Seconds | None = None
    # Shell command run after each --merge (exit 0 = passed); default: the gates' test run.
    merge_test: str | None = None


class EvidenceConfig(BaseModel):
    """Evidence the agent cannot fake: the integrity audit and red/green runs."""

    model_config = ConfigDict(extra="forbid")

    # Audit every step's diff for weakened checks.
    integrity: bool = True
    # Run the ticket's tests (and verify commands) against the code before the ticket, too.
    red_green: bool = True


class ReadinessConfig(BaseModel):
    """The readiness check before unattended runs (see `exec_auto.readiness`)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Unattended runs of tickets scoring below this refuse to start (batches skip them).
    threshold: int = Field(default=60, ge=0, le=100)
    # Extra critical areas: name -> keywords, added to auth, payments and migrations.
    critical_areas: dict[str, list[str]] = Field(default_factory=dict)
    # Learn from earlier runs' progress files (see `exec-auto insights`).
    history: bool = True


class ReviewConfig(BaseModel):
    """What happens for the human once work is done: notifications, pull requests."""

    model_config = ConfigDict(extra="forbid")

    # Shell command run once per finished ticket and once per batch (see review/notify.py).
    notify_command: str | None = None
    open_pr: bool = False


class HistoryConfig(BaseModel):
    """The step history kept per ticket ([tool.exec-auto.history], see executor.history)."""

    model_config = ConfigDict(extra="forbid")

    # At archive, a file larger than this that the steps wrote and no run's final tree has is
    # replaced in the step commits by a note naming it, and its content is freed.
    keep_bytes: Count = 10_000_000


class Config(BaseModel):
    """Everything a run needs to know besides the ticket itself."""

    model_config = ConfigDict(extra="forbid")

    archive: bool = True
    # Let consecutive parallel-marked steps ([P], (P)) share one agent task, gate run and fix loop.
    parallel_tasks: bool = False
    agent: AgentConfig = AgentConfig()
    gates: GatesConfig = GatesConfig()
    batch: BatchConfig = BatchConfig()
    # A factory: the default reads EXEC_AUTO_SANDBOX, whose bad value must fail as a ConfigError
    # when a config is built (exit 2), not when this module is imported (a traceback).
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    evidence: EvidenceConfig = EvidenceConfig()
    readiness: ReadinessConfig = ReadinessConfig()
    review: ReviewConfig = ReviewConfig()
    history: HistoryConfig = HistoryConfig()


def load_pyproject_section(repo_root: Path) -> dict[str, Any]:
    """The [tool.exec-auto] table of repo_root/pyproject.toml (empty when absent)."""
    path = repo_root / "pyproject.toml"
    try:
        raw = read_limited(path, limit=CONFIG_LIMIT, error=ConfigError, what="pyproject.toml")
    except FileNotFoundError:
        return {}
    text = decode_utf8(raw, path, error=ConfigError, what="pyproject.toml")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"invalid TOML: {exc}", path=path, hint="fix the file or remove [tool.exec-auto]"
        ) from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(
            f"`tool` must be a table, not {_toml_kind(tool)}",
            path=path,
            hint="remove the `tool = ...` line; tools are configured in [tool.NAME] tables",
        )
    section = tool.get("exec-auto", {})
    if not isinstance(section, dict):
        raise ConfigError(
            f"[tool.exec-auto] must be a table, not {_toml_kind(section)}",
            path=path,
            hint="write the settings under a `[tool.exec-auto]` heading",
        )
    return section


def _toml_kind(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
    }
    return names.get(type(value), f"a {type(value).__name__}")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and key in out and not isinstance(out[key], dict):
            # `agent = "x"` in pyproject.toml: kept, so validation names it (flags do not hide it).
            continue
        if isinstance(value, dict):
            # Recurse even when the base lacks the table, so None ("not given") is dropped there too.
            out[key] = _merge(out[key] if isinstance(out.get(key), dict) else {}, value)
        elif value is not None:
            out[key] = value
    return out


# The flag that sets each config key, so an error names what the user typed.
FLAGS = {
    ("agent", "step_timeout"): "--step-timeout",
    ("agent", "max_turns"): "--max-turns",
    ("agent", "max_budget_usd"): "--max-budget-usd",
    ("agent", "name"): "--agent",
    ("agent", "base_url"): "--base-url",
    ("gates", "fix_attempts"): "--fix-attempts",
    ("gates", "runner"): "--runner",
    ("batch", "parallel"): "--parallel",
    ("batch", "budget_usd"): "--budget-usd",
    ("batch", "budget_seconds"): "--budget-seconds",
}


def _given(overrides: dict[str, Any], loc: tuple[Any, ...]) -> Any:
    node: Any = overrides
    for part in loc:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def build_config(repo_root: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Defaults < pyproject [tool.exec-auto] < overrides (from flags; None values are ignored)."""
    overrides = overrides or {}
    data = _merge(load_pyproject_section(repo_root), overrides)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        flag = FLAGS.get((str(loc[0]), str(loc[1]))) if len(loc) >= 2 else None
        value = _given(overrides, loc[:2])
        if flag is not None and value is not None:
            raise ConfigError(
                f"{flag} {value}: {message.lower()}",
                hint=f"see `exec-auto run --help` for {flag}",
            ) from None
        where = ".".join(str(p) for p in loc)
        raise ConfigError(
            f"[tool.exec-auto] {where}: {message}",
            path=repo_root / "pyproject.toml",
            hint="see README 'Configuration' for the keys",
        ) from None
