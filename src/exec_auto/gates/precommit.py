"""The project's `.pre-commit-config.yaml`, run through the real pre-commit on the step's files.

Its pinned hooks judge, not exec-auto's tools. Hook edits are kept only where they touch lines the
step changed; problems a hook prints as `path:line: message` outside those lines are not the step's.
pre-commit clones hook repositories on first use; when it cannot (offline, sandboxed, fetch
failure) the gate says so and runs the same tools from the project's environment as `repo: local`
hooks, but only at the version the config pins. A hook that is neither fetchable nor installed at
its pin is a gate_error, never judged by another version.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from exec_auto import tempdirs
from exec_auto.errors import ExecAutoError
from exec_auto.gates.base import Finding, GateResult, ToolInfo
from exec_auto.gates.changes import keep_edits_in
from exec_auto.gates.environment import Environment
from exec_auto.gates.linters import Problem, gate_error, parse_problems
from exec_auto.gates.paths import clip, plural, relative
from exec_auto.gates.tools import run_tool
from exec_auto.safe_read import CONFIG_LIMIT, read_limited

CONFIG = ".pre-commit-config.yaml"
# Hook id -> (module in the project's environment, entry arguments) for the offline fallback.
FALLBACK_HOOKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ruff": ("ruff", ("check", "--force-exclude")),
    "ruff-check": ("ruff", ("check", "--force-exclude")),
    "ruff-format": ("ruff", ("format", "--force-exclude")),
    "black": ("black", ()),
    "flake8": ("flake8", ()),
    "isort": ("isort", ()),
    "mypy": ("mypy", ()),
}
# pre-commit's words for a hook whose executable is missing ("Executable `ruff` not found").
_NOT_FOUND = re.compile(r"Executable `[^`]+` not found")
_FETCH_FAILED = ("Could not resolve host", "unable to access", "git', 'fetch'", "git', 'clone'")


@dataclass
class HookOutput:
    """One hook's section of pre-commit's output."""

    name: str
    status: str
    hook_id: str = ""
    modified: bool = False
    lines: list[str] = field(default_factory=list)


def parse_output(text: str) -> list[HookOutput]:
    """pre-commit's `name....Passed|Failed|Skipped` sections with their hook ids and output."""
    hooks: list[HookOutput] = []
    for line in text.splitlines():
        stripped = line.rstrip()
        for status in ("Passed", "Failed", "Skipped"):
            if stripped.endswith(status) and "..." in stripped:
                name = stripped[: -len(status)].replace("(no files to check)", "")
                hooks.append(HookOutput(name.rstrip(". ").strip(), status))
                break
        else:
            if not hooks:
                continue
            current = hooks[-1]
            if stripped.startswith("- hook id:"):
                current.hook_id = stripped.split(":", 1)[1].strip()
            elif stripped == "- files were modified by this hook":
                current.modified = True
            elif not stripped.startswith("- exit code:"):
                current.lines.append(line)
    return hooks


def _pin(rev: str) -> str:
    return rev.removeprefix("v")


def load_config(repo_root: Path) -> dict[str, Any] | None:
    """The pre-commit config as data (None when it cannot be read)."""
    from ruamel.yaml import YAML

    try:
        # Bounded, regular files only: a FIFO in its place would block `show` and every run.
        raw = read_limited(repo_root / CONFIG, limit=CONFIG_LIMIT, what=CONFIG)
        data = YAML(typ="safe").load(raw.decode("utf-8"))
    except Exception:  # an unreadable config is reported by pre-commit itself
        return None
    return data if isinstance(data, dict) else None


def local_fallback(env: Environment, config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The config with remote hooks replaced by the project's own tools at their pinned versions.

    Returns the new config and one line per hook that could not be replaced (tool missing, or
    installed at another version than the pin).
    """
    missing: list[str] = []
    repos: list[dict[str, Any]] = []
    for repo in config.get("repos") or []:
        if not isinstance(repo, dict):
            continue
        url = str(repo.get("repo", ""))
        if url in ("local", "meta"):
            repos.append(repo)
            continue
        rev = _pin(str(repo.get("rev", "")))
        hooks = []
        for hook in repo.get("hooks") or []:
            hook_id = str(hook.get("id", ""))
            known = FALLBACK_HOOKS.get(hook_id)
            if known is None:
                missing.append(f"{hook_id} ({url}@{rev}): no offline equivalent")
                continue
            module, args = known
            version = env.version(module)
            if not env.has_module(module) or version != rev:
                have = f"{module} {version}" if version else f"no {module}"
                missing.append(
                    f"{hook_id} pinned at {rev} ({url}); the project's environment has {have}"
                )
                continue
            argv = env.module_argv(module) or []
            local = {k: v for k, v in hook.items() if k not in ("additional_dependencies",)}
            local.update(
                {
                    "name": str(hook.get("name") or hook_id),
                    "entry": shlex.join([*argv, *args]),
                    "language": "system",
                }
            )
            local.setdefault("types_or", ["python", "pyi"])
            hooks.append(local)
        if hooks:
            repos.append({"repo": "local", "hooks": hooks})
    return {**config, "repos": repos}, missing


def hook_tools(env: Environment, config: dict[str, Any] | None = None) -> list[ToolInfo]:
    """Each configured hook: its id, the version that judges and where that comes from.

    A remote hook is judged by the rev its repository is pinned at; a `repo: local` hook by the
    tool its entry names, at the version the project's environment has.
    """
    config = config if config is not None else load_config(env.repo_root)
    out: list[ToolInfo] = []
    for repo in (config or {}).get("repos") or []:
        if not isinstance(repo, dict):
            continue
        url = str(repo.get("repo", ""))
        for hook in repo.get("hooks") or []:
            if not isinstance(hook, dict):
                continue
            hook_id = str(hook.get("id", ""))
            if url == "meta":
                out.append(ToolInfo(hook_id, "", f"pre-commit meta hook; {CONFIG}"))
            elif url == "local":
                entry = str(hook.get("entry", ""))
                module = _entry_module(entry)
                version = env.version(module) if module else ""
                where = f"{module} from the project environment" if version else "its entry"
                language = hook.get("language", "")
                out.append(
                    ToolInfo(
                        hook_id, version, f"repo: local ({language}), {where}; {CONFIG}", entry
                    )
                )
            else:
                rev = _pin(str(repo.get("rev", "")))
                out.append(ToolInfo(hook_id, rev, f"pinned in {CONFIG}, {url}"))
    return out


def _entry_module(entry: str) -> str:
    """The probed tool a local hook's entry runs ('ruff check' and '.venv/bin/ruff' -> 'ruff')."""
    from exec_auto.gates.environment import PROBED_MODULES

    try:
        words = shlex.split(entry)
    except ValueError:
        return ""
    for word in words[:3]:
        name = Path(word).name.replace("-", "_")
        if name in PROBED_MODULES and name not in ("pip", "pytest"):
            return name
    return ""


def hooks_line(hooks: list[ToolInfo]) -> str:
    """'hooks: ruff-check 0.16.0, black 22.3.0' for the pre-commit gate's tool line."""
    shown = [f"{h.tool} {h.version}".strip() for h in hooks]
    return "hooks: " + ", ".join(shown) if shown else "no hooks"


def _pre_commit_argv(env: Environment) -> tuple[list[str], ToolInfo]:
    found = env.module_argv("pre_commit")
    if found is not None:
        return found, ToolInfo(
            "pre-commit", env.version("pre_commit"), f"project environment; {CONFIG}"
        )
    from importlib import metadata

    return [sys.executable, "-m", "pre_commit"], ToolInfo(
        "pre-commit", metadata.version("pre-commit"), f"bundled with exec-auto; {CONFIG}"
    )


@dataclass(frozen=True)
class PreCommitGate:
    """pre-commit's hooks on the files the step touched."""

    name: str = "pre-commit"

    def run(self, ctx: Any) -> GateResult:
        """Run the hooks; keep their edits on the step's lines; judge what they print."""
        env: Environment = ctx.env
        files = sorted(
            {relative(env.repo_root, f) for f in ctx.touched if (env.repo_root / f).is_file()}
        )
        if not files:
            return GateResult(
                self.name, True, "pre-commit: Not applicable (no files touched)", skipped=True
            )
        argv, tool = _pre_commit_argv(env)
        tool = replace(tool, source=f"{tool.source}; {hooks_line(hook_tools(env))}")
        originals = {f: _read(env.repo_root / f) for f in files}
        scratch = tempdirs.make("pre-commit")
        try:
            home = {"PRE_COMMIT_HOME": str(scratch / "cache")} if not _has_cache() else {}
            run = [*argv, "run", "--color", "never", "--files", *files]
            result = run_tool(env, run, timeout=ctx.timeout, extra_env=home, writable=[scratch])
            notes: list[str] = []
            if result.returncode == 3 and any(s in result.output for s in _FETCH_FAILED):
                result, notes, missing = self._offline(env, ctx, argv, files, scratch, home)
                if result is None:
                    return gate_error(
                        self.name,
                        "pre-commit could not fetch its hook repositories (offline?) and the pinned"
                        " tools are not in the project's environment",
                        "\n".join(missing),
                    )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if result.timed_out:
            return gate_error(
                self.name, f"pre-commit timed out after {ctx.timeout:g}s", clip(result.output)
            )
        if result.returncode not in (0, 1):
            return gate_error(
                self.name,
                f"pre-commit could not run (exit {result.returncode})",
                clip(result.output),
            )
        return _judge(env, ctx, files, originals, result.output, tool, notes, result.duration)

    def _offline(
        self,
        env: Environment,
        ctx: Any,
        argv: list[str],
        files: list[str],
        scratch: Path,
        home: dict[str, str],
    ) -> tuple[Any, list[str], list[str]]:
        from ruamel.yaml import YAML

        config = load_config(env.repo_root)
        if config is None:
            return None, [], ["the pre-commit config could not be read"]
        local, missing = local_fallback(env, config)
        if missing:
            return None, [], missing
        path = scratch / "offline-pre-commit-config.yaml"
        with path.open("w", encoding="utf-8") as out:
            YAML(typ="safe").dump(local, out)
        run = [*argv, "run", "--color", "never", "-c", str(path), "--files", *files]
        result = run_tool(env, run, timeout=ctx.timeout, extra_env=home, writable=[scratch])
        judged = hooks_line([h for h in hook_tools(env, local) if h.version])
        note = (
            "pre-commit could not fetch its hook repositories (offline): ran the same tools from"
            f" the project's environment at the pinned versions ({judged})"
        )
        return result, [note], []


def _has_cache() -> bool:
    return (Path.home() / ".cache" / "pre-commit").is_dir()


def _read(path: Path) -> str | None:
    try:
        return read_limited(path, limit=CONFIG_LIMIT, what=path.name).decode("utf-8")
    except (OSError, UnicodeDecodeError, ExecAutoError):
        return None


def _judge(
    env: Environment,
    ctx: Any,
    files: list[str],
    originals: dict[str, str | None],
    output: str,
    tool: ToolInfo,
    notes: list[str],
    duration: float,
) -> GateResult:
    """Keep hook edits on the step's lines, and judge the problems hooks printed."""
    regions = ctx.regions
    changed: list[str] = []
    for rel in files:
        original, now = originals[rel], _read(env.repo_root / rel)
        if original is None or now is None or now == original:
            continue
        lines = regions.lines(rel) if regions is not None and rel.endswith(".py") else None
        kept = keep_edits_in(original, now, lines)
        if kept != now:
            (env.repo_root / rel).write_text(kept, encoding="utf-8")
        if kept != original:
            changed.append(rel)
    findings: list[Finding] = []
    actions: list[str] = []
    failed = 0
    for hook in parse_output(output):
        if hook.status != "Failed":
            continue
        problems = parse_problems("\n".join(hook.lines), env)
        label = hook.hook_id or hook.name
        if hook.modified and not problems:
            if changed:
                actions.append(f"pre-commit hook {label} fixed {', '.join(changed)}")
            continue
        if not problems and any(_NOT_FOUND.search(line) for line in hook.lines):
            # The hook's tool is missing: a check that could not run, never a style problem.
            failed += 1
            findings.append(
                Finding(
                    type="gate_error",
                    severity="high",
                    description=f"pre-commit hook {label} could not run: its executable is missing",
                    details=clip("\n".join(hook.lines)),
                    agent_fixable=False,
                )
            )
            continue
        if not problems:
            failed += 1
            findings.append(
                Finding(
                    type="lint_error",
                    severity="medium",
                    description=f"pre-commit hook {label} failed",
                    details=clip("\n".join(hook.lines)),
                )
            )
            continue
        findings.extend(_problem_finding(label, p, regions, tool) for p in problems)
        failed += sum(1 for f in findings if not f.pre_existing)
    mine = [f for f in findings if not f.pre_existing]
    parts = [f"{plural(len(mine), 'problem')} on the step's lines"] if mine else []
    old = len(findings) - len(mine)
    if old:
        parts.append(f"{old} pre-existing")
    if changed:
        parts.append(f"hooks fixed {plural(len(changed), 'file')}")
    summary = "pre-commit: " + (", ".join(parts) if parts else "all hooks passed")
    if notes:
        summary += " (offline: the project's own tools at the pinned versions)"
    return GateResult(
        "pre-commit",
        passed=not mine,
        summary=summary,
        auto_actions=(*notes, *actions),
        findings=tuple(findings),
        duration=duration,
        tool=tool,
        formatted=len(changed),
    )


def _problem_finding(label: str, p: Problem, regions: Any, tool: ToolInfo) -> Finding:
    ours = regions is None or regions.covers(p.path, p.row)
    where = f"{p.path}:{p.row}" + (f":{p.column}" if p.column else "")
    rule = f" (rule {p.code})" if p.code else ""
    return Finding(
        type="lint_error",
        severity="medium",
        description=f"{label}: {p.message} ({where})",
        details=f"{where}: {p.message}{rule}\nreported by pre-commit hook {label} ({tool.describe()})",
        pre_existing=not ours,
    )
