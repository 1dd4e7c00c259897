"""Safety policy shared by every agent backend: files stay in the repository, commands keep work.

A tripwire for a well-meaning model that goes astray, not a sandbox. `resolve_inside` keeps file
tools inside the repository (symlinks followed, `.git/` off limits for writes); `check_command`
refuses shell commands that destroy uncommitted work, modify files outside the repository, run as
another user or pipe a download into a shell. A destructive target the guard cannot evaluate (a
variable, a substitution) is refused too: the model gets the reason and can say it plainly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from exec_auto.agents.guard_shell import Parsed, Segment, has_placeholder, parse
from exec_auto.errors import ExecAutoError

_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish", "busybox"})
_INTERPRETERS = _SHELLS | {"python", "python3", "perl", "ruby", "node", "php"}
_DOWNLOADERS = frozenset({"curl", "wget"})
_OTHER_USER = frozenset({"sudo", "su", "doas", "pkexec", "runuser"})
_MACHINE = frozenset({"shutdown", "reboot", "halt", "poweroff", "ssh", "scp", "sftp"})
# Commands that modify every operand (after options).
_MODIFY_ALL = frozenset(
    {"rm", "rmdir", "unlink", "shred", "mv", "touch", "mkdir", "truncate", "tee"}
)
# Commands whose first operand is a mode/owner, the rest files.
_MODIFY_AFTER_FIRST = frozenset({"chmod", "chown", "chgrp"})
_MODIFY_LAST = frozenset({"cp", "ln", "install", "rsync"})
# Options that consume the next word, so it is not mistaken for a file operand.
_VALUE_OPTIONS = {
    "truncate": {"-s", "-r", "--size", "--reference"},
    "mkdir": {"-m", "--mode"},
    "touch": {"-d", "-t", "-r", "--date", "--reference"},
    "install": {"-m", "-o", "-g", "--mode", "--owner", "--group"},
    "sed": {"-e", "-f", "--expression", "--file", "-l"},
}
# Wrappers that run the rest of their words as a command.
_WRAPPERS = frozenset({"nohup", "time", "command", "exec", "builtin", "nice", "stdbuf", "xargs"})
# Shell words that introduce the command after them (`for ...; do rm x; done`).
_KEYWORDS = frozenset({"!", "{", "}", "do", "then", "else", "elif", "if", "while", "until"})
_FLAGS_WITHOUT_VALUE = frozenset({"-i", "-0", "-r", "-p", "-t", "-x"})
_SAFE_DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd/")
_MAX_DEPTH = 8


class OutsideRepoError(ExecAutoError):
    """A path an agent asked for resolves outside the repository, or into .git/ for a write."""


def resolve_inside(repo_root: Path, path: str | Path, *, write: bool = True) -> Path:
    """The resolved path (relative to repo_root or absolute), or OutsideRepoError if it escapes."""
    root = repo_root.resolve()
    try:
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = root / candidate
        # resolve() follows symlinks through the deepest existing parent, dangling ones included.
        resolved = candidate.resolve()
    except (OSError, RuntimeError) as exc:
        raise OutsideRepoError(f"cannot resolve {path}: {exc}", path=str(path)) from exc
    if not resolved.is_relative_to(root):
        shown = f"{path} is" if str(path) == str(resolved) else f"{path} resolves to {resolved},"
        raise OutsideRepoError(
            f"{shown} outside the repository {root}",
            hint="agents may only touch files inside the repository",
        )
    if write and _in_git_dir(resolved, root):
        raise OutsideRepoError(
            f"{path} is inside .git/", hint="agents change the repository only through git"
        )
    return resolved


def check_command(command: str, repo_root: Path) -> str | None:
    """A one-line reason to refuse the shell command, or None when it may run."""
    root = repo_root.resolve()
    return _check_text(command, _State(root=root, cwd=root), depth=0)


@dataclass
class _State:
    root: Path
    # None once a `cd` went somewhere the guard cannot follow.
    cwd: Path | None
    pipeline_downloads: bool = False


def _check_text(text: str, state: _State, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return "command nests shells too deeply to check"
    try:
        parsed = parse(text)
    except ValueError as exc:
        return f"cannot parse the command ({exc})"
    for inner in parsed.substitutions:
        reason = _check_text(inner, _State(state.root, state.cwd), depth + 1)
        if reason:
            return reason
    for segment in parsed.segments:
        reason = _check_segment(segment, parsed, state, depth)
        if reason:
            return reason
    return None


def _check_segment(segment: Segment, parsed: Parsed, state: _State, depth: int) -> str | None:
    if not segment.piped:
        state.pipeline_downloads = False
    for target in segment.writes:
        reason = _check_target("redirection", target, state, write_only=True)
        if reason:
            return reason
    words = _strip_wrappers(segment.words)
    if not words:
        return None
    program, args = os.path.basename(words[0]), words[1:]
    lifted = [text for word in words for text in parsed.lifted(word)]
    runs_text = program in _SHELLS | {"eval", "source", "."} or has_placeholder(words[0])
    if runs_text and any(_mentions_download(text) for text in lifted):
        return f"{program} would run a downloaded script"
    piped_script = segment.piped and state.pipeline_downloads and _reads_stdin_script(program, args)
    if piped_script:
        return f"piping a download into {program} runs unreviewed code"
    if program in _DOWNLOADERS:
        state.pipeline_downloads = True
    if program in _SHELLS:
        for body in (text for h in segment.heredocs for text in parsed.lifted(h)):
            reason = _check_text(body, _State(state.root, state.cwd), depth + 1)
            if reason:
                return reason
    return _check_program(program, args, state, depth)


def _check_program(program: str, args: list[str], state: _State, depth: int) -> str | None:
    if program in _OTHER_USER:
        return f"{program} runs commands as another user"
    if program in _MACHINE or program.startswith("mkfs"):
        return f"{program} affects the machine beyond the repository"
    if program in ("cd", "pushd"):
        state.cwd = _follow_cd(args, state)
        return None
    if program == "popd":
        state.cwd = None
        return None
    if program == "git":
        return _check_git(args)
    script_at = _shell_script_index(args) if program in _SHELLS else None
    if script_at is not None:
        return _check_text(args[script_at], _State(state.root, state.cwd), depth + 1)
    if program == "eval":
        return _check_text(" ".join(args), state, depth + 1)
    return _check_file_operands(program, args, state)


def _check_file_operands(program: str, args: list[str], state: _State) -> str | None:
    targets: list[str] = []
    options, operands = _split_options(program, args)
    if program in _MODIFY_ALL:
        targets = operands
    elif program in _MODIFY_AFTER_FIRST:
        targets = operands if any(o.startswith("--reference") for o in options) else operands[1:]
    elif program in _MODIFY_LAST:
        directory = _target_directory(args)
        targets = [directory] if directory else operands[-1:] if len(operands) > 1 else []
    elif program == "sed" and any(o.startswith(("-i", "--in-place")) for o in options):
        has_script_option = any(o in ("-e", "-f", "--expression", "--file") for o in options)
        targets = operands if has_script_option else operands[1:]
    elif program == "dd":
        targets = [a.removeprefix("of=") for a in args if a.startswith("of=")]
    elif program == "find" and ("-delete" in args or _find_execs_removal(args)):
        targets = _find_start_points(args)
    for target in targets:
        reason = _check_target(program, target, state, write_only=program not in ("rm", "mv"))
        if reason:
            return reason
    return None


def _check_target(program: str, word: str, state: _State, *, write_only: bool) -> str | None:
    """Refuse a modification of `word` unless it is a file inside the repository."""
    if word in ("", "-") or word.startswith(_SAFE_DEVICES):
        return None
    path = _expand(word, state)
    if path is None:
        return f"{program} target {word!r} cannot be checked (variable, substitution or cd)"
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return f"{program} target {word!r} cannot be resolved"
    if not resolved.is_relative_to(state.root):
        return f"{program} would modify {resolved}, outside the repository"
    if not write_only and (resolved == state.root or _in_git_dir(resolved, state.root)):
        return f"{program} would remove {'the repository' if resolved == state.root else '.git'}"
    return None


def _expand(word: str, state: _State) -> Path | None:
    """The path a word names, or None when it depends on something the guard cannot evaluate."""
    home = str(Path.home())
    for prefix in ("$HOME", "${HOME}"):
        if word == prefix or word.startswith(prefix + "/"):
            word = home + word[len(prefix) :]
    for prefix in ("$PWD", "${PWD}"):
        if (word == prefix or word.startswith(prefix + "/")) and state.cwd is not None:
            word = str(state.cwd) + word[len(prefix) :]
    if "$" in word or has_placeholder(word):
        return None
    try:
        path = Path(word).expanduser()
    except RuntimeError:
        return None
    if path.is_absolute():
        return path
    return None if state.cwd is None else state.cwd / path


def _follow_cd(args: list[str], state: _State) -> Path | None:
    operands = [a for a in args if not a.startswith("-")]
    if not operands:
        return Path.home()
    path = _expand(operands[0], state)
    try:
        return None if path is None else path.resolve()
    except (OSError, RuntimeError):
        return None


def _check_git(args: list[str]) -> str | None:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        takes_value = args[i] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace")
        i += 2 if takes_value else 1
    if i >= len(args):
        return None
    sub, rest = args[i], args[i + 1 :]
    flags = {a for a in rest if a.startswith("-")}
    if sub == "push":
        return "git push sends work off this machine"
    if sub == "reset" and flags & {"--hard", "--merge", "--keep"}:
        return "git reset --hard discards uncommitted work"
    if sub == "clean" and not any(f == "--dry-run" or _short_flag(f, "n") for f in flags):
        return "git clean deletes untracked files"
    if sub == "checkout" and (
        flags & {"-f", "--force", "-p", "--patch"}
        or "." in rest
        or ("--" in rest and rest.index("--") < len(rest) - 1)
    ):
        return "git checkout of paths discards uncommitted changes"
    if sub == "restore" and not (flags & {"-S", "--staged"} and not flags & {"-W", "--worktree"}):
        return "git restore discards uncommitted changes"
    if sub == "stash" and (not rest or rest[0] not in ("list", "show")):
        return "git stash hides uncommitted work from the run"
    if sub == "switch" and flags & {"-f", "--force", "--discard-changes"}:
        return "git switch --discard-changes discards uncommitted changes"
    if sub == "branch" and ("-D" in flags or (flags & {"-d", "--delete"} and "--force" in flags)):
        return "git branch -D deletes unmerged work"
    return None


def _strip_wrappers(words: list[str]) -> list[str]:
    """Drop `VAR=value` prefixes and wrappers like env, nohup, timeout, xargs."""
    i = 0
    while i < len(words):
        word, name = words[i], os.path.basename(words[i])
        if word in _KEYWORDS or ("=" in word and not word.startswith("-") and word[0] != "="):
            i += 1
        elif name == "env" or name in _WRAPPERS:
            i += 1
            while i < len(words) and words[i].startswith("-"):
                # Options like `-n 10`, `-u NAME`, `-I {}` take a value; over-skipping is harmless.
                i += 2 if len(words[i]) == 2 and words[i] not in _FLAGS_WITHOUT_VALUE else 1
        elif name == "timeout":
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in ("-s", "-k") else 1
            i += 1  # the duration
        else:
            break
    return words[i:]


def _split_options(program: str, args: list[str]) -> tuple[list[str], list[str]]:
    options: list[str] = []
    operands: list[str] = []
    takes_value = _VALUE_OPTIONS.get(program, set())
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            operands.extend(args[i + 1 :])
            break
        if arg.startswith("-") and arg != "-":
            options.append(arg)
            if arg in takes_value and i + 1 < len(args):
                options.append(args[i + 1])
                i += 1
        else:
            operands.append(arg)
        i += 1
    return options, operands


def _shell_script_index(args: list[str]) -> int | None:
    """Where the script of `bash -c SCRIPT` (or `-lc`, `-ec`, ...) is, if given."""
    for i, arg in enumerate(args[:-1]):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return i + 1
    return None


def _target_directory(args: list[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg == "-t" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--target-directory="):
            return arg.split("=", 1)[1]
    return None


def _find_start_points(args: list[str]) -> list[str]:
    points = []
    for arg in args:
        if arg.startswith(("-", "(", "!")):
            break
        points.append(arg)
    return points or ["."]


def _find_execs_removal(args: list[str]) -> bool:
    return any(
        a in ("-exec", "-execdir", "-ok") and i + 1 < len(args) and args[i + 1] in ("rm", "shred")
        for i, a in enumerate(args)
    )


def _reads_stdin_script(program: str, args: list[str]) -> bool:
    """True when an interpreter runs its stdin (`sh`, `bash -s`, `python -`), not a file or -c/-m."""
    if program not in _INTERPRETERS:
        return False
    if any(a in ("-c", "-m", "-e", "-E") for a in args):
        return program in _SHELLS and "-s" in args
    operands = [a for a in args if not a.startswith("-")]
    return not operands or "-" in args or (program in _SHELLS and "-s" in args)


def _mentions_download(text: str) -> bool:
    return any(os.path.basename(w) in _DOWNLOADERS for w in text.split())


def _short_flag(flag: str, letter: str) -> bool:
    return flag.startswith("-") and not flag.startswith("--") and letter in flag[1:]


def _in_git_dir(path: Path, root: Path) -> bool:
    relative = path.relative_to(root).parts
    return bool(relative) and relative[0] == ".git"
