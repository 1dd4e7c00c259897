"""The kill -9 sweep, shared by tests/reliability/test_kill_sweep.py and benchmarks/reliability.py.

A two-step ticket with the real gates on (ruff, pytest) runs in a project whose user has work in
progress: a staged change, an unstaged one, an untracked file, a stash entry, a hook and a config
key of their own. One uninterrupted run counts the run's durable state changes (`exec_auto.faults`:
each atomic write, before and after its rename, and each folder move) and records how it ends.

Two kinds of kill, each on a fresh copy of the project and each followed by a plain rerun:
- `point`: `EXEC_AUTO_KILL_AT=N` makes exec-auto SIGKILL itself at exactly its Nth state change;
- `agent` / `gate`: the test SIGKILLs exec-auto's whole process group at a random moment while
  the agent runs (the scripted agent sleeps) or while pytest runs as a gate.

`check_kill` returns every broken promise (empty: the kill was survived): progress.yaml and
spec.yaml parse and keep their comments, no step finished before the kill is redone (agent calls
counted per step), the user's files end as after an uninterrupted run, HEAD, branch, index,
stash, untracked files, hooks and config are as before, the ticket is archived exactly once, no
temp file travels into the archive, and no process of the killed run outlives the rerun.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.ticket.progress import HEADER
from tests.conftest import git, init_repo, plan_text
from tests.reliability.support import changed, fingerprint

AGENT = Path(__file__).resolve().parents[1] / "helpers" / "script_agent.py"
TICKET = Path("specs") / "tickets" / "feature-x"
ARCHIVED = Path("specs") / "archive" / "feature-x"
COMMENT = "# keep this comment"
FINISHED = {"completed", "completed_with_warning", "failed", "skipped"}
# Step 1 sleeps a little in the agent so a timed kill can land inside an agent call.
AGENT_SLEEP = 0.6


def behaviour(marker_dir: Path) -> dict[str, list[dict[str, object]]]:
    """The scripted agent: two steps that write code and tests; the second one needs a ruff fix."""
    return {
        "1": [
            {"marker": str(marker_dir / "agent-1")},
            {"sleep": AGENT_SLEEP},
            {"write": "calc/ops.py", "text": "def add(a, b):\n    return a + b\n"},
            {
                "write": "tests/test_ops.py",
                "text": "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
            },
        ],
        "2": [
            {"marker": str(marker_dir / "agent-2")},
            {"sleep": AGENT_SLEEP},
            {"write": "calc/more.py", "text": "import os\ndef mul(a,b):\n    return a*b\n"},
            {
                "write": "tests/test_more.py",
                "text": "from calc.more import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n",
            },
        ],
    }


def build_project(root: Path) -> Path:
    """A committed Python project with a two-step ticket, plus the user's work in progress."""
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "tests" / "test_base.py").write_text(
        # Slow enough that a timed kill can land while pytest runs as a gate.
        "import time\n\n\ndef test_base():\n    time.sleep(0.3)\n    assert True\n"
    )
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "calc"
            version = "0"
            [tool.ruff.lint]
            select = ["E", "F", "I"]
            [tool.pytest.ini_options]
            testpaths = ["tests"]
            """
        )
    )
    ticket = root / TICKET
    ticket.mkdir(parents=True)
    (ticket / "plan.md").write_text(plan_text(["Add", "Multiply"]))
    (ticket / "spec.yaml").write_text(
        f'title: "Calc"  {COMMENT}\nacceptance_criteria:\n'
        "  - criterion: add works\n    tests: [test_add]\n"
        '  - criterion: mul works\n    verify: "test -f calc/more.py"\n'
        "ticket:\n  type: feature\n  status: planned\n"
    )
    (root / "CLAUDE.md").write_text("Conventions: small functions.\n")
    (root / "NOTES.md").write_text("draft\n")
    (root / "STASHED.md").write_text("v1\n")
    (root / ".gitignore").write_text(".pytest_cache/\n__pycache__/\n.ruff_cache/\n")
    init_repo(root)
    # The user's work in progress, which no kill and no rerun may touch.
    git(root, "checkout", "-q", "-b", "my-branch")
    (root / "STASHED.md").write_text("v2, stashed\n")
    git(root, "stash", "push", "-q", "-m", "user stash")
    (root / "CLAUDE.md").write_text("Conventions: small functions.\nStaged line.\n")
    git(root, "add", "CLAUDE.md")
    (root / "NOTES.md").write_text("draft, edited but not staged\n")
    (root / "scratch.txt").write_text("untracked\n")
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    git(root, "config", "sweep.keep", "yes")
    return root


@dataclass
class Run:
    """One exec-auto process and what it left."""

    code: int
    out: str
    calls: list[dict[str, str]]
    pid: int = 0


def _argv(work: Path) -> list[str]:
    # The sandbox passes only allowlisted variables: the command names the agent's files itself.
    agent = (
        f"SCRIPT_AGENT_LOG={work / 'calls.jsonl'} "
        f"SCRIPT_AGENT_BEHAVIOUR={work / 'behaviour.json'} {sys.executable} {AGENT}"
    )
    argv = [sys.executable, "-m", "exec_auto", "run", "feature-x", "--agent", "command"]
    argv += ["--agent-command", agent, "--force", "--no-install"]
    return argv


def _env(work: Path, kill_at: int | None, count_file: Path | None) -> dict[str, str]:
    (work / "behaviour.json").write_text(json.dumps(behaviour(work)))
    env = {**os.environ, "EXEC_AUTO_SANDBOX_WRITABLE": str(work)}
    env.pop("EXEC_AUTO_KILL_AT", None)
    env.pop("EXEC_AUTO_KILL_COUNT", None)
    if kill_at is not None:
        env["EXEC_AUTO_KILL_AT"] = str(kill_at)
    if count_file is not None:
        env["EXEC_AUTO_KILL_COUNT"] = str(count_file)
    return env


def _calls(work: Path, before: int) -> list[dict[str, str]]:
    log = work / "calls.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line) for line in lines[before:] if line.strip()]


def _logged(work: Path) -> int:
    log = work / "calls.jsonl"
    return len(log.read_text().splitlines()) if log.exists() else 0


def run(
    root: Path, work: Path, *, kill_at: int | None = None, count_file: Path | None = None
) -> Run:
    """`exec-auto run feature-x` with the scripted agent and the gates on, as a real process."""
    before = _logged(work)
    result = subprocess.run(
        _argv(work),
        cwd=root,
        env=_env(work, kill_at, count_file),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    return Run(result.returncode, result.stdout + result.stderr, _calls(work, before))


def run_killed_at(root: Path, work: Path, phase: str, delay: float) -> Run:
    """Start a run and SIGKILL its whole process group `delay` s into the phase ('agent'/'gate')."""
    before = _logged(work)
    proc = subprocess.Popen(
        _argv(work),
        cwd=root,
        env=_env(work, None, None),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    try:
        while not _in_phase(phase, work, root):
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                return Run(proc.returncode or 0, f"never reached the {phase} phase\n{out}", [])
            time.sleep(0.02)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out = proc.stdout.read().decode() if proc.stdout else ""
    return Run(proc.returncode, out, _calls(work, before), proc.pid)


def _in_phase(phase: str, work: Path, root: Path) -> bool:
    if phase == "agent":
        return (work / "agent-1").exists() or (work / "agent-2").exists()
    return any(is_pytest(_cmdline(pid)) for pid in processes_in(root))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def is_pytest(cmdline: str) -> bool:
    """Whether a command line runs pytest (not merely names a path under pytest's temp dirs)."""
    words = cmdline.split()
    return any(w == "pytest" or w.endswith("/pytest") for w in words) or "-m pytest" in cmdline


def processes_in(root: Path) -> list[int]:
    """Live processes (other than this one) whose working directory is inside root."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in {"Z", "X"} and (cwd == str(root) or cwd.startswith(f"{root}/")):
            found.append(int(entry.name))
    return found


def wait_no_processes(root: Path, seconds: float = 5.0) -> list[int]:
    """Wait for every process working in root to end; the ones still alive."""
    deadline = time.monotonic() + seconds
    alive = processes_in(root)
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = processes_in(root)
    return alive


def user_files(root: Path) -> dict[str, tuple[str, int]]:
    """The project's files outside specs/ and .git (the user's and what the agent produced)."""
    return {
        k: v
        for k, v in fingerprint(root).items()
        if not k.startswith(("specs", ".git/", ".pytest_cache", ".ruff_cache"))
        and k != ".git"
        and "__pycache__" not in k
    }


def git_state(root: Path) -> dict[str, str]:
    """HEAD, branch, index, stash, untracked files, hooks and config: what exec-auto never changes.

    The index is compared by its entries (`git ls-files -s`), not its bytes: git rewrites the
    file's stat cache on any `git status`, which changes nothing the user has staged.
    """
    hooks = {
        k: repr(v) for k, v in fingerprint(root / ".git" / "hooks").items() if ".sample" not in k
    }
    return {
        "HEAD": (root / ".git" / "HEAD").read_text(),
        "head commit": git(root, "rev-parse", "HEAD"),
        "branches": git(root, "for-each-ref", "refs/heads", "refs/tags"),
        "index": git(root, "ls-files", "-s"),
        "staged": git(root, "diff", "--cached"),
        "stash": git(root, "stash", "list", "--format=%H %s"),
        "untracked": git(root, "ls-files", "-o", "--exclude-standard", "--", ":!specs"),
        "config": (root / ".git" / "config").read_text(),
        "hooks": json.dumps(hooks, sort_keys=True),
    }


@dataclass(frozen=True)
class Reference:
    """An uninterrupted run: its kill points, how it ends, how often it calls the agent per step."""

    points: list[str]
    files: dict[str, tuple[str, int]]
    git: dict[str, str]
    calls: Counter[str] = field(default_factory=Counter)


def reference(template: Path, work: Path) -> Reference:
    """Run the ticket once without a kill, counting its kill points."""
    root = work / "reference"
    shutil.copytree(template, root, symlinks=True)
    before = git_state(root)
    counts = work / "points.txt"
    logs = work / "ref-log"
    logs.mkdir()
    done = run(root, logs, count_file=counts)
    assert done.code in (0, 1), done.out
    assert (root / ARCHIVED).is_dir(), done.out
    points = counts.read_text().splitlines()
    after = git_state(root)
    moved = [k for k in before if k != "untracked" and after[k] != before[k]]
    assert not moved, f"an uninterrupted run changed the git state: {moved}"
    return Reference(points, user_files(root), git_state(root), _per_step(done.calls))


def shared_reference(template_dir: Path, work: Path) -> tuple[Path, Reference]:
    """The template and reference run, built once per work dir even by several processes (xdist)."""
    from filelock import FileLock

    work.mkdir(parents=True, exist_ok=True)
    saved = work / "reference.json"
    with FileLock(str(work / "reference.lock")):
        if not saved.exists():
            template = build_project(template_dir)
            ref = reference(template, work)
            saved.write_text(
                json.dumps(
                    {"points": ref.points, "files": ref.files, "git": ref.git, "calls": ref.calls}
                )
            )
    data = json.loads(saved.read_text())
    files = {k: (v[0], v[1]) for k, v in data["files"].items()}
    return template_dir, Reference(data["points"], files, data["git"], Counter(data["calls"]))


def _per_step(calls: list[dict[str, str]]) -> Counter[str]:
    return Counter(c["step"] for c in calls if c.get("kind", "step") == "step")


def spread(points: list[str], how_many: int) -> list[int]:
    """Kill points (1-based) spread over the run, always including the archive move."""
    total = len(points)
    chosen = {max(1, round(total * (i + 0.5) / how_many)) for i in range(how_many)}
    chosen |= {i for i, line in enumerate(points, 1) if "moving" in line}
    return sorted(chosen)


@dataclass(frozen=True)
class Kill:
    """One kill of the sweep: at a state change (`point`), or timed in the agent or gate phase."""

    kind: str  # "point", "agent" or "gate"
    at: float  # the point number, or the delay in seconds into the phase

    @property
    def label(self) -> str:
        """A short name for test ids and messages."""
        return f"point-{int(self.at)}" if self.kind == "point" else f"{self.kind}+{self.at:.2f}s"


def plan_kills(ref: Reference, points: int, timed: int, seed: int = 12) -> list[Kill]:
    """`points` exact kills spread over the run plus `timed` random kills in agent/gate phases."""
    rng = random.Random(seed)
    kills = [Kill("point", p) for p in spread(ref.points, points)]
    for i in range(timed):
        phase = ("agent", "gate")[i % 2]
        top = AGENT_SLEEP if phase == "agent" else 0.3
        kills.append(Kill(phase, round(rng.uniform(0.0, top), 2)))
    return kills


def check_kill(template: Path, work: Path, kill: Kill, ref: Reference) -> list[str]:
    """Kill as told, rerun, and return every broken promise (empty: the kill was survived)."""
    name = kill.label
    root = work / f"kill-{name}"
    shutil.copytree(template, root, symlinks=True)
    logs = work / f"kill-{name}-log"
    logs.mkdir()
    git_before = git_state(root)
    if kill.kind == "point":
        killed = run(root, logs, kill_at=int(kill.at))
    else:
        killed = run_killed_at(root, logs, kill.kind, kill.at)
    problems: list[str] = []
    if killed.code != -9:
        problems.append(f"{name}: expected a SIGKILL, got exit {killed.code}: {killed.out[-300:]}")
    finished = _finished_steps(root)
    rerun = run(root, logs)
    repaired_only = rerun.code == 2 and "finished archiving feature-x" in rerun.out
    if rerun.code not in (0, 1) and not repaired_only:
        problems.append(f"{name}: the rerun exited {rerun.code}: {rerun.out[-500:]}")
    redone = sorted({c["step"] for c in rerun.calls if c["step"] in finished})
    if redone:
        problems.append(f"{name}: finished step(s) {redone} were redone")
    calls = _per_step(killed.calls + rerun.calls)
    for step, count in calls.items():
        # The step the kill interrupted may run once more; nothing else is repeated.
        if count > ref.calls[step] + 1:
            problems.append(f"{name}: step {step} called the agent {count} times")
    problems += _ended_archived(root, name)
    if user_files(root) != ref.files:
        problems.append(
            f"{name}: files differ from an uninterrupted run: {changed(ref.files, user_files(root))}"
        )
    after = git_state(root)
    for key in git_before:
        # Untracked files end as after an uninterrupted run (the agent's new files), the rest as before.
        expected = ref.git[key] if key == "untracked" else git_before[key]
        if after[key] != expected:
            problems.append(f"{name}: git {key} changed:\n{expected}\n->\n{after[key]}")
    survivors = wait_no_processes(root)
    if survivors:
        problems.append(f"{name}: processes outlived the run: {[_cmdline(p) for p in survivors]}")
        for pid in survivors:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    return problems


def _ended_archived(root: Path, name: str) -> list[str]:
    problems = []
    archive = root / "specs" / "archive"
    folders = sorted(p.name for p in archive.iterdir()) if archive.is_dir() else []
    if folders != ["feature-x"] or (root / TICKET).exists():
        problems.append(f"{name}: not archived exactly once: archive={folders}")
        return problems
    folder = root / ARCHIVED
    problems += _parses(folder, name)
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp") or ".tmp" in p.name]
    if leftovers:
        problems.append(f"{name}: temp files in the archived ticket: {leftovers}")
    if (folder / ".exec-auto-move.json").exists():
        problems.append(f"{name}: the archive move marker was left behind")
    return problems


def _finished_steps(root: Path) -> set[str]:
    from ruamel.yaml import YAML

    for folder in (root / TICKET, root / ARCHIVED):
        path = folder / "progress.yaml"
        if path.is_file():
            data = YAML(typ="safe").load(path.read_text())
            if not isinstance(data, dict):
                return set()
            return {
                str(s["step_id"])
                for s in data.get("implementation_steps", [])
                if s.get("status") in FINISHED
            }
    return set()


def _parses(folder: Path, name: str) -> list[str]:
    from ruamel.yaml import YAML

    problems = []
    for file in ("progress.yaml", "spec.yaml"):
        try:
            data = YAML(typ="safe").load((folder / file).read_text())
            assert isinstance(data, dict)
        except Exception as exc:  # any failure to parse is the finding
            problems.append(f"{name}: {file} does not parse: {exc}")
    spec = (folder / "spec.yaml").read_text() if (folder / "spec.yaml").is_file() else ""
    if COMMENT not in spec:
        problems.append(f"{name}: spec.yaml lost its comment")
    progress = folder / "progress.yaml"
    if progress.is_file() and not progress.read_text().startswith(HEADER):
        problems.append(f"{name}: progress.yaml lost its header comment")
    if "status: archived" not in spec:
        problems.append(f"{name}: spec.yaml status is not archived")
    return problems
