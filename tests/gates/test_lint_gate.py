"""The lint gate: ruff fixes what it can (counted), the rest becomes lint_error findings."""

from __future__ import annotations

from pathlib import Path

from gate_support import write

from exec_auto.gates.environment import make_environment
from exec_auto.gates.linting import MAX_LINT_FINDINGS, lint_gate


def test_fixable_violation_is_fixed_and_counted(demo: Path) -> None:
    write(demo, "src/app/tidy.py", "import os\n\n\ndef f():\n    return 1\n")
    result, fixed = lint_gate(make_environment(demo, "venv"), ["src/app/tidy.py"], 60)
    assert (fixed, result.passed, result.summary) == (1, True, "Ruff: 1 auto-fixed")
    assert result.auto_actions == ("Ruff auto-fixed 1 issue (F401 unused-import)",)
    assert "import os" not in (demo / "src/app/tidy.py").read_text()


def test_undefined_name_is_a_lint_error_with_rule_and_location(demo: Path) -> None:
    write(demo, "src/app/bad.py", "def f():\n    return missing_name\n")
    result, fixed = lint_gate(make_environment(demo, "venv"), ["src/app/bad.py"], 60)
    assert fixed == 0 and not result.passed
    assert result.summary == "Ruff: 1 requires manual review"
    (finding,) = result.findings
    assert (finding.type, finding.severity, finding.agent_fixable) == ("lint_error", "medium", True)
    assert finding.description == "F821 Undefined name `missing_name` (src/app/bad.py:2:12)"
    assert "requires manual review" in finding.details


def test_complexity_uses_the_project_config_and_needs_manual_review(demo: Path) -> None:
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(5))
    write(demo, "src/app/branchy.py", f"import sys\n\n\ndef decide(x):\n{branches}    return -1\n")
    result, fixed = lint_gate(make_environment(demo, "venv"), ["src/app/branchy.py"], 60)
    assert fixed == 1
    assert result.summary == "Ruff: 1 auto-fixed, 1 requires manual review"
    (finding,) = result.findings
    # The location is where the function is once the fix removed the import.
    assert finding.description == "C901 `decide` is too complex (6 > 3) (src/app/branchy.py:3:5)"


def test_clean_files_report_no_issues_and_untouched_files_are_not_linted(demo: Path) -> None:
    write(demo, "src/app/other.py", "import os\n")
    result, fixed = lint_gate(make_environment(demo, "venv"), ["src/app/calc.py"], 60)
    assert (fixed, result.summary, result.findings) == (0, "Ruff: No issues", ())
    assert (demo / "src/app/other.py").read_text() == "import os\n"


def test_syntax_error_is_reported_as_lint_error(demo: Path) -> None:
    write(demo, "src/app/broken.py", "def (:\n")
    result, _ = lint_gate(make_environment(demo, "venv"), ["src/app/broken.py"], 60)
    assert not result.passed
    assert result.findings and all(f.type == "lint_error" for f in result.findings)
    assert "src/app/broken.py:1:" in result.findings[0].description


def test_broken_ruff_config_is_a_runtime_error_not_blamed_on_the_agent(demo: Path) -> None:
    with (demo / "pyproject.toml").open("a") as f:
        f.write('\n[tool.ruff.format]\nquote-style = "sideways"\n')
    result, _ = lint_gate(make_environment(demo, "venv"), ["src/app/calc.py"], 60)
    (finding,) = result.findings
    assert (finding.type, finding.agent_fixable) == ("runtime_error", False)
    assert result.summary == "Ruff: could not run"


def test_many_violations_are_summarised_after_the_first_ones(demo: Path) -> None:
    body = "".join(f"    print(undefined_{i})\n" for i in range(30))
    write(demo, "src/app/noisy.py", f"def f():\n{body}")
    result, _ = lint_gate(make_environment(demo, "venv"), ["src/app/noisy.py"], 60)
    assert len(result.findings) == MAX_LINT_FINDINGS + 1
    assert result.findings[-1].description == "5 more lint violations (see details)"
    assert "src/app/noisy.py:31:11: F821" in result.findings[-1].details


def test_violations_a_file_already_had_are_pre_existing_not_the_steps(demo: Path) -> None:
    old = "def f():\n    return legacy_name\n"
    new = old + "\n\ndef g():\n    return fresh_name\n"
    write(demo, "src/app/legacy.py", new)
    result, _ = lint_gate(
        make_environment(demo, "venv"), ["src/app/legacy.py"], 60, {"src/app/legacy.py": old}.get
    )
    assert result.summary == "Ruff: 1 requires manual review, 1 pre-existing"
    assert not result.passed
    by_name = {("legacy_name" in f.description): f for f in result.findings}
    assert by_name[True].pre_existing and not by_name[False].pre_existing
    # A file whose only problem was there before passes.
    write(demo, "src/app/legacy.py", old + "\n\nX = 1\n")
    result, _ = lint_gate(
        make_environment(demo, "venv"), ["src/app/legacy.py"], 60, {"src/app/legacy.py": old}.get
    )
    assert result.passed and result.summary == "Ruff: 1 pre-existing"
