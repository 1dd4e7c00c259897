"""The bad-input corpus: plans, specs, progress files, configs, names, file types, repo states.

Each case sets up one thing a hostile (or careless) user could hand exec-auto, names the command,
the exit code and a phrase the message must contain. `tests/reliability/test_bad_inputs.py`
runs every case and also asserts: no traceback, no internal error, and — unless the case is
allowed to write (a run that goes ahead) — every file of the project and its git state
byte-identical afterwards. `benchmarks/reliability.py` runs the same corpus.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.support import TICKET, run_argv

Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One bad input and what exec-auto must answer."""

    id: str
    setup: Setup
    argv: tuple[str, ...]
    code: int
    # Phrases (lower case) that must all appear in stdout+stderr.
    says: tuple[str, ...]
    # False: the command is expected to go ahead and write (a run of a fine plan).
    unchanged: bool = True
    # Root only (immutable files, bind mounts) or other needs; the reason to skip otherwise.
    needs: str | None = None
    tags: tuple[str, ...] = field(default=())
    # Files that stay byte-identical even when the command goes ahead (unchanged=False).
    kept: tuple[str, ...] = ()
    # Environment variables set for the command (name, value).
    env: tuple[tuple[str, str], ...] = ()


TICKET_FILES = ("plan.md", "spec.yaml", "progress.yaml")
SPEC_FILE = (TICKET / "spec.yaml").as_posix()


def _p(root: Path, rel: str) -> Path:
    """A ticket file of feature-x, or a path relative to the project root."""
    return root / TICKET / rel if rel in TICKET_FILES else root / rel


def write(rel: str, data: str | bytes) -> Setup:
    """Replace a file (ticket-relative when rel is a bare name)."""

    def setup(root: Path) -> None:
        path = _p(root, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")

    return setup


def fifo(rel: str) -> Setup:
    """Replace a file by a named pipe nobody writes to."""

    def setup(root: Path) -> None:
        path = _p(root, rel)
        path.unlink(missing_ok=True)
        os.mkfifo(path)

    return setup


def link(rel: str, target: str) -> Setup:
    """Replace a file by a symlink."""

    def setup(root: Path) -> None:
        path = _p(root, rel)
        path.unlink(missing_ok=True)
        path.symlink_to(target)

    return setup


def directory(rel: str) -> Setup:
    """Replace a file by a folder."""

    def setup(root: Path) -> None:
        path = _p(root, rel)
        path.unlink(missing_ok=True)
        path.mkdir()

    return setup


def big(rel: str, size: int) -> Setup:
    """Replace a file by a sparse one of size bytes (cheap to make, huge to read)."""

    def setup(root: Path) -> None:
        path = _p(root, rel)
        path.unlink(missing_ok=True)
        with open(path, "wb") as handle:
            handle.truncate(size)

    return setup


def both(*setups: Setup) -> Setup:
    """Several setups in order."""

    def setup(root: Path) -> None:
        for step in setups:
            step(root)

    return setup


def nothing(root: Path) -> None:
    """Leave the project as it is."""


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


BOMB = _bomb()
DEEP = "x: " + "[" * 3000 + "]" * 3000 + "\n"
GOOD_SPEC = 'title: "Feature X"\nacceptance_criteria:\n  - "It works"\nticket:\n  status: planned\n'
GOOD_PLAN = "# Plan\n\n## Implementation Steps\n\n### Step 1: One\n\nDo one.\n"
RUN = tuple(run_argv())
SHOW = ("show", "feature-x")
SHOW_JSON = ("show", "feature-x", "--json")
LIST = ("list",)
MB = 1024 * 1024


def _plans() -> list[Case]:
    plan = "plan.md"
    return [
        Case(
            "plan-missing", lambda r: (r / TICKET / plan).unlink(), RUN, 2, ("plan.md not found",)
        ),
        Case("plan-empty", write(plan, ""), RUN, 2, ("no implementation steps",)),
        Case("plan-no-steps", write(plan, "# P\n\n## Notes\n\nx\n"), RUN, 2, ("notes",)),
        Case("plan-not-utf8", write(plan, b"# P\n\xff\xfe\n"), RUN, 2, ("utf-8",)),
        Case("plan-directory", directory(plan), RUN, 2, ("a directory",)),
        Case("plan-fifo", fifo(plan), RUN, 2, ("fifo",)),
        Case("plan-fifo-show", fifo(plan), SHOW, 2, ("fifo",)),
        Case("plan-dev-zero", link(plan, "/dev/zero"), RUN, 2, ("character device", "/dev/zero")),
        Case("plan-dev-zero-show", link(plan, "/dev/zero"), SHOW, 2, ("character device",)),
        Case("plan-too-big", big(plan, 5 * MB), RUN, 2, ("larger than",)),
        Case("plan-dangling-link", link(plan, "nowhere.md"), RUN, 2, ("not found",)),
        Case("plan-link-loop", link(plan, "plan.md"), RUN, 2, ("cannot read",)),
        Case(
            "plan-restart-numbering",
            write(
                plan,
                "# P\n\n## Implementation Steps\n\n### Step 1: A\na\n\n### Step 2: B\nb\n\n"
                "### Step 1: C\nc\n\n### Step 2: D\nd\n",
            ),
            RUN,
            2,
            ("numbering restarts", "line 11"),
        ),
        Case(
            "plan-restart-numbering-show",
            write(
                plan,
                "# P\n\n## Steps\n\n### Step 1: A\na\n\n### Step 2: B\nb\n\n### Step 1: C\nc\n",
            ),
            SHOW,
            2,
            ("numbering restarts",),
        ),
        Case(
            "plan-steps-only-in-code",
            write(plan, "# P\n\n## Implementation Steps\n\n```\n### Step 1: A\n```\n"),
            RUN,
            2,
            ("no implementation steps",),
        ),
        Case(
            "plan-long-step-id",
            write(
                plan,
                "# P\n\n## Implementation Steps\n\n### Step "
                + ".".join(["1"] * 200)
                + ": Deep\n\nDo it.\n",
            ),
            RUN,
            1,
            ("completed_with_warning",),
            unchanged=False,
        ),
        Case("plan-binary", write(plan, b"\x00" * 64), RUN, 2, ("no implementation steps",)),
    ]


def _specs() -> list[Case]:
    spec = "spec.yaml"
    runs = "spec_unreadable"
    return [
        Case(
            "spec-invalid-run",
            write(spec, "title: [unclosed\n"),
            RUN,
            1,
            (runs,),
            unchanged=False,
            kept=(SPEC_FILE,),
        ),
        Case(
            "spec-invalid-show", write(spec, "title: [unclosed\n"), SHOW, 0, ("could not be read",)
        ),
        Case(
            "spec-backtick-criterion-run",
            write(spec, "title: T\nacceptance_criteria:\n  - `make test` passes\n"),
            RUN,
            1,
            (runs,),
            unchanged=False,
            kept=(SPEC_FILE,),
        ),
        Case(
            "spec-backtick-criterion-show",
            write(spec, "title: T\nacceptance_criteria:\n  - `make test` passes\n"),
            SHOW_JSON,
            0,
            ('"spec_problem"', "line 3"),
        ),
        Case("spec-alias-bomb-show", write(spec, BOMB), SHOW, 0, ("alias bomb",)),
        Case("spec-alias-bomb-list", write(spec, BOMB), LIST, 0, ("spec error",)),
        Case(
            "spec-alias-bomb-run",
            write(spec, BOMB),
            RUN,
            1,
            ("alias bomb",),
            unchanged=False,
            kept=(SPEC_FILE,),
        ),
        Case("spec-recursive-alias-show", write(spec, "a: &a [*a]\n"), SHOW, 0, ("ticket",)),
        Case("spec-deep-show", write(spec, DEEP), SHOW, 0, ("nests deeper",)),
        Case("spec-custom-tag-show", write(spec, "title: !Thing x\n"), SHOW, 0, ("custom tag",)),
        Case(
            "spec-custom-tag-run",
            write(spec, "title: !Thing x\n"),
            RUN,
            1,
            ("custom tag",),
            unchanged=False,
            kept=(SPEC_FILE,),
        ),
        Case(
            "spec-python-tag-show",
            write(spec, "title: !!python/object/apply:os.system [id]\n"),
            SHOW,
            0,
            ("custom tag",),
        ),
        Case(
            "spec-duplicate-key-show",
            write(spec, GOOD_SPEC + "title: again\n"),
            SHOW,
            0,
            ("duplicate key", "will not record"),
        ),
        Case(
            "spec-duplicate-key-run",
            write(spec, GOOD_SPEC + "title: again\n"),
            RUN,
            1,
            ("spec_not_updated",),
            unchanged=False,
            kept=(SPEC_FILE,),
        ),
        Case("spec-fifo-show", fifo(spec), SHOW, 0, ("fifo",)),
        Case("spec-fifo-run", fifo(spec), RUN, 1, ("fifo",), unchanged=False, kept=(SPEC_FILE,)),
        Case("spec-dev-zero-show", link(spec, "/dev/zero"), SHOW, 0, ("character device",)),
        Case("spec-too-big-show", big(spec, 3 * MB), SHOW, 0, ("larger than",)),
        Case("spec-top-level-list", write(spec, "- a\n- b\n"), SHOW, 0, ("a list",)),
        Case("spec-empty", write(spec, ""), SHOW, 0, ("empty",)),
        Case("spec-not-utf8", write(spec, b"title: \xff\n"), SHOW, 0, ("utf-8",)),
        Case("spec-tabs", write(spec, "title: x\n\tstatus: y\n"), SHOW, 0, ("could not be read",)),
        Case("spec-directory-show", directory(spec), SHOW, 0, ("a directory",)),
        Case(
            "spec-archive-invalid",
            write(spec, "title: [unclosed\n"),
            ("archive", "feature-x"),
            2,
            ("could not parse",),
        ),
    ]


def _progress_cases() -> list[Case]:
    prog = "progress.yaml"
    return [
        Case(
            "progress-invalid-show",
            write(prog, "ticket: [\n"),
            SHOW,
            0,
            ("unreadable", "move it aside"),
        ),
        Case("progress-bomb-show", write(prog, BOMB), SHOW, 0, ("alias bomb",)),
        Case("progress-bomb-list", write(prog, BOMB), LIST, 0, ("progress unreadable",)),
        Case(
            "progress-bomb-run",
            write(prog, BOMB),
            RUN,
            1,
            ("progress_unreadable", "alias bomb"),
            unchanged=False,
        ),
        Case("progress-deep-show", write(prog, DEEP), SHOW, 0, ("nests deeper",)),
        Case("progress-custom-tag-show", write(prog, "ticket: !x y\n"), SHOW, 0, ("custom tag",)),
        Case("progress-fifo-run", fifo(prog), RUN, 2, ("fifo",)),
        Case("progress-fifo-show", fifo(prog), SHOW, 0, ("fifo", "refuses")),
        Case("progress-dev-zero-run", link(prog, "/dev/zero"), RUN, 2, ("character device",)),
        Case("progress-directory-run", directory(prog), RUN, 2, ("a directory",)),
        Case("progress-too-big-run", big(prog, 40 * MB), RUN, 2, ("larger than",)),
        Case(
            "progress-not-utf8-show", write(prog, b"\xff\xfe"), SHOW, 0, ("utf-8", "move it aside")
        ),
        Case("progress-list-show", write(prog, "- 1\n- 2\n"), SHOW, 0, ("not a mapping",)),
        Case("progress-empty-show", write(prog, ""), SHOW, 0, ("empty",)),
        Case(
            "progress-negative-step-id",
            write(
                prog,
                "ticket:\n  name: feature-x\nimplementation_steps:\n"
                "  - step_id: '-2'\n    description: x\n    status: completed\n",
            ),
            SHOW_JSON,
            0,
            ('"id": "2"', '"status": "pending"'),
        ),
    ]


def _configs() -> list[Case]:
    toml = "pyproject.toml"
    cases = [
        ("tool-is-number", "tool = 5\n", "`tool` must be a table"),
        ("section-is-number", "[tool]\nexec-auto = 5\n", "must be a table"),
        ("invalid-toml", "[tool.exec-auto\n", "invalid toml"),
        ("unknown-key", "[tool.exec-auto]\nbogus = 1\n", "bogus"),
        ("wrong-type", '[tool.exec-auto.gates]\nfix_attempts = "many"\n', "fix_attempts"),
        ("timeout-zero", "[tool.exec-auto.agent]\nstep_timeout = 0\n", "greater than 0"),
        ("timeout-inf", "[tool.exec-auto.agent]\nstep_timeout = inf\n", "finite"),
        ("timeout-nan", "[tool.exec-auto.agent]\nstep_timeout = nan\n", "finite"),
        ("gate-timeout-negative", "[tool.exec-auto.gates]\ngate_timeout = -1\n", "greater than 0"),
        ("parallel-zero", "[tool.exec-auto.batch]\nparallel = 0\n", "greater than or equal to 1"),
        ("formatter-unknown", '[tool.exec-auto.gates]\nformatter = "prettier"\n', "formatter"),
        ("fix-attempts-negative", "[tool.exec-auto.gates]\nfix_attempts = -1\n", "fix_attempts"),
        # A flag sets agent.* too: the bad table must not be replaced by the flags' values.
        ("agent-is-string", '[tool.exec-auto]\nagent = "claude"\n', "agent: input should be"),
        ("gates-is-array", "[tool.exec-auto]\ngates = [1]\n", "gates: input should be"),
        ("sandbox-mode-unknown", '[tool.exec-auto.sandbox]\nmode = "maybe"\n', "sandbox.mode"),
    ]
    out = [
        Case(f"config-{name}", write(toml, text), RUN, 2, ("pyproject.toml", says))
        for name, text, says in cases
    ]
    out += [
        Case("config-not-utf8", write(toml, b"[tool.exec-auto]\nx = '\xff'\n"), RUN, 2, ("utf-8",)),
        Case("config-fifo", fifo(toml), RUN, 2, ("fifo",)),
        Case("config-dev-zero", link(toml, "/dev/zero"), RUN, 2, ("character device",)),
        Case("config-directory", directory(toml), RUN, 2, ("a directory",)),
        Case("config-too-big", big(toml, 3 * MB), RUN, 2, ("larger than",)),
        Case(
            "config-env-sandbox-unknown",
            nothing,
            RUN,
            2,
            ("exec_auto_sandbox='bogus'", "unset it"),
            env=(("EXEC_AUTO_SANDBOX", "bogus"),),
        ),
    ]
    return out


def _flags() -> list[Case]:
    flags = [
        ("step-timeout-inf", ("--step-timeout", "inf"), "--step-timeout inf"),
        ("step-timeout-nan", ("--step-timeout", "nan"), "--step-timeout nan"),
        ("step-timeout-zero", ("--step-timeout", "0"), "greater than 0"),
        ("step-timeout-negative", ("--step-timeout", "-5"), "greater than 0"),
        ("step-timeout-text", ("--step-timeout", "soon"), "invalid float value"),
        ("max-turns-zero", ("--max-turns", "0"), "--max-turns"),
        ("fix-attempts-negative", ("--fix-attempts", "-1"), "--fix-attempts"),
        ("parallel-zero", ("--parallel", "0"), "--parallel"),
        ("budget-usd-nan", ("--budget-usd", "nan"), "--budget-usd"),
        ("budget-seconds-negative", ("--budget-seconds", "-1"), "--budget-seconds"),
        ("max-budget-inf", ("--max-budget-usd", "inf"), "--max-budget-usd"),
        ("record-missing-dir", ("--record", "no/such/dir/rec.json"), "does not exist"),
        ("record-is-dir", ("--record", "specs"), "is a folder"),
        # os.access says yes to root for /proc and /sys: only creating a file tells.
        ("record-in-proc", ("--record", "/proc/rec.json"), "cannot write in the folder /proc"),
        ("record-in-sys", ("--record", "/sys/rec.json"), "cannot write in the folder /sys"),
        ("report-dir-in-proc", ("--report-dir", "/proc/reports"), "cannot be created"),
        ("report-dir-is-file", ("--report-dir", "README.md"), "is a file"),
        ("replay-file-missing", ("--agent", "replay", "--replay-file", "nope.json"), "recording"),
        ("runner-unknown", ("--runner", "maven"), "--runner"),
    ]
    out = [Case(f"flag-{name}", nothing, (*RUN, *extra), 2, (says,)) for name, extra, says in flags]
    out += [
        Case(
            "flag-agent-unknown",
            nothing,
            ("run", "feature-x", "--agent", "hal9000", "--no-gates"),
            2,
            ("hal9000",),
        ),
        Case(
            "flag-command-without-command",
            nothing,
            ("run", "feature-x", "--agent", "command", "--no-gates"),
            2,
            ("--agent-command",),
        ),
        Case("flag-no-ticket", nothing, ("run", "--agent", "command"), 2, ("no ticket given",)),
    ]
    return out


def _names() -> list[Case]:
    def named(ref: str) -> tuple[str, ...]:
        return (
            "run",
            ref,
            "--agent",
            "command",
            "--agent-command",
            "true",
            "--no-gates",
            "--force",
        )

    return [
        Case("name-300-chars", nothing, named("t" * 300), 2, ("300 bytes long",)),
        Case("name-300-chars-show", nothing, ("show", "t" * 300), 2, ("bytes long",)),
        Case("name-control-chars", nothing, named("feat\x1b[2Jure"), 2, ("control characters",)),
        Case("name-empty", nothing, named(" "), 2, ("empty ticket name",)),
        Case("name-escapes-tickets", nothing, named("../x"), 2, ("not a ticket folder",)),
        Case("name-typo", nothing, named("featur-x"), 2, ("did you mean: feature-x",)),
        Case("name-long-path", nothing, named("a/" * 3000 + "plan.md"), 2, ("ticket",)),
        Case(
            "name-archived",
            lambda r: (
                (r / "specs" / "archive").mkdir()
                or (r / TICKET).rename(r / "specs" / "archive" / "feature-x")
            ),
            named("feature-x"),
            2,
            ("exec-auto restore feature-x",),
        ),
        Case("name-restore-active", nothing, ("restore", "feature-x"), 2, ("is not archived",)),
        Case(
            "name-archive-taken",
            lambda r: (r / "specs" / "archive" / "feature-x").mkdir(parents=True),
            ("archive", "feature-x"),
            2,
            ("already exists",),
        ),
    ]


def _repos() -> list[Case]:
    def git_dir_file(root: Path) -> None:
        (root / ".git" / "exec-auto").write_text("not a folder\n")

    def not_a_repo(root: Path) -> None:
        import shutil

        shutil.rmtree(root / ".git")

    return [
        Case("repo-not-git", not_a_repo, RUN, 2, ("git init",)),
        Case("repo-state-dir-is-file", git_dir_file, RUN, 2, ("not a folder",)),
        Case(
            "repo-state-dir-is-file-archive",
            git_dir_file,
            ("archive", "feature-x"),
            2,
            ("not a folder",),
        ),
        Case(
            "repo-immutable-spec",
            lambda r: _chattr(r / TICKET / "spec.yaml"),
            RUN,
            2,
            ("immutable", "chattr -i"),
            needs="immutable",
        ),
        Case("repo-readonly-git", nothing, RUN, 2, ("read-only",), needs="readonly-git"),
        Case("repo-merge-in-progress", _conflict("merge"), RUN, 2, ("a merge is in progress",)),
        Case("repo-rebase-in-progress", _conflict("rebase"), RUN, 2, ("a rebase is in progress",)),
        Case(
            "repo-cherry-pick-in-progress",
            _conflict("cherry-pick"),
            RUN,
            2,
            ("a cherry-pick is in progress",),
        ),
        Case(
            "repo-bisect-in-progress",
            lambda r: _git(r, "bisect", "start"),
            RUN,
            2,
            ("git bisect reset",),
        ),
        Case(
            "repo-corrupt-index",
            write(".git/index", "garbage\n"),
            RUN,
            2,
            ("cannot read the repository's index", "git reset"),
        ),
        Case(
            "repo-corrupt-head", write(".git/HEAD", "garbage\n"), RUN, 2, ("not a git repository",)
        ),
        Case(
            "repo-gitdir-nowhere",
            lambda r: (not_a_repo(r), (r / ".git").write_text("gitdir: /nowhere\n")),
            RUN,
            2,
            ("not a git repository",),
        ),
        Case(
            "repo-no-commit-yet",
            lambda r: (not_a_repo(r), _git(r, "init", "-q")),
            RUN,
            1,
            ("completed_with_issues",),
            unchanged=False,
        ),
        Case("repo-index-lock-left", write(".git/index.lock", ""), RUN, 1, (), unchanged=False),
        Case("repo-disk-full", nothing, RUN, 2, ("disk is full",), needs="disk-full"),
    ]


def _git(root: Path, *args: str) -> None:
    from tests.conftest import git

    git(root, *args)


def _conflict(command: str) -> Setup:
    """A real conflicting merge, rebase or cherry-pick, stopped where git waits for the user."""

    def setup(root: Path) -> None:
        import subprocess

        _git(root, "checkout", "-q", "-b", "side")
        (root / "README.md").write_text("side\n")
        _git(root, "commit", "-q", "-am", "side")
        _git(root, "checkout", "-q", "-")
        (root / "README.md").write_text("main\n")
        _git(root, "commit", "-q", "-am", "main")
        argv = {"merge": ["merge", "side"], "rebase": ["rebase", "side"]}.get(
            command, ["cherry-pick", "side"]
        )
        env = {**os.environ, "GIT_EDITOR": "true", "GIT_COMMITTER_NAME": "t"}
        env |= {"GIT_COMMITTER_EMAIL": "t@t", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t"}
        stopped = subprocess.run(["git", *argv], cwd=root, capture_output=True, env=env)
        assert stopped.returncode != 0, "the setup expected a conflict"

    return setup


def _project_files() -> list[Case]:
    """Files of the project the gates only peek at: never a hang, never a crash."""
    out = []
    for rel in (".pre-commit-config.yaml", "requirements.txt", "tox.ini", "Makefile"):
        slug = rel.strip(".").split(".")[0].replace("-config", "")
        out += [
            Case(f"project-{slug}-fifo-show", fifo(rel), SHOW, 0, ("steps (3)",)),
            Case(f"project-{slug}-dev-zero-show", link(rel, "/dev/zero"), SHOW, 0, ("steps (3)",)),
        ]
    gates_run = tuple(a for a in RUN if a != "--no-gates")
    out += [
        Case(
            "project-precommit-fifo-run",
            fifo(".pre-commit-config.yaml"),
            gates_run,
            1,
            ("completed_with_issues",),
            unchanged=False,
        ),
        Case("project-precommit-bomb-show", write(".pre-commit-config.yaml", BOMB), SHOW, 0, ()),
        Case(
            "project-conventions-fifo-run",
            fifo("CLAUDE.md"),
            RUN,
            1,
            ("no claude.md or agents.md",),
            unchanged=False,
        ),
        Case(
            "project-conventions-dev-zero-run",
            link("AGENTS.md", "/dev/zero"),
            RUN,
            1,
            ("completed_with_issues",),
            unchanged=False,
        ),
    ]
    return out


def _speckit(tasks: Setup) -> Setup:
    """A spec-kit feature `002-kit` whose tasks.md the given setup then spoils."""

    def setup(root: Path) -> None:
        kit = root / "specs" / "002-kit"
        kit.mkdir(parents=True)
        (kit / "spec.md").write_text("# Feature Specification: Kit\n")
        (kit / "tasks.md").write_text("# Tasks: Kit\n\n## Phase 1\n\n- [ ] T001 Do it\n")
        tasks(root)

    return setup


def _formats() -> list[Case]:
    """Other planning formats' files, read through the same bounded reader."""
    tasks = "specs/002-kit/tasks.md"
    show = ("show", "speckit:002-kit")
    run = tuple("speckit:002-kit" if a == "feature-x" else a for a in RUN)
    return [
        Case("format-tasks-fifo-show", _speckit(fifo(tasks)), show, 2, ("fifo", "tasks.md")),
        Case("format-tasks-fifo-run", _speckit(fifo(tasks)), run, 2, ("fifo",)),
        Case(
            "format-tasks-dev-zero-show",
            _speckit(link(tasks, "/dev/zero")),
            show,
            2,
            ("character device",),
        ),
        Case("format-tasks-too-big-show", _speckit(big(tasks, 9 * MB)), show, 2, ("larger than",)),
        Case(
            "format-tasks-not-utf8-show",
            _speckit(write(tasks, b"- [ ] \xff\n")),
            show,
            2,
            ("utf-8",),
        ),
    ]


def _chattr(path: Path) -> None:
    import subprocess

    subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)


def all_cases() -> list[Case]:
    """Every case of the corpus."""
    return [
        *_plans(),
        *_specs(),
        *_progress_cases(),
        *_configs(),
        *_flags(),
        *_names(),
        *_repos(),
        *_project_files(),
        *_formats(),
    ]
