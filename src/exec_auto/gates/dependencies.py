"""Missing dependencies: which distribution provides a missing module, and installing it.

A distribution is installed only when its name comes from somewhere trustworthy: the plan's
dependency section, the project's own declared dependencies, or the curated table below of
import names that differ from their distribution names. A module that maps to nothing is reported,
never installed under a guessed name (typosquatted packages wait for exactly that guess).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exec_auto import proc
from exec_auto.atomicio import atomic_write_text
from exec_auto.distnames import canonical, parse_requirement
from exec_auto.gates.environment import Environment, read_pyproject
from exec_auto.gates.paths import clip
from exec_auto.safe_read import project_text

if TYPE_CHECKING:
    from exec_auto.sandbox.session import Sandbox

# import name -> distribution name, where the two differ beyond PEP 503 normalisation.
IMPORT_TO_DISTRIBUTION: dict[str, str] = {
    "yaml": "PyYAML",
    "PIL": "Pillow",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "jose": "python-jose",
    "jwt": "PyJWT",
    "bs4": "beautifulsoup4",
    "dotenv": "python-dotenv",
    "dateutil": "python-dateutil",
    "multipart": "python-multipart",
    "slugify": "python-slugify",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "magic": "python-magic",
    "ldap": "python-ldap",
    "telegram": "python-telegram-bot",
    "Crypto": "pycryptodome",
    "OpenSSL": "pyOpenSSL",
    "nacl": "PyNaCl",
    "serial": "pyserial",
    "usb": "pyusb",
    "zmq": "pyzmq",
    "git": "GitPython",
    "github": "PyGithub",
    "fitz": "PyMuPDF",
    "Bio": "biopython",
    "OpenGL": "PyOpenGL",
    "gi": "PyGObject",
    "socks": "PySocks",
    "dns": "dnspython",
    "websocket": "websocket-client",
    "kafka": "kafka-python",
    "memcache": "python-memcached",
    "MySQLdb": "mysqlclient",
    "attr": "attrs",
    "pkg_resources": "setuptools",
    "mpl_toolkits": "matplotlib",
    "ruamel": "ruamel.yaml",
    "win32api": "pywin32",
    "wx": "wxPython",
    "faiss": "faiss-cpu",
    "editor": "python-editor",
}


def normalize(name: str) -> str:
    """PEP 503 normalised distribution name (see `exec_auto.distnames`)."""
    return canonical(name)


def requirement_of(text: str) -> tuple[str, str] | None:
    """(name, safe requirement string) from a dependency line such as 'python-jose[crypto]>=3.3 - JWT'."""
    return parse_requirement(text)


def declared_dependencies(repo_root: Path) -> set[str]:
    """Normalised names of every dependency the project declares (pyproject, requirements files)."""
    pyproject = read_pyproject(repo_root)
    specs: list[Any] = []
    project = pyproject.get("project", {})
    specs += project.get("dependencies", [])
    for group in project.get("optional-dependencies", {}).values():
        specs += group
    for group in pyproject.get("dependency-groups", {}).values():
        specs += group
    tool = pyproject.get("tool", {})
    poetry = tool.get("poetry", {})
    specs += list(poetry.get("dependencies", {})) + list(poetry.get("dev-dependencies", {}))
    for group in poetry.get("group", {}).values():
        specs += list(group.get("dependencies", {}))
    for group in tool.get("pdm", {}).get("dev-dependencies", {}).values():
        specs += group
    specs += tool.get("uv", {}).get("dev-dependencies", [])
    for env in tool.get("hatch", {}).get("envs", {}).values():
        specs += env.get("dependencies", [])
    for path in [*repo_root.glob("requirements*.txt"), *repo_root.glob("requirements/*.txt")]:
        specs += (project_text(path) or "").splitlines()
    names = set()
    for spec in specs:
        parsed = requirement_of(spec) if isinstance(spec, str) else None
        if parsed and not spec.lstrip().startswith(("#", "-")):
            names.add(normalize(parsed[0]))
    return names


@dataclass(frozen=True)
class Resolution:
    """The requirement that provides a missing module, and where that name came from."""

    module: str
    requirement: str
    source: str


def resolve(module: str, plan_dependencies: Iterable[str], repo_root: Path) -> Resolution | None:
    """The distribution to install for a missing top-level module, or None when nothing names one."""
    candidates = {normalize(module)}
    if module in IMPORT_TO_DISTRIBUTION:
        candidates.add(normalize(IMPORT_TO_DISTRIBUTION[module]))
    for line in plan_dependencies:
        parsed = requirement_of(line)
        if parsed and normalize(parsed[0]) in candidates:
            return Resolution(module, parsed[1], "the plan's dependencies")
    if module in IMPORT_TO_DISTRIBUTION:
        return Resolution(module, IMPORT_TO_DISTRIBUTION[module], "the import-name table")
    if normalize(module) in declared_dependencies(repo_root):
        return Resolution(module, module, "the project's declared dependencies")
    return None


def is_local_module(repo_root: Path, module: str) -> bool:
    """True when the module is part of the project itself (an import path problem, not a dependency)."""
    for base in (repo_root, repo_root / "src"):
        if (base / f"{module}.py").is_file() or (base / module).is_dir():
            return True
    return False


def is_stdlib(module: str) -> bool:
    """True for standard-library modules (missing means a Python version problem)."""
    return module in sys.stdlib_module_names


@dataclass(frozen=True)
class InstallOutcome:
    """What an install attempt did."""

    requirement: str
    ok: bool
    command: str
    output: str = ""
    note: str = ""


def install_argv(env: Environment, requirement: str) -> list[str]:
    """The project's manager's install command: poetry/uv/pdm add, else pip into its environment."""
    if env.kind in ("poetry", "uv", "pdm"):
        return [env.kind, "add", requirement]
    return [*env.python, "-m", "pip", "install", requirement]


def _install_lock(repo_root: Path, timeout: float) -> contextlib.AbstractContextManager[object]:
    """One install at a time per repository: parallel worktrees share the main tree's environment."""
    from filelock import FileLock

    common = proc.git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=repo_root)
    if not common.ok:
        return contextlib.nullcontext()
    folder = Path(common.stdout.strip()) / "exec-auto"
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder / "install.lock"), timeout=timeout)


def install(env: Environment, requirement: str, timeout: float) -> InstallOutcome:
    """Install `requirement` into the project with its manager, recording it where pip is used."""
    from filelock import Timeout

    try:
        with _install_lock(env.repo_root, timeout):
            return _install(env, requirement, timeout)
    except Timeout:
        command = " ".join(install_argv(env, requirement)[-3:])
        return InstallOutcome(
            requirement, False, command, f"another install held the lock for {timeout:g}s"
        )


# The package managers' settings (index, mirror, cache, find-links) pass into the install.
_MANAGER_ENV = ("PIP_", "UV_", "POETRY_", "PDM_")


def environment_dirs(env: Environment) -> list[Path]:
    """The project's own environment: the virtualenv its interpreter runs in (none: a bare one)."""
    executable = env.probe().get("executable")
    if not executable:
        return []
    prefix = Path(str(executable)).parent.parent
    return [prefix] if (prefix / "pyvenv.cfg").is_file() else []


def _install_sandbox(env: Environment) -> Sandbox | None:
    """Where the install runs: in the run's sandbox with network and the environment writable.

    Outside only when there is no sandbox (--sandbox off), or when the interpreter is not in a
    virtualenv: then pip would write a system or user site, which is no project's environment.
    """
    box = proc.current_sandbox()
    if box is None:
        return None
    dirs = environment_dirs(env)
    return box.for_installs(dirs) if dirs else None


def _install(env: Environment, requirement: str, timeout: float) -> InstallOutcome:
    argv = install_argv(env, requirement)
    # Only what exec-auto itself chose (plan or curated table) is installed; the install runs in
    # the sandbox (network on, only the environment writable): a package's build or install code
    # runs there with no key, no HOME and no write outside the repository and the environment.
    contained = _install_sandbox(env)
    manager_env = {k: v for k, v in os.environ.items() if k.startswith(_MANAGER_ENV)}
    result = proc.run(
        argv,
        cwd=env.repo_root,
        extra_env={**manager_env, **env.extra_env},
        timeout=timeout,
        sandbox=contained,
    )
    if (
        not result.ok
        and argv[-3:-1] == ["pip", "install"]
        and "No module named pip" in result.output
    ):
        # A venv created without pip: let exec-auto's pip install into it.
        target = env.probe().get("executable") or env.python[-1]
        argv = [sys.executable, "-m", "pip", "--python", str(target), "install", requirement]
        result = proc.run(
            argv,
            cwd=env.repo_root,
            extra_env={**manager_env, **env.extra_env},
            timeout=timeout,
            sandbox=contained,
        )
    command = (
        " ".join(argv[:3]) if env.kind in ("poetry", "uv", "pdm") else f"pip install {requirement}"
    )
    if result.timed_out:
        return InstallOutcome(requirement, False, command, f"timed out after {timeout:g}s")
    if not result.ok:
        return InstallOutcome(requirement, False, command, clip(result.output, 3000))
    note = ""
    if env.kind not in ("poetry", "uv", "pdm"):
        note = _record_requirement(env.repo_root, requirement)
    return InstallOutcome(requirement, True, command, note=note)


def _record_requirement(repo_root: Path, requirement: str) -> str:
    """Add the requirement to requirements.txt, so the install is not lost with the environment."""
    path = repo_root / "requirements.txt"
    if not path.is_file():
        return "not declared anywhere: add it to the project's dependencies"
    text = path.read_text(encoding="utf-8")
    parsed = requirement_of(requirement)
    name = normalize(parsed[0]) if parsed else requirement
    for line in text.splitlines():
        listed = requirement_of(line)
        if listed and normalize(listed[0]) == name:
            return "already listed in requirements.txt"
    atomic_write_text(
        path, text + ("" if text.endswith("\n") or not text else "\n") + requirement + "\n"
    )
    return "added to requirements.txt"
