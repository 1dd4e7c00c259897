"""The PreToolUse hook Claude Code runs before each file or shell tool call: the guard's verdict.

Claude Code's own permission rules do not stop a write outside its working directory when edits
are auto-accepted, so every Read/Write/Edit/Glob/Grep/Bash call is checked here first. Claude Code
runs `python -m exec_auto.agents.claude_hook --repo R --log L` with the call as JSON on stdin; a
denial is printed as Claude Code's hook JSON and appended to L, which the backend turns into
incidents. Anything unexpected denies the call (fail closed): the model just gets told why.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from exec_auto.agents.guard import OutsideRepoError, check_command, resolve_inside

# Tool -> (input key naming its file or directory, whether the tool writes there).
_PATH_KEYS: dict[str, tuple[str, bool]] = {
    "Write": ("file_path", True),
    "Edit": ("file_path", True),
    "MultiEdit": ("file_path", True),
    "NotebookEdit": ("notebook_path", True),
    "Read": ("file_path", False),
    "Glob": ("path", False),
    "Grep": ("path", False),
    "LS": ("path", False),
}
CHECKED_TOOLS = (*_PATH_KEYS, "Bash")
_GLOB_CHARS = "*?[{"


def decide(tool: str, tool_input: dict[str, Any], repo_root: Path) -> str | None:
    """Why the tool call must not run, or None to let it through."""
    if tool == "Bash":
        command = tool_input.get("command")
        if not isinstance(command, str):
            return "Bash call without a command"
        return check_command(command, repo_root)
    if tool not in _PATH_KEYS:
        return None
    key, write = _PATH_KEYS[tool]
    paths = [tool_input.get(key)]
    if tool == "Glob":
        paths.append(_static_prefix(str(tool_input.get("pattern") or "")))
    for path in paths:
        if path in (None, ""):
            continue
        if not isinstance(path, str):
            return f"{tool}: {key} must be a string"
        try:
            resolve_inside(repo_root, path, write=write)
        except OutsideRepoError as exc:
            return exc.message
    return None


def describe(tool: str, tool_input: dict[str, Any]) -> str:
    """What the call was aimed at, for the incident log."""
    if tool == "Bash":
        return str(tool_input.get("command", ""))[:300]
    key = _PATH_KEYS.get(tool, ("file_path", False))[0]
    return str(tool_input.get(key) or tool_input.get("pattern") or "")


def _static_prefix(pattern: str) -> str | None:
    """The directory part of an absolute or `..` glob before its first wildcard."""
    if not pattern.startswith(("/", "~", "..")):
        return None
    cut = min((pattern.find(c) for c in _GLOB_CHARS if c in pattern), default=len(pattern))
    return pattern[:cut].rsplit("/", 1)[0] or "/"


def main(argv: list[str] | None = None) -> int:
    """Read one PreToolUse event on stdin; print a deny decision and log it when refused."""
    parser = argparse.ArgumentParser(prog="exec_auto.agents.claude_hook")
    parser.add_argument("--repo", required=True, type=Path)
    parser.add_argument("--log", required=True, type=Path)
    args = parser.parse_args(argv)
    tool, tool_use_id = "?", None
    tool_input: dict[str, Any] = {}
    try:
        event = json.load(sys.stdin)
        tool = str(event.get("tool_name", "?"))
        tool_input = event.get("tool_input") or {}
        tool_use_id = event.get("tool_use_id")
        reason = decide(tool, tool_input, args.repo)
    except Exception as exc:  # the boundary: a guard that crashes must still say no
        reason = f"the exec-auto guard failed ({type(exc).__name__}: {exc})"
    if reason is None:
        return 0
    record = {
        "tool": tool,
        "target": describe(tool, tool_input),
        "reason": reason,
        "id": tool_use_id,
    }
    with args.log.open("a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")
    decision = {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": f"exec-auto refused this: {reason}",
    }
    print(json.dumps({"hookSpecificOutput": decision}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
