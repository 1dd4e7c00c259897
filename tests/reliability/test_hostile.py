"""A few hostile agents through the real CLI (all of them run in benchmarks/reliability.py).

The ones tests/sandbox does not already run end to end: terminal escapes in the agent's output,
the agent deleting exec-auto's state mid-run, the agent breaking spec.yaml, and a flood.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.hostile import CASES, check_case, template_in

IN_CI = ("terminal-escapes", "deletes-state", "breaks-spec", "output-flood")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reliability template project."""
    return template_in(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("case", [c for c in CASES if c.id in IN_CI], ids=lambda c: c.id)
def test_hostile_agent_is_contained(template: Path, tmp_path: Path, case: object) -> None:
    assert check_case(case, template, tmp_path) == []  # type: ignore[arg-type]
