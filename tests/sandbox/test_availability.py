"""No usable sandbox: said plainly, an unattended run refused unless --sandbox off; the demo runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exec_auto.config import SandboxConfig
from exec_auto.sandbox import backend as registry
from exec_auto.sandbox.bwrap import BwrapBackend
from exec_auto.sandbox.session import SandboxUnavailableError, open_sandbox
from tests.conftest import make_project


def _no_bwrap(env: dict[str, str] | None = None) -> dict[str, str]:
    """An environment in which exec-auto finds no bubblewrap (as on a machine without it)."""
    out = dict(os.environ if env is None else env)
    out["EXEC_AUTO_BWRAP"] = ""
    out.pop("EXEC_AUTO_SANDBOX", None)
    return out


@pytest.fixture
def missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXEC_AUTO_BWRAP", "")
    monkeypatch.setattr(registry, "_instances", {"bwrap": BwrapBackend()})


def test_probe_says_why(missing: None):
    probe = registry.get_backend("bwrap").probe()
    assert not probe.usable and "bwrap is not installed" in probe.reason


def test_auto_and_on_refuse_without_a_sandbox(missing: None, tmp_path: Path):
    for mode in ("auto", "on"):
        with pytest.raises(SandboxUnavailableError) as caught:
            open_sandbox(tmp_path, None, SandboxConfig(mode=mode))
        assert "--sandbox off" in (caught.value.hint or "")
    # "on" is a demand: not even the demo's allowance overrides it.
    with pytest.raises(SandboxUnavailableError):
        open_sandbox(tmp_path, None, SandboxConfig(mode="on"), allow_unsandboxed=True)
    box, status = open_sandbox(tmp_path, None, SandboxConfig(mode="auto"), allow_unsandboxed=True)
    assert box is None and status.line().startswith("NO SANDBOX: no usable sandbox")


def test_off_is_said_plainly(tmp_path: Path):
    box, status = open_sandbox(tmp_path, None, SandboxConfig(mode="off"))
    assert box is None and not status.active
    assert status.line().startswith("NO SANDBOX: --sandbox off")


def _run(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "exec_auto", "run", "feature-x", "--agent", "command"]
    argv += ["--agent-command", "echo hi > a.txt", "--no-gates", "--no-archive", *extra]
    argv.append("--force")  # the helper plan scores below the readiness threshold
    return subprocess.run(
        argv, cwd=root, env=_no_bwrap(), capture_output=True, text=True, timeout=120
    )


def test_the_cli_refuses_then_runs_with_sandbox_off(tmp_path: Path):
    root = tmp_path / "proj"
    root.mkdir()
    ticket = make_project(root)
    refused = _run(root)
    assert refused.returncode == 2, refused.stderr
    assert "refusing an unattended run without a sandbox" in refused.stderr
    assert "bwrap is not installed" in refused.stderr and "Traceback" not in refused.stderr
    assert not (ticket / "progress.yaml").exists()  # refused before anything was written
    ran = _run(root, "--sandbox", "off")
    assert ran.returncode == 1, ran.stderr  # one criterion nobody checks stays unverified
    assert "NO SANDBOX: --sandbox off" in ran.stdout
    report = (ticket / "report.md").read_text()
    assert report.splitlines()[0].startswith("**NO SANDBOX: --sandbox off")
    assert json.loads((ticket / "report.json").read_text())["sandboxed"] is False


def test_the_demo_runs_without_a_sandbox_and_says_so(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "exec_auto", "demo", str(tmp_path / "demo")],
        env=_no_bwrap(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "NO SANDBOX: no usable sandbox (bwrap: bwrap is not installed" in done.stdout
    report = next((tmp_path / "demo").glob("specs/archive/*/report.md")).read_text()
    assert report.splitlines()[0].startswith("**NO SANDBOX")
