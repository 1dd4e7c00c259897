"""Affected-test selection: touched tests, tests importing touched modules, full-suite fallback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gate_support import write

from exec_auto.gates.base import GateContext
from exec_auto.gates.python import PythonGates
from exec_auto.gates.selection import ImportGraph, imports_of, select_tests


def select(root: Path, *touched: str, testmon: bool = False):
    return select_tests(root, touched, ImportGraph(), testmon=testmon)


def test_tests_importing_a_touched_module_directly_or_transitively(demo: Path) -> None:
    # report.py imports calc.py, so a change to calc can break test_report too.
    selection = select(demo, "src/app/calc.py")
    assert selection.paths == ("tests/test_calc.py", "tests/test_report.py")
    assert selection.reason == "2 affected test files"
    assert select(demo, "src/app/greet.py").paths == ("tests/test_greet.py",)


def test_touched_test_file_is_selected(demo: Path) -> None:
    assert select(demo, "tests/test_greet.py").paths == ("tests/test_greet.py",)


def test_package_init_affects_every_test_importing_the_package(demo: Path) -> None:
    selection = select(demo, "src/app/__init__.py")
    assert selection.paths == ("tests/test_calc.py", "tests/test_greet.py", "tests/test_report.py")


def test_relative_imports_and_from_package_imports_are_followed(demo: Path) -> None:
    write(demo, "src/app/helpers.py", "def helper():\n    return 1\n")
    write(demo, "src/app/api.py", "from .helpers import helper\n")
    write(demo, "tests/test_api.py", "from app import api\n")
    assert select(demo, "src/app/helpers.py").paths == ("tests/test_api.py",)


def test_deleted_module_still_selects_the_tests_that_import_it(demo: Path) -> None:
    (demo / "src/app/greet.py").unlink()
    assert select(demo, "src/app/greet.py").paths == ("tests/test_greet.py",)


def test_unmapped_module_falls_back_to_the_full_suite(demo: Path) -> None:
    write(demo, "src/app/orphan.py", "X = 1\n")
    selection = select(demo, "src/app/orphan.py")
    assert selection.full_suite and selection.reason == "no test imports the touched modules"


def test_config_and_data_files_force_the_full_suite(demo: Path) -> None:
    assert select(demo, "src/app/calc.py", "pyproject.toml").full_suite
    assert select(demo, "src/app/data.json").full_suite
    assert select(demo, "conftest.py").full_suite


def test_docs_only_changes_run_nothing(demo: Path) -> None:
    selection = select(demo, "README.md", "docs/guide.md")
    assert selection.nothing and selection.reason == "no code touched"
    assert select(demo, "README.md", "src/app/greet.py").paths == ("tests/test_greet.py",)


def test_without_a_map_a_docs_file_selects_the_test_files_naming_it(demo: Path) -> None:
    write(demo, "tests/test_readme.py", "def test_it():\n    assert open('README.md').read()\n")
    selection = select(demo, "README.md")
    assert selection.paths == ("tests/test_readme.py",)
    assert selection.method == "file names"


def test_touched_conftest_selects_its_directory(demo: Path) -> None:
    write(demo, "tests/conftest.py", "")
    assert select(demo, "tests/conftest.py", "tests/test_greet.py").paths == ("tests",)


def test_testmon_decides_when_its_data_exists_and_it_is_installed(demo: Path) -> None:
    assert not select(demo, "src/app/calc.py", testmon=True).testmon
    (demo / ".testmondata").write_bytes(b"")
    assert select(demo, "src/app/calc.py", testmon=True).testmon
    assert not select(demo, "src/app/calc.py", testmon=False).testmon


def test_import_scan_expands_parent_packages() -> None:
    found = imports_of("import a.b.c\nfrom x.y import z\n", Path("/nonexistent"), "m.py")
    assert found == {"a", "a.b", "a.b.c", "x", "x.y", "x.y.z"}


def test_step_gate_runs_only_affected_tests(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    gates = PythonGates(context(demo).config)
    report = gates.after_step(context(demo, ("src/app/greet.py",)))
    assert report.passed_tests == ("tests/test_greet.py::test_hello",)
    assert report.results[-1].summary == (
        "Pytest: 1/1 tests passed (import graph: 1 affected test file;"
        " no test map: no baseline recorded one)"
    )
    everything = gates.after_step(context(demo, ("src/app/greet.py",), select_tests=False))
    assert everything.tests.passed == 4


def test_the_projects_python_files_setting_is_honoured(demo: Path) -> None:
    write(
        demo,
        "tests/check_calc.py",
        "from app.calc import add\n\n\ndef test_it():\n    assert add(1, 1) == 2\n",
    )
    # With pytest's defaults, check_*.py is not a test file: nothing maps, the whole suite runs.
    assert select(demo, "tests/check_calc.py").paths is None
    write(demo, "pytest.ini", "[pytest]\npython_files = check_*.py test_*.py\npythonpath = src\n")
    assert select(demo, "tests/check_calc.py").paths == ("tests/check_calc.py",)
    assert "tests/check_calc.py" in (select(demo, "src/app/calc.py").paths or ())
