"""The ruff lint gate: `ruff check --fix` on touched files, with the project's own ruff configuration.

Ruff's JSON output lists what remains after fixing, not what was fixed, so the gate checks before
fixing (everything) and again after fixing and formatting (what remains); the difference per rule
code is the auto-fixed count. The final check runs after the formatter so reported line numbers
match the files as they are left. Fixes are computed on stdin and kept only where they touch lines
the step changed; violations outside those lines are not the step's. A project without any lint
configuration gets only ruff's error-class rules (syntax errors, undefined names), isolated from
ruff's defaults.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exec_auto import proc
from exec_auto.gates.base import Finding, GateResult, ToolInfo
from exec_auto.gates.changes import Regions, keep_edits_in
from exec_auto.gates.environment import Environment, own_tool_argv
from exec_auto.gates.formatting import Formatter
from exec_auto.gates.paths import clip, plural, relative
from exec_auto.gates.tools import run_tool

# Error-class rules only, for projects that configure no linter: syntax errors and undefined names.
ERROR_CLASS_FLAGS = ("--isolated", "--select", "E9,F63,F7,F82")

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
        result = run_tool(
            env,
            [*ruff, "check", "--output-format", "json", "--no-fix", "--stdin-filename", path, "-"],
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
    flags: tuple[str, ...] = ()
    tool: ToolInfo | None = None


def ruff_argv(env: Environment) -> tuple[list[str], str] | None:
    """ruff from the project's environment, else exec-auto's own; with where it came from."""
    found = env.module_argv("ruff")
    if found is not None:
        return found, "project environment"
    own = own_tool_argv("ruff")
    return (own, "bundled with exec-auto") if own is not None else None


def fix_lint(
    env: Environment,
    files: list[str],
    timeout: float,
    regions: Regions | None = None,
    *,
    error_only: bool = False,
    tool: ToolInfo | None = None,
    reformat: Formatter | None = None,
) -> LintPass | tuple[GateResult, int]:
    """Record the violations, then apply ruff's fixes; a final result when there is nothing to do."""
    if not files:
        return GateResult(
            "ruff", True, "Ruff: Not applicable (no Python files touched)", skipped=True
        ), 0
    found = ruff_argv(env)
    if found is None:
        return GateResult("ruff", True, "Ruff: not available", skipped=True), 0
    ruff = found[0]
    flags = ERROR_CLASS_FLAGS if error_only else ()
    first = _check(env, ruff, files, timeout, "--no-fix", *flags)
    if isinstance(first, GateResult):
        return first, 0
    duration = first[1]
    if not error_only:  # error-class rules have no fixes worth applying unasked
        for path in files:
            fixed = _fix_one(env, ruff, path, timeout, regions, reformat)
            if isinstance(fixed, GateResult):
                return fixed, 0
            duration += fixed
    return LintPass(ruff, first[0], duration, flags, tool)


def _fix_one(
    env: Environment,
    ruff: list[str],
    path: str,
    timeout: float,
    regions: Regions | None,
    reformat: Formatter | None = None,
) -> float | GateResult:
    """ruff's fixes for one file, computed on stdin and kept only on the step's lines.

    A fix can leave layout behind (blank lines where an import was): the fixed text goes through
    the project's formatter once more before the edits are kept.
    """
    target = env.repo_root / path
    try:
        original = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 0.0
    fix = run_tool(
        env,
        [*ruff, "check", "--fix-only", "--exit-zero", "--stdin-filename", path, "-"],
        timeout=timeout,
        stdin_text=original,
    )
    if not fix.ok:
        failure = _tool_failure("ruff check --fix", fix, timeout)
        return GateResult("ruff", False, "Ruff: could not run", findings=(failure,))
    fixed, duration = fix.stdout, fix.duration
    if reformat is not None and fixed and fixed != original:
        again = run_tool(env, reformat.stdin_argv(path), timeout=timeout, stdin_text=fixed)
        duration += again.duration
        if again.ok and again.stdout:
            fixed = again.stdout
    kept = keep_edits_in(original, fixed, regions.lines(path) if regions else None)
    if kept != original and fixed:
        target.write_text(kept, encoding="utf-8")
    return duration


def _check(
    env: Environment, ruff: list[str], files: list[str], timeout: float, *flags: str
) -> tuple[list[Violation], float] | GateResult:
    result = run_tool(
        env,
        [*ruff, "check", "--output-format", "json", "--force-exclude", *flags, *files],
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
    regions: Regions | None = None,
) -> tuple[GateResult, int]:
    """Check what remains (after formatting, so line numbers are final); the result and fix count.

    Violations outside the lines the step changed (regions) are not the step's. Without regions,
    before gives a touched file's content before the step (None for a new file): violations it
    already had, by rule and message, are pre-existing.
    """
    if not isinstance(first, LintPass):
        return first
    checked = _check(env, first.ruff, files, timeout, "--no-fix", *first.flags)
    if isinstance(checked, GateResult):
        return checked, 0
    remaining, duration = checked
    if regions is not None:
        old = {i for i, v in enumerate(remaining) if not regions.covers(v.path, v.row)}
    elif before is not None and remaining:
        old = _pre_existing(env, first.ruff, remaining, before, timeout)
    else:
        old = set()
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
    label = "Ruff (error-class rules only)" if first.flags else "Ruff"
    result = GateResult(
        name="ruff",
        passed=not new,
        summary=f"{label}: " + (", ".join(parts) if parts else "No issues"),
        auto_actions=actions,
        findings=tuple(_findings(remaining, old)),
        duration=first.duration + duration,
        tool=first.tool,
    )
    return result, fixed


def lint_gate(
    env: Environment,
    files: list[str],
    timeout: float,
    before: Callable[[str], str | None] | None = None,
    regions: Regions | None = None,
    *,
    error_only: bool = False,
) -> tuple[GateResult, int]:
    """Lint `files` with auto-fixes; the gate result and the number of fixed violations."""
    first = fix_lint(env, files, timeout, regions, error_only=error_only)
    return finish_lint(env, files, timeout, first, before, regions)
