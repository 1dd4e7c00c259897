"""PythonGates end to end: step gates in order, baseline, final gate, runners and managers."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import coverage
import pytest
from gate_support import write

from exec_auto.config import GatesConfig
from exec_auto.gates import make_gates
from exec_auto.gates.base import GateContext, NoGates
from exec_auto.gates.environment import detect_runner, make_environment
from exec_auto.gates.python import PythonGates


def test_step_formats_fixes_lints_and_tests_in_order(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(5))
    write(
        demo,
        "src/app/calc.py",
        f"import os\ndef add(a,b):\n    return a+b\ndef sub(a, b):\n    return a - b\ndef decide(x):\n{branches}    return -1\n",
    )
    ctx = context(demo, ("src/app/calc.py", "README.md"))
    report = PythonGates(ctx.config).after_step(ctx)
    assert [r.summary for r in report.results] == [
        "Ruff format: Formatted 1 file",
        "Ruff: 1 auto-fixed, 1 requires manual review",
        "Pytest: 3/3 tests passed (import graph: 2 affected test files;"
        " no test map: no baseline recorded one)",
    ]
    assert (report.formatted_files, report.lint_fixed) == (1, 1)
    (lint,) = report.new_findings
    # Reported where the function is after the import was removed and the file formatted.
    assert lint.description.endswith("(src/app/calc.py:9:5)")
    assert (demo / "src/app/calc.py").read_text().startswith("def add(a, b):\n")
    assert report.feedback().startswith("[lint_error] C901 `decide` is too complex")


def test_baseline_failures_are_pre_existing_and_never_blamed_on_a_step(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    write(
        demo,
        "tests/test_flaky.py",
        "from app.calc import add\n\ndef test_old():\n    assert add(2, 2) == 5\n",
    )
    ctx = context(demo, ("src/app/calc.py",))
    gates = PythonGates(ctx.config)
    baseline = gates.baseline(ctx)
    assert [r.summary for r in baseline.results] == [
        "Environment: venv (.venv/bin/python)",
        f"Test map: 5 tests; 4 functions in 4 files (coverage {coverage.__version__});"
        " 0 non-Python files and directories read",
        "Pytest baseline: 4/5 tests passed, 1 failed",
    ]
    assert baseline.failed_tests == ("tests/test_flaky.py::test_old",)
    assert baseline.passed and all(f.pre_existing for f in baseline.findings)

    write(
        demo,
        "src/app/calc.py",
        "def add(a, b):\n    return b + a\n\n\ndef sub(a, b):\n    return b - a\n",
    )
    # Known failures come in through the context (the executor takes them from progress.yaml).
    ctx = replace(ctx, known_failures=frozenset(baseline.problem_keys))
    report = gates.after_step(ctx)
    assert report.results[-1].summary == (
        "Pytest: 2/4 tests passed, 2 failed (1 pre-existing)"
        " (coverage map: 4 tests; src/app/calc.py: add, sub changed)"
    )
    assert [f.description for f in report.new_findings] == [
        "tests/test_calc.py::test_sub failed: assert -1 == 1"
    ]
    old = [f for f in report.findings if f.pre_existing]
    assert [f.description.split(" failed")[0] for f in old] == ["tests/test_flaky.py::test_old"]

    # The gates hold no verdict state: without the known failures, both are the step's.
    fresh = replace(ctx, known_failures=frozenset())
    assert [f.pre_existing for f in PythonGates(ctx.config).after_step(fresh).findings] == [
        False,
        False,
    ]


def test_final_gate_runs_the_whole_suite(demo: Path, context: Callable[..., GateContext]) -> None:
    ctx = context(demo, ("src/app/greet.py",))
    report = PythonGates(ctx.config).final(ctx)
    assert [r.summary for r in report.results] == ["Pytest: 4/4 tests passed"]
    assert report.tests.passed == 4
    off = context(demo, ("src/app/greet.py",), final_gate=False)
    assert PythonGates(off.config).final(off).results == ()


def test_switches_turn_single_gates_off(demo: Path, context: Callable[..., GateContext]) -> None:
    write(demo, "src/app/greet.py", "import os\ndef hello(name):\n    return f'hello {name}'\n")
    ctx = context(demo, ("src/app/greet.py",), lint=False, test=False)
    report = PythonGates(ctx.config).after_step(ctx)
    assert [r.name for r in report.results] == ["ruff-format"]
    assert "import os" in (demo / "src/app/greet.py").read_text()


def test_make_gates_returns_no_gates_when_disabled() -> None:
    assert isinstance(make_gates(GatesConfig(enabled=False)), NoGates)
    assert isinstance(make_gates(GatesConfig(), ("structlog",)), PythonGates)


def fake_tool(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_runner_detection_from_project_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    for tool in ("poetry", "uv", "hatch"):
        fake_tool(bin_dir, tool, "exit 0\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cases = {
        "poetry": ("poetry.lock", ""),
        "uv": ("uv.lock", ""),
        "hatch": ("pyproject.toml", "[tool.hatch.envs.default]\ndependencies = []\n"),
        "plain": ("pyproject.toml", "[tool.hatch.build]\n"),
    }
    for expected, (name, text) in cases.items():
        root = tmp_path / expected
        root.mkdir()
        (root / name).write_text(text)
        assert detect_runner(root) == (expected, [])
    assert detect_runner(tmp_path / "poetry", "venv") == ("venv", [])
    assert make_environment(tmp_path / "uv").python == ("uv", "run", "python")


def test_missing_manager_falls_back_to_the_in_repo_venv(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (demo / "poetry.lock").write_text("")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert detect_runner(demo) == ("venv", ["project uses poetry but `poetry` is not on PATH"])


def test_poetry_project_runs_tests_and_installs_through_poetry(
    demo: Path,
    context: Callable[..., GateContext],
    wheelhouse: Callable[[str, str], None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    log = tmp_path / "poetry.log"
    python = demo / ".venv" / "bin" / "python"
    fake_tool(
        tmp_path / "bin",
        "poetry",
        f'echo "$@" >> {log}\n'
        f'if [ "$1" = run ]; then shift; shift; exec {python} "$@"; fi\n'
        f'if [ "$1" = add ]; then exec {python} -m pip install -q "$2"; fi\n'
        "exit 1\n",
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    (demo / "poetry.lock").write_text("")
    wheelhouse("zz-structlog", "zz_structlog")
    write(
        demo,
        "tests/test_dep.py",
        "import zz_structlog\n\ndef test_dep():\n    assert zz_structlog.VALUE == 42\n",
    )
    ctx = context(demo, ("tests/test_dep.py",), ("zz-structlog",), runner="auto")
    report = PythonGates(ctx.config).after_step(ctx)
    assert report.passed, report.feedback()
    calls = log.read_text().splitlines()
    assert "add zz-structlog" in calls
    assert any(c.startswith("run python -m pytest") for c in calls)
    assert (
        report.results[-2]
        .auto_actions[0]
        .startswith("Installed zz-structlog (poetry add zz-structlog")
    )
