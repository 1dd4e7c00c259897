"""Which checks judge a project: its own, found in this order, and where each choice came from.

1. commands set in `[tool.exec-auto.gates] checks`;
2. the project's `.pre-commit-config.yaml`, run through the real pre-commit;
3. formatters and linters configured in pyproject.toml / setup.cfg / tox.ini / .flake8 / ... and
   run from the project's environment (black, isort, ruff, flake8, mypy);
4. only then exec-auto's bundled ruff: ruff format on the changed lines, and for a project with no
   lint configuration at all, error-class rules only (syntax errors, undefined names).
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

from exec_auto.config import GatesConfig
from exec_auto.gates.base import ToolInfo
from exec_auto.gates.environment import Environment, read_pyproject
from exec_auto.gates.formatting import project_uses_black

# tool -> (ini-style files and their section names) that configure it.
INI_SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "flake8": ((".flake8", "flake8"), ("setup.cfg", "flake8"), ("tox.ini", "flake8")),
    "isort": ((".isort.cfg", "settings"), ("setup.cfg", "isort"), ("tox.ini", "isort")),
    "mypy": (("mypy.ini", "mypy"), (".mypy.ini", "mypy"), ("setup.cfg", "mypy")),
}
OWN_FILES: dict[str, tuple[str, ...]] = {"ruff": ("ruff.toml", ".ruff.toml")}
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"


def _ini_has(repo_root: Path, name: str, section: str) -> bool:
    path = repo_root / name
    if not path.is_file():
        return False
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return False
    return parser.has_section(section) or (section == "isort" and parser.has_section("tool:isort"))


def configured_tools(repo_root: Path) -> dict[str, str]:
    """tool -> where the project configures it, for black, isort, ruff, flake8 and mypy."""
    found: dict[str, str] = {}
    tool_tables = read_pyproject(repo_root).get("tool", {})
    for tool in ("black", "isort", "ruff", "mypy"):
        if isinstance(tool_tables, dict) and tool in tool_tables:
            found[tool] = f"[tool.{tool}] in pyproject.toml"
    for tool, names in OWN_FILES.items():
        for name in names:
            if tool not in found and (repo_root / name).is_file():
                found[tool] = name
    for tool, places in INI_SECTIONS.items():
        for name, section in places:
            if tool not in found and _ini_has(repo_root, name, section):
                found[tool] = f"[{section}] in {name}"
    if "black" not in found and project_uses_black(repo_root):
        found["black"] = "declared in the project's dependencies"
    return found


@dataclass(frozen=True)
class Discovery:
    """The checks chosen for a project, in the order they run, with the reasons."""

    # "commands" | "pre-commit" | "project" | "bundled"
    source: str
    formatter: str | None  # "black" | "ruff" | None
    isort: bool
    ruff: bool
    ruff_error_only: bool
    linters: tuple[str, ...]  # flake8, mypy: run from the project's environment
    configured: dict[str, str]
    notes: tuple[str, ...] = ()

    def tools(self, env: Environment) -> list[ToolInfo]:
        """One line per tool for `show` and the report: tool, version, where the choice came from."""
        out: list[ToolInfo] = []
        if self.source == "commands":
            return [ToolInfo("commands", "", "[tool.exec-auto.gates] checks")]
        if self.source == "pre-commit":
            version = env.version("pre_commit")
            where = "project environment" if version else "bundled with exec-auto"
            version = version or _own_version("pre-commit")
            out.append(ToolInfo("pre-commit", version, f"{where}; runs {PRE_COMMIT_CONFIG}"))
            return out
        if self.formatter == "black":
            out.append(_info(env, "black", self.configured.get("black", "formatter = black")))
        elif self.formatter == "ruff":
            why = self.configured.get("ruff", "no formatter configured: changed lines only")
            out.append(_info(env, "ruff", why, label="ruff format"))
        if self.isort:
            out.append(_info(env, "isort", self.configured["isort"]))
        if self.ruff:
            why = (
                "no lint configuration: error-class rules only (E9, F63, F7, F82)"
                if self.ruff_error_only
                else self.configured.get("ruff", "configured")
            )
            out.append(_info(env, "ruff", why))
        for tool in self.linters:
            out.append(_info(env, tool, self.configured[tool]))
        return out


def _info(env: Environment, module: str, why: str, label: str | None = None) -> ToolInfo:
    version = env.version(module)
    where = "project environment" if env.has_module(module) else "bundled with exec-auto"
    if module not in ("ruff", "black"):
        where = "project environment" if env.has_module(module) else "NOT INSTALLED"
    if where == "bundled with exec-auto":
        version = _own_version(module)
    return ToolInfo(label or module, version, f"{where}; {why}")


def _own_version(module: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return ""


def discover(repo_root: Path, config: GatesConfig) -> Discovery:
    """What judges this project's steps (formatting and linting; tests are the runners' job)."""
    configured = configured_tools(repo_root)
    if config.checks:
        return Discovery("commands", None, False, False, False, (), configured)
    if config.pre_commit and (repo_root / PRE_COMMIT_CONFIG).is_file():
        return Discovery("pre-commit", None, False, False, False, (), configured)
    if config.formatter == "black" or (config.formatter == "auto" and "black" in configured):
        formatter: str | None = "black"
    elif config.formatter == "none":
        formatter = None
    else:
        formatter = "ruff"
    linters = tuple(t for t in ("flake8", "mypy") if t in configured)
    has_lint_config = "ruff" in configured or bool(linters)
    # ruff judges with the project's rules when it has them; otherwise only when nothing else
    # lints, and then only error-class rules (a Black + flake8 project is not ruff's to judge).
    ruff = "ruff" in configured or not linters
    source = "project" if (configured and (has_lint_config or formatter == "black")) else "bundled"
    return Discovery(
        source,
        formatter,
        "isort" in configured,
        ruff,
        ruff and not has_lint_config,
        linters,
        configured,
    )
