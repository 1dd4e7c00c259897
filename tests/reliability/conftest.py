"""The committed template project every reliability test copies (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.support import build_template, copy_project


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed project every case starts from."""
    return build_template(tmp_path_factory.mktemp("reliability") / "template")


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template (its own git repository)."""
    return copy_project(template, tmp_path / "p")
