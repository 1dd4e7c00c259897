"""The format and lint gates behind one `Gate` protocol, built in order from the project's discovery.

`build_checks` turns a `Discovery` into an ordered list: the formatter first (changed lines only),
then ruff (fixes, reformatted, then the check), then the project's other linters. Each gate's
`run(ctx)` returns one `GateResult`; the suite in `python.py` runs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from exec_auto.config import CheckCommand
from exec_auto.gates.base import GateResult, ToolInfo
from exec_auto.gates.changes import Before, Regions
from exec_auto.gates.discovery import Discovery
from exec_auto.gates.environment import Environment
from exec_auto.gates.formatting import Formatter, choose_formatter, format_gate
from exec_auto.gates.linters import LINTERS, gate_error, run_command, run_linter
from exec_auto.gates.linting import finish_lint, fix_lint, ruff_argv


@dataclass(frozen=True)
class CheckContext:
    """What a format or lint gate needs: the environment, the step's files and its own lines."""

    env: Environment
    files: list[str]
    regions: Regions | None
    before: Before | None
    timeout: float
    # Every file the step touched (pre-commit hooks also judge non-Python files).
    touched: tuple[str, ...] = ()


class Gate(Protocol):
    """One check of a step: formats, lints, or runs a project command; never raises for findings."""

    @property
    def name(self) -> str:
        """The gate's name in summaries and issues."""
        ...

    def run(self, ctx: CheckContext) -> GateResult:
        """Check (and where the tool fixes, fix) the step's files; one result."""
        ...


@dataclass(frozen=True)
class FormatGate:
    """The project's formatter on the lines the step changed."""

    formatter: Formatter | None
    choice: str
    name: str = "format"

    def run(self, ctx: CheckContext) -> GateResult:
        """Format the touched files' changed regions."""
        result, count = format_gate(
            ctx.env, ctx.files, self.choice, ctx.timeout, ctx.regions, self.formatter
        )
        return replace(result, formatted=count)


@dataclass(frozen=True)
class RuffGate:
    """ruff with the project's rules (fixes on the step's lines), or error-class rules only."""

    error_only: bool
    reformat: Formatter | None
    tool: ToolInfo | None
    name: str = "ruff"

    def run(self, ctx: CheckContext) -> GateResult:
        """Fix, reformat what the fixes touched, then check what remains."""
        first = fix_lint(
            ctx.env,
            ctx.files,
            ctx.timeout,
            ctx.regions,
            error_only=self.error_only,
            tool=self.tool,
            reformat=self.reformat,
        )
        result, fixed = finish_lint(ctx.env, ctx.files, ctx.timeout, first, ctx.before, ctx.regions)
        return replace(result, fixed=fixed)


@dataclass(frozen=True)
class LinterGate:
    """A linter the project configures (flake8, mypy), from the project's environment."""

    name: str
    why: str

    def run(self, ctx: CheckContext) -> GateResult:
        """Lint the touched files; findings on the step's lines are the step's."""
        return run_linter(
            ctx.env, LINTERS[self.name], ctx.files, ctx.timeout, ctx.regions, self.why
        )


@dataclass(frozen=True)
class CommandGate:
    """A check command from `[tool.exec-auto.gates] checks`."""

    check: CheckCommand

    @property
    def name(self) -> str:
        """The command's configured name."""
        return self.check.name

    def run(self, ctx: CheckContext) -> GateResult:
        """Run the command on the touched files."""
        return run_command(
            ctx.env,
            self.check.name,
            self.check.command,
            ctx.files,
            ctx.timeout,
            ctx.regions,
            self.check.pass_files,
        )


def build_checks(
    env: Environment,
    found: Discovery,
    *,
    fmt: bool,
    lint: bool,
    choice: str,
    commands: list[CheckCommand],
) -> list[Gate]:
    """The ordered format and lint gates for a project (pre-commit is added by the suite)."""
    if found.source == "commands":
        return [CommandGate(c) for c in commands]
    gates: list[Gate] = []
    formatter: Formatter | None = None
    if found.formatter is not None:
        formatter_choice = "black" if found.formatter == "black" else "ruff"
        _, formatter, _ = choose_formatter(env, formatter_choice if choice == "auto" else choice)
    if fmt and found.isort:
        gates.append(_isort_gate(env, found.configured["isort"]))
    if fmt and found.formatter is not None:
        gates.append(FormatGate(formatter, choice))
    if lint and found.ruff:
        ruff = ruff_argv(env)
        why = (
            "no lint configuration: error-class rules only"
            if found.ruff_error_only
            else found.configured.get("ruff", "configured")
        )
        tool = None
        if ruff is not None:
            version = env.version("ruff") if ruff[1] == "project environment" else _own("ruff")
            tool = ToolInfo("ruff", version, f"{ruff[1]}; {why}", " ".join(ruff[0]))
        gates.append(RuffGate(found.ruff_error_only, formatter if fmt else None, tool))
    if lint:
        gates.extend(LinterGate(name, found.configured[name]) for name in found.linters)
    return gates


def _isort_gate(env: Environment, why: str) -> Gate:
    """isort from the project's environment (import order is the project's rule, not ruff's)."""
    argv = env.module_argv("isort")
    if argv is None:
        return MissingTool("isort", why)
    tool = ToolInfo("isort", env.version("isort"), f"project environment; {why}", " ".join(argv))
    return FormatGate(Formatter("isort", (*argv, "-q"), tool), "isort", name="isort")


@dataclass(frozen=True)
class MissingTool:
    """A tool the project configures that its environment lacks: a gate_error, never a pass."""

    name: str
    why: str

    def run(self, ctx: CheckContext) -> GateResult:
        """Report that the configured tool could not run."""
        if not ctx.files:
            return GateResult(
                self.name,
                True,
                f"{self.name}: Not applicable (no Python files touched)",
                skipped=True,
            )
        return gate_error(
            self.name,
            f"{self.name} is configured ({self.why}) but not installed in the project's environment",
            f"Install {self.name} in the project's environment ({ctx.env.describe()}).",
        )


def _own(module: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return ""
