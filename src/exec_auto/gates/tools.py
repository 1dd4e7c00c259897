"""The one place where gates start tools: every formatter, linter, hook and test run goes through here.

Keeping a single choke point means one environment for all of them (the project's interpreter, the
worktree's own sources first on the import path, a fixed PYTHONHASHSEED so baseline, step and final
runs see the same hash order) and one place to apply a sandbox to every gate subprocess.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from exec_auto import proc
from exec_auto.gates.caches import cache_env
from exec_auto.gates.environment import Environment

# The seed used when the configuration does not name one: any fixed value makes runs comparable.
DEFAULT_SEED = 0


def tool_env(
    env: Environment,
    *,
    seed: int = DEFAULT_SEED,
    pythonpath: Sequence[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Variables every gate subprocess gets: the environment's, a fixed hash seed, PYTHONPATH, caches."""
    out = dict(env.extra_env)
    if env.cache_dir is not None:
        out.update(cache_env(env.cache_dir))
    out["PYTHONHASHSEED"] = str(seed)
    parts = [*pythonpath, *env.import_roots, os.environ.get("PYTHONPATH", "")]
    joined = os.pathsep.join(p for p in parts if p)
    if joined:
        out["PYTHONPATH"] = joined
    if extra:
        out.update(extra)
    return out


def run_tool(
    env: Environment,
    argv: Sequence[str],
    *,
    timeout: float,
    seed: int = DEFAULT_SEED,
    pythonpath: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    cwd: Path | None = None,
    writable: Sequence[Path] = (),
) -> proc.ProcResult:
    """Run one gate tool in the project's environment, inside the run's sandbox (proc's scope).

    writable: directories outside the repository the tool must write (a report file).
    """
    return proc.run(
        list(argv),
        cwd=cwd or env.repo_root,
        extra_env=tool_env(env, seed=seed, pythonpath=pythonpath, extra=extra_env),
        timeout=timeout,
        stdin_text=stdin_text,
        writable=[*writable, *env.writable, *([env.cache_dir] if env.cache_dir else [])],
    )
