"""The per-run sandbox: build the policy for one repository and ticket, decide whether to use it.

`open_sandbox` is called once at the start of a run. It probes the backends for real, builds the
policy (private HOME and TMPDIR in a fresh folder, the project's environment exposed read-only
wherever it lives) and returns a `Sandbox` - or, with `--sandbox off` or for the bundled demo,
none, together with a `SandboxStatus` line that the start message and the report print verbatim.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from exec_auto import tempdirs
from exec_auto.errors import ExecAutoError
from exec_auto.safe_read import project_text
from exec_auto.sandbox.backend import SandboxBackend, first_usable
from exec_auto.sandbox.gittrace import GitAttempt, collect
from exec_auto.sandbox.policy import BASE_ENV_ALLOW, SandboxPolicy

if TYPE_CHECKING:
    from exec_auto.config import SandboxConfig

# Directories never searched for .env files (huge, and never the project's own configuration).
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox"})
_ENV_SCAN_LIMIT = 20_000
# Places that hold live credentials or control sockets on a typical Linux machine: a socket on a
# read-only mount still accepts connections (docker = root, tmux = a shell, ssh-agent = your keys).
_SECRET_PLACES = ("/run/user", "/var/run/docker.sock", "/run/docker.sock", "/run/podman")
_SECRET_GLOBS = ("/tmp/ssh-*", "/tmp/tmux-*", "/tmp/.X11-unix", "/tmp/screen*", "/run/screen")
# A package manager's own configuration under HOME (indexes, mirrors), read-only for installs,
# pointed at by the variable each manager reads it from.
_MANAGER_CONFIG = {
    "PIP_CONFIG_FILE": (".config/pip/pip.conf", ".pip/pip.conf"),
    "UV_CONFIG_FILE": (".config/uv/uv.toml",),
    "POETRY_CONFIG_DIR": (".config/pypoetry",),
}
# Tools an agent or a gate commonly starts; if one lives under a hidden HOME it is exposed.
_TOOLS = ("python3", "python", "poetry", "uv", "pdm", "hatch", "node", "npm", "npx", "git")


STRAYS_VAR = "EXEC_AUTO_STRAYS"
# Runs the command, then lists the processes still alive in the PID namespace (all but its init
# and this shell; zombies left out) with shell builtins only, so the listing starts no process.
# Only when there are some: 0.3 s later once more, and what is in both lists (not a background job
# that was just exiting; a pid counts, its name may change by exec) goes to $EXEC_AUTO_STRAYS. The command's exit code is kept.
STRAY_CHECK = r"""
"$@"; rc=$?
live() {
  found=
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    if [ "$p" = 1 ] || [ "$p" = "$$" ]; then continue; fi
    name=; state=
    while read -r key value rest; do
      case "$key" in Name:) name=$value ;; State:) state=$value; break ;; esac
    done < "/proc/$p/status"
    if [ -n "$state" ] && [ "$state" != Z ]; then found="$found $p:$name"; fi
  done 2>/dev/null
}
live
if [ -n "$found" ]; then
  first="$found "
  sleep 0.3
  live
  for entry in $found; do
    case "$first" in *" ${entry%%:*}:"*) echo "${entry#*:} (pid ${entry%%:*} in the sandbox)" >> "$EXEC_AUTO_STRAYS" ;; esac
  done
fi
exit $rc
"""


class SandboxUnavailableError(ExecAutoError):
    """A sandbox was required (or left to auto) but no backend works on this machine."""


@dataclass(frozen=True)
class SandboxStatus:
    """Whether this run is contained, by what, and if not, why - one line for humans."""

    active: bool
    backend: str | None
    reason: str = ""
    agent_network: bool = True
    tools_network: bool = False

    def line(self) -> str:
        """The start message's and the report's first line about containment."""
        if self.active:
            net = (
                f"network {'on' if self.agent_network else 'off'} for agent CLIs, "
                f"{'on' if self.tools_network else 'off'} for gates and shell tools"
            )
            return (
                f"Sandbox: {self.backend} - repository writable, .git/ and the ticket read-only, "
                f"rest of the filesystem read-only, HOME and .env hidden, {net}"
            )
        return f"NO SANDBOX: {self.reason} - the agent and the gates ran with your full user rights"


@dataclass(frozen=True)
class Sandbox:
    """One run's containment: the policy for agent processes, and the backend enforcing it."""

    policy: SandboxPolicy
    backend: SandboxBackend
    tools_network: bool = False
    run_dir: Path | None = field(default=None, compare=False)

    def for_tools(self) -> Sandbox:
        """The variant for gates, verify commands and the API backends' shell tool."""
        return replace(self, policy=self.policy.with_network(self.tools_network))

    def for_installs(self, environment: Iterable[Path]) -> Sandbox:
        """The variant for a dependency install: network on, the project's environment writable.

        Everything else stays as for any command (repository writable except .git/, HOME private
        and empty, no key in the environment); the package managers' own configuration files under
        the real HOME become readable, so an index or mirror configured there still applies.
        """
        policy = self.policy.with_network(True).with_writable(*environment)
        fixed: dict[str, str] = {}
        exposed: list[Path] = []
        for variable, candidates in _MANAGER_CONFIG.items():
            found = next((h / c for h in _homes() for c in candidates if (h / c).exists()), None)
            if found is not None:
                fixed[variable] = str(found)
                exposed.append(found.resolve())
        policy = replace(policy, exposed=tuple(dict.fromkeys((*policy.exposed, *exposed))))
        return replace(self, policy=policy.with_env(**fixed))

    def with_policy(self, policy: SandboxPolicy) -> Sandbox:
        """The same backend with another policy (derived from this one)."""
        return replace(self, policy=policy)

    def command(
        self,
        argv: Sequence[str],
        cwd: Path,
        source_env: Mapping[str, str],
        explicit_env: Mapping[str, str] | None = None,
        writable: Iterable[Path] = (),
    ) -> tuple[list[str], dict[str, str]]:
        """The wrapped argv and the filtered environment for one contained command."""
        policy = self.policy.with_writable(*writable)
        env = policy.environment(source_env, explicit_env)
        if self.backend.contains_processes:
            # Inside its own PID namespace: list what is still running when the command ends.
            argv = ["/bin/sh", "-c", STRAY_CHECK, "exec-auto-stray-check", *argv]
        return self.backend.wrap(policy, argv, cwd.resolve()), env

    def left_running(self) -> list[str]:
        """Processes contained commands left running when they ended, since the last call.

        The sandbox killed each of them with its PID namespace; this only says that they were there.
        """
        if self.run_dir is None:
            return []
        path = self.run_dir / "strays" / "left-running.txt"
        taken = path.with_suffix(".taken")
        try:
            path.rename(taken)
            lines = taken.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []
        taken.unlink(missing_ok=True)
        return [line for line in lines if line.strip()]

    def git_attempts(self) -> list[GitAttempt]:
        """git-state writes inside the sandbox that failed since the last call (see gittrace)."""
        if self.run_dir is None:
            return []
        return collect(self.run_dir / "git-trace")

    def close(self) -> None:
        """Remove the run's private HOME and TMPDIR."""
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _homes() -> list[Path]:
    """The user's HOME as the environment says, and as the password database says."""
    homes = []
    env_home = os.environ.get("HOME")
    if env_home:
        homes.append(Path(env_home).resolve())
    try:
        db = Path(pwd.getpwuid(os.getuid()).pw_dir).resolve()
    except KeyError:
        db = None
    if db is not None and db not in homes and db != Path("/"):
        homes.append(db)
    return homes


def _env_files(root: Path) -> list[Path]:
    """The repository's .env* files and folders, at any depth (skipping .git, envs, node_modules)."""
    found: list[Path] = []
    seen = 0
    for folder, dirs, files in os.walk(root):
        seen += len(files) + len(dirs)
        if seen > _ENV_SCAN_LIMIT:
            # A huge tree: the top level is where real projects keep .env files.
            found += [p for p in root.iterdir() if p.name.startswith(".env")]
            return sorted(set(found))
        keep = []
        for name in dirs:
            if name.startswith(".env"):
                found.append(Path(folder) / name)
            elif name not in _SKIP_DIRS:
                keep.append(name)
        dirs[:] = keep
        found += [Path(folder) / n for n in files if n.startswith(".env")]
    return sorted(found)


def _prefix_of(executable: Path) -> Path:
    """The installation prefix of an executable (the folder above its bin/)."""
    real = executable.resolve()
    return real.parent.parent if real.parent.name in ("bin", "Scripts") else real.parent


def _venv_base(prefix: Path) -> Path | None:
    """The base interpreter's prefix of a virtualenv (pyvenv.cfg's `home`), e.g. a pyenv version."""
    cfg = prefix / "pyvenv.cfg"
    try:
        lines = cfg.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            return Path(value.strip()).resolve().parent
    return None


def detect_project_envs(root: Path) -> list[Path]:
    """The project's environments that live outside it: poetry's and hatch's, asked once, here.

    Asked outside the sandbox (the managers need the real HOME to find them); an in-repo `.venv`
    needs no asking.
    """
    from exec_auto import proc

    found: list[Path] = []
    markers = {
        "poetry": (root / "poetry.lock").exists() or "[tool.poetry" in _pyproject_text(root),
        "hatch": (root / "hatch.toml").exists() or "[tool.hatch.envs" in _pyproject_text(root),
    }
    queries = {"poetry": ["poetry", "env", "info", "--path"], "hatch": ["hatch", "env", "find"]}
    for tool, present in markers.items():
        if not present or shutil.which(tool) is None:
            continue
        answer = proc.run(queries[tool], cwd=root, timeout=60, sandbox=None)
        for line in answer.stdout.splitlines() if answer.ok else []:
            path = Path(line.strip())
            if line.strip() and path.is_dir():
                found.append(path.resolve())
    uv_env = os.environ.get("UV_PROJECT_ENVIRONMENT")
    if uv_env and Path(uv_env).is_dir():
        found.append(Path(uv_env).resolve())
    return found


def _pyproject_text(root: Path) -> str:
    return (project_text(root / "pyproject.toml") or "")[:200_000]


def environment_paths(root: Path, project_envs: Iterable[Path] = ()) -> list[Path]:
    """Every place the project's and exec-auto's Python (and common tools) live, resolved."""
    paths: list[Path] = []

    def add(path: Path | None) -> None:
        if path is not None and path.exists() and path.resolve() not in paths:
            paths.append(path.resolve())

    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        add(Path(prefix))
    for env in (*project_envs, *(Path(os.environ[v]) for v in ("VIRTUAL_ENV",) if v in os.environ)):
        add(env)
        add(_venv_base(env))
    add(_venv_base(Path(sys.prefix)))
    for tool in _TOOLS:
        found = shutil.which(tool)
        if found:
            add(_prefix_of(Path(found)))
    pyenv = os.environ.get("PYENV_ROOT")
    add(Path(pyenv) if pyenv else None)
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        # pyenv's shims run pyenv itself, which needs its whole root (versions, libexec).
        if entry.endswith(os.path.join(".pyenv", "shims")):
            add(Path(entry).parent)
    return paths


def build_policy(
    root: Path,
    ticket_dir: Path | None,
    config: SandboxConfig,
    run_dir: Path,
    project_envs: Iterable[Path] = (),
) -> SandboxPolicy:
    """The policy for one run in `root`; private folders are created under run_dir."""
    root = root.resolve()
    home, tmp = run_dir / "home", run_dir / "tmp"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    readonly = [root / ".git"]
    if ticket_dir is not None:
        readonly.append(ticket_dir.resolve())
    # The project's in-repo environment: visible, usable, but not changeable by the agent. A
    # `.venv` that is a symlink (to ~/venvs/proj, say) is mounted at its target: bwrap cannot
    # mount onto the link itself, and the target may sit under the hidden HOME.
    in_repo_envs = [
        (root / name).resolve() for name in (".venv", "venv") if (root / name / "bin").is_dir()
    ]
    readonly += in_repo_envs
    readonly += [Path(p).resolve() for p in config.readonly]
    hidden: list[Path] = []
    homes = [h for h in _homes() if h != root]
    if not config.show_home:
        hidden += homes
    hidden += [Path(p) for p in _SECRET_PLACES if os.path.lexists(p)]
    hidden += [p for pattern in _SECRET_GLOBS for p in sorted(Path("/").glob(pattern.lstrip("/")))]
    agent_socket = os.environ.get("SSH_AUTH_SOCK")
    if agent_socket and os.path.exists(agent_socket):
        hidden.append(Path(agent_socket).parent)
    if not config.dotenv:
        hidden += _env_files(root)
    exposed = [
        p
        for p in (
            *environment_paths(root, project_envs),
            *in_repo_envs,
            *(Path(e) for e in config.expose),
        )
        if any(p.is_relative_to(h) for h in hidden)
    ]
    extra = os.environ.get("EXEC_AUTO_SANDBOX_WRITABLE", "")
    writable = [Path(p).resolve() for p in (*config.writable, *extra.split(os.pathsep)) if p]
    # git traces every git process inside into here, so refused git-state writes are logged.
    trace = run_dir / "git-trace"
    trace.mkdir(exist_ok=True)
    # Processes a command left running when it ended are listed here (see STRAY_CHECK).
    strays = run_dir / "strays"
    strays.mkdir(exist_ok=True)
    writable += [trace.resolve(), strays.resolve()]
    env_set: dict[str, str] = {
        "GIT_TRACE2_EVENT": str(trace.resolve()),
        STRAYS_VAR: str(strays.resolve() / "left-running.txt"),
    }
    for env in project_envs:
        if env.parent.name == "virtualenvs" and "pypoetry" in env.parts:
            # `poetry run` inside finds the project's env where it really lives (HOME is private).
            env_set["POETRY_VIRTUALENVS_PATH"] = str(env.parent)
    return SandboxPolicy(
        root=root,
        home=home,
        tmp=tmp,
        readonly=tuple(dict.fromkeys(readonly)),
        hidden=tuple(dict.fromkeys(hidden)),
        exposed=tuple(dict.fromkeys(p.resolve() for p in exposed)),
        writable=tuple(writable),
        network=config.network,
        env_allow=tuple(dict.fromkeys((*BASE_ENV_ALLOW, *config.env))),
        env_set=tuple(sorted(env_set.items())),
    )


def sandbox_status(config: SandboxConfig) -> tuple[SandboxBackend | None, SandboxStatus]:
    """Which backend this run would use, or why none (without creating anything)."""
    if config.mode == "off":
        return None, SandboxStatus(False, None, "--sandbox off")
    backend, reasons = first_usable()
    if backend is None:
        return None, SandboxStatus(False, None, "no usable sandbox (" + "; ".join(reasons) + ")")
    return backend, SandboxStatus(True, backend.name, "", config.network, config.tools_network)


def open_sandbox(
    root: Path,
    ticket_dir: Path | None,
    config: SandboxConfig,
    *,
    allow_unsandboxed: bool = False,
    project_envs: Iterable[Path] = (),
) -> tuple[Sandbox | None, SandboxStatus]:
    """The run's Sandbox (None when off), its status line; refuses an uncontained unattended run.

    Scratch folders under TMPDIR that killed runs left behind are removed first (see tempdirs).

    allow_unsandboxed is for runs whose code is exec-auto's own (the bundled demo): they go ahead
    without a sandbox and say so, instead of refusing.
    """
    # What a kill -9 of an earlier run left in TMPDIR (any mode: that run may have had one).
    tempdirs.remove_dead()
    backend, status = sandbox_status(config)
    if backend is None:
        if config.mode == "on" or (config.mode == "auto" and not allow_unsandboxed):
            raise SandboxUnavailableError(
                f"refusing an unattended run without a sandbox: {status.reason}",
                hint="install bubblewrap (apt-get install bubblewrap), or pass --sandbox off "
                '(or [tool.exec-auto.sandbox] mode = "off") to run with your full user rights',
            )
        return None, status
    run_dir = tempdirs.make("sandbox")
    envs = [*project_envs, *detect_project_envs(root)]
    policy = build_policy(root, ticket_dir, config, run_dir, envs)
    return Sandbox(policy, backend, config.tools_network, run_dir), status
