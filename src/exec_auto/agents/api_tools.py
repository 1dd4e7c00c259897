"""The pydantic-ai face of the repository tools, and the detector for a model stuck in a loop.

`tool_set` wraps each `RepoTools` method as a pydantic-ai `Tool` whose docstring is the schema the
model sees. Mistakes and refusals go back to the model as text (so they cost no tool retries);
every call first passes the `RepeatDetector`, which ends the run when the model makes the same call
`REPEAT_LIMIT` times in a row.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from exec_auto.agents.tools import RepoTools, ToolError
from exec_auto.redact import redact

if TYPE_CHECKING:
    from pydantic_ai import Tool

# The same tool with the same arguments this many times in a row is a loop, not progress.
REPEAT_LIMIT = 5


class RepeatedToolCall(Exception):
    """The model made the same tool call REPEAT_LIMIT times in a row."""


@dataclass
class RepeatDetector:
    """Counts identical consecutive tool calls and stops the run when they reach `limit`."""

    limit: int = REPEAT_LIMIT
    _last: tuple[str, str] | None = None
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, tool: str, arguments: Mapping[str, object]) -> None:
        """Record one call; raise RepeatedToolCall when it is the limit-th identical one in a row."""
        key = (tool, json.dumps(arguments, sort_keys=True, default=str))
        with self._lock:
            self._count = self._count + 1 if key == self._last else 1
            self._last = key
            count = self._count
        if count >= self.limit:
            raise RepeatedToolCall(f"the model called {tool} {key[1]} {count} times in a row")


def tool_set(
    tools: RepoTools, repeats: RepeatDetector, *, read_only: bool = False
) -> list[Tool[None]]:
    """The pydantic-ai tools over `tools`; mistakes and refusals come back to the model as text.

    read_only (for judging acceptance criteria) leaves out every tool that can change files.
    """
    from pydantic_ai import Tool

    def call(name: str, fn: Callable[..., str], **arguments: Any) -> str:
        repeats.note(name, arguments)
        try:
            # No tool output carries a secret to the model (a key in a file, a .env value).
            return redact(fn(**arguments), repo_root=tools.root)
        except ToolError as exc:
            return f"error: {exc}"
        except (OSError, UnicodeError) as exc:
            return f"error: {type(exc).__name__}: {exc}"

    def read_file(path: str, offset: int = 1, limit: int = 0) -> str:
        """Read a text file.

        Args:
            path: File path relative to the repository root.
            offset: First line to return, counting from 1.
            limit: How many lines to return; 0 for up to 2000.
        """
        return call("read_file", tools.read_file, path=path, offset=offset, limit=limit or None)

    def write_file(path: str, content: str) -> str:
        """Create a file, or replace its whole content; parent directories are created.

        Args:
            path: File path relative to the repository root.
            content: The complete new content of the file.
        """
        return call("write_file", tools.write_file, path=path, content=content)

    def edit_file(path: str, old_string: str, new_string: str, replace_all: bool = False) -> str:
        """Replace an exact piece of text in a file; it must occur exactly once unless replace_all.

        Args:
            path: File path relative to the repository root.
            old_string: The exact text to replace, whitespace and indentation included.
            new_string: The text to put in its place.
            replace_all: Replace every occurrence instead of requiring exactly one.
        """
        return call(
            "edit_file",
            tools.edit_file,
            path=path,
            old_string=old_string,
            new_string=new_string,
            replace_all=replace_all,
        )

    def list_files(pattern: str = "", path: str = ".") -> str:
        """List the repository's files (ignored files left out), optionally filtered by a glob.

        Args:
            pattern: A glob such as '*.py' or 'src/**/test_*.py'; empty for every file.
            path: Directory to list, relative to the repository root.
        """
        return call("list_files", tools.list_files, pattern=pattern, path=path)

    def grep(pattern: str, path: str = ".", glob: str = "", ignore_case: bool = False) -> str:
        """Search file contents with a regular expression; prints file:line: text.

        Args:
            pattern: A Python regular expression.
            path: File or directory to search, relative to the repository root.
            glob: Only search files matching this glob, such as '*.py'.
            ignore_case: Match without regard to case.
        """
        return call(
            "grep", tools.grep, pattern=pattern, path=path, glob=glob, ignore_case=ignore_case
        )

    def run_command(command: str, timeout: float = 0) -> str:
        """Run a shell command in the repository root; returns the exit code and the output.

        Args:
            command: The shell command line.
            timeout: Seconds before the command is killed; 0 for the default (600).
        """
        return call("run_command", tools.run_command, command=command, timeout=timeout or None)

    functions: tuple[Callable[..., str], ...] = (
        (read_file, list_files, grep)
        if read_only
        else (read_file, write_file, edit_file, list_files, grep, run_command)
    )
    # Sequential: calls in one turn act on the same files, so they run in the order given.
    return [Tool(f, takes_ctx=False, sequential=True) for f in functions]
