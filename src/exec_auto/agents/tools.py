"""The file and shell tools an API agent gets, confined to one repository.

Plain methods over a repo root, testable without any model: every path goes through
`guard.resolve_inside` (symlinks followed), every command through `guard.check_command` and then
`proc.run` in the repository. A user mistake (missing file, ambiguous edit) raises `ToolError`, whose
message goes back to the model; a refusal raises `ToolRefused` and is also kept in `incidents`, so
the executor logs it as an issue.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from exec_auto import proc
from exec_auto.agents.guard import OutsideRepoError, check_command, resolve_inside
from exec_auto.redact import redact
from exec_auto.sandbox.denials import DenialScanner

MAX_READ_BYTES = 256 * 1024
MAX_FILE_BYTES = 20 * 1024 * 1024
DEFAULT_READ_LINES = 2000
MAX_LIST_ENTRIES = 1000
MAX_GREP_MATCHES = 200
MAX_GREP_FILE_BYTES = 2 * 1024 * 1024
MAX_LINE_CHARS = 400
DEFAULT_COMMAND_TIMEOUT = 600.0
# Command output kept for the model: the head says what ran, the tail holds the verdict.
OUTPUT_HEAD_CHARS = 4000
OUTPUT_TAIL_CHARS = 8000

# Directories never worth listing when git cannot say what is ignored.
_SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox", ".nox", "dist", "build"}
)  # fmt: skip
# Environment the model's commands must not see: the keys exec-auto itself talks to models with.
_HIDDEN_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY")


if TYPE_CHECKING:
    from exec_auto.sandbox import Sandbox


class ToolError(Exception):
    """A tool call the model got wrong; the message tells it what to do instead."""


class ToolRefused(ToolError):
    """A tool call refused by the safety policy (also recorded as an incident)."""


class RepoTools:
    """read/write/edit/list/grep/run inside `repo_root`, recording every refusal."""

    def __init__(
        self,
        repo_root: Path,
        *,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        deadline: float | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.root = repo_root.resolve()
        # The shell tool's containment: the run's sandbox with the network cut off.
        self.sandbox = sandbox.for_tools() if sandbox is not None else None
        self.command_timeout = command_timeout
        # time.monotonic() value after which no command may still run.
        self.deadline = deadline
        self.incidents: list[str] = []
        # Writes the sandbox refused, seen in run_command output.
        self.denials: list[str] = []
        self._lock = threading.Lock()

    # -- files -----------------------------------------------------------------------------

    def read_file(self, path: str, offset: int = 1, limit: int | None = None) -> str:
        """Lines offset..offset+limit-1 (1-based) of a text file, with a note when more remain."""
        target = self._resolve("read_file", path, write=False)
        if not target.is_file():
            raise ToolError(
                f"{path}: no such file" + (" (it is a directory)" if target.is_dir() else "")
            )
        if target.stat().st_size > MAX_FILE_BYTES:
            raise ToolError(f"{path}: too large to read ({target.stat().st_size} bytes); use grep")
        data = target.read_bytes()
        if b"\0" in data[:8192]:
            raise ToolError(f"{path}: binary file ({len(data)} bytes), not shown")
        lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
        start = max(offset, 1) - 1
        count = DEFAULT_READ_LINES if limit is None or limit <= 0 else limit
        chosen: list[str] = []
        size = 0
        for line in lines[start : start + count]:
            size += len(line)
            if size > MAX_READ_BYTES and chosen:
                break
            chosen.append(line)
        # One giant line (minified code) is cut rather than flooding the context.
        joined = "".join(chosen)
        text = joined[:MAX_READ_BYTES]
        end = start + len(chosen)
        if start == 0 and end >= len(lines) and text == joined:
            return text
        note = f"[lines {start + 1}-{end} of {len(lines)}"
        note += f"; read on with offset={end + 1}]" if end < len(lines) else "]"
        if text and not text.endswith("\n"):
            text += "\n"
        return f"{text}{note}\n"

    def write_file(self, path: str, content: str) -> str:
        """Create or overwrite a file (parent directories included)."""
        target = self._resolve("write_file", path, write=True)
        if target.is_dir():
            raise ToolError(f"{path} is a directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        return f"wrote {len(content.encode('utf-8'))} bytes to {self._rel(target)}"

    def edit_file(
        self, path: str, old_string: str, new_string: str, replace_all: bool = False
    ) -> str:
        """Replace the one exact occurrence of old_string (or every one with replace_all)."""
        target = self._resolve("edit_file", path, write=True)
        if not target.is_file():
            raise ToolError(f"{path}: no such file; use write_file to create it")
        if not old_string:
            raise ToolError("old_string is empty; use write_file to create or replace a whole file")
        if old_string == new_string:
            raise ToolError("old_string and new_string are the same; nothing to change")
        text = target.read_text(encoding="utf-8")
        count = text.count(old_string)
        if count == 0:
            hint = (
                "read the file again and copy the text exactly, whitespace and indentation included"
            )
            raise ToolError(f"old_string not found in {path}; {hint}")
        if count > 1 and not replace_all:
            raise ToolError(
                f"old_string occurs {count} times in {path}; include more surrounding lines to make "
                "it unique, or set replace_all to change every occurrence"
            )
        target.write_text(text.replace(old_string, new_string), encoding="utf-8")
        return f"edited {self._rel(target)}: replaced {count} occurrence{'s' * (count > 1)}"

    def list_files(self, pattern: str = "", path: str = ".") -> str:
        """Files under `path` (git's view: tracked plus untracked, ignored ones left out), filtered by a glob."""
        base = self._resolve("list_files", path, write=False)
        if not base.is_dir():
            raise ToolError(f"{path}: not a directory")
        matcher = glob_matcher(pattern) if pattern else None
        found: list[str] = []
        total = 0
        for rel in self._walk(base):
            if matcher is None or matcher(rel):
                total += 1
                if len(found) < MAX_LIST_ENTRIES:
                    found.append(rel)
        if not found:
            return "no files match"
        more = f"\n... {total - len(found)} more; narrow the pattern" if total > len(found) else ""
        return "\n".join(found) + more

    def grep(self, pattern: str, path: str = ".", glob: str = "", ignore_case: bool = False) -> str:
        """Lines matching a regular expression, as `file:line: text`, at most MAX_GREP_MATCHES."""
        try:
            regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise ToolError(f"invalid regular expression {pattern!r}: {exc}") from exc
        base = self._resolve("grep", path, write=False)
        files = [base] if base.is_file() else None
        if files is None and not base.is_dir():
            raise ToolError(f"{path}: no such file or directory")
        matcher = glob_matcher(glob) if glob else None
        rels = (
            [self._rel(base)]
            if files
            else [r for r in self._walk(base) if not matcher or matcher(r)]
        )
        hits: list[str] = []
        for rel in rels:
            for number, line in _matching_lines(self.root / rel, regex):
                if len(hits) >= MAX_GREP_MATCHES:
                    return (
                        "\n".join(hits)
                        + f"\n... stopped at {MAX_GREP_MATCHES} matches; narrow the search"
                    )
                hits.append(f"{rel}:{number}: {_cut_line(line)}")
        return "\n".join(hits) if hits else "no matches"

    # -- commands --------------------------------------------------------------------------

    def run_command(self, command: str, timeout: float | None = None) -> str:
        """Run a shell command in the repository; exit code plus output cut to head and tail."""
        reason = check_command(command, self.root)
        if reason:
            self._refuse("run_command", command, reason)
        limit = min(timeout or self.command_timeout, self.command_timeout)
        if self.deadline is not None:
            limit = min(limit, self.deadline - time.monotonic())
            if limit <= 0:
                raise ToolError("the step's time is up; no more commands can run")
        env = {k: v for k, v in os.environ.items() if k not in _HIDDEN_ENV}
        scanner = DenialScanner()
        result = proc.run(
            command,
            shell=True,
            cwd=self.root,
            env=env,
            timeout=limit,
            sandbox=self.sandbox,
            on_line=lambda _stream, line: scanner.feed(line),
        )
        output = cut_output(redact(result.output, repo_root=self.root))
        if self.sandbox is not None:
            with self._lock:
                self.denials.extend(scanner.denials())
        if result.timed_out:
            return f"timed out after {limit:.0f} s (process group killed)\n{output}".rstrip()
        return f"exit code {result.returncode}\n{output}".rstrip()

    # -- helpers ---------------------------------------------------------------------------

    def _resolve(self, tool: str, path: str, *, write: bool) -> Path:
        try:
            target = resolve_inside(self.root, path or ".", write=write)
        except OutsideRepoError as exc:
            self._refuse(tool, path, exc.message)
        # What the sandbox hides from commands (.env files) the file tools do not show either.
        hidden = self.sandbox.policy.hidden if self.sandbox is not None else ()
        if any(target == h or target.is_relative_to(h) for h in hidden):
            self._refuse(tool, path, "hidden by the sandbox policy (a .env file)")
        return target

    def _refuse(self, tool: str, argument: str, reason: str) -> NoReturn:
        shown = argument if len(argument) <= 200 else argument[:200] + "..."
        with self._lock:
            self.incidents.append(f"refused {tool} {shown!r}: {reason}")
        raise ToolRefused(f"refused: {reason}")

    def _rel(self, target: Path) -> str:
        return target.relative_to(self.root).as_posix() or "."

    def _walk(self, base: Path) -> Iterator[str]:
        """Repo-relative paths of the files under base, sorted; git decides what is ignored."""
        rel_base = self._rel(base)
        result = proc.git(
            "ls-files", "-co", "--exclude-standard", "-z", "--", rel_base, cwd=self.root
        )
        if result.ok:
            names = sorted({n for n in result.stdout.split("\0") if n})
            yield from (n for n in names if (self.root / n).is_file())
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for name in sorted(filenames):
                yield self._rel(Path(dirpath) / name)


def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate for repo-relative paths: `**` crosses directories, a pattern without `/` matches names."""
    regex = re.compile(_glob_regex(pattern.strip().lstrip("/")))
    if "/" in pattern.strip("/"):
        return lambda rel: regex.fullmatch(rel) is not None
    return lambda rel: regex.fullmatch(rel.rsplit("/", 1)[-1]) is not None


def _glob_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : end].replace("!", "^", 1) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _matching_lines(path: Path, regex: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    try:
        if path.stat().st_size > MAX_GREP_FILE_BYTES:
            return
        data = path.read_bytes()
    except OSError:
        return
    if b"\0" in data[:8192]:
        return
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if regex.search(line):
            yield number, line


def _cut_line(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " ..."


def cut_output(text: str, head: int = OUTPUT_HEAD_CHARS, tail: int = OUTPUT_TAIL_CHARS) -> str:
    """text, or its head and tail around a note saying how much was cut."""
    if len(text) <= head + tail:
        return text
    cut = len(text) - head - tail
    return f"{text[:head]}\n... [{cut} characters cut] ...\n{text[-tail:]}"
