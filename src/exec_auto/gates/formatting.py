"""The format gate: the project's formatter (Black, ruff format, isort) on the lines the step changed.

Each touched file is formatted on stdin and only the formatter's edits that touch lines the step
changed are written back (darker's technique), so a step is never credited with, or blamed for,
reformatting code it did not write. Black is used when the project uses Black; otherwise ruff
format (the project's own when installed, else exec-auto's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exec_auto.gates.base import Finding, GateResult, ToolInfo
from exec_auto.gates.changes import Regions, keep_edits_in
from exec_auto.gates.dependencies import declared_dependencies
from exec_auto.gates.environment import Environment, own_tool_argv, read_pyproject
from exec_auto.gates.paths import clip, plural
from exec_auto.gates.tools import run_tool
from exec_auto.safe_read import project_text

_PARSE_FAILURE_RE = re.compile(
    r"(error: (cannot (parse|format)|Failed to parse)|ParseError)", re.IGNORECASE
)


def project_uses_black(repo_root: Path) -> bool:
    """True when Black is configured ([tool.black]) or declared as a dependency of the project."""
    if "black" in read_pyproject(repo_root).get("tool", {}):
        return True
    if "black" in declared_dependencies(repo_root):
        return True
    precommit = repo_root / ".pre-commit-config.yaml"
    return "psf/black" in (project_text(precommit) or "")


@dataclass(frozen=True)
class Formatter:
    """A formatter that reads a file on stdin and writes the formatted file to stdout."""

    label: str
    argv: tuple[str, ...]
    tool: ToolInfo

    @property
    def name(self) -> str:
        """The gate name, e.g. 'ruff-format'."""
        return self.label.lower().replace(" ", "-")

    def stdin_argv(self, path: str) -> list[str]:
        """argv formatting `path`'s content given on stdin (the path picks up per-file config)."""
        if self.label == "isort":
            return [*self.argv, "-"]
        return [*self.argv, "--stdin-filename", path, "-"]


def _module_or_own(env: Environment, module: str) -> tuple[list[str], str] | None:
    found = env.module_argv(module)
    if found is not None:
        return found, "project environment"
    own = own_tool_argv(module)
    return (own, "bundled with exec-auto") if own is not None else None


def choose_formatter(env: Environment, choice: str) -> tuple[str, Formatter | None, list[Finding]]:
    """(label, formatter, warnings): the project's Black if it uses Black, else ruff format."""
    warnings: list[Finding] = []
    if choice == "black" or (choice == "auto" and project_uses_black(env.repo_root)):
        black = _module_or_own(env, "black")
        if black is not None:
            why = "configured" if choice == "black" else "the project uses Black"
            tool = ToolInfo("black", "", f"{black[1]}; {why}", " ".join(black[0]))
            return "Black", Formatter("Black", (*black[0], "-q"), tool), warnings
        warnings.append(
            Finding(
                type="warning",
                severity="low",
                description="Black is configured but not installed; formatted with ruff format",
                details="Install Black in the project's environment to format with it.",
                agent_fixable=False,
            )
        )
    ruff = _module_or_own(env, "ruff")
    if ruff is None:
        return "Ruff format", None, warnings
    tool = ToolInfo("ruff format", "", ruff[1], " ".join(ruff[0]))
    return "Ruff format", Formatter("Ruff format", (*ruff[0], "format"), tool), warnings


def format_gate(
    env: Environment,
    files: list[str],
    choice: str,
    timeout: float,
    regions: Regions | None = None,
    formatter: Formatter | None = None,
) -> tuple[GateResult, int]:
    """Format `files` (touched .py files, relative to the repo root); the result and files changed."""
    label, chosen, warnings = (
        (formatter.label, formatter, []) if formatter else choose_formatter(env, choice)
    )
    name = label.lower().replace(" ", "-")
    if not files:
        return GateResult(
            name, True, f"{label}: Not applicable (no Python files touched)", skipped=True
        ), 0
    if chosen is None:
        return GateResult(
            name, True, f"{label}: not available", findings=tuple(warnings), skipped=True
        ), 0
    return _format_files(env, files, chosen, timeout, regions, warnings)


def _format_files(
    env: Environment,
    files: Sequence[str],
    formatter: Formatter,
    timeout: float,
    regions: Regions | None,
    warnings: list[Finding],
) -> tuple[GateResult, int]:
    label, name = formatter.label, formatter.name
    changed: list[str] = []
    findings = list(warnings)
    unparsable = 0
    duration = 0.0
    for path in files:
        target = env.repo_root / path
        try:
            original = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        result = run_tool(env, formatter.stdin_argv(path), timeout=timeout, stdin_text=original)
        duration += result.duration
        if result.timed_out:
            finding = Finding(
                type="gate_error",
                severity="high",
                description=f"{label} timed out after {timeout:g}s and was killed",
                details=clip(result.output),
                agent_fixable=False,
            )
            return GateResult(
                name,
                False,
                f"{label}: timed out",
                findings=(finding, *warnings),
                tool=formatter.tool,
            ), 0
        if not result.ok:
            if _PARSE_FAILURE_RE.search(result.stderr):
                # The syntax error itself is reported by the lint gate and the tests.
                unparsable += 1
                continue
            findings.append(
                Finding(
                    type="gate_error",
                    severity="high",
                    description=f"{label} could not run (exit {result.returncode})",
                    details=clip(result.output),
                    agent_fixable=False,
                )
            )
            break
        kept = keep_edits_in(original, result.stdout, regions.lines(path) if regions else None)
        if kept != original:
            target.write_text(kept, encoding="utf-8")
            changed.append(path)
    summary = (
        f"{label}: Formatted {plural(len(changed), 'file')}"
        if changed
        else f"{label}: No formatting needed"
    )
    if regions is not None and any(regions.lines(f) is not None for f in files):
        summary += " (changed lines only)" if changed else ""
    if unparsable:
        summary += f", {plural(unparsable, 'file')} could not be parsed"
    actions = (
        (f"Formatted {plural(len(changed), 'file')} with {label}: {', '.join(changed)}",)
        if changed
        else ()
    )
    return GateResult(
        name=name,
        passed=not any(f.type != "warning" for f in findings),
        summary=summary,
        auto_actions=actions,
        findings=tuple(findings),
        duration=duration,
        tool=formatter.tool,
    ), len(changed)
