"""Missing dependencies: installed only under a name the plan or the curated table gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gate_support import write

from exec_auto.gates.base import GateContext
from exec_auto.gates.dependencies import normalize, requirement_of, resolve
from exec_auto.gates.python import PythonGates


def test_resolution_uses_plan_then_table_then_declared_dependencies(tmp_path: Path) -> None:
    plan = ("structlog>=24.1 (structured logging)", "python-jose[cryptography]")
    assert resolve("structlog", plan, tmp_path).requirement == "structlog>=24.1"
    jose = resolve("jose", plan, tmp_path)
    assert (jose.requirement, jose.source) == (
        "python-jose[cryptography]",
        "the plan's dependencies",
    )
    assert resolve("yaml", (), tmp_path).requirement == "PyYAML"
    assert resolve("sklearn", (), tmp_path).requirement == "scikit-learn"
    assert resolve("reqeusts", (), tmp_path) is None
    (tmp_path / "requirements.txt").write_text("requests==2.32\n")
    assert resolve("requests", (), tmp_path).source == "the project's declared dependencies"


def test_requirement_parsing_keeps_only_a_safe_specifier() -> None:
    assert requirement_of("`Typing_Extensions >= 4.0` for typing") == (
        "Typing_Extensions",
        "Typing_Extensions>=4.0",
    )
    assert requirement_of("foo; rm -rf /") == ("foo", "foo")
    assert requirement_of("- a bullet") is None
    assert normalize("Typing.Extensions") == normalize("typing_extensions") == "typing-extensions"


def missing_import_test(root: Path, module: str) -> None:
    write(
        root,
        "tests/test_uses_dep.py",
        f"import {module}\n\ndef test_dep():\n    assert {module}.VALUE == 42\n",
    )


def test_missing_module_named_by_the_plan_is_installed_and_the_rerun_passes(
    demo: Path, context: Callable[..., GateContext], wheelhouse: Callable[[str, str], None]
) -> None:
    wheelhouse("zz-structlog", "zz_structlog")
    (demo / "requirements.txt").write_text("pytest\n")
    missing_import_test(demo, "zz_structlog")
    ctx = context(demo, ("tests/test_uses_dep.py",), plan_dependencies=("zz-structlog",))
    report = PythonGates(ctx.config).after_step(ctx)
    assert report.passed, report.feedback()
    assert report.dependencies_installed == ("zz-structlog",)
    deps = next(r for r in report.results if r.name == "dependencies")
    assert deps.summary == "Dependencies: Installed zz-structlog"
    assert deps.auto_actions[0].startswith("Installed zz-structlog (pip install zz-structlog")
    assert (
        report.results[-1].summary
        == "Pytest: 1/1 tests passed (touched tests: 1 touched test file)"
    )
    assert (demo / "requirements.txt").read_text() == "pytest\nzz-structlog\n"


def test_table_maps_import_names_even_when_a_conftest_stops_pytest_starting(
    demo: Path, context: Callable[..., GateContext], wheelhouse: Callable[[str, str], None]
) -> None:
    # PIL, not yaml: the test extras' kubernetes-validate brings PyYAML into the shared environment.
    wheelhouse("Pillow", "PIL")
    write(demo, "tests/conftest.py", "import PIL\n\nVALUE = PIL.VALUE\n")
    ctx = context(demo, ("tests/conftest.py",))
    report = PythonGates(ctx.config).after_step(ctx)
    assert report.passed, report.feedback()
    assert report.dependencies_installed == ("Pillow",)
    assert (
        report.results[-1].summary
        == "Pytest: 4/4 tests passed (touched tests: touched test directory)"
    )


def test_unknown_module_is_a_dependency_error_and_nothing_is_installed(
    demo: Path, context: Callable[..., GateContext], wheelhouse: Callable[[str, str], None]
) -> None:
    wheelhouse("zz-guessme", "zz_guessme")  # available, but nothing names it: never installed
    missing_import_test(demo, "zz_guessme")
    ctx = context(demo, ("tests/test_uses_dep.py",))
    report = PythonGates(ctx.config).after_step(ctx)
    (finding,) = report.new_findings
    assert (finding.type, finding.severity) == ("dependency_error", "high")
    assert finding.description == (
        "Missing module 'zz_guessme': no known distribution provides it; not installed"
    )
    assert "Affected: tests/test_uses_dep.py" in finding.details
    assert report.dependencies_installed == () and not finding.skip_step
    site = next((demo / ".venv" / "lib").glob("python*/site-packages"))
    assert not (site / "zz_guessme").exists()


def test_install_disabled_reports_the_command_instead(
    demo: Path, context: Callable[..., GateContext], wheelhouse: Callable[[str, str], None]
) -> None:
    wheelhouse("zz-structlog", "zz_structlog")
    missing_import_test(demo, "zz_structlog")
    ctx = context(demo, ("tests/test_uses_dep.py",), ("zz-structlog",), install=False)
    report = PythonGates(ctx.config).after_step(ctx)
    (finding,) = report.new_findings
    assert finding.type == "dependency_error"
    assert finding.description == (
        "Missing module 'zz_structlog' (zz-structlog): installing is disabled"
    )
    assert "-m pip install zz-structlog" in finding.details
    assert report.dependencies_installed == ()


def test_failed_install_is_high_severity_and_skips_the_step(
    demo: Path, context: Callable[..., GateContext], wheelhouse: Callable[[str, str], None]
) -> None:
    missing_import_test(demo, "zz_absent")  # the wheelhouse has no such distribution
    ctx = context(demo, ("tests/test_uses_dep.py",), ("zz-absent>=1.0",))
    gates = PythonGates(ctx.config)
    report = gates.after_step(ctx)
    (finding,) = report.new_findings
    assert (finding.type, finding.severity) == ("dependency_error", "high")
    assert finding.description == "Failed to install zz-absent>=1.0"
    assert finding.skip_step and not finding.agent_fixable
    assert "pip install zz-absent>=1.0 failed" in finding.details
    # A fix attempt re-runs the gates: the failed install is not retried, the finding stays.
    again = gates.after_step(ctx)
    assert [f.description for f in again.new_findings] == ["Failed to install zz-absent>=1.0"]


def test_missing_local_module_is_a_test_failure_not_a_dependency(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    write(demo, "tests/test_local.py", "import app.nothere\n\nVALUE = app.nothere.VALUE\n")
    ctx = context(demo, ("tests/test_local.py",))
    (finding,) = PythonGates(ctx.config).after_step(ctx).new_findings
    assert finding.type == "test_failure"
    assert "No module named 'app.nothere'" in finding.description


def test_installs_are_serialised_across_worktrees(demo: Path) -> None:
    from filelock import FileLock

    from exec_auto.gates.dependencies import install
    from exec_auto.gates.environment import make_environment

    lock = FileLock(str(demo / ".git" / "exec-auto" / "install.lock"))
    (demo / ".git" / "exec-auto").mkdir(exist_ok=True)
    with lock:  # another worktree's install in progress
        outcome = install(make_environment(demo, "venv"), "zzz-never-installed", 0.2)
    assert not outcome.ok and "held the lock" in outcome.output
