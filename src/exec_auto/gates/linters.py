"""Linters the project runs itself (flake8, mypy, configured commands): findings on the step's lines.

Every tool prints `path:line[:column]: message` lines; the ones on lines the step changed are the
step's, the rest are reported as pre-existing (graylint's technique). A tool the project configures
but whose environment lacks it, or a tool that crashes, is a gate_error: never a silent pass.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from exec_auto.gates.base import Finding, GateResult, ToolInfo
from exec_auto.gates.changes import Regions
from exec_auto.gates.environment import Environment
from exec_auto.gates.paths import clip, digests, plural, relative
from exec_auto.gates.tools import run_tool

MAX_FINDINGS = 25
_LINE_RE = re.compile(r"^(?P<path>[^:\n]+\.py):(?P<row>\d+):(?:(?P<col>\d+):)?\s*(?P<msg>.+)$")
# ruff's default ("full") output: `F841 Local variable ...` then ` --> path:row:col` under it.
_HEADER_RE = re.compile(r"^(?P<code>[A-Z]+\d+)\s+(?:\[\*\]\s+)?(?P<msg>\S.*)$")
_ARROW_RE = re.compile(r"^-->\s*(?P<path>[^:\n]+\.py):(?P<row>\d+):(?P<col>\d+)\s*$")
_CODE_RE = re.compile(r"^(?:error:\s*)?(?P<code>[A-Z]+\d+)\b|\[(?P<mypy>[a-z0-9-]+)\]\s*$")


@dataclass(frozen=True)
class Problem:
    """One `path:line:col: message` line of a linter's output."""

    path: str
    row: int
    column: int
    message: str

    @property
    def code(self) -> str:
        """The rule code (E501, F401, arg-type), when the message names one."""
        match = _CODE_RE.search(self.message)
        if match is None:
            return ""
        return match.group("code") or match.group("mypy") or ""


def parse_problems(output: str, env: Environment) -> list[Problem]:
    """The `path:line[:col]: message` lines of a tool's output, paths relative to the repo.

    ruff's default output (a `CODE message` line, then ` --> path:line:col`) is read too: a
    pre-commit hook runs ruff with whatever output format the project's config gives it.
    """
    out = []
    header = ""
    for line in output.splitlines():
        text = line.strip()
        arrow = _ARROW_RE.match(text)
        if arrow is not None:
            if header:
                path = relative(env.repo_root, arrow.group("path"))
                out.append(Problem(path, int(arrow.group("row")), int(arrow.group("col")), header))
                header = ""
            continue
        found = _HEADER_RE.match(line)
        if found is not None:
            header = f"{found.group('code')} {found.group('msg').strip()}"
            continue
        match = _LINE_RE.match(text)
        if match is None:
            continue
        message = match.group("msg").strip()
        if message.startswith("note:"):
            continue  # mypy's notes explain an error already listed
        out.append(
            Problem(
                relative(env.repo_root, match.group("path")),
                int(match.group("row")),
                int(match.group("col") or 0),
                message,
            )
        )
    return out


@dataclass(frozen=True)
class Linter:
    """A linter from the project's environment: its module, argv and the exit codes that mean 'ran'."""

    name: str
    module: str
    args: tuple[str, ...]
    ok_codes: tuple[int, ...]


FLAKE8 = Linter("flake8", "flake8", (), (0, 1))
MYPY = Linter(
    "mypy",
    "mypy",
    ("--no-error-summary", "--show-column-numbers", "--no-pretty", "--no-color-output"),
    (0, 1),
)
LINTERS = {"flake8": FLAKE8, "mypy": MYPY}


def gate_error(name: str, description: str, details: str = "") -> GateResult:
    """A gate that could not run: high, never pre-existing, not handed to the agent."""
    finding = Finding(
        type="gate_error",
        severity="high",
        description=description,
        details=details,
        agent_fixable=False,
    )
    return GateResult(name, False, f"{name}: could not run ({description})", findings=(finding,))


def _judge(
    name: str,
    problems: Sequence[Problem],
    files: Sequence[str],
    regions: Regions | None,
    tool: ToolInfo,
    duration: float,
) -> GateResult:
    """Findings on the step's lines are the step's; the rest are pre-existing."""
    touched = set(files)
    findings: list[Finding] = []
    mine = old = 0
    for p in problems:
        if p.path not in touched:
            continue  # mypy reports imported modules too: not what the step touched
        ours = regions is None or regions.covers(p.path, p.row)
        if ours:
            mine += 1
            if mine > MAX_FINDINGS:
                continue
        else:
            old += 1
        where = f"{p.path}:{p.row}" + (f":{p.column}" if p.column else "")
        rule = f" ({name} rule {p.code})" if p.code else ""
        findings.append(
            Finding(
                type="lint_error",
                severity="medium",
                description=f"{p.message} ({where})",
                details=f"{where}: {p.message}{rule}\nreported by {tool.describe()}",
                pre_existing=not ours,
            )
        )
    if mine > MAX_FINDINGS:
        findings.append(
            Finding(
                type="lint_error",
                severity="medium",
                description=f"{plural(mine - MAX_FINDINGS, 'more problem')} from {name}",
                details=f"Run {tool.command or name} on the touched files to see them all.",
            )
        )
    parts = []
    if mine:
        parts.append(f"{mine} on the step's lines")
    if old:
        parts.append(f"{old} pre-existing")
    return GateResult(
        name,
        passed=not mine,
        summary=f"{name}: " + (", ".join(parts) if parts else "No issues"),
        findings=tuple(findings),
        duration=duration,
        tool=tool,
    )


def run_linter(
    env: Environment,
    linter: Linter,
    files: list[str],
    timeout: float,
    regions: Regions | None,
    why: str,
) -> GateResult:
    """Run one of the project's linters on the touched files, from its own environment."""
    name = linter.name
    if not files:
        return GateResult(
            name, True, f"{name}: Not applicable (no Python files touched)", skipped=True
        )
    argv = env.module_argv(linter.module)
    if argv is None:
        return gate_error(
            name,
            f"{name} is configured ({why}) but not installed in the project's environment",
            f"Install {name} in the project's environment ({env.describe()}) so it can judge.",
        )
    tool = ToolInfo(
        name, env.version(linter.module), f"project environment; {why}", shlex.join(argv)
    )
    result = run_tool(env, [*argv, *linter.args, *files], timeout=timeout)
    if result.timed_out:
        return gate_error(name, f"{name} timed out after {timeout:g}s", clip(result.output))
    if result.returncode not in linter.ok_codes:
        return gate_error(name, f"{name} crashed (exit {result.returncode})", clip(result.output))
    problems = parse_problems(result.stdout, env)
    if result.returncode != 0 and not problems:
        return gate_error(name, f"{name} failed without naming a problem", clip(result.output))
    return _judge(name, problems, files, regions, tool, result.duration)


def run_command(
    env: Environment,
    name: str,
    command: str,
    files: list[str],
    timeout: float,
    regions: Regions | None,
    pass_files: bool = True,
) -> GateResult:
    """A check set in `[tool.exec-auto.gates] checks`: exit 0 passes; its edits are auto-actions."""
    if pass_files and not files:
        return GateResult(
            name, True, f"{name}: Not applicable (no Python files touched)", skipped=True
        )
    argv = ["sh", "-c", command + (" " + shlex.join(files) if pass_files else "")]
    tool = ToolInfo(name, "", "[tool.exec-auto.gates] checks", command)
    before = digests(env.repo_root, files)
    result = run_tool(env, argv, timeout=timeout)
    changed = [f for f, d in digests(env.repo_root, files).items() if before.get(f) != d]
    actions = (f"{name} changed {', '.join(changed)}",) if changed else ()
    if result.timed_out:
        return gate_error(name, f"{name} timed out after {timeout:g}s", clip(result.output))
    if result.returncode == 127:
        return gate_error(name, f"{name}: command not found ({command})", clip(result.output))
    if result.ok:
        return GateResult(
            name, True, f"{name}: passed", auto_actions=actions, tool=tool, duration=result.duration
        )
    problems = parse_problems(result.output, env)
    if not problems:
        finding = Finding(
            type="lint_error",
            severity="medium",
            description=f"{name} failed (exit {result.returncode})",
            details=clip(result.output),
        )
        return GateResult(
            name, False, f"{name}: failed", auto_actions=actions, findings=(finding,), tool=tool
        )
    judged = _judge(name, problems, files, regions, tool, result.duration)
    return GateResult(
        judged.name,
        judged.passed,
        judged.summary,
        auto_actions=actions,
        findings=judged.findings,
        duration=judged.duration,
        tool=tool,
    )
