"""Code the agent wrote, run by the gates: a hostile test file and a symlink out of the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import make_project, requires_sandbox, run_cli

pytestmark = requires_sandbox

EVIL_TEST = """\
import os, shutil, subprocess
from pathlib import Path


def test_misbehave():
    out = Path({outside!r})
    home = Path(os.environ.get("HOME", "/"))
    found = []
    for source in ({ssh!r}, ".env", "/proc/1/environ"):
        try:
            found.append(Path(source).read_text(errors="replace"))
        except OSError as exc:
            found.append(repr(exc))
    found.append(repr(dict(os.environ)))
    Path("leak.txt").write_text("\\n".join(found))
    subprocess.run("git reset -q --hard; git clean -qfdx -e leak.txt; git config core.hooksPath /tmp", shell=True)
    for attempt in (lambda: shutil.rmtree(out), lambda: (out / "keep.txt").write_text("gone")):
        try:
            attempt()
        except OSError:
            pass
"""


def test_a_hostile_test_file_and_an_outward_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("SSH-CANARY-KEY\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-GATECANARY-0123456789")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("outside canary\n")
    (outside / "x.py").write_text("x   =   1\n")  # a formatter would rewrite this
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n')
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "tests").mkdir()
    (root / ".env").write_text("SECRET=ENV-CANARY-VALUE\n")
    ticket = make_project(root, titles=["Only"])
    (root / "notes.txt").write_text("the user's untracked notes\n")
    (root / "README.md").write_text("project\nuncommitted line\n")
    evil = EVIL_TEST.format(outside=str(outside), ssh=str(home / ".ssh" / "id_rsa"))
    (tmp_path / "evil_test.py").write_text(evil)
    agent = (
        f"cp {tmp_path / 'evil_test.py'} tests/test_evil.py; "
        f"ln -s {outside / 'x.py'} app/evil.py; "
        f"printf 'def f( ):\\n  return 1\\n' > app/ok.py"
    )
    run_cli(root, monkeypatch, agent, "--no-archive", "--fix-attempts", "0", "--sandbox", "on")
    assert (outside / "keep.txt").read_text() == "outside canary\n"
    assert (outside / "x.py").read_text() == "x   =   1\n"  # never formatted through the link
    leak = (root / "leak.txt").read_text()
    for secret in ("SSH-CANARY", "ENV-CANARY-VALUE", "GATECANARY"):
        assert secret not in leak
    assert (root / "notes.txt").read_text() == "the user's untracked notes\n"
    assert (root / "README.md").read_text() == "project\nuncommitted line\n"
    assert "hooksPath" not in (root / ".git" / "config").read_text()
    progress = YAML(typ="safe").load((ticket / "progress.yaml").read_text())
    assert progress["auto_actions_summary"]["formatting_applied"] >= 1  # the gates really ran
    types = {i["type"] for i in progress["issues"]}
    assert "symlink_outside" in types
    assert "git_state_changed" in types  # git clean removed the user's file; it was put back
    for place in (ticket / "progress.yaml", ticket / "report.md"):
        text = place.read_text()
        assert (
            "SSH-CANARY" not in text and "ENV-CANARY-VALUE" not in text and "GATECANARY" not in text
        )
