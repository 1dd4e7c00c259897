"""pre-commit's pinned hooks judge, and the result names each hook's tool, version and source.

The config is requests' own (fixtures/requests-main, pinning ruff-pre-commit), with its pin moved
to the ruff this environment has: offline, pre-commit cannot clone the hook repository, so the
gate runs the same ruff from the project's environment, because it is at the pinned version. A
`repo: local` hook (no network at all) is judged by the tool its entry names, and named with the
version the project's environment has. The bundled ruff never runs on such a project.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from gate_support import gate_step, write

from exec_auto.gates.base import GateContext
from exec_auto.gates.python import PythonGates

FIXTURES = Path(__file__).parent / "fixtures"
RUFF = metadata.version("ruff")
LEGACY = "import os\nimport sys\n\n\ndef old():\n    return os.sep + sys.platform\n"
STEP = LEGACY + "\n\ndef added( a,b ):\n    unused = 1\n    return a+b\n"


def test_offline_hooks_pinned_at_the_installed_ruff_are_judged_by_it_and_named(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    config = (FIXTURES / "requests-main" / ".pre-commit-config.yaml").read_text()
    # Only the ruff hooks: pre-commit-hooks has no offline equivalent (a gate_error of its own).
    ruff_part = config[config.index("- repo: https://github.com/astral-sh/ruff-pre-commit") :]
    (demo / ".pre-commit-config.yaml").write_text(
        "repos:\n" + ruff_part.replace("rev: v0.16.0", f"rev: v{RUFF}")
    )
    report = gate_step(demo, context, LEGACY, STEP, "src/app/legacy.py")
    names = [r.name for r in report.results]
    assert names[0] == "pre-commit" and "ruff" not in names
    result = report.results[0]
    assert result.summary.endswith("(offline: the project's own tools at the pinned versions)")
    (note,) = [a for a in result.auto_actions if a.startswith("pre-commit could not fetch")]
    assert f"(hooks: ruff-check {RUFF}, ruff-format {RUFF})" in note
    assert result.tool is not None
    assert result.tool.source.endswith(f"hooks: ruff-check {RUFF}, ruff-format {RUFF}")
    # ruff-format (a pinned hook) formatted the step's function, and only that.
    text = (demo / "src/app/legacy.py").read_text()
    assert text.startswith(LEGACY) and "def added(a, b):" in text
    (finding,) = [f for f in result.findings if not f.pre_existing]
    assert "F841" in finding.details and "unused" in finding.description
    assert f"ruff-check {RUFF}" in finding.details


def test_local_hook_is_named_with_the_version_of_the_tool_its_entry_runs(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    (demo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: ruff-check\n"
        "        name: ruff (project environment)\n"
        "        entry: python -m ruff check --no-cache\n"
        "        language: system\n"
        "        types: [python]\n"
    )
    report = gate_step(demo, context, LEGACY, STEP, "src/app/legacy.py")
    assert report.results[0].name == "pre-commit"
    assert "ruff" not in [r.name for r in report.results]
    result = report.results[0]
    assert result.tool is not None and result.tool.source.endswith(f"hooks: ruff-check {RUFF}")
    assert not result.passed
    (finding,) = [f for f in result.findings if not f.pre_existing]
    assert "F841" in finding.details and "legacy.py:10" in finding.description


def test_a_local_hook_whose_tool_is_missing_is_a_gate_error(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    (demo / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: local\n    hooks:\n      - id: lint\n        name: lint\n"
        "        entry: no-such-linter-anywhere\n        language: system\n        types: [python]\n"
    )
    write(demo, "src/app/legacy.py", STEP)
    report = PythonGates(context(demo).config).after_step(context(demo, ("src/app/legacy.py",)))
    (error,) = report.results[0].findings
    assert error.type == "gate_error" and error.severity == "high" and not report.passed
