"""The bubblewrap sandbox, tried for real: what a contained command can and cannot do."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from exec_auto import proc
from exec_auto.config import SandboxConfig
from exec_auto.sandbox.session import Sandbox, open_sandbox
from tests.conftest import init_repo, requires_sandbox
from tests.helpers.procs import wait_gone

pytestmark = requires_sandbox


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A repo with a ticket and a .env, a fake HOME with an ssh key, and canaries outside."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("SSH-CANARY-KEY\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-CANARY-0123456789")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("outside canary\n")
    repo = tmp_path / "repo"
    ticket = repo / "specs" / "tickets" / "t"
    ticket.mkdir(parents=True)
    (ticket / "plan.md").write_text("# plan\n")
    (repo / "app.py").write_text("x = 1\n")
    (repo / ".env").write_text("DB_PASSWORD=ENV-CANARY\n")
    init_repo(repo)
    return {"repo": repo, "ticket": ticket, "outside": outside, "home": home}


@pytest.fixture
def sandbox(world: dict[str, Path]) -> Sandbox:
    box, status = open_sandbox(world["repo"], world["ticket"], SandboxConfig(mode="on"))
    assert box is not None and status.active
    yield box.for_tools()
    box.close()


def sh(box: Sandbox, command: str, cwd: Path) -> proc.ProcResult:
    return proc.run(command, shell=True, cwd=cwd, sandbox=box, timeout=60)


ESCAPES = {
    "python": "{py} -c \"import shutil; shutil.rmtree('{out}')\"",
    "python-write": "{py} -c \"open('{out}/keep.txt', 'w').write('gone')\"",
    "redirection": "echo gone > {out}/keep.txt",
    "append": "echo gone >> {out}/keep.txt",
    "rm": "rm -rf {out}",
    "symlink": "ln -s {out}/keep.txt link.txt && echo gone > link.txt",
    "hook": "echo 'touch {out}/hooked' >> .git/hooks/pre-commit",
    "hooks-path": "git config core.hooksPath {out}",
    "ticket": "echo tampered >> specs/tickets/t/plan.md",
    "perl": "perl -e 'unlink(\"{out}/keep.txt\") or die'",
    "node": "node -e \"require('fs').writeFileSync('{out}/keep.txt', 'gone')\"",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_writes_outside_the_repository_fail(sandbox: Sandbox, world: dict[str, Path], name: str):
    tool = {"perl": "perl", "node": "node"}.get(name)
    if tool and subprocess.run(["which", tool], capture_output=True).returncode != 0:
        pytest.skip(f"{tool} is not installed here")
    repo, out = world["repo"], world["outside"]
    config_before = (repo / ".git" / "config").read_bytes()
    plan_before = (world["ticket"] / "plan.md").read_bytes()
    result = sh(sandbox, ESCAPES[name].format(py=sys.executable, out=out), repo)
    assert not result.ok, result.output
    assert (out / "keep.txt").read_text() == "outside canary\n"
    assert not (out / "hooked").exists()
    assert (repo / ".git" / "config").read_bytes() == config_before
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert (world["ticket"] / "plan.md").read_bytes() == plan_before


def test_the_repository_is_writable_and_tools_run(sandbox: Sandbox, world: dict[str, Path]):
    repo = world["repo"]
    write = f"{sys.executable} -c \"open('new.py', 'w').write('y = 2')\""
    result = sh(sandbox, f"{write} && git status --short", repo)
    assert result.ok, result.output
    assert (repo / "new.py").read_text() == "y = 2"
    assert "new.py" in result.stdout


def test_secrets_are_not_visible(sandbox: Sandbox, world: dict[str, Path]):
    repo = world["repo"]
    result = sh(
        sandbox,
        f"cat {world['home']}/.ssh/id_rsa; cat .env; env; cat /proc/*/environ | tr '\\0' '\\n'",
        repo,
    )
    assert "SSH-CANARY" not in result.output
    assert "ENV-CANARY" not in result.output
    assert "sk-ant-CANARY" not in result.output
    home = sh(sandbox, 'echo "$HOME $TMPDIR"; ls -A "$HOME"', repo)
    private_home, private_tmp = home.stdout.split()[:2]
    assert private_home != str(world["home"]) and Path(private_tmp).name == "tmp"


def test_no_network_for_tools(sandbox: Sandbox, world: dict[str, Path]):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    threading.Thread(target=lambda: server.accept(), daemon=True).start()
    try:
        code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3)"
        inside = sh(sandbox, f'{sys.executable} -c "{code}"', world["repo"])
        outside = proc.run([sys.executable, "-c", code], sandbox=None, timeout=30)
    finally:
        server.close()
    assert outside.ok, outside.output
    assert not inside.ok
    assert "unreachable" in inside.output.lower() or "refused" in inside.output.lower()


def test_a_daemon_does_not_outlive_its_command(sandbox: Sandbox, world: dict[str, Path]):
    token = f"daemon-{time.monotonic_ns()}"
    script = "setsid sh -c 'while true; do sleep 0.1; done' & echo started"
    result = proc.run(
        script, shell=True, cwd=world["repo"], sandbox=sandbox, extra_env={"CANARY_TOKEN": token}
    )
    assert result.ok and "started" in result.stdout
    assert not wait_gone("CANARY_TOKEN", token)


def test_an_environment_under_the_hidden_home_stays_usable(world: dict[str, Path]):
    """A poetry-style env under ~/.cache runs inside; the rest of HOME stays hidden."""
    env = world["home"] / ".cache" / "pypoetry" / "virtualenvs" / "proj-AbCd-py3"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    box, _ = open_sandbox(
        world["repo"], world["ticket"], SandboxConfig(mode="on"), project_envs=[env]
    )
    assert box is not None
    try:
        inside = sh(
            box.for_tools(),
            f"{env}/bin/python -c 'import sys; print(sys.prefix)'; echo $POETRY_VIRTUALENVS_PATH; "
            f"cat {world['home']}/.ssh/id_rsa",
            world["repo"],
        )
    finally:
        box.close()
    assert str(env) in inside.stdout
    assert str(env.parent) in inside.stdout
    assert "SSH-CANARY" not in inside.output


def test_an_in_repo_venv_that_is_a_symlink_stays_usable_and_read_only(world: dict[str, Path]):
    """.venv -> a venv under the hidden HOME (a common layout): it runs inside, and cannot be changed."""
    env = world["home"] / "venvs" / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    (world["repo"] / ".venv").symlink_to(env)
    box, _ = open_sandbox(world["repo"], world["ticket"], SandboxConfig(mode="on"))
    assert box is not None
    try:
        inside = sh(
            box.for_tools(),
            ".venv/bin/python -c 'import sys; print(sys.prefix)'; touch .venv/planted; "
            f"cat {world['home']}/.ssh/id_rsa",
            world["repo"],
        )
    finally:
        box.close()
    # Before: bwrap could not mount onto the link, so every contained command failed to start.
    assert inside.stdout.strip() == str(world["repo"] / ".venv"), inside.output
    assert "Read-only file system" in inside.output and not (env / "planted").exists()
    assert "SSH-CANARY" not in inside.output
