"""The bubblewrap backend: mount namespaces for the filesystem, PID and network namespaces.

The same mechanism Claude Code and Codex use on Linux. Mount order matters - a later mount covers an
earlier one - so the argv is built from the widest to the narrowest rule: the whole filesystem
read-only, then hidden places replaced by empty ones, then the exposed paths punched back through
them, then the repository writable, then its read-only parts, then the private writable folders.
/tmp stays visible read-only like the rest (the private TMPDIR is where temp files go); its
sockets (ssh-agent, tmux, X11) are among the hidden places.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from exec_auto.sandbox.backend import Probe
from exec_auto.sandbox.policy import SandboxPolicy

_PROBE_TIMEOUT = 20.0
# Only these command-line options, always: what the probe proves is what every command gets.
_BASE = ("--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--new-session")


class BwrapBackend:
    """bubblewrap (`bwrap`), found on PATH."""

    name = "bwrap"
    contains_processes = True
    isolates_network = True

    def __init__(self, executable: str | None = None) -> None:
        # EXEC_AUTO_BWRAP names another bwrap binary ("" means none: run as if not installed).
        override = os.environ.get("EXEC_AUTO_BWRAP")
        if executable is None and override is not None:
            executable = override or None
            self.executable = executable if executable is None else shutil.which(executable)
        else:
            self.executable = executable or shutil.which("bwrap")
        self._probe: Probe | None = None

    def probe(self) -> Probe:
        """bwrap exists and runs `true` with every namespace a real command will get."""
        if self._probe is None:
            self._probe = self._try()
        return self._probe

    def _try(self) -> Probe:
        if not sys.platform.startswith("linux"):
            return Probe(False, f"bubblewrap needs Linux (this is {sys.platform})")
        if self.executable is None:
            return Probe(
                False, "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
            )
        true = shutil.which("true") or "/bin/true"
        argv = [
            self.executable,
            *_BASE,
            "--unshare-net",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--",
            true,
        ]
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_PROBE_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Probe(False, f"bwrap could not be started: {exc}")
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            why = detail[-1] if detail else f"exit {done.returncode}"
            return Probe(
                False, f"bwrap cannot create namespaces here ({why}); user namespaces disabled?"
            )
        return Probe(True)

    def wrap(self, policy: SandboxPolicy, argv: Sequence[str], cwd: Path) -> list[str]:
        """bwrap's argv for one command; see the module docstring for the mount order."""
        assert self.executable is not None, "wrap() after a failed probe"
        out = [self.executable, *_BASE]
        if not policy.network:
            out.append("--unshare-net")
        out += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        inside = [p for p in policy.hidden if p.is_relative_to(policy.root)]
        for path in policy.hidden:
            if path not in inside:
                out += _hide(path)
        for path in policy.exposed:
            if os.path.lexists(path):
                out += ["--ro-bind", str(path), str(path)]
        out += ["--bind", str(policy.root), str(policy.root)]
        for path in policy.readonly:
            if os.path.lexists(path):
                out += ["--ro-bind", str(path), str(path)]
        for path in inside:
            out += _hide(path)
        for path in (policy.home, policy.tmp, *policy.writable):
            if path.exists():
                out += ["--bind", str(path), str(path)]
        out += ["--chdir", str(cwd), "--", *argv]
        return out


def _hide(path: Path) -> list[str]:
    """Mounts that make path look empty: a folder becomes an empty tmpfs, a file /dev/null."""
    # A symlink is hidden at its target: a mount on the link itself would land there anyway.
    path = path.resolve()
    if not path.exists():
        return []
    if path.is_dir():
        return ["--tmpfs", str(path)]
    return ["--ro-bind", "/dev/null", str(path)]


def create() -> BwrapBackend:
    """The registry's factory."""
    return BwrapBackend()
