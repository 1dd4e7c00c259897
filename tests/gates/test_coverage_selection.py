"""Selection from the test map: the tests that ran the changed functions, the tests that read a file.

Real projects (git repositories with a linked .venv), real pytest runs recording coverage contexts
and file reads through the map plugin. The package's `__init__` imports every module, so the
static import graph alone selects every test for any change.
"""

from __future__ import annotations

import sysconfig
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from gate_support import write

from exec_auto.gates import testmap
from exec_auto.gates.base import GateContext, GateReport
from exec_auto.gates.codeblocks import changed
from exec_auto.gates.python import PythonGates
from exec_auto.gates.selection import ImportGraph, select_tests
from tests.conftest import git

SHOP = {
    "src/shop/__init__.py": (
        "from shop.cart import total\nfrom shop.prices import price, discount\n"
        "from shop.labels import label\n"
    ),
    "src/shop/prices.py": (
        "RATE = 2\n\n\ndef price(item):\n    return len(item) * RATE\n\n\n"
        "def discount(value):\n    return value - 1\n"
    ),
    "src/shop/cart.py": "from shop.prices import price\n\n\ndef total(items):\n"
    "    return sum(price(i) for i in items)\n",
    "src/shop/labels.py": "def label(name):\n    return name.upper()\n",
    "tests/test_prices.py": (
        "import shop\n\n\ndef test_price():\n    assert shop.price('ab') == 4\n\n\n"
        "def test_discount():\n    assert shop.discount(5) == 4\n"
    ),
    "tests/test_cart.py": "import shop\n\n\ndef test_total():\n    assert shop.total(['a', 'bc']) == 6\n",
    "tests/test_labels.py": "import shop\n\n\ndef test_label():\n    assert shop.label('x') == 'X'\n",
    "docs/usage.md": "Call shop.label(name) to get a label.\n",
    "tests/test_docs.py": (
        "from pathlib import Path\n\n\ndef test_usage_names_label():\n"
        "    assert 'shop.label' in Path('docs/usage.md').read_text()\n"
    ),
}


@pytest.fixture
def shop(demo: Path) -> Path:
    """The demo project plus a package whose __init__ imports every module, committed."""
    for rel, text in SHOP.items():
        write(demo, rel, text)
    git(demo, "add", "-A")
    git(demo, "commit", "-q", "-m", "shop")
    return demo


@pytest.fixture
def context(context: Callable[..., GateContext]) -> Callable[..., GateContext]:
    """The gate context with only the test gate on (selection is what these tests are about)."""

    def make(root: Path, touched: tuple[str, ...] = (), **cfg: object) -> GateContext:
        return context(root, touched, format=False, lint=False, **cfg)

    return make


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def pytest_line(report: GateReport) -> str:
    return next(r.summary for r in report.results if r.name == "pytest")


def ran(report: GateReport) -> set[str]:
    return {*report.passed_tests, *report.failed_tests}


def test_touching_one_module_runs_only_the_tests_that_execute_it(
    shop: Path, context: Callable[..., GateContext]
) -> None:
    gates = PythonGates(context(shop).config)
    baseline = gates.baseline(context(shop))
    assert any(r.summary.startswith("Test map: 9 tests;") for r in baseline.results)
    # The import graph cannot tell: every shop test imports the package, which imports all.
    static = select_tests(shop, ["src/shop/labels.py"], ImportGraph())
    assert {"tests/test_prices.py", "tests/test_cart.py", "tests/test_labels.py"} <= set(
        static.paths or ()
    )

    edit(shop, "src/shop/labels.py", "name.upper()", "name.upper() + ''")
    report = gates.after_step(context(shop, ("src/shop/labels.py",)))
    assert ran(report) == {"tests/test_labels.py::test_label"}
    assert pytest_line(report) == (
        "Pytest: 1/1 tests passed (coverage map: 1 test; src/shop/labels.py: label changed)"
    )

    # A function used through another module selects the tests reaching it that way too.
    edit(shop, "src/shop/prices.py", "len(item) * RATE", "RATE * len(item)")
    report = gates.after_step(context(shop, ("src/shop/prices.py",)))
    assert ran(report) == {"tests/test_prices.py::test_price", "tests/test_cart.py::test_total"}


def test_import_time_code_falls_back_to_the_import_graph(
    shop: Path, context: Callable[..., GateContext]
) -> None:
    gates = PythonGates(context(shop).config)
    gates.baseline(context(shop))
    # RATE is read by price() but set at import, before any test: no test is credited with it.
    edit(shop, "src/shop/prices.py", "RATE = 2", "RATE = 3")
    report = gates.after_step(context(shop, ("src/shop/prices.py",)))
    assert "tests/test_labels.py::test_label" in ran(report)
    assert "import graph" in pytest_line(report)
    assert "src/shop/prices.py: import-time code changed" in pytest_line(report)
    assert set(report.failed_tests) == {
        "tests/test_prices.py::test_price",
        "tests/test_cart.py::test_total",
    }


def test_a_docs_file_a_test_reads_selects_that_test_and_its_failure_is_the_steps(
    shop: Path, context: Callable[..., GateContext]
) -> None:
    gates = PythonGates(context(shop).config)
    gates.baseline(context(shop))
    write(shop, "docs/usage.md", "Call label(name).\n")
    report = gates.after_step(context(shop, ("docs/usage.md",)))
    assert ran(report) == {"tests/test_docs.py::test_usage_names_label"}
    assert "file reads: 1 test; docs/usage.md read by 1 test" in pytest_line(report)
    (failure,) = report.blamed_findings
    assert failure.type == "test_failure" and not failure.pre_existing

    # A docs file no test read runs nothing, and says so.
    report = gates.after_step(context(shop, ("README.md",)))
    assert report.tests.run == 0
    assert pytest_line(report) == "Pytest: Not applicable (README.md read by no recorded test)"


def test_data_read_while_collecting_selects_that_test_module(
    shop: Path, context: Callable[..., GateContext]
) -> None:
    write(shop, "tests/cases.json", '["a", "bb"]\n')
    write(
        shop,
        "tests/test_cases.py",
        "import json\nimport pytest\nimport shop\n\nCASES = json.load(open('tests/cases.json'))\n\n\n"
        "@pytest.mark.parametrize('item', CASES)\ndef test_label_case(item):\n"
        "    assert shop.label(item) == item.upper()\n",
    )
    gates = PythonGates(context(shop).config)
    gates.baseline(context(shop))
    write(shop, "tests/cases.json", '["a", "bb", "ccc"]\n')
    report = gates.after_step(context(shop, ("tests/cases.json",)))
    assert ran(report) == {f"tests/test_cases.py::test_label_case[{c}]" for c in ("a", "bb", "ccc")}


def test_without_a_usable_map_selection_says_why(
    shop: Path, context: Callable[..., GateContext]
) -> None:
    # No baseline: the import graph decides, and the report says there is no map.
    no_map = PythonGates(context(shop).config).after_step(context(shop, ("src/shop/labels.py",)))
    assert "no test map: no baseline recorded one" in pytest_line(no_map)
    assert len(ran(no_map)) == 4

    gates = PythonGates(context(shop).config)
    gates.baseline(context(shop))
    # A file changed since the map was recorded, not by this step: the map is stale.
    edit(shop, "src/shop/cart.py", "sum(", "0 + sum(")
    stale = gates.after_step(context(shop, ("src/shop/labels.py",)))
    assert pytest_line(stale).endswith(
        "(full suite: the test map is stale: src/shop/cart.py changed since it was recorded)"
    )
    assert stale.tests.run == 9

    # A data file no recorded test read, that is not documentation: its effect is unknown.
    write(shop, "src/shop/rates.csv", "a,1\n")
    unknown = gates.after_step(context(shop, ("src/shop/rates.csv",)))
    assert "full suite: src/shop/rates.csv changed and no recorded test read it" in (
        pytest_line(unknown)
    )


def test_the_map_follows_each_step_and_survives_a_resume(
    shop: Path, context: Callable[..., GateContext]
) -> None:
    gates = PythonGates(context(shop).config)
    gates.baseline(context(shop))
    # Step 1: label() now goes through discount(); the run records that test_label reaches it.
    edit(shop, "src/shop/labels.py", "return name.upper()", "return name.upper() * discount(2)")
    edit(shop, "src/shop/labels.py", "def label", "from shop.prices import discount\n\n\ndef label")
    gates.after_step(context(shop, ("src/shop/labels.py",)))
    # Step 2, in a new process (a resume): the saved map knows test_label now runs discount().
    assert testmap.load(shop) is not None
    resumed = PythonGates(context(shop).config)
    edit(shop, "src/shop/prices.py", "value - 1", "value - 2")
    report = resumed.after_step(context(shop, ("src/shop/prices.py",)))
    assert ran(report) == {
        "tests/test_prices.py::test_discount",
        "tests/test_labels.py::test_label",
    }


def test_a_new_test_in_a_touched_file_always_runs(
    shop: Path, context: Callable[..., GateContext]
) -> None:
    gates = PythonGates(context(shop).config)
    gates.baseline(context(shop))
    with (shop / "tests/test_cart.py").open("a") as handle:
        handle.write("\n\ndef test_empty():\n    assert shop.total([]) == 0\n")
    edit(shop, "src/shop/labels.py", "name.upper()", "name.upper() + ''")
    ctx = context(shop, ("tests/test_cart.py", "src/shop/labels.py"))
    report = gates.after_step(replace(ctx, known_failures=frozenset()))
    assert ran(report) == {
        "tests/test_cart.py::test_total",
        "tests/test_cart.py::test_empty",
        "tests/test_labels.py::test_label",
    }


@pytest.mark.parametrize(
    ("before", "after", "functions", "module_level"),
    [
        ("def f():\n    return 1\n", "def f():\n    # why\n    return 2\n", {"f"}, False),
        ("def f():\n    return 1\n", "def f():  # same\n    return 1\n", set(), False),
        (
            "def f():\n    return 1\n",
            "def f():\n    return 1\n\n\ndef g():\n    pass\n",
            set(),
            False,
        ),
        ("def f():\n    return 1\n\n\ndef g():\n    pass\n", "def g():\n    pass\n", {"f"}, False),
        (
            "class A:\n    x = 1\n\n    def m(self):\n        return 1\n",
            "class A:\n    x = 1\n\n    def m(self):\n        return 2\n",
            {"A.m"},
            False,
        ),
        ("class A:\n    x = 1\n", "class A:\n    x = 2\n", set(), True),
        (
            "@register\ndef f():\n    return 1\n",
            "@register\ndef f():\n    return 2\n",
            {"f"},
            False,
        ),
        ("def f():\n    return 1\n", "@register\ndef f():\n    return 1\n", set(), True),
        ("import os\n", "import os\nimport json\n", set(), True),
        ('"""Doc."""\nX = 1\n', '"""Other doc."""\nX = 1\n', set(), False),
    ],
)
def test_changed_functions_and_import_time_code(
    before: str, after: str, functions: set[str], module_level: bool
) -> None:
    change = changed(before, after)
    assert (set(change.functions), change.module_level) == (functions, module_level)


def test_an_unparsable_edit_cannot_be_traced() -> None:
    assert changed("def f():\n    return 1\n", "def f(:\n").unreadable.startswith(
        "it does not parse"
    )


def test_without_coverage_in_the_project_environment_exec_autos_own_is_lent(
    shop: Path, context: Callable[..., GateContext]
) -> None:
    # The project's venv sees every package of the test environment except coverage.
    purelib = Path(sysconfig.get_paths()["purelib"])
    shared = shop.parent / "shared-no-coverage"
    shared.mkdir()
    for entry in purelib.iterdir():
        if not entry.name.startswith("coverage"):
            (shared / entry.name).symlink_to(entry)
    (pth,) = (shop / ".venv" / "lib").glob("python*/site-packages/shared.pth")
    pth.write_text(f"{shared}\n", encoding="utf-8")
    gates = PythonGates(context(shop).config)
    baseline = gates.baseline(context(shop))
    line = next(r.summary for r in baseline.results if r.name == "test map")
    assert "(exec-auto's own: none in the project's environment)" in line
    edit(shop, "src/shop/labels.py", "name.upper()", "name.upper() + ''")
    report = gates.after_step(context(shop, ("src/shop/labels.py",)))
    assert ran(report) == {"tests/test_labels.py::test_label"}
