"""The lint gate: `ruff check --fix` on touched files, with the project's own ruff configuration.

Ruff's JSON output lists what remains after fixing, not what was fixed, so the gate checks before
fixing (everything) and again after fixing and formatting (what remains); the difference per rule
code is the auto-fixed count. The final check runs after the formatter so reported line numbers
match the files as they are left.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exec_auto import proc
from exec_auto.gates.base import Finding, GateResult
from exec_auto.gates.environment import Environment, own_tool_argv
from exec_auto.gates.paths import clip, plural, relative

# More remaining violations than this are summarised in one finding instead of one each.
MAX_LINT_FINDINGS = 25


@dataclass(frozen=True)
class Violation:
    """One ruff diagnostic."""

    code: str
    name: str
    message: str
    path: str
    row: int
    column: int
    url: str
    fixable: bool

    @property
    def location(self) -> str:
        """file:line:column."""
        return f"{self.path}:{self.row}:{self.column}"


def parse_violations(stdout: str, env: Environment) -> list[Violation] | None:
    """ruff's JSON diagnostics as Violations (None when stdout is not ruff JSON)."""
    try:
        data = json.loads(stdout or "[]")
    except json.JSONDecodeError:
        return None
    if not isinstance(data, list):
        return None
    out: list[Violation] = []
    for item in data:
        if not isinstance(item, dict):
            continue
        location: dict[str, Any] = item.get("location") or {}
        # Syntax errors carry no rule code in older ruff versions.
        code = item.get("code") or item.get("name") or "invalid-syntax"
        out.append(
            Violation(
                code=str(code),
                name=str(item.get("name") or code),
                message=str(item.get("message", "")),
                path=relative(env.repo_root, str(item.get("filename", ""))),
                row=int(location.get("row") or 0),
                column=int(location.get("column") or 0),
                url=str(item.get("url") or ""),
                fixable=item.get("fix") is not None,
            )
        )
    return out


def _key(v: Violation) -> tuple[str, str, str]:
    # Line numbers move when a step edits a file; rule and message identify a violation well enough.
    return (v.path, v.code, v.message)


def _pre_existing(
    env: Environment,
    ruff: list[str],
    remaining: list[Violation],
    before: Callable[[str], str | None],
    timeout: float,
) -> set[int]:
    """Indexes of remaining violations the file already had before the step (same rule, same message)."""
    old: Counter[tuple[str, str, str]] = Counter()
    for path in sorted({v.path for v in remaining}):
        text = before(path)
        if text is None:  # a file the step created: everything in it is the step's
            continue
        result = proc.run(
            [*ruff, "check", "--output-format", "json", "--no-fix", "--stdin-filename", path, "-"],
            cwd=env.repo_root,
            extra_env=env.extra_env,
            timeout=timeout,
            stdin_text=text,
        )
        found = parse_violations(result.stdout, env) if result.returncode in (0, 1) else None
        # ruff names stdin input by --stdin-filename, so keys line up with the current file's.
        old.update(_key(v) for v in found or [])
    marked = set()
    for index, violation in enumerate(remaining):
        if old[_key(violation)] > 0:
            old[_key(violation)] -= 1
            marked.add(index)
    return marked


def _finding(v: Violation, *, pre_existing: bool = False) -> Finding:
    hint = "requires manual review"
    if v.fixable:
        hint = "only an unsafe fix is available (ruff --unsafe-fixes); requires manual review"
    details = f"{v.location}: {v.code} {v.message}\nruff rule {v.code} ({v.name}): {hint}"
    if v.url:
        details += f"\n{v.url}"
    return Finding(
        type="lint_error",
        severity="medium",
        description=f"{v.code} {v.message} ({v.location})",
        details=details,
        pre_existing=pre_existing,
    )


def _findings(remaining: list[Violation], old: set[int]) -> list[Finding]:
    findings = [_finding(v, pre_existing=True) for i, v in enumerate(remaining) if i in old]
    new = [v for i, v in enumerate(remaining) if i not in old]
    findings += [_finding(v) for v in new[:MAX_LINT_FINDINGS]]
    rest = new[MAX_LINT_FINDINGS:]
    if rest:
        lines = [f"{v.location}: {v.code} {v.message}" for v in rest]
        findings.append(
            Finding(
                type="lint_error",
                severity="medium",
                description=f"{plural(len(rest), 'more lint violation')} (see details)",
                details=clip("\n".join(lines), 6000),
            )
        )
    return findings


def _tool_failure(label: str, result: proc.ProcResult, timeout: float) -> Finding:
    if result.timed_out:
        return Finding(
            type="timeout",
            severity="high",
            description=f"{label} timed out after {timeout:g}s and was killed",
            details=clip(result.output),
            agent_fixable=False,
        )
    return Finding(
        type="runtime_error",
        severity="high",
        description=f"{label} failed (exit {result.returncode})",
        details=clip(result.output),
        agent_fixable=False,
    )


@dataclass(frozen=True)
class LintPass:
    """The first half of the lint gate: the violations before fixing, after `ruff --fix` ran."""

    ruff: list[str]
    before: list[Violation]
    duration: float


def fix_lint(
    env: Environment, files: list[str], timeout: float
) -> LintPass | tuple[GateResult, int]:
    """Record the violations, then apply ruff's fixes; a final result when there is nothing to do."""
    if not files:
        return GateResult(
            "ruff", True, "Ruff: Not applicable (no Python files touched)", skipped=True
        ), 0
    ruff = env.module_argv("ruff") or own_tool_argv("ruff")
    if ruff is None:
        return GateResult("ruff", True, "Ruff: not available", skipped=True), 0
    first = _check(env, ruff, files, timeout, "--no-fix")
    if isinstance(first, GateResult):
        return first, 0
    fix = proc.run(
        [*ruff, "check", "--fix-only", "--force-exclude", *files],
        cwd=env.repo_root,
        extra_env=env.extra_env,
        timeout=timeout,
    )
    if not fix.ok:
        failure = _tool_failure("ruff check --fix", fix, timeout)
        return GateResult("ruff", False, "Ruff: could not run", findings=(failure,)), 0
    return LintPass(ruff, first[0], first[1] + fix.duration)


def _check(
    env: Environment, ruff: list[str], files: list[str], timeout: float, *flags: str
) -> tuple[list[Violation], float] | GateResult:
    result = proc.run(
        [*ruff, "check", "--output-format", "json", "--force-exclude", *flags, *files],
        cwd=env.repo_root,
        extra_env=env.extra_env,
        timeout=timeout,
    )
    # ruff exits 1 when violations remain; anything else is a failure of ruff itself.
    violations = parse_violations(result.stdout, env) if result.returncode in (0, 1) else None
    if violations is None or result.timed_out:
        failure = _tool_failure("ruff check", result, timeout)
        return GateResult("ruff", False, "Ruff: could not run", findings=(failure,))
    return violations, result.duration


def finish_lint(
    env: Environment,
    files: list[str],
    timeout: float,
    first: LintPass | tuple[GateResult, int],
    before: Callable[[str], str | None] | None = None,
) -> tuple[GateResult, int]:
    """Check what remains (after formatting, so line numbers are final); the result and fix count.

    before gives a touched file's content before the step (None for a new file), asked only for
    files with remaining violations: violations they already had are pre-existing, not the step's.
    """
    if not isinstance(first, LintPass):
        return first
    checked = _check(env, first.ruff, files, timeout, "--no-fix")
    if isinstance(checked, GateResult):
        return checked, 0
    remaining, duration = checked
    old = (
        _pre_existing(env, first.ruff, remaining, before, timeout)
        if before is not None and remaining
        else set()
    )
    fixed_by_code = Counter(v.code for v in first.before) - Counter(v.code for v in remaining)
    fixed = sum(fixed_by_code.values())
    names = {v.code: v.name for v in first.before}
    parts = []
    if fixed:
        parts.append(f"{fixed} auto-fixed")
    new = len(remaining) - len(old)
    if new:
        verb = "requires" if new == 1 else "require"
        parts.append(f"{new} {verb} manual review")
    if old:
        parts.append(f"{len(old)} pre-existing")
    actions: tuple[str, ...] = ()
    if fixed:
        detail = ", ".join(
            f"{code} {names[code]}" + (f" x{n}" if n > 1 else "")
            for code, n in sorted(fixed_by_code.items())
        )
        actions = (f"Ruff auto-fixed {plural(fixed, 'issue')} ({detail})",)
    result = GateResult(
        name="ruff",
        passed=not new,
        summary="Ruff: " + (", ".join(parts) if parts else "No issues"),
        auto_actions=actions,
        findings=tuple(_findings(remaining, old)),
        duration=first.duration + duration,
    )
    return result, fixed


def lint_gate(
    env: Environment,
    files: list[str],
    timeout: float,
    before: Callable[[str], str | None] | None = None,
) -> tuple[GateResult, int]:
    """Lint `files` with auto-fixes; the gate result and the number of fixed violations."""
    return finish_lint(env, files, timeout, fix_lint(env, files, timeout), before)
