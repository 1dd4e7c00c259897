"""Concurrency cases with real exec-auto processes at the same time (tests/reliability/concurrency.py).

In-process variants of the lock refusals are in tests/executor/test_resume.py; these run two
real processes against one project, as a user (or cron and a user) would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.concurrency import CASES
from tests.reliability.support import build_template, copy_project


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed reliability project (tickets feature-x and other)."""
    return build_template(tmp_path_factory.mktemp("concurrency") / "template")


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", sorted(CASES))
def test_concurrency_case_holds(template: Path, tmp_path: Path, name: str) -> None:
    root = copy_project(template, tmp_path / "p")
    work = tmp_path / "work"
    work.mkdir()
    assert CASES[name](root, work) == []
