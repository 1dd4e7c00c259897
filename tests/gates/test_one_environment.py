"""One environment everywhere: verify commands run in the project's venv; worktrees test their own code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exec_auto.gates.environment import make_environment
from exec_auto.gates.testing import run_pytest
from tests.conftest import git, init_repo, plan_text, run_cli


def venv_with_module(venv: Path, name: str, text: str) -> None:
    """A venv (no pip) whose site-packages holds one module; sees this test env's packages too."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / f"{name}.py").write_text(text)
    import sysconfig

    (site / "shared.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


def test_verify_commands_run_with_the_projects_environment_active(
    tmp_path: Path, script_agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    venv_with_module(root / ".venv", "only_in_the_venv", "VALUE = 7\n")
    (root / ".gitignore").write_text(".venv/\n")
    ticket = root / "specs" / "tickets" / "feature-x"
    ticket.mkdir(parents=True)
    (ticket / "plan.md").write_text(plan_text(["One"]))
    (ticket / "spec.yaml").write_text(
        "acceptance_criteria:\n"
        "  - criterion: the venv's module imports\n"
        "    verify: \"python -c 'import only_in_the_venv'\"\n"
        "ticket:\n  status: planned\n"
    )
    (root / "CLAUDE.md").write_text("conventions\n")
    init_repo(root)
    behaviour = {"1": [{"write": "notes.txt", "text": "done\n"}]}
    run_cli(root, monkeypatch, script_agent(behaviour), "--no-archive")
    report = json.loads((ticket / "report.json").read_text())
    (criterion,) = report["acceptance_criteria"]
    # The command ran inside the venv (it exited 0); red/green then notes that it also
    # succeeds on the code before the ticket, so it proves nothing by itself.
    assert any("exited 0" in line for line in criterion["evidence"]), criterion["evidence"]
    assert "No module named" not in " ".join(criterion["evidence"])


SRC_LAYOUT = {
    "pyproject.toml": '[project]\nname = "pkg"\nversion = "0"\n',
    "src/pkg/__init__.py": "",
    "src/pkg/core.py": "def answer():\n    return 1\n",
    "tests/test_core.py": "from pkg.core import answer\n\n\ndef test_answer():\n    assert answer() == 2\n",
}


def test_a_worktree_tests_its_own_code_not_the_main_trees_editable_install(
    tmp_path: Path,
) -> None:
    main = tmp_path / "main"
    for rel, text in SRC_LAYOUT.items():
        (main / rel).parent.mkdir(parents=True, exist_ok=True)
        (main / rel).write_text(text)
    (main / ".gitignore").write_text(".venv/\n")
    # An editable install of the main tree, the way setuptools/hatchling write one: a .pth line.
    venv_with_module(main / ".venv", "unused_marker", "")
    site = next((main / ".venv" / "lib").glob("python*/site-packages"))
    (site / "__editable__.pkg-0.pth").write_text(str(main / "src") + "\n")
    init_repo(main)
    worktree = tmp_path / "wt"
    git(main, "worktree", "add", "-q", "-b", "exec-auto/t", str(worktree))
    # The worktree's step fixed the code; the main tree still has the old answer.
    (worktree / "src/pkg/core.py").write_text("def answer():\n    return 2\n")
    serial = run_pytest(make_environment(main), None, 60)
    parallel = run_pytest(make_environment(worktree), None, 60)
    assert [f.test_id for f in serial.failures] == ["tests/test_core.py::test_answer"]
    assert parallel.passed == ("tests/test_core.py::test_answer",) and not parallel.failures
    # And the same code gives the same verdict: main fixed too, serial equals parallel.
    (main / "src/pkg/core.py").write_text("def answer():\n    return 2\n")
    assert run_pytest(make_environment(main), None, 60).passed == parallel.passed
