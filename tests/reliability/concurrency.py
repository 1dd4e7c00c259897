"""Concurrency cases as a user meets them: real exec-auto processes at the same time.

Shared by tests/reliability/test_concurrency.py and benchmarks/reliability.py. Each case takes a
fresh copy of the reliability template (ticket `feature-x` with three steps, ticket `other`) and
a scratch folder, and returns every broken promise (empty: the case held):
- `same-ticket-twice`: a second run of a running ticket is refused (exit 2, names the holder) and
  leaves its progress alone; the first run finishes with each step called once;
- `two-tickets-one-tree`: a second ticket in the same work tree is refused before writing;
- `archive-during-run`: `archive` of a running ticket is refused and moves nothing;
- `restore-during-run`: `restore` of an archived ticket while another ticket runs is refused
  (the work tree's lock) or runs cleanly, never half done;
- `restart-same-second`: two `--restart` runs back to back, plus backup names already taken for
  the coming seconds: every earlier progress file survives in a backup of its own, none replaced;
- `show-list-during-run`: `show`, `show --json` and `list` answer while a run holds the lock,
  change no file, and the run is unaffected;
- `worktree-while-main-runs`: the same ticket runs in a linked worktree while the main tree runs
  it; both finish, each in its own tree, with their own step history.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import git
from tests.reliability.support import TICKET, changed, fingerprint

AGENT = Path(__file__).resolve().parents[1] / "helpers" / "script_agent.py"
Case = Callable[[Path, Path], list[str]]


def _agent(work: Path, hold: float) -> str:
    """The scripted agent: every step writes a file; step 1 marks it started and holds.

    It holds until the test creates `release` in work (at most `hold` seconds).
    """
    behaviour = {
        "1": [
            {"marker": str(work / "started")},
            {"wait_for": str(work / "release"), "timeout": hold},
            {"write": "one.txt", "text": "1\n"},
        ],
        "*": [{"write": "more.txt", "text": "more\n"}],
    }
    work.mkdir(parents=True, exist_ok=True)
    (work / "behaviour.json").write_text(json.dumps(behaviour))
    return (
        f"SCRIPT_AGENT_LOG={work / 'calls.jsonl'} "
        f"SCRIPT_AGENT_BEHAVIOUR={work / 'behaviour.json'} {sys.executable} {AGENT}"
    )


def _argv(work: Path, ticket: str = "feature-x", hold: float = 0.0, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "exec_auto",
        "run",
        ticket,
        "--agent",
        "command",
        "--agent-command",
        _agent(work, hold),
        "--no-gates",
        "--force",
        *extra,
    ]


def _env(work: Path) -> dict[str, str]:
    env = {**os.environ, "EXEC_AUTO_SANDBOX_WRITABLE": str(work)}
    for name in ("EXEC_AUTO_KILL_AT", "EXEC_AUTO_KILL_COUNT", "EXEC_AUTO_KILL_SIGNAL"):
        env.pop(name, None)
    return env


def _cli(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exec_auto", *argv],
        cwd=root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=_env(root),
        timeout=120,
    )


class Holder:
    """A run started in the background that is inside step 1's agent call until it ends."""

    def __init__(self, root: Path, work: Path, ticket: str = "feature-x", hold: float = 60.0):
        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        self.proc = subprocess.Popen(
            _argv(work, ticket, hold, "--no-archive"),
            cwd=root,
            env=_env(work),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not (work / "started").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the holding run never started: {self.finish()[1]}")
            time.sleep(0.02)

    def release(self) -> None:
        """Let the agent go on."""
        (self.work / "release").touch()

    def finish(self) -> tuple[int, str]:
        """Let the run go on and wait for it; (exit code, output)."""
        self.release()
        out, _ = self.proc.communicate(timeout=180)
        return self.proc.returncode, out

    def calls(self) -> dict[str, int]:
        """Agent calls per step."""
        log = self.work / "calls.jsonl"
        counts: dict[str, int] = {}
        for line in log.read_text().splitlines() if log.exists() else []:
            step = json.loads(line)["step"]
            counts[step] = counts.get(step, 0) + 1
        return counts


def _finished_cleanly(holder: Holder, name: str) -> list[str]:
    code, out = holder.finish()
    problems = []
    if code not in (0, 1):
        problems.append(f"{name}: the running ticket ended with exit {code}: {out[-400:]}")
    calls = holder.calls()
    if calls != {"1": 1, "2": 1, "3": 1}:
        problems.append(f"{name}: agent calls per step {calls}, expected one each")
    return problems


def _refused(result: subprocess.CompletedProcess[str], name: str, *says: str) -> list[str]:
    text = result.stdout + result.stderr
    problems = []
    if result.returncode != 2:
        problems.append(f"{name}: expected exit 2, got {result.returncode}: {text[-400:]}")
    if "Traceback" in text or "internal error" in text:
        problems.append(f"{name}: traceback: {text[-400:]}")
    problems += [f"{name}: {s!r} not in: {text[-400:]}" for s in says if s not in text]
    return problems


def same_ticket_twice(root: Path, work: Path) -> list[str]:
    """A second run of a running ticket is refused and leaves its progress alone."""
    holder = Holder(root, work / "a")
    before = fingerprint(root / TICKET)
    second = subprocess.run(
        _argv(work / "b"),
        cwd=root,
        env=_env(work / "b"),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    problems = _refused(second, "same-ticket-twice", f"pid {holder.proc.pid}")
    moved = changed(before, fingerprint(root / TICKET))
    if moved:
        problems.append(f"same-ticket-twice: the refused run changed {moved}")
    if (work / "b" / "calls.jsonl").exists():
        problems.append("same-ticket-twice: the refused run called its agent")
    return problems + _finished_cleanly(holder, "same-ticket-twice")


def two_tickets_one_tree(root: Path, work: Path) -> list[str]:
    """A second ticket in the same work tree is refused before it writes anything."""
    holder = Holder(root, work / "a")
    other = root / "specs" / "tickets" / "other"
    before = fingerprint(other)
    (work / "b").mkdir()
    second = subprocess.run(
        _argv(work / "b", "other"),
        cwd=root,
        env=_env(work / "b"),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    problems = _refused(second, "two-tickets-one-tree", "running in this work tree")
    if changed(before, fingerprint(other)):
        problems.append(
            f"two-tickets-one-tree: other/ changed: {changed(before, fingerprint(other))}"
        )
    return problems + _finished_cleanly(holder, "two-tickets-one-tree")


def archive_during_run(root: Path, work: Path) -> list[str]:
    """`archive` of a running ticket is refused and moves nothing."""
    holder = Holder(root, work / "a")
    result = _cli(root, "archive", "feature-x")
    problems = _refused(result, "archive-during-run", "being run by")
    if not (root / TICKET).is_dir() or (root / "specs" / "archive" / "feature-x").exists():
        problems.append("archive-during-run: the folder was moved mid-run")
    problems += _finished_cleanly(holder, "archive-during-run")
    if not (root / TICKET / "progress.yaml").is_file():
        problems.append("archive-during-run: the run's progress.yaml is missing")
    return problems


def restore_during_run(root: Path, work: Path) -> list[str]:
    """`restore` while another ticket runs: refused by the work tree's lock, or done whole."""
    archived = _cli(root, "archive", "other")
    if archived.returncode != 0:
        return [f"restore-during-run: could not archive `other` first: {archived.stderr}"]
    holder = Holder(root, work / "a")
    result = _cli(root, "restore", "other")
    text = result.stdout + result.stderr
    problems = []
    if "Traceback" in text or "internal error" in text:
        problems.append(f"restore-during-run: traceback: {text[-400:]}")
    active = (root / "specs" / "tickets" / "other").is_dir()
    stored = (root / "specs" / "archive" / "other").is_dir()
    if result.returncode == 0 and not (active and not stored):
        problems.append("restore-during-run: restore said done but the folder did not move")
    if result.returncode != 0 and not (stored and not active):
        problems.append(f"restore-during-run: a refused restore left a half move: {text[-300:]}")
    if result.returncode not in (0, 2):
        problems.append(f"restore-during-run: exit {result.returncode}: {text[-300:]}")
    return problems + _finished_cleanly(holder, "restore-during-run")


def restart_same_second(root: Path, work: Path) -> list[str]:
    """Backups of progress.yaml are never replaced, even several in one second."""
    folder = root / TICKET
    first = subprocess.run(
        _argv(work / "r0", "feature-x", 0.0, "--no-archive"),
        cwd=root,
        env=_env(work),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    if first.returncode not in (0, 1):
        return [f"restart-same-second: the first run failed: {first.stderr!r}"]
    # Backup names the next seconds would use are taken already (as by a restart a moment ago).
    squatters = {}
    now = time.time()
    for ahead in range(0, 8):
        path = folder / f"progress.yaml.bak-{_stamp(now + ahead)}"
        path.write_text(f"an earlier backup {ahead}\n")
        squatters[path] = path.read_bytes()
    versions = [(folder / "progress.yaml").read_bytes()]
    problems = []
    for attempt in (1, 2):
        (work / f"r{attempt}").mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            _argv(work / f"r{attempt}", "feature-x", 0.0, "--no-archive", "--restart"),
            cwd=root,
            env=_env(work),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        if done.returncode not in (0, 1):
            problems.append(f"restart-same-second: restart {attempt} exited {done.returncode}")
        versions.append((folder / "progress.yaml").read_bytes())
    backups = {p.read_bytes() for p in folder.iterdir() if ".bak-" in p.name}
    for path, data in squatters.items():
        if not path.is_file() or path.read_bytes() != data:
            problems.append(f"restart-same-second: the earlier backup {path.name} was replaced")
    for i, version in enumerate(versions[:-1]):
        if version not in backups:
            problems.append(f"restart-same-second: progress version {i} has no backup")
    return problems


def _stamp(moment: float) -> str:
    """The timestamp part of a backup name at a moment (`clock.now_iso`, colons dropped)."""
    import datetime as dt

    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")


def show_list_during_run(root: Path, work: Path) -> list[str]:
    """Read-only commands answer during a run, change nothing, and do not disturb it."""
    holder = Holder(root, work / "a")
    before = fingerprint(root)
    problems = []
    for argv in (("show", "feature-x"), ("show", "feature-x", "--json"), ("list",)):
        result = _cli(root, *argv)
        text = result.stdout + result.stderr
        if result.returncode != 0 or "Traceback" in text:
            problems.append(
                f"show-list-during-run: {' '.join(argv)} exit {result.returncode}: {text[-300:]}"
            )
        if argv[-1] == "--json":
            try:
                json.loads(result.stdout)
            except ValueError:
                problems.append("show-list-during-run: show --json is not JSON during a run")
        if argv[0] == "list" and "feature-x" not in result.stdout:
            problems.append("show-list-during-run: list does not name the running ticket")
    # The run itself may have written meanwhile (its own progress); nothing else may change.
    progress = "specs/tickets/feature-x/progress.yaml"
    moved = [
        p for p in changed(before, fingerprint(root)) if p != progress and "exec-auto" not in p
    ]
    if moved:
        problems.append(f"show-list-during-run: files changed: {moved}")
    return problems + _finished_cleanly(holder, "show-list-during-run")


def worktree_while_main_runs(root: Path, work: Path) -> list[str]:
    """The same ticket in a linked worktree and in the main tree at once: both finish, apart."""
    tree = work / "linked"
    git(root, "worktree", "add", "-q", str(tree), "-b", "linked")
    main = Holder(root, work / "a")
    linked = Holder(tree, work / "b")
    problems = _finished_cleanly(linked, "worktree-while-main-runs (linked)")
    problems += _finished_cleanly(main, "worktree-while-main-runs (main)")
    for where in (root, tree):
        if (where / "one.txt").read_text() != "1\n" if (where / "one.txt").exists() else True:
            problems.append(f"worktree-while-main-runs: {where.name} lacks its own one.txt")
    from exec_auto.executor.history import runs

    histories = runs(root, "feature-x")
    if len(histories) < 2:
        problems.append(f"worktree-while-main-runs: {len(histories)} step histories, expected 2")
    elif any(len(h.steps) != 3 for h in histories):
        problems.append(
            f"worktree-while-main-runs: histories {[len(h.steps) for h in histories]} steps"
        )
    return problems


CASES: dict[str, Case] = {
    "same-ticket-twice": same_ticket_twice,
    "two-tickets-one-tree": two_tickets_one_tree,
    "archive-during-run": archive_during_run,
    "restore-during-run": restore_during_run,
    "restart-same-second": restart_same_second,
    "show-list-during-run": show_list_during_run,
    "worktree-while-main-runs": worktree_while_main_runs,
}
