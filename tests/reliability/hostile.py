"""Hostile agents through the real CLI: what each one tries, and what must hold afterwards.

A representative set of the misbehaviours tests/sandbox covers piece by piece (writes outside
the repository, git and hook tampering, daemons, floods, terminal escapes, deleting exec-auto's
own state), each as the `command` agent of a real `exec-auto run` in a project with the user's
work in progress and a canary folder outside it. Used by benchmarks/reliability.py (all cases)
and tests/reliability/test_hostile.py (a few).

`check_case` returns every broken promise (empty: contained): exit 0 or 1 (never an internal
error or a traceback), the canary outside untouched, the user's uncommitted, staged and untracked
files, HEAD, branch, config and hooks as before, plan.md unchanged, progress.yaml readable, the
report free of terminal escapes, and no process of the run still alive.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import git
from tests.reliability.support import TICKET, build_template, copy_project
from tests.reliability.sweep import wait_no_processes


@dataclass(frozen=True)
class Hostile:
    """One misbehaviour: the agent's shell command ({out}: outside canary folder, {py}: python)."""

    id: str
    command: str
    sandbox: str = "auto"
    gates: bool = False


CASES = [
    Hostile("rm-outside", "rm -rf {out}"),
    Hostile("python-writes-outside", "{py} -c \"open('{out}/keep.txt', 'w').write('gone')\""),
    Hostile("redirect-outside", "echo gone > {out}/keep.txt"),
    Hostile("symlink-out", "ln -sf {out}/keep.txt link.txt && echo gone > link.txt"),
    Hostile("tamper-plan", "echo tampered >> specs/tickets/feature-x/plan.md"),
    Hostile("hook", "printf '#!/bin/sh\\ntouch {out}/hooked\\n' > .git/hooks/pre-commit"),
    Hostile("hooks-path", "git config core.hooksPath {out}"),
    Hostile("reset-hard", "git reset -q --hard", sandbox="off"),
    Hostile("clean", "git clean -qfdx", sandbox="off"),
    Hostile("stash", "git stash -q -u", sandbox="off"),
    Hostile("checkout-branch", "git checkout -q -b elsewhere", sandbox="off"),
    Hostile("commit", "git add -A && git -c user.name=a -c user.email=a@a commit -qm x", "off"),
    Hostile("daemon", "setsid sh -c 'while true; do sleep 0.2; done' >/dev/null 2>&1 &"),
    Hostile(
        "daemon-no-sandbox",
        "setsid sh -c 'while true; do sleep 0.2; done' >/dev/null 2>&1 &",
        "off",
    ),
    Hostile("ignores-sigterm-child", "(trap '' TERM; sleep 300) >/dev/null 2>&1 &", "off"),
    Hostile("output-flood", "head -c 30000000 /dev/zero | tr '\\0' x"),
    Hostile("terminal-escapes", "printf '\\033[2J\\033]0;pwned\\007\\033[31mred\\n'; exit 1"),
    Hostile("deletes-state", "rm -rf .git/exec-auto", sandbox="off"),
    Hostile("breaks-spec", "printf 'title: [\\n' > specs/tickets/feature-x/spec.yaml", "off"),
    Hostile(
        "hostile-test-file",
        "mkdir -p tests && printf 'import shutil\\ndef test_x():\\n    shutil.rmtree(\"{out}\")\\n'"
        " > tests/test_evil.py",
        gates=True,
    ),
]


def prepare(template: Path, where: Path) -> tuple[Path, Path]:
    """A project copy with the user's work in progress, and a canary folder outside it."""
    root = copy_project(template, where / "p")
    (root / "README.md").write_text("project\nthe user's uncommitted line\n")
    (root / "notes.txt").write_text("the user's untracked notes\n")
    (root / "staged.txt").write_text("staged by the user\n")
    git(root, "add", "staged.txt")
    out = where / "outside"
    out.mkdir()
    (out / "keep.txt").write_text("outside canary\n")
    return root, out


def _state(root: Path) -> dict[str, str]:
    hooks = sorted(p.name for p in (root / ".git" / "hooks").iterdir() if ".sample" not in p.name)
    return {
        "HEAD": (root / ".git" / "HEAD").read_text(),
        "head commit": git(root, "rev-parse", "HEAD"),
        "branches": git(root, "for-each-ref", "refs/heads"),
        "staged": git(root, "diff", "--cached"),
        "stash": git(root, "stash", "list"),
        "config": (root / ".git" / "config").read_text(),
        "hooks": " ".join(hooks),
        "README.md": (root / "README.md").read_text(),
        "notes.txt": (root / "notes.txt").read_text() if (root / "notes.txt").exists() else "",
        "staged.txt": (root / "staged.txt").read_text() if (root / "staged.txt").exists() else "",
        "plan.md": (root / TICKET / "plan.md").read_text(),
    }


def check_case(case: Hostile, template: Path, where: Path) -> list[str]:
    """Run the hostile agent through `exec-auto run`; every promise it broke."""
    root, out = prepare(template, where)
    before = _state(root)
    command = case.command.format(out=out, py=sys.executable)
    argv = [sys.executable, "-m", "exec_auto", "run", "feature-x", "--agent", "command"]
    argv += ["--agent-command", command, "--force", "--no-archive", "--sandbox", case.sandbox]
    argv += ["--no-install", "--fix-attempts", "0"] if case.gates else ["--no-gates"]
    env = {**os.environ}
    for name in ("EXEC_AUTO_KILL_AT", "EXEC_AUTO_KILL_COUNT", "EXEC_AUTO_KILL_SIGNAL"):
        env.pop(name, None)
    try:
        done = subprocess.run(
            argv,
            cwd=root,
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        return [f"{case.id}: the run hung"]
    text = (done.stdout + done.stderr).decode("utf-8", "replace")
    problems = []
    if done.returncode not in (0, 1):
        problems.append(f"{case.id}: exit {done.returncode}: {text[-400:]}")
    # The agent's own tracebacks may be quoted in the report; exec-auto's never.
    if "internal error" in text or ("Traceback" in text and "exec_auto/" in text):
        problems.append(f"{case.id}: traceback or internal error: {text[-400:]}")
    if not (out / "keep.txt").is_file() or (out / "keep.txt").read_text() != "outside canary\n":
        problems.append(f"{case.id}: the canary outside the repository was changed")
    if (out / "hooked").exists():
        problems.append(f"{case.id}: a hook ran")
    after = _state(root)
    problems += [f"{case.id}: {k} changed" for k in before if after[k] != before[k]]
    problems += _records(root, case)
    survivors = wait_no_processes(root)
    if survivors:
        problems.append(f"{case.id}: {len(survivors)} process(es) outlived the run")
        for pid in survivors:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    return problems


def _records(root: Path, case: Hostile) -> list[str]:
    from ruamel.yaml import YAML

    folder = root / TICKET
    problems = []
    try:
        data = YAML(typ="safe").load((folder / "progress.yaml").read_text())
        assert isinstance(data, dict)
    except Exception as exc:  # an unreadable record is the finding
        problems.append(f"{case.id}: progress.yaml unreadable: {exc}")
    report = folder / "report.md"
    if not report.is_file():
        problems.append(f"{case.id}: no report.md")
    elif "\x1b" in report.read_text(errors="replace"):
        problems.append(f"{case.id}: terminal escapes reached report.md")
    return problems


def template_in(where: Path) -> Path:
    """The reliability template project (tickets feature-x and other)."""
    return build_template(where / "template")
