"""`git reset --hard`, `git clean -fdx`, `git stash -u`, `git checkout` by a model, through the real CLI.

For the `openai` backend (scripted server) and `claude` (the real Claude Code CLI against a scripted
server), with the sandbox off (the git-state guard must hold alone) and on: the model runs each
command plainly (the pattern guard refuses it) and once hidden in an interpreter (the guard cannot
see it; the sandbox refuses it or the git-state guard undoes it). The user's uncommitted edit, untracked
file and staged file survive, and every case is logged as an issue.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from exec_auto.cli import main
from tests.agents.test_claude_backend import cli_env, needs_cli
from tests.conftest import SANDBOX_MODES as MODES
from tests.conftest import git, make_project
from tests.fakes import anthropic_server, openai_server

# In this order, hidden ones included, each finds something to destroy (stash first: it takes all).
CASES = {
    "stash": "git stash -q -u",
    "reset": "git reset -q --hard",
    "clean": "git clean -qfdx",
    "checkout": "git checkout -q -- .",
}


FLAGS = ("--no-gates", "--no-archive", "--no-judge", "--force", "--sandbox")


def hidden(command: str) -> str:
    """The command run by an interpreter, where no command-line pattern can see it."""
    words = json.dumps(command.split())
    return f"{sys.executable} -c 'import subprocess; subprocess.run({words})'"


def user_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    make_project(root, titles=["Only"])
    (root / "README.md").write_text("project\nthe user's uncommitted line\n")
    (root / "notes.txt").write_text("the user's untracked notes\n")
    (root / "staged.txt").write_text("staged by the user\n")
    git(root, "add", "staged.txt")
    return root


def assert_survived_and_logged(root: Path, head: str, mode: str) -> None:
    assert (root / "README.md").read_text() == "project\nthe user's uncommitted line\n"
    assert (root / "notes.txt").read_text() == "the user's untracked notes\n"
    assert (root / "staged.txt").read_text() == "staged by the user\n"
    assert "staged.txt" in git(root, "diff", "--cached", "--name-only")
    assert git(root, "rev-parse", "HEAD").strip() == head
    if mode == "on":  # (without the sandbox an agent's stash entry is reported and left: no loss)
        assert not git(root, "stash", "list").strip()
    assert (root / "a.txt").read_text() == "work\n"
    progress = YAML(typ="safe").load((root / "specs/tickets/feature-x/progress.yaml").read_text())
    issues = progress["issues"]
    refused = " ".join(i["description"] for i in issues if i["type"] == "refused_action")
    for case in CASES:  # the plain commands: the pattern guard refused each, by name
        assert f"git {case}" in refused, (case, refused)
    changed = [i for i in issues if i["type"] == "git_state_changed"]
    denied = " ".join(i["description"] for i in issues if i["type"] == "sandbox_denied")
    if mode == "on":
        # The hidden ones: .git/ is read-only, git refused, its trace names each command.
        for case in ("reset", "stash", "checkout"):
            assert f"`git {case}" in denied, (case, denied)
        # git clean only deletes work-tree files (writable): the git-state guard put them back.
        assert any("notes.txt" in i["details"] for i in changed), changed
    else:
        # No kernel: the hidden ones ran, the git-state guard undid them and said what changed.
        text = " ".join(i["description"] + " " + i["details"] for i in changed)
        for what in ("README.md", "notes.txt", "stash"):
            assert what in text, (what, text)
    assert all(i["severity"] == "high" for i in changed)


@pytest.mark.parametrize("mode", MODES)
def test_openai_model_destroying_the_users_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
):
    root = user_project(tmp_path)
    head = git(root, "rev-parse", "HEAD").strip()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-OPENAIKEY-0123456789abcdef")
    run = openai_server.tool_use
    script = [run("run_command", {"command": c}) for c in CASES.values()]
    script += [run("run_command", {"command": hidden(c)}) for c in CASES.values()]
    script += [run("write_file", {"path": "a.txt", "content": "work\n"}), openai_server.text("ok")]
    with openai_server.FakeOpenAI(script) as fake:
        monkeypatch.chdir(root)
        code = main(
            ["run", "feature-x", "--agent", "openai", "--base-url", fake.base_url, *FLAGS, mode]
        )
    assert code in (0, 1)
    assert_survived_and_logged(root, head, mode)


@needs_cli
@pytest.mark.parametrize("mode", MODES)
def test_claude_code_destroying_the_users_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
):
    root = user_project(tmp_path)
    head = git(root, "rev-parse", "HEAD").strip()
    home = tmp_path / "home"
    home.mkdir()
    for name, value in cli_env(home).items():
        monkeypatch.setenv(name, value)
    for name in ("ANTHROPIC_AUTH_TOKEN", "CLAUDECODE", "ANTHROPIC_MODEL"):
        monkeypatch.delenv(name, raising=False)

    def bash(command: str) -> dict:
        return anthropic_server.tool_use("Bash", {"command": command, "description": "x"})

    script = [bash(c) for c in CASES.values()] + [bash(hidden(c)) for c in CASES.values()]
    script += [bash("echo work > a.txt"), anthropic_server.text("ok")]
    with anthropic_server.FakeAnthropic(script) as fake:
        monkeypatch.chdir(root)
        code = main(
            ["run", "feature-x", "--agent", "claude", "--base-url", fake.base_url, *FLAGS, mode]
        )
    assert code in (0, 1)
    assert len(fake.requests) == len(script)
    assert_survived_and_logged(root, head, mode)
