"""The format gate: Black when the project uses Black, otherwise `ruff format`, on touched files."""

from __future__ import annotations

import re
from pathlib import Path

from exec_auto import proc
from exec_auto.gates.base import Finding, GateResult
from exec_auto.gates.dependencies import declared_dependencies
from exec_auto.gates.environment import Environment, own_tool_argv, read_pyproject
from exec_auto.gates.paths import clip, digests, plural

_PARSE_FAILURE_RE = re.compile(r"^error: (cannot (parse|format)|Failed to parse)", re.MULTILINE)


def project_uses_black(repo_root: Path) -> bool:
    """True when Black is configured ([tool.black]) or declared as a dependency of the project."""
    if "black" in read_pyproject(repo_root).get("tool", {}):
        return True
    if "black" in declared_dependencies(repo_root):
        return True
    precommit = repo_root / ".pre-commit-config.yaml"
    try:
        return "psf/black" in precommit.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def choose_formatter(env: Environment, choice: str) -> tuple[str, list[str] | None, list[Finding]]:
    """(label, argv prefix, warnings): the project's Black if it uses Black, else ruff format."""
    warnings: list[Finding] = []
    if choice == "black" or (choice == "auto" and project_uses_black(env.repo_root)):
        black = env.module_argv("black") or own_tool_argv("black")
        if black is not None:
            return "Black", black, warnings
        warnings.append(
            Finding(
                type="warning",
                severity="low",
                description="Black is configured but not installed; formatted with ruff format",
                details="Install Black in the project's environment to format with it.",
                agent_fixable=False,
            )
        )
    ruff = env.module_argv("ruff") or own_tool_argv("ruff")
    return "Ruff format", [*ruff, "format", "--force-exclude"] if ruff else None, warnings


def format_gate(
    env: Environment, files: list[str], choice: str, timeout: float
) -> tuple[GateResult, int]:
    """Format `files` (touched .py files, relative to the repo root); the result and files changed."""
    if not files:
        wants_black = choice == "black" or (choice == "auto" and project_uses_black(env.repo_root))
        label = "Black" if wants_black else "Ruff format"
        return GateResult(
            name=label.lower().replace(" ", "-"),
            passed=True,
            summary=f"{label}: Not applicable (no Python files touched)",
            skipped=True,
        ), 0
    label, argv, warnings = choose_formatter(env, choice)
    name = label.lower().replace(" ", "-")
    if argv is None:
        return GateResult(
            name, True, f"{label}: not available", findings=tuple(warnings), skipped=True
        ), 0
    before = digests(env.repo_root, files)
    result = proc.run([*argv, *files], cwd=env.repo_root, extra_env=env.extra_env, timeout=timeout)
    after = digests(env.repo_root, files)
    changed = [f for f in files if before[f] != after[f]]
    if result.timed_out:
        finding = Finding(
            type="timeout",
            severity="high",
            description=f"{label} timed out after {timeout:g}s and was killed",
            details=clip(result.output),
            agent_fixable=False,
        )
        return GateResult(name, False, f"{label}: timed out", findings=(finding, *warnings)), 0
    unparsable = len(_PARSE_FAILURE_RE.findall(result.output))
    findings = list(warnings)
    if not result.ok and not unparsable:
        findings.append(
            Finding(
                type="runtime_error",
                severity="high",
                description=f"{label} failed (exit {result.returncode})",
                details=clip(result.output),
                agent_fixable=False,
            )
        )
    summary = (
        f"{label}: Formatted {plural(len(changed), 'file')}"
        if changed
        else f"{label}: No formatting needed"
    )
    if unparsable:
        # The syntax error itself is reported by the lint gate and the tests; no duplicate finding.
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
        duration=result.duration,
    ), len(changed)
