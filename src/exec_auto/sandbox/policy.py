"""The sandbox policy: what a contained command may read, write and reach, as one frozen record.

The policy is built once per run (`session.build_policy`) and never mutated; a caller that needs a
variant (gates without network, a gate's output folder writable) derives a new one with `replace`.
Paths are absolute and resolved, so a backend can turn them into mounts without thinking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

# Always passed through: what a shell, a compiler and a test runner need to behave normally.
BASE_ENV_ALLOW: tuple[str, ...] = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TERM",
    "TZ",
    "COLUMNS",
    "LINES",
    "NO_COLOR",
    "FORCE_COLOR",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUTF8",
    "PYTHONIOENCODING",
    "SOURCE_DATE_EPOCH",
    "USER",
    "LOGNAME",
    "SHELL",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "PYENV_VERSION",
)


@dataclass(frozen=True)
class SandboxPolicy:
    """Everything a backend needs to contain one command.

    The whole filesystem is read-only except `writable`; `root` (the repository) is writable except
    `readonly` (its `.git/`, the ticket folder, in-repo environments); `hidden` paths (the real HOME,
    `.env*` files, sockets) are replaced by empty ones, with `exposed` (read-only) punched back through
    them (a poetry env or a pyenv interpreter under the user's cache).
    """

    root: Path
    home: Path
    tmp: Path
    readonly: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()
    exposed: tuple[Path, ...] = ()
    writable: tuple[Path, ...] = ()
    network: bool = False
    env_allow: tuple[str, ...] = BASE_ENV_ALLOW
    # Fixed variables inside (HOME, TMPDIR, config dirs); they win over anything passed in.
    env_set: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def with_network(self, network: bool) -> SandboxPolicy:
        """The same policy with network access switched on or off."""
        return self if network == self.network else replace(self, network=network)

    def with_writable(self, *paths: Path) -> SandboxPolicy:
        """The same policy with more writable folders (a gate's output folder, a tool's log dir)."""
        extra = tuple(p.resolve() for p in paths if p.resolve() not in self.writable)
        return replace(self, writable=(*self.writable, *extra)) if extra else self

    def with_env(self, **values: str) -> SandboxPolicy:
        """The same policy with fixed variables added (they override what the caller passes)."""
        merged = dict(self.env_set)
        merged.update(values)
        return replace(self, env_set=tuple(sorted(merged.items())))

    def environment(
        self, source: Mapping[str, str], explicit: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The variables a contained command gets: allowlisted ones from source, then explicit, then fixed.

        `explicit` holds what exec-auto itself chose for this command (EXEC_AUTO_*, a venv's PATH);
        everything else from the parent's environment - API keys above all - stays outside.
        """
        allowed = set(self.env_allow)
        env = {k: v for k, v in source.items() if k in allowed or k.startswith("LC_")}
        env.update(explicit or {})
        env.update(dict(self.env_set))
        env["HOME"] = str(self.home)
        env["TMPDIR"] = str(self.tmp)
        return env
