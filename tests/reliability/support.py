"""Shared pieces of the reliability tests: a cheap project copy, file fingerprints, CLI calls.

A committed template project is built once per session and copied per case (a copy costs a few
milliseconds, `git init` + commit ten times more). `fingerprint` records every file's bytes and
mode (the .git folder included, exec-auto's own scratch dir `.git/exec-auto` excluded), so a case
can assert that bad input left the user's files and git state byte-identical.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import make_project

TICKET = Path("specs") / "tickets" / "feature-x"


def build_template(root: Path) -> Path:
    """A committed project with a three-step ticket `feature-x` and a second ticket `other`."""
    root.mkdir(parents=True)
    make_project(root)
    other = root / "specs" / "tickets" / "other"
    other.mkdir(parents=True)
    (other / "plan.md").write_text(
        "# Plan: Other\n\n## Implementation Steps\n\n### Step 1: Only\n\nDo it.\n", encoding="utf-8"
    )
    from tests.conftest import git

    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "second ticket")
    return root


def copy_project(template: Path, dest: Path) -> Path:
    """A copy of the template (git repository included, symlinks kept as links)."""
    shutil.copytree(template, dest, symlinks=True)
    return dest


def fingerprint(root: Path) -> dict[str, tuple[str, int]]:
    """path -> (content hash or link target or kind, mode) for everything under root.

    FIFOs and devices are recorded by kind, never opened; `.git/exec-auto` is exec-auto's scratch
    space and is left out.
    """
    out: dict[str, tuple[str, int]] = {}
    scratch = root / ".git" / "exec-auto"
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == scratch or scratch in here.parents:
            dirnames[:] = []
            continue
        for name in [*filenames, *dirnames]:
            path = here / name
            if path == scratch:
                continue
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link:" + os.readlink(path), 0)
            elif stat.S_ISREG(st.st_mode):
                if st.st_size > 8 * 1024 * 1024:
                    out[rel] = (f"big:{st.st_size}:{st.st_mtime_ns}", st.st_mode)
                else:
                    out[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mode)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", st.st_mode)
            else:
                out[rel] = (f"kind:{stat.S_IFMT(st.st_mode)}", st.st_mode)
    return out


def changed(before: dict[str, tuple[str, int]], after: dict[str, tuple[str, int]]) -> list[str]:
    """Paths added, removed or altered between two fingerprints."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@dataclass
class Outcome:
    """What one CLI call did."""

    code: int
    out: str
    err: str


class _Hang(Exception):
    pass


@contextlib.contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the block takes longer than seconds."""

    def fire(signum: int, frame: object) -> None:
        raise _Hang(f"hung for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def cli(root: Path, *argv: str, timeout: int = 60) -> Outcome:
    """exec-auto's main(argv) in-process from root, with stdout and stderr captured."""
    from exec_auto.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(root)
    try:
        with (
            watchdog(timeout),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                code = main(list(argv))
            except SystemExit as exc:  # argparse errors
                code = int(exc.code or 0)
    finally:
        os.chdir(old)
    return Outcome(code, out.getvalue(), err.getvalue())


def cli_subprocess(root: Path, *argv: str, timeout: int = 60, **kwargs: object) -> Outcome:
    """exec-auto as a real process (exit codes and signals as a user sees them)."""
    result = subprocess.run(
        [sys.executable, "-m", "exec_auto", *argv],
        cwd=root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        **kwargs,  # type: ignore[arg-type]
    )
    return Outcome(result.returncode, result.stdout, result.stderr)


def run_argv(agent_command: str = "true", *extra: str, ticket: str = "feature-x") -> list[str]:
    """argv of a cheap run: the command backend, gates off, no archive."""
    return [
        "run",
        ticket,
        "--agent",
        "command",
        "--agent-command",
        agent_command,
        "--no-gates",
        "--no-archive",
        # The readiness gate (#16) would refuse the corpus' deliberately thin plans.
        "--force",
        *extra,
    ]
