"""A dependency install inside a run's sandbox: network on, only the project's environment writable.

The real pip installs a wheel from an offline index into the project's `.venv`, through the real
bubblewrap; a logging wrapper around bwrap shows what the install was given.
"""

from __future__ import annotations

import dataclasses
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

from gate_support import write

from exec_auto import proc
from exec_auto.config import SandboxConfig
from exec_auto.gates.base import GateContext
from exec_auto.gates.python import PythonGates
from exec_auto.sandbox.bwrap import BwrapBackend
from exec_auto.sandbox.session import open_sandbox
from tests.conftest import requires_sandbox

pytestmark = requires_sandbox


def test_the_install_runs_contained_with_network_and_the_environment_writable(
    demo: Path,
    context: Callable[..., GateContext],
    wheelhouse: Callable[[str, str], None],
    tmp_path: Path,
) -> None:
    log = tmp_path / "bwrap-calls.txt"
    wrapper = tmp_path / "bwrap"
    wrapper.write_text(
        # One line per call (the command's own argv may hold newlines).
        f'#!/bin/sh\nprintf "%s" "$*" | tr "\\n" " " >> {shlex.quote(str(log))}\n'
        f"echo >> {shlex.quote(str(log))}\n"
        f'exec {shlex.quote(str(shutil.which("bwrap")))} "$@"\n'
    )
    wrapper.chmod(0o755)
    wheelhouse("zz-structlog", "zz_structlog")
    (demo / "requirements.txt").write_text("pytest\n")
    write(demo, "tests/test_uses_dep.py", "import zz_structlog\n\n\ndef test_dep():\n    assert zz_structlog.VALUE == 42\n")  # fmt: skip
    opened, status = open_sandbox(demo, None, SandboxConfig(mode="on"))
    assert opened is not None, status.reason
    box = dataclasses.replace(opened, backend=BwrapBackend(str(wrapper)))
    try:
        ctx = context(demo, ("tests/test_uses_dep.py",), plan_dependencies=("zz-structlog",))
        with proc.sandbox_scope(box.for_tools()):
            report = PythonGates(ctx.config).after_step(ctx)
    finally:
        box.close()
    assert report.passed, report.feedback()
    assert report.dependencies_installed == ("zz-structlog",)
    assert list((demo / ".venv").glob("lib/python*/site-packages/zz_structlog/__init__.py"))
    [install] = [line for line in log.read_text().splitlines() if "install zz-structlog" in line]
    venv = str((demo / ".venv").resolve())
    assert f"--bind {venv} {venv}" in install  # the environment writable
    assert "--unshare-net" not in install  # network on, for the index
    assert f"--ro-bind {demo.resolve() / '.git'}" in install  # the rest stays as for any command
    # The test run that followed had no network again.
    tests = [line for line in log.read_text().splitlines() if "-m pytest" in line]
    assert tests and all("--unshare-net" in line for line in tests)
