"""The format gate: Black for Black projects, ruff format otherwise, only on touched .py files."""

from __future__ import annotations

from pathlib import Path

from gate_support import write

from exec_auto.gates.environment import make_environment
from exec_auto.gates.formatting import format_gate, project_uses_black

UGLY = "def f(a,b):\n    return [a,b]\n"


def test_ruff_formats_touched_files_when_the_project_does_not_use_black(demo: Path) -> None:
    write(demo, "src/app/ugly.py", UGLY)
    write(demo, "src/app/untouched.py", UGLY)
    result, count = format_gate(
        make_environment(demo, "venv"), ["src/app/ugly.py", "src/app/calc.py"], "auto", 60
    )
    assert (count, result.name, result.summary) == (
        1,
        "ruff-format",
        "Ruff format: Formatted 1 file",
    )
    assert result.auto_actions == ("Formatted 1 file with Ruff format: src/app/ugly.py",)
    assert (demo / "src/app/ugly.py").read_text() == "def f(a, b):\n    return [a, b]\n"
    assert (demo / "src/app/untouched.py").read_text() == UGLY


def test_black_is_used_when_configured_and_counts_files(demo: Path) -> None:
    with (demo / "pyproject.toml").open("a") as f:
        f.write("\n[tool.black]\nline-length = 100\n")
    write(demo, "src/app/one.py", UGLY)
    write(demo, "src/app/two.py", "x = {'a':1}\n")
    env = make_environment(demo, "venv")
    result, count = format_gate(env, ["src/app/one.py", "src/app/two.py"], "auto", 60)
    assert (count, result.summary) == (2, "Black: Formatted 2 files")
    assert (demo / "src/app/two.py").read_text() == 'x = {"a": 1}\n'
    again, count = format_gate(env, ["src/app/one.py", "src/app/two.py"], "auto", 60)
    assert (count, again.summary, again.auto_actions) == (0, "Black: No formatting needed", ())


def test_unparsable_file_is_reported_in_the_summary_not_as_a_crash(demo: Path) -> None:
    write(demo, "src/app/broken.py", "def (:\n")
    result, count = format_gate(make_environment(demo, "venv"), ["src/app/broken.py"], "auto", 60)
    assert count == 0
    assert result.passed and result.findings == ()
    assert result.summary == "Ruff format: No formatting needed, 1 file could not be parsed"


def test_no_python_files_means_not_applicable(demo: Path) -> None:
    result, count = format_gate(make_environment(demo, "venv"), [], "auto", 60)
    assert result.skipped and count == 0
    assert result.summary == "Ruff format: Not applicable (no Python files touched)"


def test_black_detection_from_config_dependencies_and_requirements(tmp_path: Path) -> None:
    cases = {
        "tool": "[tool.black]\nline-length = 88\n",
        "pep621": '[project]\nname = "x"\noptional-dependencies = {dev = ["black>=24"]}\n',
        "poetry": '[tool.poetry.group.dev.dependencies]\nblack = "^24"\n',
        "none": '[project]\nname = "x"\ndependencies = ["blackjack"]\n',
    }
    found = {}
    for name, text in cases.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(text)
        found[name] = project_uses_black(tmp_path / name)
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "requirements-dev.txt").write_text("pytest\nblack==24.1\n")
    found["reqs"] = project_uses_black(tmp_path / "reqs")
    assert found == {"tool": True, "pep621": True, "poetry": True, "none": False, "reqs": True}
