"""Each project is judged by its own rules, on the step's own lines.

Shapes from real projects (see fixtures/SOURCES.md): requests 2.31 (Black + isort + flake8 and no
ruff configuration), requests' current pre-commit config (pinning ruff-pre-commit v0.16.0, older than
the bundled ruff), and a project with no lint configuration at all.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from gate_support import gate_step, write

from exec_auto.gates.base import GateContext
from exec_auto.gates.python import PythonGates

FIXTURES = Path(__file__).parent / "fixtures"

# Committed before the step: the user's code, with the habits ruff's defaults would "fix".
LEGACY = """\
import sys
import os


def describe(value):
    unused = 1
    return "{} on {}".format(value, sys.platform) + os.sep


def keep(x ):
    return x
"""
# The step adds one function, badly formatted and with one flake8 problem of its own.
STEP = (
    LEGACY
    + """

def added( a,b ):
    leftover = 2
    return a+b
"""
)


def requests_shape(demo: Path) -> None:
    """demo's src layout with requests 2.31's lint configuration instead of demo's ruff config."""
    pyproject = (demo / "pyproject.toml").read_text()
    own = pyproject.split("[tool.ruff]")[0]
    isort = (FIXTURES / "requests-2.31.0" / "pyproject.toml").read_text().split("\n\n")[0]
    (demo / "pyproject.toml").write_text(own + "\n" + isort + "\n")
    shutil.copy(FIXTURES / "requests-2.31.0" / "setup.cfg", demo / "setup.cfg")
    (demo / "requirements-dev.txt").write_text("pytest\nblack\nflake8\n")


def test_black_flake8_project_is_judged_by_black_isort_and_flake8_on_the_steps_lines(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    requests_shape(demo)
    report = gate_step(demo, context, LEGACY, STEP, "src/app/legacy.py")
    by_name = {r.name: r for r in report.results}
    # The project's tools judged; ruff, which the project does not use, did not.
    assert [n for n in by_name if n != "pytest"] == ["isort", "black", "flake8"]
    assert by_name["flake8"].tool is not None
    assert by_name["flake8"].tool.source.startswith("project environment; [flake8] in setup.cfg")
    assert by_name["black"].tool.tool == "black"
    text = (demo / "src/app/legacy.py").read_text()
    # Untouched code is left exactly as the user wrote it: import order, .format(), spacing.
    assert text.startswith(LEGACY.split("def keep")[0])
    assert "def keep(x ):" in text
    # The step's own function is formatted by Black.
    assert "def added(a, b):\n    leftover = 2\n    return a + b\n" in text
    flake8 = by_name["flake8"]
    mine = [f for f in flake8.findings if not f.pre_existing]
    old = [f for f in flake8.findings if f.pre_existing]
    assert [f.description.split(" (")[0] for f in mine] == [
        "F841 local variable 'leftover' is assigned to but never used"
    ]
    assert all("leftover" not in f.description for f in old) and old
    assert not flake8.passed and "flake8 rule F841" in mine[0].details


def test_project_without_lint_config_gets_error_class_checks_only(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    pyproject = (demo / "pyproject.toml").read_text()
    (demo / "pyproject.toml").write_text(pyproject.split("[tool.ruff]")[0])
    write(demo, "src/app/loose.py", "import os\n\n\ndef f():\n    return undefined_name\n")
    ctx = context(demo, ("src/app/loose.py",))
    report = PythonGates(ctx.config).after_step(ctx)
    ruff = next(r for r in report.results if r.name == "ruff")
    assert ruff.summary == "Ruff (error-class rules only): 1 requires manual review"
    (finding,) = ruff.findings
    assert finding.description.startswith("F821 Undefined name `undefined_name`")
    # An unused import is style, not an error: left alone, not reported.
    assert (demo / "src/app/loose.py").read_text().startswith("import os\n")
    assert "error-class rules only" in ruff.tool.source


def local_hooks(demo: Path, flake8: str) -> None:
    (demo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: flake8\n"
        "        name: flake8\n"
        f"        entry: {flake8}\n"
        "        language: system\n"
        "        types: [python]\n"
    )


def test_pre_commit_config_runs_through_real_pre_commit_on_the_steps_lines(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    flake8 = shutil.which("flake8") or str(Path(subprocess.sys.executable).parent / "flake8")
    local_hooks(demo, flake8)
    report = gate_step(demo, context, LEGACY, STEP, "src/app/legacy.py")
    names = [r.name for r in report.results]
    assert names[0] == "pre-commit" and "ruff" not in names and "ruff-format" not in names
    result = report.results[0]
    assert result.tool is not None and result.tool.tool == "pre-commit"
    mine = [f.description for f in result.findings if not f.pre_existing]
    # Only the added function's problems (it has no formatter hook to tidy it) are the step's.
    assert any("F841" in d and "leftover" in d for d in mine)
    assert all("legacy.py:1" in d.rsplit("(", 1)[1] for d in mine)  # lines 13-16
    assert any("unused" in f.description for f in result.findings if f.pre_existing)


def test_offline_pre_commit_pinning_an_older_ruff_is_never_judged_by_the_bundled_one(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    shutil.copy(FIXTURES / "requests-main" / ".pre-commit-config.yaml", demo)
    # No network here: pre-commit cannot clone ruff-pre-commit, and ruff 0.16.0 is not installed.
    report = gate_step(demo, context, LEGACY, STEP, "src/app/legacy.py")
    (result,) = [r for r in report.results if r.name == "pre-commit"]
    (error,) = result.findings
    assert error.type == "gate_error" and error.severity == "high"
    assert "could not fetch its hook repositories" in error.description
    assert "ruff-check pinned at 0.16.0" in error.details
    assert not report.passed and "ruff" not in [r.name for r in report.results]
    # Nothing rewrote the file: no tool at another version touched it.
    assert (demo / "src/app/legacy.py").read_text() == STEP
