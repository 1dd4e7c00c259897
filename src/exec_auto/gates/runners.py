"""Which test runner a project uses, and the command: pytest, or unittest for projects without it.

pytest runs when the project's environment has it (its own pytest, never exec-auto's on a project
that does not use pytest). Otherwise unittest runs through a small stdlib runner that records
per-test ids and outcomes, with the arguments of the project's documented command (`python -m
unittest ...` in tox.ini, a Makefile or a noxfile) or plain discovery.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exec_auto import tempdirs
from exec_auto.gates.environment import Environment
from exec_auto.gates.testing import PLUGIN_DIR, TestRun, parse_events, read_events
from exec_auto.gates.tools import DEFAULT_SEED, run_tool
from exec_auto.safe_read import project_text

RUNNER_MODULE = "exec_auto_unittest_runner"
DOCUMENTED = ("tox.ini", "pyproject.toml", "Makefile", "noxfile.py", "setup.cfg")
_UNITTEST_RE = re.compile(r"-m[\s'\",]+unittest\b(?P<args>[^\n#]*)")


@dataclass(frozen=True)
class Runner:
    """The project's test runner and where its command came from."""

    kind: str  # "pytest" | "unittest"
    args: tuple[str, ...] = ()
    source: str = ""

    def describe(self) -> str:
        """'unittest (python -m unittest discover -s tests; from tox.ini)'."""
        if self.kind == "pytest":
            return f"pytest ({self.source})"
        shown = shlex.join(["python", "-m", "unittest", *self.args])
        return f"unittest ({shown}; {self.source})"


def documented_unittest_args(repo_root: Path) -> tuple[tuple[str, ...], str] | None:
    """The arguments of `python -m unittest ...` in the project's tox.ini/Makefile/noxfile."""
    for name in DOCUMENTED:
        text = project_text(repo_root / name)
        if text is None:
            continue
        match = _UNITTEST_RE.search(text)
        if match is None:
            continue
        raw = match.group("args").replace('"', " ").replace("'", " ").replace(",", " ")
        raw = raw.replace(")", " ")
        args = [
            a
            for a in shlex.split(raw)
            if a not in ("-v", "--verbose", "-q", "--quiet", "-b", "--buffer")
            and not a.startswith(("{", "$", "-k"))
        ]
        return tuple(args), f"the command in {name}"
    return None


def choose_runner(env: Environment) -> Runner:
    """pytest when the project's environment has it, else unittest with its documented command."""
    if env.has_module("pytest"):
        return Runner("pytest", source=f"from {env.describe().split(';')[0]}")
    documented = documented_unittest_args(env.repo_root)
    if documented is not None:
        return Runner("unittest", documented[0], documented[1])
    return Runner("unittest", ("discover",), "no pytest in the project's environment: discovery")


def run_unittest(
    env: Environment,
    runner: Runner,
    selected: Sequence[str] | None,
    timeout: float,
    *,
    seed: int = DEFAULT_SEED,
) -> TestRun:
    """Run the project's unittest suite (or the selected files / ids) and parse the outcomes."""
    workdir = tempdirs.make("unittest")
    try:
        report = workdir / "report.jsonl"
        select = json.dumps(list(selected or ()))
        argv = [*env.python, "-m", RUNNER_MODULE, str(report), select, "--", *runner.args]
        result = run_tool(
            env,
            argv,
            timeout=timeout,
            seed=seed,
            pythonpath=[str(PLUGIN_DIR)],
            writable=[workdir],
        )
        events = read_events(report)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return parse_events(events, result, runner="unittest")
