"""A command's output as it arrives: bounded in memory, streamed to a log file, fed line by line.

`proc.run` pumps each of a child's streams into one `StreamSink`, which hands every chunk to three
consumers, none of which holds the whole stream:

- `CappedOutput`: the first and last `cap` bytes in memory (what `ProcResult.stdout` shows);
- `LogFile`: the first `head` bytes written to a file as they come, redacted, and at the end a line
  counting what was left out plus the in-memory tail - a flood of 500 MB costs a few MB of disk;
- a line callback (`on_line`) for parsers that need every line (Claude Code's stream-json, the
  sandbox's refusal scanner), with each line cut at `MAX_LINE` bytes.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

# Bytes kept in memory of each stream's start and of its end (the rest is counted, not kept).
DEFAULT_OUTPUT_CAP = 2 * 1024 * 1024
# Bytes of each stream's start written to its log file (the end comes from the memory tail).
DEFAULT_LOG_HEAD = 16 * 1024 * 1024
# A line longer than this reaches a line callback cut, marked as such.
MAX_LINE = 8 * 1024 * 1024
# Redaction runs on complete lines; a longer run without a newline is redacted in pieces that keep
# this many characters back, so a secret shorter than that is never split between two pieces.
_REDACT_CARRY = 1024
_REDACT_CHUNK = 256 * 1024

LineCallback = Callable[[str, str], None]


class CappedOutput:
    """A stream's bytes, bounded: the first and last `cap` bytes kept, what lies between counted.

    500 MB of output costs 2 x cap of memory, and the result still shows how it began and ended.
    """

    def __init__(self, cap: int = DEFAULT_OUTPUT_CAP) -> None:
        self.cap = cap
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0
        self.total = 0

    def add(self, chunk: bytes) -> None:
        """Append one chunk."""
        self.total += len(chunk)
        room = self.cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail += chunk
        excess = len(self._tail) - self.cap
        if excess > 0:
            del self._tail[:excess]
            self.dropped += excess

    @property
    def kept(self) -> int:
        """Bytes held in memory now (never more than 2 x cap)."""
        return len(self._head) + len(self._tail)

    def tail(self) -> bytes:
        """The kept end of the stream (the bytes after the head)."""
        return bytes(self._tail)

    def text(self, where: Path | None = None) -> str:
        """Head, a line saying how much was left out (and where more is kept), tail - decoded leniently."""
        if not self.dropped:
            return (bytes(self._head) + bytes(self._tail)).decode("utf-8", "replace")
        more = f"; the log {where} keeps more" if where is not None else ""
        marker = f"\n[... {self.dropped} bytes of output not kept in memory{more} ...]\n".encode()
        return (bytes(self._head) + marker + bytes(self._tail)).decode("utf-8", "replace")


class LogFile:
    """One stream written to `path` as it arrives: its first `head` bytes, then (at `close`) the tail.

    Secrets are redacted before a byte reaches the disk. The file is created with the first byte
    (a silent command leaves no file) and readable by its owner only.
    """

    def __init__(
        self, path: Path, head: int = DEFAULT_LOG_HEAD, repo_root: Path | None = None
    ) -> None:
        self.path = path
        self.head = head
        self.repo_root = repo_root  # whose .env values are redacted too
        self.written = 0  # raw bytes of the stream that went into the head
        self._file: IO[bytes] | None = None
        self._pending = ""  # text of the head not yet redacted and written
        self._failed = False

    def add(self, chunk: bytes) -> None:
        """Append one chunk (the part beyond the head is left to `close`)."""
        room = self.head - self.written
        if room <= 0 or self._failed:
            return
        part = chunk[:room]
        self.written += len(part)
        self._pending += part.decode("utf-8", "surrogateescape")
        cut = self._pending.rfind("\n") + 1
        if cut:
            self._emit(self._pending[:cut])
            self._pending = self._pending[cut:]
        elif len(self._pending) > _REDACT_CHUNK:
            self._emit_long()

    def close(self, total: int, tail: bytes, tail_start: int) -> Path | None:
        """Finish the file: the unwritten head, a line counting the gap, the kept tail; its path.

        total: the stream's length; tail: its last bytes, which began at offset tail_start.
        """
        if self._failed or (self._file is None and not self._pending and total == 0):
            return None
        end = self.written
        if tail and tail_start + len(tail) > end:
            skip = max(end - tail_start, 0)
            tail = tail[skip:]
            gap = max(tail_start - end, 0)
            if gap:
                self._emit(self._pending)
                self._pending = f"\n[... {gap} bytes of output not kept ...]\n"
            self._pending += tail.decode("utf-8", "surrogateescape")
        self._emit(self._pending, final=True)
        self._pending = ""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
        return None if self._failed else self.path

    def _emit_long(self) -> None:
        """Write all but the last _REDACT_CARRY characters of a long line, redacted."""
        from exec_auto.redact import redact

        clean = redact(self._pending, repo_root=self.repo_root)
        self._write(clean[:-_REDACT_CARRY])
        # Already redacted: the kept part is redacted again with what follows it, harmlessly.
        self._pending = clean[-_REDACT_CARRY:]

    def _emit(self, text: str, *, final: bool = False) -> None:
        from exec_auto.redact import redact

        if text:
            self._write(redact(text, repo_root=self.repo_root))
        elif final and self._file is None:
            self._write("")

    def _write(self, text: str) -> None:
        if self._failed:
            return
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                self._file = os.fdopen(fd, "wb")
            self._file.write(text.encode("utf-8", "surrogateescape"))
        except OSError:
            # A full disk or a deleted folder costs the log, never the command or the run.
            self._failed = True


class _Lines:
    """Splits a stream into lines for a callback; a line longer than MAX_LINE is passed cut."""

    def __init__(self, name: str, callback: LineCallback, lock: threading.Lock) -> None:
        self.name = name
        self.callback = callback
        self.lock = lock
        self._buffer = bytearray()
        self._overflow = False
        self.failed = False

    def add(self, chunk: bytes) -> None:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            self._take(chunk[start:end])
            self._flush()
            start = end + 1
        self._take(chunk[start:])

    def close(self) -> None:
        if self._buffer or self._overflow:
            self._flush()

    def _take(self, part: bytes) -> None:
        room = MAX_LINE - len(self._buffer)
        if len(part) > room:
            self._overflow = True
            part = part[: max(room, 0)]
        self._buffer += part

    def _flush(self) -> None:
        line = self._buffer.decode("utf-8", "replace")
        if self._overflow:
            line += " [... line cut ...]"
        self._buffer = bytearray()
        self._overflow = False
        if self.failed:
            return
        with self.lock:  # stdout's and stderr's pumps never call the callback at once
            try:
                self.callback(self.name, line)
            except Exception:  # a parser's bug must not stop the pump (the child would block)
                self.failed = True


class StreamSink:
    """Everything one stream's chunks go to: memory, log file, line callback."""

    def __init__(
        self,
        name: str,
        cap: int,
        log: Path | None,
        on_line: LineCallback | None,
        lock: threading.Lock,
        repo_root: Path | None = None,
    ) -> None:
        self.name = name
        self.memory = CappedOutput(cap)
        self.log = LogFile(log, repo_root=repo_root) if log is not None else None
        self.lines = _Lines(name, on_line, lock) if on_line is not None else None
        self.log_path: Path | None = None
        # A pump abandoned to an escaped grandchild may still be adding when the command is done.
        self._guard = threading.Lock()
        self._closed = False

    def add(self, chunk: bytes) -> None:
        """One chunk, to every consumer (ignored once closed)."""
        with self._guard:
            if self._closed:
                return
            self.memory.add(chunk)
            if self.log is not None:
                self.log.add(chunk)
            if self.lines is not None:
                self.lines.add(chunk)

    def close(self) -> None:
        """The stream ended (or was abandoned): finish the line split and the log file."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            if self.lines is not None:
                self.lines.close()
            if self.log is not None:
                memory = self.memory
                tail = memory.tail()
                self.log_path = self.log.close(memory.total, tail, memory.total - len(tail))

    def text(self) -> str:
        """The in-memory view of the stream."""
        return self.memory.text(self.log_path if self.memory.dropped else None)
