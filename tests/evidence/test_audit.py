"""The integrity audit on real git trees: one case per way of weakening a check, and no false alarms."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from exec_auto.evidence.audit import Auditor
from exec_auto.evidence.finding import IntegrityFinding
from exec_auto.executor.snapshot import Snapshotter
from tests.conftest import init_repo

TEST_OPS = """\
from calc.ops import add, ratio


def test_add():
    assert add(2, 3) == 5


def test_ratio():
    assert ratio(1, 3) == 0.3333333333333333
    assert ratio(0, 1) == 0


class TestMore:
    def test_negative(self):
        assert add(-1, -1) == -2
"""


def _write(root: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        path = root / rel
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def audit(tmp_path: Path):
    """audit(after, step_text=..., before=...) -> findings between the base files and after."""

    def run(
        after: dict[str, str | None],
        step_text: str = "",
        before: dict[str, str | None] | None = None,
    ) -> list[IntegrityFinding]:
        root = tmp_path / f"repo{len(list(tmp_path.iterdir()))}"
        root.mkdir()
        _write(root, {"tests/test_ops.py": TEST_OPS, "calc/ops.py": "x = 1\n", **(before or {})})
        init_repo(root)
        with Snapshotter(root) as snaps:
            start = snaps.take()
            _write(root, after)
            end = snaps.take()
            return Auditor(snaps.store).audit(start.tree, end.tree, step_text)

    return run


def kinds(findings: list[IntegrityFinding]) -> list[str]:
    return [f.kind for f in findings]


def test_deleted_test_file(audit):
    findings = audit({"tests/test_ops.py": None})
    assert kinds(findings) == ["test_removed"] * 3
    assert findings[0].location == "tests/test_ops.py:4"
    assert "test_add" in findings[0].before


def test_test_function_deleted(audit):
    findings = audit(
        {"tests/test_ops.py": TEST_OPS.replace("def test_add():\n    assert add(2, 3) == 5\n", "")}
    )
    assert kinds(findings) == ["test_removed"]
    assert "tests/test_ops.py::test_add is gone: deleted" in findings[0].description


def test_test_renamed_away(audit):
    findings = audit({"tests/test_ops.py": TEST_OPS.replace("def test_ratio", "def _test_ratio")})
    assert kinds(findings) == ["test_not_collected"]
    assert "renamed to tests/test_ops.py::_test_ratio" in findings[0].description


def test_test_file_renamed_out_of_the_pattern(audit):
    findings = audit({"tests/test_ops.py": None, "tests/ops_checks.py": TEST_OPS})
    assert set(kinds(findings)) == {"test_not_collected"}
    assert "tests/ops_checks.py is not a test file" in findings[0].description


def test_moving_a_test_file_keeps_its_tests(audit):
    assert audit({"tests/test_ops.py": None, "tests/unit/test_ops.py": TEST_OPS}) == []


def test_skip_marker_added(audit):
    findings = audit(
        {
            "tests/test_ops.py": TEST_OPS.replace(
                "def test_ratio", "@pytest.mark.skip(reason='flaky')\ndef test_ratio"
            )
        }
    )
    assert kinds(findings) == ["skip_added"]
    assert findings[0].after == "@pytest.mark.skip(reason='flaky')"
    assert findings[0].line == 8


def test_skip_call_and_xfail(audit):
    text = TEST_OPS.replace(
        "    assert ratio(1, 3)", "    pytest.xfail('later')\n    assert ratio(1, 3)"
    ).replace(
        "    def test_negative(self):\n",
        "    def test_negative(self):\n        self.skipTest('no')\n",
    )
    assert kinds(audit({"tests/test_ops.py": text})) == ["skip_added", "skip_added"]


def test_early_return_and_if_false(audit):
    text = TEST_OPS.replace(
        "    assert add(2, 3) == 5", "    return\n    assert add(2, 3) == 5"
    ).replace("    assert ratio(0, 1) == 0", "    if False:\n        assert ratio(0, 1) == 0")
    findings = audit({"tests/test_ops.py": text})
    assert sorted(kinds(findings)) == ["test_disabled", "test_disabled"]
    assert {f.after for f in findings} == {"return", "if False:"}


def test_assert_removed(audit):
    findings = audit({"tests/test_ops.py": TEST_OPS.replace("    assert ratio(0, 1) == 0\n", "")})
    assert kinds(findings) == ["assert_removed"]
    assert findings[0].before == "assert ratio(0, 1) == 0"


def test_assert_true_and_try_except(audit):
    text = TEST_OPS.replace("    assert add(2, 3) == 5", "    assert True").replace(
        "        assert add(-1, -1) == -2",
        "        try:\n            assert add(-1, -1) == -2\n        except AssertionError:\n            pass",
    )
    findings = audit({"tests/test_ops.py": text})
    assert kinds(findings) == ["assert_weakened", "assert_weakened"]
    assert "cannot fail" in findings[0].description
    assert "try/except" in findings[1].description


def test_comparisons_loosened(audit):
    text = TEST_OPS.replace("assert add(2, 3) == 5", "assert add(2, 3) >= 5").replace(
        "assert ratio(1, 3) == 0.3333333333333333",
        "assert ratio(1, 3) == pytest.approx(0.33, abs=0.01)",
    )
    findings = audit({"tests/test_ops.py": text})
    assert kinds(findings) == ["assert_weakened", "assert_weakened"]
    assert findings[0].before == "assert add(2, 3) == 5"
    assert findings[0].after == "assert add(2, 3) >= 5"


def test_unittest_assert_equal_to_assert_true(audit):
    before = {
        "tests/test_u.py": "import unittest\n\nclass T(unittest.TestCase):\n    def test_x(self):\n        self.assertEqual(f(), 3)\n"
    }
    findings = audit(
        {
            "tests/test_u.py": before["tests/test_u.py"].replace(
                "self.assertEqual(f(), 3)", "self.assertTrue(f())"
            )
        },
        before=before,
    )
    assert kinds(findings) == ["assert_weakened"]
    assert "exact comparison loosened" in findings[0].description


def test_pytest_config_deselects(audit):
    before = {"pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-ra"\n'}
    after = {
        "pyproject.toml": "[tool.pytest.ini_options]\naddopts = \"-ra --deselect tests/test_ops.py::test_ratio -k 'not negative'\"\n"
    }
    (finding,) = audit(after, before=before)
    assert finding.kind == "config_weakened"
    assert finding.location == "pyproject.toml:2"
    assert "--deselect tests/test_ops.py::test_ratio" in finding.description
    assert "-k not negative" in finding.description


def test_coverage_threshold_lowered_and_ruff_ignore(audit):
    before = {
        "setup.cfg": "[coverage:report]\nfail_under = 90\n\n[flake8]\nmax-line-length = 100\n"
    }
    after = {
        "setup.cfg": "[coverage:report]\nfail_under = 60\n\n[flake8]\nmax-line-length = 100\nextend-ignore = E501,W605\n"
    }
    findings = audit(after, before=before)
    assert [f.description for f in findings] == [
        "coverage setting `fail_under` lowered from 90 to 60",
        "flake8 setting `extend-ignore` added E501, W605",
    ]


def test_mypy_and_ruff_relaxed_in_pyproject(audit):
    before = {
        "pyproject.toml": '[tool.ruff.lint]\nselect = ["E", "F", "B"]\n\n[tool.mypy]\nstrict = true\n'
    }
    after = {
        "pyproject.toml": '[tool.ruff.lint]\nselect = ["E", "F"]\n\n[tool.mypy]\nstrict = true\nignore_errors = true\n'
    }
    findings = audit(after, before=before)
    assert sorted(f.description for f in findings) == [
        "mypy setting `ignore_errors` switched on",
        "ruff setting `select` removed B",
    ]


def test_conftest_collection_hook(audit):
    after = {
        "tests/conftest.py": "collect_ignore = ['test_ops.py']\n\n@pytest.fixture\ndef thing():\n    return 1\n"
    }
    (finding,) = audit(after)
    assert finding.kind == "conftest_changed"
    assert "collect_ignore" in finding.description and finding.line == 1


def test_new_fixture_in_conftest_is_fine(audit):
    assert (
        audit(
            {"tests/conftest.py": "import pytest\n\n@pytest.fixture\ndef thing():\n    return 1\n"}
        )
        == []
    )


def test_suppression_comments(audit):
    after = {
        "calc/ops.py": "import os  # noqa: F401\nx: int = 'a'  # type: ignore[assignment]\nif x:  # pragma: no cover\n    pass\ns = '# noqa in a string is fine'\n"
    }
    findings = audit(after)
    assert kinds(findings) == ["suppression_added"] * 3
    assert [f.line for f in findings] == [1, 2, 3]
    assert "F401" in findings[0].description


def test_ci_edit(audit):
    before = {".github/workflows/ci.yml": "jobs:\n  test:\n    steps:\n      - run: pytest\n"}
    (finding,) = audit(
        {".github/workflows/ci.yml": "jobs:\n  test:\n    steps:\n      - run: pytest || true\n"},
        before=before,
    )
    assert finding.kind == "ci_changed" and finding.line == 4
    assert finding.before == "- run: pytest" and finding.after == "- run: pytest || true"


def test_plan_names_the_change(audit):
    text = TEST_OPS.replace(
        "def test_ratio():\n    assert ratio(1, 3) == 0.3333333333333333\n    assert ratio(0, 1) == 0\n",
        "",
    )
    findings = audit(
        {"tests/test_ops.py": text},
        step_text="Ratio is gone.\nRemove test_ratio, it tests the deleted API.",
    )
    (finding,) = findings
    assert finding.authorised_by == "Remove test_ratio, it tests the deleted API."
    # Naming the test without saying to change it authorises nothing.
    (plain,) = audit({"tests/test_ops.py": text}, step_text="Make test_ratio pass.", before={})
    assert plain.authorised_by is None


def test_ordinary_work_is_not_flagged(audit):
    text = TEST_OPS + "\n\ndef test_sub():\n    assert add(5, -3) == 2\n"
    text = text.replace("assert add(2, 3) == 5", "assert add(2, 3) == 5\n    assert add(0, 0) == 0")
    after = {
        "tests/test_ops.py": text,
        "calc/ops.py": "def add(a, b):\n    return a + b\n",
        "tests/test_new.py": "import sys\nimport pytest\n\n@pytest.mark.skipif(sys.platform == 'win32', reason='posix')\ndef test_posix():\n    assert 1 + 1 == 2\n",
    }
    assert audit(after) == []
