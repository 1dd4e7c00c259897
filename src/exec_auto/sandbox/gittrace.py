"""git commands run inside the sandbox that tried to change the repository's git state and failed.

`.git/` is read-only in the sandbox, so `git stash -u`, `git reset --hard`, `git commit` by an agent
(or by a test it wrote) fail - some of them silently (`git stash -u` prints nothing and exits 1).
To log each attempt anyway, every contained command gets `GIT_TRACE2_EVENT` pointing at a folder
only the sandbox run owns: git itself then writes one JSON-lines file per process with its argv,
its resolved command name, errors and exit code. After each agent call and gate run the executor
collects the top-level git processes whose command changes git state and that did not exit 0.

This is an explanatory layer, like the pattern guard: a program that clears the variable is not
traced, but its writes still fail (the kernel refuses them) and what did change is caught by the
git-state guard.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# Subcommands that write git state in every form (refs, index, objects, config, stash, work tree).
_ALWAYS = frozenset(
    {
        "add", "am", "checkout", "cherry-pick", "clean", "commit", "fetch", "filter-branch", "gc",
        "init", "maintenance", "merge", "mv", "pack-refs", "prune", "pull", "push", "rebase",
        "repack", "replace", "reset", "restore", "revert", "rm", "switch", "update-index",
        "update-ref", "submodule", "read-tree", "commit-tree", "write-tree",
    }
)  # fmt: skip
# Subcommands whose first word decides: a listing reads, anything else writes.
_READ_VERBS = {
    "stash": {"list", "show"},
    "worktree": {"list"},
    "notes": {"list", "show"},
    "reflog": {"show"},
    "remote": {"show", "get-url", "-v", "--verbose"},
}
_CONFIG_WRITES = frozenset(
    {
        "--unset", "--unset-all", "--add", "--replace-all", "--rename-section",
        "--remove-section", "--edit", "-e",
    }
)  # fmt: skip
_LIST_FLAGS = frozenset({"-l", "--list", "-a", "--all", "-r", "--remotes", "--show-current"})
# Global options of git that take a separate value (`git -C dir stash`).
_VALUE_OPTIONS = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"})
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class GitAttempt:
    """One git process that tried to change git state and failed."""

    argv: tuple[str, ...]
    code: int
    error: str

    def line(self) -> str:
        """One sentence for the progress file."""
        shown = " ".join(self.argv)[:300]
        return (
            f"`{shown}` (exit {self.code}) tried to change the repository's git state; .git/ is "
            "read-only in the sandbox, so nothing changed"
        )


def is_state_write(command: str, args: list[str]) -> bool:
    """True when `git <command> <args>` changes git state (refs, index, config, stash, hooks)."""
    if command in _ALWAYS:
        return True
    positional = [a for a in args if not a.startswith("-")]
    if command in _READ_VERBS:
        first = args[0] if args else "list"
        return first not in _READ_VERBS[command]
    if command == "config":
        reads = any(a.startswith("--get") or a in ("-l", "--list") for a in args)
        return any(a in _CONFIG_WRITES for a in args) or (len(positional) >= 2 and not reads)
    if command in ("branch", "tag"):
        if any(
            a in _LIST_FLAGS or a.startswith(("--contains", "--merged", "--sort")) for a in args
        ):
            return False
        return bool(positional) or any(a in ("-d", "-D", "-m", "-M", "-f") for a in args)
    if command == "symbolic-ref":
        return len(positional) >= 2 or "-d" in args or "--delete" in args
    return False


def _subcommand(argv: list[str]) -> tuple[str, list[str]]:
    """git's subcommand and its arguments, past git's own global options."""
    index = 1
    while index < len(argv):
        word = argv[index]
        if word in _VALUE_OPTIONS:
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return word, argv[index + 1 :]
    return "", []


def collect(folder: Path) -> list[GitAttempt]:
    """The failed git-state writes traced in folder since the last call (their files are removed)."""
    attempts: list[GitAttempt] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return attempts
    for name in names:
        path = folder / name
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        done, exited = _read(lines)
        if not done:
            continue  # still running (or killed before it could say): looked at again next time
        path.unlink(missing_ok=True)
        if exited is not None and exited.code != 0 and len(attempts) < MAX_ATTEMPTS:
            command, args = _subcommand(list(exited.argv))
            if is_state_write(exited.name or command, args):
                attempts.append(exited)
    return attempts


@dataclass(frozen=True)
class _Exited(GitAttempt):
    name: str = ""


def _read(lines: list[str]) -> tuple[bool, _Exited | None]:
    """Whether the traced process ended; if it was a top-level git, its argv, name, error, code."""
    argv: list[str] = []
    name, error, code = "", "", None
    ended = False
    for raw in lines:
        try:
            event = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        ended = ended or kind in ("exit", "atexit")
        if "/" in str(event.get("sid", "")):
            continue  # a child git process: its parent is the one the agent ran
        if kind == "start" and isinstance(event.get("argv"), list):
            argv = [str(a) for a in event["argv"]]
        elif kind == "cmd_name" and isinstance(event.get("name"), str):
            name = event["name"].split("/")[0]
        elif kind == "error" and not error:
            error = str(event.get("msg", ""))[:300]
        elif kind in ("exit", "atexit") and isinstance(event.get("code"), int):
            code = int(event["code"])
    if not argv or code is None:
        return ended, None
    return ended, _Exited(tuple(argv), code, error, name)
