"""Every case of the bad-input corpus: exit code, message, no traceback, files byte-identical.

Most cases run exec-auto in-process (a watchdog fails a case that would hang). Cases needing a
special environment run the real CLI in a subprocess: an immutable spec (`chattr +i`), a
read-only `.git` (a bubblewrap read-only bind), a full disk (a tiny tmpfs). They are skipped
where the machine cannot provide that environment.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.corpus import TICKET, Case, all_cases
from tests.reliability.support import (
    Outcome,
    changed,
    cli,
    cli_subprocess,
    copy_project,
    fingerprint,
)

CASES = all_cases()
# What a run may write: its ticket folder (progress, reports, spec status) and the archive; with
# gates on, the project's pytest leaves its cache folders as a plain `pytest` run would.
RUN_WRITES = ("specs/tickets/feature-x", "specs/archive", ".pytest_cache", ".benchmarks")


def test_the_corpus_is_large_and_ids_are_unique():
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _run_case(case: Case, root: Path, tmp_path: Path) -> tuple[Outcome, Path]:
    """Run the case's command in the environment it needs; (outcome, project root)."""
    if case.needs is None:
        return cli(root, *case.argv), root
    if case.needs == "immutable":
        try:
            case.setup(root)
        except (OSError, subprocess.CalledProcessError):
            pytest.skip("chattr +i is not available on this file system")
        try:
            return cli_subprocess(root, *case.argv), root
        finally:
            subprocess.run(["chattr", "-i", str(root / TICKET / "spec.yaml")], capture_output=True)
    if case.needs == "readonly-git":
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            pytest.skip("bubblewrap is not installed")
        git = str(root / ".git")
        probe = subprocess.run(
            [bwrap, "--bind", "/", "/", "--dev", "/dev", "--ro-bind", git, git, "true"],
            capture_output=True,
        )
        if probe.returncode != 0:
            pytest.skip(f"bubblewrap cannot run here: {probe.stderr.decode()[:200]}")
        prefix = [bwrap, "--bind", "/", "/", "--dev", "/dev", "--ro-bind", git, git]
        import sys

        result = subprocess.run(
            [*prefix, sys.executable, "-m", "exec_auto", *case.argv],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Outcome(result.returncode, result.stdout, result.stderr), root
    if case.needs == "disk-full":
        raise AssertionError("disk-full cases run in test_disk_full_at_start")
    raise AssertionError(f"unknown need {case.needs}")


@pytest.mark.parametrize("case", [c for c in CASES if c.needs != "disk-full"], ids=lambda c: c.id)
def test_bad_input(case: Case, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    root = copy_project(template, tmp_path / "p")
    if case.needs != "immutable":
        case.setup(root)
    before = fingerprint(root)
    outcome, root = _run_case(case, root, tmp_path)
    text = (outcome.out + outcome.err).lower()
    assert outcome.code == case.code, f"{case.id}: exit {outcome.code}\n{outcome.out}{outcome.err}"
    assert "traceback" not in text and "internal error" not in text, text
    for phrase in case.says:
        assert phrase.lower() in text, f"{case.id}: {phrase!r} not in:\n{outcome.out}{outcome.err}"
    if case.code == 2:
        # One line saying what is wrong, and a hint.
        errors = [line for line in outcome.err.splitlines() if line.startswith("exec-auto: error")]
        usage = outcome.err.startswith("usage:")
        assert usage or (len(errors) == 1 and "hint:" in outcome.err), outcome.err
    after = fingerprint(root)
    if case.unchanged:
        assert changed(before, after) == []
    else:
        # A run that goes ahead writes its ticket's state and reports, and nothing else of the
        # user's (the agent is `true`); the files it must not touch stay byte-identical.
        outside = [p for p in changed(before, after) if not p.startswith(RUN_WRITES)]
        assert outside == [], outside
        for rel in case.kept:
            assert before.get(rel) == after.get(rel), f"{rel} changed"


def test_disk_full_at_start(template: Path, tmp_path: Path):
    case = next(c for c in CASES if c.needs == "disk-full")
    with _tmpfs(tmp_path / f"small-{uuid.uuid4().hex[:6]}", "4m") as disk:
        root = copy_project(template, disk / "p")
        filler = disk / "filler"
        with open(filler, "wb") as handle, contextlib.suppress(OSError):
            while True:  # fill the file system to the last block
                handle.write(b"\0" * 65536)
                handle.flush()
        with contextlib.suppress(OSError), open(disk / "filler2", "wb") as handle:
            while True:
                handle.write(b"\0" * 512)
                handle.flush()
        before = fingerprint(root)
        outcome = cli_subprocess(root, *case.argv)
        after = fingerprint(root)
    text = outcome.out + outcome.err
    assert outcome.code == 2, text
    assert "Traceback" not in text and "internal error" not in text
    assert "disk is full" in text and "hint:" in text
    assert changed(before, after) == []
