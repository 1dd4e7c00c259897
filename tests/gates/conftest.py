"""Fixtures for the gate tests: a small real project (git repo, in-repo .venv, src layout, tests).

The template is built once per session and copied per test. Its `.venv` is created without pip and
sees this test environment's site-packages through a .pth file, so pytest, Black and ruff are there
while anything a test installs lands in the copy's own .venv, never in the shared environment.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from gate_support import FILES, write

from exec_auto.config import GatesConfig
from exec_auto.gates.base import GateContext
from tests.conftest import init_repo


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project, built once: files, a committed git repo, and a linked .venv."""
    root = tmp_path_factory.mktemp("template") / "demo"
    root.mkdir()
    for rel, text in FILES.items():
        write(root, rel, text)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    site = next((root / ".venv" / "lib").glob("python*/site-packages"))
    (site / "shared.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    (root / ".gitignore").write_text(".venv/\n", encoding="utf-8")
    init_repo(root)
    return root


@pytest.fixture
def demo(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo project for one test."""
    root = tmp_path / "demo"
    shutil.copytree(template, root, symlinks=True)
    return root


@pytest.fixture
def context() -> Callable[..., GateContext]:
    """Build a GateContext: context(root, touched, plan_dependencies=(), **gate_config)."""

    def make(
        root: Path,
        touched: tuple[str, ...] = (),
        plan_dependencies: tuple[str, ...] = (),
        **cfg: object,
    ) -> GateContext:
        config = GatesConfig.model_validate({"runner": "venv", "gate_timeout": 60, **cfg})
        return GateContext(root, touched, "1", config, plan_dependencies)

    return make


@pytest.fixture
def wheelhouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """An offline package index: add(distribution, module) builds a tiny wheel pip can install."""
    directory = tmp_path / "wheels"
    directory.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(directory))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")

    def add(distribution: str, module: str) -> None:
        stem = distribution.replace("-", "_")
        info = f"{stem}-1.0.dist-info"
        files = {
            f"{module}/__init__.py": "VALUE = 42\n",
            f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n",
            f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        }
        record = []
        for name, text in files.items():
            digest = hashlib.sha256(text.encode()).digest()
            encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            record.append(f"{name},sha256={encoded},{len(text.encode())}")
        files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
        with zipfile.ZipFile(directory / f"{stem}-1.0-py3-none-any.whl", "w") as wheel:
            for name, text in files.items():
                wheel.writestr(name, text)

    return add
