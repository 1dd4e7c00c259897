"""Quality gates after each step: format, lint, test, and automatic dependency installs.

Kept import-light: the CLI imports this package for `--help`, and nothing here may run at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from exec_auto.config import GatesConfig
    from exec_auto.gates.base import Gates
    from exec_auto.gates.environment import Environment


def make_gates(config: GatesConfig, plan_dependencies: tuple[str, ...] = ()) -> Gates:
    """The Python gates, or NoGates when gates are switched off."""
    from exec_auto.gates.base import NoGates

    if not config.enabled:
        return NoGates()
    from exec_auto.gates.python import PythonGates  # the tools' modules: only when gates run

    return PythonGates(config, plan_dependencies)


def project_env_vars(
    repo_root: Path, config: GatesConfig, environment: Environment | None = None
) -> dict[str, str]:
    """Variables that run a shell command (a verify command) inside the project's environment.

    environment: the one already detected for repo_root (detected here when not given).
    """
    from exec_auto.gates.environment import make_environment
    from exec_auto.gates.tools import DEFAULT_SEED

    env = environment or make_environment(repo_root.resolve(), config.runner)
    return {**env.activation_env(), "PYTHONHASHSEED": str(getattr(config, "seed", DEFAULT_SEED))}
