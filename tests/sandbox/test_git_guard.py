"""The second layer: whatever an agent does to git and to the user's uncommitted work is undone and logged.

Run through the real CLI and the `command` backend, with the sandbox off (the layer must hold on its own)
and on (where the sandbox already stops most of it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import SANDBOX_MODES as MODES
from tests.conftest import git, make_project, run_cli

DESTROY = {
    "reset-hard": "git reset -q --hard",
    "clean": "git clean -qfdx",
    "stash": "git stash -q -u",
    "checkout": "git checkout -q -- . && git checkout -q -b elsewhere",
    "commit": "git add -A && git -c user.name=a -c user.email=a@a commit -qm agent",
    "hooks": "printf '#!/bin/sh\\ntouch /tmp/hooked\\n' > .git/hooks/pre-commit; "
    "chmod +x .git/hooks/pre-commit; git config core.hooksPath /tmp",
}


@pytest.fixture
def user_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    make_project(root, titles=["Only"])
    (root / "README.md").write_text("project\nthe user's uncommitted line\n")
    (root / "notes.txt").write_text("the user's untracked notes\n")
    (root / "staged.txt").write_text("staged by the user\n")
    git(root, "add", "staged.txt")
    return root


def _issues(root: Path) -> list[dict]:
    """What was logged about it: a change undone, or (in the sandbox) a write the kernel refused."""
    progress = YAML(typ="safe").load(
        (root / "specs/tickets/feature-x/progress.yaml").read_text(encoding="utf-8")
    )
    return [i for i in progress["issues"] if i["type"] in ("git_state_changed", "sandbox_denied")]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(DESTROY))
def test_the_users_work_and_git_state_survive(
    user_project: Path, monkeypatch: pytest.MonkeyPatch, mode: str, case: str
):
    root = user_project
    head = git(root, "rev-parse", "HEAD").strip()
    config = (root / ".git" / "config").read_bytes()
    # The user's own stash entry and branches: the agent's stash and branch never stay beside them.
    (root / "stashed.txt").write_text("v1\n")
    git(root, "add", "stashed.txt")
    git(root, "stash", "push", "-q", "-m", "user stash", "--", "stashed.txt")
    git(root, "branch", "user-branch")
    stash = git(root, "stash", "list", "--format=%H %gs")
    branches = git(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads")
    command = f"{DESTROY[case]}; echo work > a.txt"
    run_cli(root, monkeypatch, command, "--no-gates", "--no-archive", "--sandbox", mode)
    assert (root / "README.md").read_text() == "project\nthe user's uncommitted line\n"
    assert (root / "notes.txt").read_text() == "the user's untracked notes\n"
    assert (root / "staged.txt").read_text() == "staged by the user\n"
    assert git(root, "rev-parse", "HEAD").strip() == head
    assert git(root, "symbolic-ref", "HEAD").strip() in ("refs/heads/master", "refs/heads/main")
    assert "staged.txt" in git(root, "diff", "--cached", "--name-only")
    assert (root / ".git" / "config").read_bytes() == config
    assert not (root / ".git" / "hooks" / "pre-commit").exists()
    assert (root / "a.txt").read_text() == "work\n"  # the step's own work stays
    assert git(root, "stash", "list", "--format=%H %gs") == stash
    assert git(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads") == branches
    if mode == "off" and case in ("stash", "checkout"):  # what the agent made is kept, privately
        kept = git(root, "for-each-ref", "--format=%(refname)", "refs/exec-auto/")
        assert ("agent-stash/" if case == "stash" else "agent-refs/refs/heads/elsewhere") in kept
    issues = _issues(root)
    # Each case is logged: a change undone, or a write the kernel refused - `git stash -u` on the
    # read-only .git fails without a word, and git's own trace still names it.
    assert issues, "each case is logged"
    assert all(i["severity"] == "high" for i in issues if i["type"] == "git_state_changed")
    if mode == "on":  # .git is read-only in the sandbox: the kernel refused, nothing to undo
        assert case == "clean" or {i["type"] for i in issues} == {"sandbox_denied"}
        if case != "hooks":  # git's refusal, named by its command (the hook write is the shell's)
            git_word = DESTROY[case].split()[1]
            assert any(f"`git {git_word}" in i["description"] for i in issues), issues
    if case == "commit" and mode == "off":
        text = " ".join(i["details"] for i in issues)
        assert "README.md" in text and "agent" in text  # the commit's id, subject and files
        assert git(root, "for-each-ref", "refs/exec-auto/agent-commits").strip()
