"""Where the project's tools run: poetry, uv, pdm, hatch, an in-repo venv, or the plain PATH.

The runner decides the argv prefix for pytest and installs. Formatters and linters run straight
from the environment's interpreter (found once by a probe) so each step does not pay `poetry run`'s
start-up cost; when the project has no ruff or Black, exec-auto's own copies are used.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exec_auto import proc
from exec_auto.safe_read import project_text

# Runner kinds; "pdm" is only auto-detected (the config's runner choices predate it).
MANAGER_RUNNERS = ("poetry", "uv", "pdm", "hatch")

# Printed by the probe as one JSON line: the interpreter behind the runner and which modules it has.
_PROBE = (
    "import importlib.util, importlib.metadata as md, json, sys\n"
    "mods = {m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}\n"
    "vers = {}\n"
    "for m in sys.argv[1:]:\n"
    "    try: vers[m] = md.version(m.replace('_', '-'))\n"
    "    except Exception: pass\n"
    "print(json.dumps({'executable': sys.executable, 'modules': mods, 'versions': vers}))\n"
)
PROBED_MODULES = (
    "pytest",
    "black",
    "ruff",
    "testmon",
    "coverage",
    "pip",
    "pytest_randomly",
    "flake8",
    "isort",
    "mypy",
    "pylint",
    "pre_commit",
)
_PROBE_TIMEOUT = 120.0


def read_pyproject(repo_root: Path) -> dict[str, Any]:
    """repo_root/pyproject.toml parsed, or {} when absent or unreadable (gates never fail on it)."""
    path = repo_root / "pyproject.toml"
    text = project_text(path)
    try:
        return tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError:
        return {}


def _main_worktree(repo_root: Path) -> Path | None:
    """The main work tree when repo_root is a linked git worktree (a parallel batch run), else None."""
    if not (repo_root / ".git").is_file():
        return None
    result = proc.git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=repo_root)
    common = Path(result.stdout.strip()) if result.ok else None
    return common.parent if common is not None and common.name == ".git" else None


def _venv_python(repo_root: Path) -> Path | None:
    # An untracked .venv is not checked out into a worktree: use the main work tree's one.
    roots = [repo_root]
    main = _main_worktree(repo_root)
    if main is not None:
        roots.append(main)
    for root in roots:
        for name in (".venv", "venv"):
            candidate = root / name / "bin" / "python"
            if candidate.exists():
                return candidate
    return None


def worktree_import_roots(repo_root: Path, python: Path) -> tuple[str, ...]:
    """The worktree's source roots when its interpreter belongs to the main work tree.

    The shared environment holds an editable install pointing at the main tree's sources; a
    worktree's gates must import the worktree's code, so its src/ (or its root for a flat layout)
    goes first on PYTHONPATH, ahead of the editable finder and .pth entries.
    """
    main = _main_worktree(repo_root)
    # The worktree's own environment (inside it) already has the worktree's code installed.
    if main is None or Path(os.path.abspath(python)).is_relative_to(os.path.abspath(repo_root)):
        return ()
    src = repo_root / "src"
    return (str(src),) if src.is_dir() else (str(repo_root),)


def detect_runner(repo_root: Path, configured: str = "auto") -> tuple[str, list[str]]:
    """The runner kind for repo_root and notes on what was skipped (e.g. poetry not installed)."""
    if configured != "auto":
        return configured, []
    notes: list[str] = []
    tool = read_pyproject(repo_root).get("tool", {})
    markers = {
        "poetry": (repo_root / "poetry.lock").exists() or "poetry" in tool,
        "uv": (repo_root / "uv.lock").exists() or "uv" in tool,
        "pdm": (repo_root / "pdm.lock").exists() or "pdm" in tool,
        "hatch": (repo_root / "hatch.toml").exists() or "envs" in tool.get("hatch", {}),
    }
    for kind, present in markers.items():
        if not present:
            continue
        if shutil.which(kind):
            return kind, notes
        notes.append(f"project uses {kind} but `{kind}` is not on PATH")
    if _venv_python(repo_root) is not None:
        return "venv", notes
    return "plain", notes


@dataclass
class Environment:
    """The project's Python environment: how to run its interpreter and what it has installed."""

    repo_root: Path
    kind: str
    # argv that starts the environment's python, e.g. ["poetry", "run", "python"].
    python: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    # Put first on PYTHONPATH: a worktree's own sources, ahead of the shared editable install.
    import_roots: tuple[str, ...] = ()
    _probe: dict[str, Any] | None = None
    # Folders outside the repository its tools must write (a scratch checkout), also in a sandbox.
    writable: tuple[Path, ...] = ()
    # Where its tools' caches go instead of the work tree (gates.caches); None: left to the tools.
    cache_dir: Path | None = None

    @property
    def extra_env(self) -> dict[str, str]:
        """Variables that make an in-repo venv look activated to the commands run inside it."""
        if self.kind != "venv":
            return {}
        bin_dir = str(Path(self.python[0]).parent)
        return {
            "VIRTUAL_ENV": str(Path(bin_dir).parent),
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        }

    def describe(self) -> str:
        """One line for the report: the runner, the interpreter it uses, and any detection notes."""
        try:
            shown = Path(self.python[0]).relative_to(self.repo_root).as_posix()
        except ValueError:
            shown = " ".join(self.python)
        text = f"{self.kind} ({shown})" if self.kind in ("venv", "plain") else " ".join(self.python)
        return "; ".join([text, *self.notes])

    def probe(self) -> dict[str, Any]:
        """The environment's interpreter path and module availability (probed once, then cached)."""
        if self._probe is None:
            result = proc.run(
                [*self.python, "-c", _PROBE, *PROBED_MODULES],
                cwd=self.repo_root,
                extra_env=self.extra_env,
                timeout=_PROBE_TIMEOUT,
            )
            self._probe = _parse_probe(result.stdout) if result.ok else None
            if self._probe is None:
                self.notes.append(f"could not query the environment: {result.output[-300:]}")
                self._probe = {"executable": None, "modules": {}}
        return self._probe

    def activation_env(self) -> dict[str, str]:
        """Variables that make a shell command run inside the project's environment.

        The probed interpreter's bin directory first on PATH (and VIRTUAL_ENV when it is a venv),
        whatever the manager (poetry, uv, pdm, hatch, an in-repo venv), plus the worktree's own
        sources ahead of a shared editable install. For verify commands and criteria tests.
        """
        executable = self.probe().get("executable")
        out = dict(self.extra_env)
        if executable:
            bin_dir = Path(str(executable)).parent
            out["PATH"] = str(bin_dir) + os.pathsep + os.environ.get("PATH", "")
            if (bin_dir.parent / "pyvenv.cfg").is_file():
                out["VIRTUAL_ENV"] = str(bin_dir.parent)
        if self.import_roots:
            parts = [*self.import_roots, os.environ.get("PYTHONPATH", "")]
            out["PYTHONPATH"] = os.pathsep.join(p for p in parts if p)
        return out

    def version(self, name: str) -> str:
        """The installed version of a probed module's distribution ('' when unknown)."""
        return str(self.probe().get("versions", {}).get(name, ""))

    def has_module(self, name: str) -> bool:
        """True when the environment can import `name` (a probed module)."""
        return bool(self.probe()["modules"].get(name))

    def module_argv(self, module: str) -> list[str] | None:
        """argv running `python -m module` in the environment, when the module is installed there."""
        if not self.has_module(module):
            return None
        executable = self.probe()["executable"]
        return [executable, "-m", module] if executable else [*self.python, "-m", module]


def scratch_environment(env: Environment, where: Path) -> Environment:
    """env's interpreter and installed tools, run on a checkout at `where` (importing its code).

    The probed interpreter, not `poetry run`/`uv run`: a manager started in another directory
    would build a new, empty environment there. The checkout's src/ (or its root) comes first on
    the import path, ahead of the editable install of the user's tree.
    """
    probed = env.probe()
    executable = probed.get("executable")
    python = (str(executable),) if executable else env.python
    is_venv = bool(executable) and (Path(str(executable)).parent.parent / "pyvenv.cfg").is_file()
    src = where / "src"
    roots = (str(src),) if src.is_dir() else (str(where),)
    return Environment(
        where,
        "venv" if is_venv else "plain",
        python,
        list(env.notes),
        roots,
        dict(probed),
        writable=(where,),
    )


def _parse_probe(stdout: str) -> dict[str, Any] | None:
    # Runners may print their own lines (e.g. "Creating virtualenv ..."): take the last JSON one.
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                return None
            return data if isinstance(data, dict) else None
    return None


def make_environment(repo_root: Path, configured: str = "auto") -> Environment:
    """The Environment for repo_root, detected from its files unless the runner is configured."""
    from exec_auto.gates.caches import cache_root

    env = _detect_environment(repo_root, configured)
    env.cache_dir = cache_root(repo_root)
    return env


def _detect_environment(repo_root: Path, configured: str) -> Environment:
    kind, notes = detect_runner(repo_root, configured)
    if kind == "venv":
        venv = _venv_python(repo_root)
        if venv is None:
            notes.append("runner 'venv' configured but no .venv/bin/python: using plain python")
            kind = "plain"
        else:
            roots = worktree_import_roots(repo_root, venv)
            if roots:
                notes.append("worktree: its own sources come first on the import path")
            return Environment(repo_root, kind, (str(venv),), notes, roots)
    if kind in MANAGER_RUNNERS:
        shared = _main_tree_manager_python(repo_root, kind)
        if shared is not None:
            # `poetry run`/`uv run` in a worktree (another path) would build a fresh, empty env.
            notes.append(f"worktree: using the main work tree's {kind} environment")
            roots = worktree_import_roots(repo_root, shared)
            return Environment(repo_root, "venv", (str(shared),), notes, roots)
        return Environment(repo_root, kind, (kind, "run", "python"), notes)
    plain = Environment(repo_root, "plain", (_plain_python(),), notes)
    if plain.python[0] != sys.executable and not plain.has_module("pytest"):
        # A bare project with no environment of its own: exec-auto's interpreter ships pytest.
        notes.append(f"{plain.python[0]} has no pytest: using exec-auto's interpreter")
        return Environment(repo_root, "plain", (sys.executable,), notes)
    return plain


def _main_tree_manager_python(repo_root: Path, kind: str) -> Path | None:
    """In a linked worktree, the interpreter of the environment the manager uses for the main tree."""
    main = _main_worktree(repo_root)
    if main is None:
        return None
    in_project = main / ".venv" / "bin" / "python"
    if in_project.exists():
        return in_project
    if kind == "poetry":
        info = proc.run(["poetry", "env", "info", "--path"], cwd=main, timeout=_PROBE_TIMEOUT)
        candidate = Path(info.stdout.strip()) / "bin" / "python" if info.ok else None
        if candidate is not None and candidate.exists():
            return candidate
    return None


def _plain_python() -> str:
    """The python an activated shell would run; exec-auto's own interpreter as the last resort."""
    virtual_env = os.environ.get("VIRTUAL_ENV")
    if virtual_env and (Path(virtual_env) / "bin" / "python").exists():
        return str(Path(virtual_env) / "bin" / "python")
    return shutil.which("python3") or shutil.which("python") or sys.executable


def own_tool_argv(name: str) -> list[str] | None:
    """argv for exec-auto's own copy of a tool (ruff is a dependency; Black only if installed)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return [str(beside)]
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    return [sys.executable, "-m", name] if found else None
