"""Find processes by an environment variable: PIDs inside a sandbox's PID namespace differ."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path


def alive_with_env(name: str, value: str) -> list[int]:
    """Host PIDs of live (non-zombie) processes whose environment has name=value."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in {"Z", "X"} and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def wait_gone(name: str, value: str, seconds: float = 5.0) -> list[int]:
    """Wait up to `seconds` for every such process to end; the ones still alive."""
    deadline = time.monotonic() + seconds
    alive = alive_with_env(name, value)
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = alive_with_env(name, value)
    return alive


def kill_at_marker(
    argv: list[str], cwd: Path, marker: Path, behaviour: Path, env: dict[str, str] | None = None
) -> int:
    """Start argv, kill -9 it once the scripted agent has written marker, end the orphaned agent.

    The agent is found by its behaviour file (inside a sandbox its PID is another one); returns
    the killed process's pid.
    """
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    for pid in alive_with_env("SCRIPT_AGENT_BEHAVIOUR", str(behaviour)):
        with contextlib.suppress(ProcessLookupError):  # it may be ending by itself (or with bwrap)
            os.kill(pid, 9)
    return proc.pid
