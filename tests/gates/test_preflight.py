"""Preflight: the flat-layout `specs/` trap and an unparseable pyproject.toml, said once up front."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exec_auto.gates.preflight import preflight
from tests.conftest import make_project, run_cli

SETUPTOOLS = (
    '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
    '[project]\nname = "mypkg"\nversion = "0.1"\n'
)


def flat_project(root: Path) -> None:
    make_project(root, titles=["One"], spec=None)
    (root / "mypkg").mkdir()
    (root / "mypkg" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(SETUPTOOLS)


def test_flat_layout_with_specs_is_the_real_setuptools_error_with_the_fix(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    flat_project(root)
    # The real setuptools refuses exactly this layout.
    real = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "egg_info"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert "Multiple top-level packages discovered in a flat-layout" in real.stderr
    (finding,) = preflight(root)
    assert finding.type == "gate_error" and finding.severity == "high"
    assert "['mypkg', 'specs']" in finding.description
    assert '[tool.setuptools.packages.find]\nexclude = ["specs*"]' in finding.details
    # The fix works: with it, preflight is quiet.
    (root / "pyproject.toml").write_text(
        SETUPTOOLS + '\n[tool.setuptools.packages.find]\nexclude = ["specs*"]\n'
    )
    assert preflight(root) == []


def test_run_reports_preflight_problems_once_before_step_one(
    tmp_path: Path, script_agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    flat_project(root)
    behaviour = {"1": [{"write": "mypkg/core.py", "text": "X = 1\n"}]}
    run_cli(root, monkeypatch, script_agent(behaviour), "--no-archive")
    report = json.loads((root / "specs/tickets/feature-x/report.json").read_text())
    flat = [i for i in report["issues"] if "flat-layout" in i["description"]]
    assert len(flat) == 1 and flat[0]["step_id"] is None
    assert flat[0]["description"].startswith("before step 1: setuptools will refuse")


def test_unparseable_pyproject_is_one_clear_issue(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'x'\n")
    (finding,) = preflight(tmp_path)
    assert finding.description.startswith("pyproject.toml cannot be parsed:")
