"""The one subprocess helper: explicit argv, cwd, env, stdin from /dev/null, group-killing timeouts.

Every tool, agent CLI and git call goes through `run`, so an interrupted exec-auto can kill every
child it started (`kill_all`), and a timed-out command never leaves grandchildren behind.

Containment hooks in here too: `run(..., sandbox=sb)` runs the command inside a
`exec_auto.sandbox.Sandbox`; without the argument a command inherits the sandbox of the enclosing
`sandbox_scope` (the executor opens one around a run, so every gate, verify command and tool is
contained without knowing it). exec-auto's own bookkeeping (an argv starting with `git`) never
inherits it; a caller can still pass a sandbox explicitly, or `sandbox=None` to run outside.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import itertools
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from exec_auto.names import file_name
from exec_auto.streams import DEFAULT_OUTPUT_CAP, CappedOutput, LineCallback, StreamSink

if TYPE_CHECKING:
    from exec_auto.sandbox import Sandbox

_live: set[subprocess.Popen[bytes]] = set()
# The mark every child of this exec-auto carries in its environment (see reap_strays).
OWNER_VAR = "EXEC_AUTO_OWNER"
_OWNER = f"{os.getpid()}-{secrets.token_hex(6)}"
# This process's mark (the value of OWNER_VAR its children carry); the run lock records it.
OWNER = _OWNER
_PR_SET_CHILD_SUBREAPER = 36
_subreaper = False
_live_lock = threading.Lock()

# Commands started other than exec-auto's own git (see commands_started).
_commands = itertools.count()
_commands_seen = 0

# How long a process group gets between SIGTERM and SIGKILL.
_TERM_GRACE_SECONDS = 2.0
__all__ = ["DEFAULT_OUTPUT_CAP", "CappedOutput", "ProcResult", "run"]
_READ_CHUNK = 65536
# How long to wait for the pipes after the command ended (a daemon may hold them open).
_DRAIN_SECONDS = 5.0


class _Inherit(enum.Enum):
    INHERIT = "inherit"


# `run(sandbox=INHERIT)` (the default): use the enclosing sandbox_scope's sandbox, if any.
INHERIT = _Inherit.INHERIT
_scope: contextvars.ContextVar[Sandbox | None] = contextvars.ContextVar(
    "exec_auto_sandbox", default=None
)


@contextlib.contextmanager
def sandbox_scope(sandbox: Sandbox | None) -> Iterator[None]:
    """Commands run in this block (in this thread) without an explicit sandbox use `sandbox`."""
    token = _scope.set(sandbox)
    try:
        yield
    finally:
        _scope.reset(token)


def current_sandbox() -> Sandbox | None:
    """The sandbox of the enclosing sandbox_scope (None outside one, or with --sandbox off)."""
    return _scope.get()


@dataclass(frozen=True)
class Truncated:
    """A stream that printed more than exec-auto keeps in memory, and where more of it is."""

    command: str
    stream: str
    total: int
    log: Path | None

    def line(self) -> str:
        """One sentence for the progress file."""
        where = f"; more of it is in {self.log}" if self.log else ""
        return (
            f"`{self.command[:200]}` printed {self.total / 1e6:.1f} MB on {self.stream}: "
            f"exec-auto kept the first and last {DEFAULT_OUTPUT_CAP // (1024 * 1024)} MB in memory{where}"
        )


@dataclass
class OutputFolder:
    """Where the commands of one scope write their output logs, and which ones overflowed."""

    folder: Path
    truncated: list[Truncated] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prefix(self, label: str) -> Path:
        """A fresh file prefix for one command: NNNN-label, numbered across the whole process."""
        with _log_lock:
            number = next(_log_numbers)
        return self.folder / file_name(f"{number:04d}", label[:60])

    def note(self, item: Truncated) -> None:
        """Remember an overflowing stream (the executor logs it as an issue)."""
        with self._lock:
            self.truncated.append(item)

    def drain(self) -> list[Truncated]:
        """The overflows noted since the last drain."""
        with self._lock:
            items, self.truncated = self.truncated, []
        return items


# Log files are numbered in start order across every scope, so two scopes never share a name.
_log_numbers = itertools.count(1)
_log_lock = threading.Lock()
_outputs: contextvars.ContextVar[OutputFolder | None] = contextvars.ContextVar(
    "exec_auto_outputs", default=None
)


@contextlib.contextmanager
def output_scope(folder: Path | OutputFolder | None) -> Iterator[OutputFolder | None]:
    """Commands run in this block (in this thread) stream their output into log files in folder.

    exec-auto's own git calls never write logs; a command can still pass `log_to` explicitly.
    """
    scope = OutputFolder(folder) if isinstance(folder, Path) else folder
    token = _outputs.set(scope)
    try:
        yield scope
    finally:
        _outputs.reset(token)


def current_outputs() -> OutputFolder | None:
    """The enclosing output_scope's folder (None outside one)."""
    return _outputs.get()


@dataclass(frozen=True)
class ProcResult:
    """What a finished (or killed) command did."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    # The log files the streams went to (None: no log, or nothing printed) and their full sizes.
    stdout_log: Path | None = None
    stderr_log: Path | None = None
    stdout_bytes: int = 0
    stderr_bytes: int = 0

    @property
    def ok(self) -> bool:
        """True when the command exited 0 within its timeout."""
        return self.returncode == 0 and not self.timed_out

    @property
    def output(self) -> str:
        """stdout and stderr together, for logs and agent feedback."""
        return (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip()


def run(
    argv: Sequence[str] | str,
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    shell: bool = False,
    extra_env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    sandbox: Sandbox | _Inherit | None = INHERIT,
    writable: Sequence[Path] = (),
    output_cap: int = DEFAULT_OUTPUT_CAP,
    log_to: Path | _Inherit | None = INHERIT,
    on_line: LineCallback | None = None,
) -> ProcResult:
    """Run a command to completion; on timeout kill its whole process group and mark timed_out.

    stdin is /dev/null (nothing ever waits for a person) unless stdin_text gives the whole input.

    In a sandbox (given, or inherited from `sandbox_scope`) the command sees only the allowlisted
    part of `env` plus `extra_env`, and may write only the repository and `writable` (folders the
    caller needs results in, e.g. a pytest plugin's report folder).

    stdout and stderr are read as they come and kept bounded (`CappedOutput`: the first and last
    `output_cap` bytes of each), so a command printing gigabytes costs exec-auto a few MB. Each
    stream also goes to a log file `<log_to>.stdout.log` / `.stderr.log` (its start, redacted, then
    its kept end; see `exec_auto.streams.LogFile`): by default a fresh prefix in the enclosing
    `output_scope`, none outside one or for exec-auto's own git. on_line(stream, line) sees every
    line as it arrives ("stdout"/"stderr"), for parsers that must not miss the middle.

    A command that cannot be started (missing executable) returns returncode 127 and the OS error
    in stderr instead of raising, so callers log it like any other failure.
    """
    if shell:
        assert isinstance(argv, str), "shell commands are given as one string"
        popen_args: Sequence[str] | str = argv
        shown: tuple[str, ...] = ("sh", "-c", argv)
    else:
        assert not isinstance(argv, str), "argv must be a sequence unless shell=True"
        popen_args = list(argv)
        shown = tuple(argv)
    source_env = os.environ if env is None else env
    # exec-auto's own git calls (snapshots, history, status) are bookkeeping that must write
    # .git: an inherited sandbox never applies to them; agents' and gates' shells still get it.
    own_git = not isinstance(popen_args, str) and Path(popen_args[0]).name == "git"
    contained: Sandbox | None
    if not isinstance(sandbox, _Inherit):
        contained = sandbox
    else:
        contained = None if own_git else current_sandbox()
    scope = current_outputs() if not own_git else None
    prefix: Path | None
    if isinstance(log_to, _Inherit):
        prefix = scope.prefix(_label(popen_args)) if scope is not None else None
    else:
        prefix = log_to
    if contained is not None:
        argv_list = (
            ["/bin/sh", "-c", popen_args] if isinstance(popen_args, str) else list(popen_args)
        )
        popen_args, full_env = contained.command(
            argv_list, Path(cwd or Path.cwd()), source_env, extra_env, writable
        )
        shell = False
    else:
        full_env = dict(source_env)
        if extra_env:
            full_env.update(extra_env)
    if not own_git:
        global _commands_seen
        _commands_seen = next(_commands) + 1
    # Every descendant carries this mark, so strays that escape their group are found (reap_strays).
    full_env[OWNER_VAR] = _OWNER
    start = time.monotonic()
    # Started and registered under the lock: reap_strays never sees a child not yet in _live.
    with _live_lock:
        try:
            proc = subprocess.Popen(
                popen_args,
                cwd=cwd,
                env=full_env,
                shell=shell,
                stdin=subprocess.DEVNULL if stdin_text is None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            duration = time.monotonic() - start
            return ProcResult(shown, 127, "", f"{type(exc).__name__}: {exc}", duration)
        _live.add(proc)
    lock = threading.Lock()
    out, err = (
        StreamSink(
            name,
            output_cap,
            None if prefix is None else prefix.with_name(f"{prefix.name}.{name}.log"),
            on_line,
            lock,
            Path(cwd) if cwd is not None else Path.cwd(),
        )
        for name in ("stdout", "stderr")
    )
    try:
        timed_out = _communicate(
            proc, out, err, None if stdin_text is None else stdin_text.encode("utf-8"), timeout
        )
    finally:
        with _live_lock:
            _live.discard(proc)
    for sink in (out, err):
        sink.close()
        if sink.memory.dropped and scope is not None:
            scope.note(Truncated(" ".join(shown), sink.name, sink.memory.total, sink.log_path))
    return ProcResult(
        shown,
        proc.returncode if proc.returncode is not None else -9,
        out.text(),
        err.text(),
        time.monotonic() - start,
        timed_out,
        stdout_log=out.log_path,
        stderr_log=err.log_path,
        stdout_bytes=out.memory.total,
        stderr_bytes=err.memory.total,
    )


def commands_started() -> int:
    """How many commands this process has started other than its own git calls.

    Unchanged between two moments: nothing exec-auto ran (agent, gate, tool) can have written a
    file in between (the snapshotter reuses its last tree on that evidence).
    """
    return _commands_seen


def _communicate(
    proc: subprocess.Popen[bytes],
    out: StreamSink,
    err: StreamSink,
    stdin_data: bytes | None,
    timeout: float | None,
) -> bool:
    """Feed stdin, read stdout and stderr into their sinks until the command is done; timed out?

    One poll loop in the calling thread (no reader threads: a short git call costs ~0.7 ms less).
    A pidfd (Linux 5.3+) wakes the loop the moment the child exits; elsewhere it polls every
    50 ms. The poll also returns every 50 ms so a Ctrl-C reaches Python's handler promptly when
    this runs outside the main thread. On timeout the whole group is killed and its output read
    to the end. After the child exits, pipes an escaped grandchild still holds open are read
    for `_DRAIN_SECONDS` at most, then closed.
    """
    assert proc.stdout is not None and proc.stderr is not None
    sinks = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    poller = select.poll()
    for fd in sinks:
        poller.register(fd, select.POLLIN)
    stdin_fd, pending = -1, memoryview(stdin_data or b"")
    if proc.stdin is not None:
        stdin_fd = proc.stdin.fileno()
        os.set_blocking(stdin_fd, False)
        poller.register(stdin_fd, select.POLLOUT)
    try:
        pidfd = os.pidfd_open(proc.pid)
        poller.register(pidfd, select.POLLIN)
    except (AttributeError, OSError):
        pidfd = -1
    deadline = None if timeout is None else time.monotonic() + timeout
    drain_until: float | None = None
    timed_out = False
    try:
        while True:
            now = time.monotonic()
            if drain_until is None and proc.poll() is not None:
                drain_until = now + _DRAIN_SECONDS
            if drain_until is not None and not sinks and stdin_fd < 0:
                break
            if drain_until is not None and now >= drain_until:
                break  # an escaped grandchild holds the pipes: what it prints later is lost
            if drain_until is None and deadline is not None and now >= deadline:
                timed_out, deadline = True, None
                _kill_group(proc)
                continue
            wait = 0.05 if drain_until is None else min(drain_until - now, 0.05)
            if drain_until is None and deadline is not None:
                wait = min(wait, max(deadline - now, 0))
            for fd, _ in poller.poll(wait * 1000):
                if fd == pidfd:
                    poller.unregister(pidfd)
                elif fd == stdin_fd:
                    try:
                        written = os.write(fd, pending[:_READ_CHUNK])
                    except BlockingIOError:
                        continue
                    except OSError:  # the command closed its stdin (BrokenPipe): stop feeding
                        written = len(pending)
                    pending = pending[written:]
                    if not pending:
                        poller.unregister(fd)
                        _close(proc.stdin)
                        stdin_fd = -1
                elif fd in sinks:
                    try:
                        chunk = os.read(fd, _READ_CHUNK)
                    except OSError:
                        chunk = b""
                    if chunk:
                        sinks[fd].add(chunk)
                    else:
                        poller.unregister(fd)
                        del sinks[fd]
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM turned into KeyboardInterrupt): never leave the child behind.
        _kill_group(proc)
        raise
    finally:
        if pidfd >= 0:
            os.close(pidfd)
        for stream in (proc.stdout, proc.stderr, proc.stdin):
            _close(stream)
        if proc.returncode is None:
            proc.wait()
    return timed_out


def _close(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


def _label(args: Sequence[str] | str) -> str:
    """A short name for a command's log files: its program's name."""
    words = args.split() if isinstance(args, str) else list(args)
    for word in words:
        word = word.lstrip("({!")
        if word and "=" not in word:  # skip `VAR=value` prefixes of a shell command
            return Path(word).name or "command"
    return "command"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still there after a grace period."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + _TERM_GRACE_SECONDS
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    finally:
        # Also on a second Ctrl-C/SIGTERM during the grace period: that one must not save the
        # group from SIGKILL. Kill it even when the leader exited: its children may still run.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def kill_all() -> None:
    """Kill every child process group still running (used on SIGINT/SIGTERM).

    All groups get SIGTERM at once and share one grace period; SIGKILL follows for every group
    even if another interrupt arrives meanwhile.
    """
    with _live_lock:
        procs = [p for p in _live if p.poll() is None]
    groups = []
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            groups.append(os.getpgid(proc.pid))
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + _TERM_GRACE_SECONDS
    try:
        while time.monotonic() < deadline and any(p.poll() is None for p in procs):
            time.sleep(0.05)
    finally:
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        # Daemons that left their group (setsid) were re-parented here: kill them too.
        reap_strays()


def become_subreaper() -> bool:
    """Make orphaned descendants (a `setsid` daemon whose parent exited) children of exec-auto.

    Linux only (prctl PR_SET_CHILD_SUBREAPER); then `reap_strays` can find and kill them even
    without a sandbox's PID namespace. True when it worked.
    """
    global _subreaper
    if _subreaper or not sys.platform.startswith("linux"):
        return _subreaper
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        _subreaper = False
    return _subreaper


def reap_strays() -> list[int]:
    """Kill every process exec-auto started that outlived its command; the PIDs killed.

    A stray is a child of this process (orphans are re-parented here, see `become_subreaper`)
    that carries this process's mark and is not a command still running.
    """
    killed: list[int] = []
    if not sys.platform.startswith("linux"):
        return killed
    me, mark = os.getpid(), f"{OWNER_VAR}={_OWNER}".encode()
    for _ in range(20):  # killing a stray re-parents its children here: repeat until none
        with _live_lock:
            live = {p.pid for p in _live}
            found = [pid for pid in _children(me) if pid not in live and _has_mark(pid, mark)]
            for pid in found:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        for pid in found:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)
        killed += found
        if not found:
            break
    return killed


def _children(parent: int) -> list[int]:
    try:
        text = Path(f"/proc/{parent}/task/{parent}/children").read_text()
        direct = [int(p) for p in text.split()]
    except OSError:
        direct = []
    # Threads each have their own children list; orphans land on the main thread's.
    try:
        tasks = [int(t) for t in os.listdir(f"/proc/{parent}/task") if int(t) != parent]
    except OSError:
        tasks = []
    for task in tasks:
        with contextlib.suppress(OSError, ValueError):
            direct += [
                int(p) for p in Path(f"/proc/{parent}/task/{task}/children").read_text().split()
            ]
    return direct


def _has_mark(pid: int, mark: bytes) -> bool:
    try:
        return mark in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def git(*args: str, cwd: Path, timeout: float = 60) -> ProcResult:
    """Run git with a stable, non-interactive environment."""
    return run(
        ["git", *args],
        cwd=cwd,
        timeout=timeout,
        extra_env={"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"},
        # exec-auto's own bookkeeping: never contained (it must see and write .git).
        sandbox=None,
    )
