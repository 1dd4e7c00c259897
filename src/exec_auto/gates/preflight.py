"""Preflight: problems that would fail every step, found once before step 1 and said clearly.

An unparseable pyproject.toml, and the flat-layout trap: a ticket's `specs/` folder next to a
setuptools project's package makes setuptools' automatic discovery refuse to build
("Multiple top-level packages discovered in a flat-layout: ['mypkg', 'specs']"), so installs and
`uv run` fail. A suite that cannot be collected is reported by the baseline (a gate_error).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from exec_auto.gates.base import Finding

# setuptools' FlatLayoutPackageFinder.DEFAULT_EXCLUDE top-level names, when setuptools is absent.
_FLAT_EXCLUDE = frozenset(
    [
        "ci",
        "bin",
        "debian",
        "doc",
        "docs",
        "documentation",
        "manpages",
        "news",
        "newsfragments",
        "changelog",
        "test",
        "tests",
        "unit_test",
        "unit_tests",
        "example",
        "examples",
        "scripts",
        "tools",
        "util",
        "utils",
        "python",
        "build",
        "dist",
        "venv",
        "env",
        "requirements",
        "tasks",
        "fabfile",
        "site_scons",
        "benchmark",
        "benchmarks",
        "exercise",
        "exercises",
        "htmlcov",
    ]
)


def preflight(repo_root: Path) -> list[Finding]:
    """Problems to report once, before step 1."""
    path = repo_root / "pyproject.toml"
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [
            Finding(
                type="gate_error",
                severity="high",
                description=f"pyproject.toml cannot be parsed: {exc}",
                details="Installs, builds and the project's tool configuration all fail until it"
                " is fixed; the gates fall back to defaults meanwhile.",
                agent_fixable=False,
            )
        ]
    found = flat_layout_conflict(repo_root, data)
    return [found] if found is not None else []


def _uses_setuptools_discovery(repo_root: Path, data: dict[str, Any]) -> bool:
    backend = str(data.get("build-system", {}).get("build-backend", ""))
    if backend and not backend.startswith("setuptools"):
        return False
    if not backend and not (repo_root / "setup.py").is_file():
        return False
    setuptools = data.get("tool", {}).get("setuptools", {})
    if any(k in setuptools for k in ("packages", "py-modules")):
        return False  # explicit: no automatic discovery
    setup_py = repo_root / "setup.py"
    try:
        if setup_py.is_file() and "packages=" in setup_py.read_text(encoding="utf-8"):
            return False
    except (OSError, UnicodeDecodeError):
        return False
    return not (repo_root / "src").is_dir()


def _top_level_packages(repo_root: Path) -> list[str]:
    try:
        from setuptools.discovery import FlatLayoutPackageFinder  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return sorted(
            p.name
            for p in repo_root.iterdir()
            if p.is_dir()
            and p.name.isidentifier()
            and p.name not in _FLAT_EXCLUDE
            and not p.name.startswith((".", "_"))
        )
    packages = FlatLayoutPackageFinder.find(str(repo_root))
    return sorted({p for p in packages if "." not in p})


def flat_layout_conflict(repo_root: Path, data: dict[str, Any]) -> Finding | None:
    """The setuptools flat-layout error a `specs/` folder causes, with the one-line fix."""
    if not (repo_root / "specs").is_dir() or not _uses_setuptools_discovery(repo_root, data):
        return None
    top = _top_level_packages(repo_root)
    if "specs" not in top or len(top) < 2:
        return None
    return Finding(
        type="gate_error",
        severity="high",
        description=(
            "setuptools will refuse to build or install this project: Multiple top-level"
            f" packages discovered in a flat-layout: {top}"
        ),
        details=(
            "The ticket folder specs/ sits next to the package, so setuptools' automatic discovery"
            " sees several top-level packages and stops (pip install -e ., uv run, builds fail)."
            " Fix: add to pyproject.toml\n\n[tool.setuptools.packages.find]\n"
            'exclude = ["specs*"]\n'
        ),
        agent_fixable=False,
    )
