"""Baseline, step and final runs are comparable: one hash seed, and a flipping test is flaky, not blamed.

The set-parametrized shape comes from a real trial: ids of tests parametrized from a `set` of
non-string values are positional (`v0`, `v1`, ...), so they change with the hash order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from gate_support import write

from exec_auto.gates.base import GateContext
from exec_auto.gates.environment import make_environment
from exec_auto.gates.python import PythonGates
from exec_auto.gates.testing import run_pytest

SET_PARAMETRIZED = """\
import pytest

# Half pass, half fail: which positional ids fail depends on the set's iteration order.
CASES = {("alpha", 5), ("beta", 2), ("gamma", 5), ("delta", 1), ("eps", 3), ("zeta", 9)}


@pytest.mark.parametrize("case", CASES)
def test_known_broken(case):
    name, number = case
    assert len(name) == number
"""

FLIPS = """\
from pathlib import Path

MARKER = Path(__file__).with_name("flipped.marker")


def test_flips():
    if not MARKER.exists():
        MARKER.write_text("x")
        raise AssertionError("first run fails")
"""


def test_set_parametrized_pre_existing_failures_keep_their_ids(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    write(demo, "tests/test_cases.py", SET_PARAMETRIZED)
    ctx = context(demo, ("tests/test_cases.py",))
    # The shape is real: under another hash seed other positional ids fail (what an unfixed
    # PYTHONHASHSEED did to the trial's baseline); the gates' one seed keeps them comparable.
    env = make_environment(demo, "venv")
    by_seed = {
        seed: {f.test_id for f in run_pytest(env, ["tests/test_cases.py"], 60, seed=seed).failures}
        for seed in (0, 1)
    }
    assert by_seed[0] != by_seed[1], by_seed
    gates = PythonGates(ctx.config)
    baseline = gates.baseline(ctx)
    assert len(baseline.problem_keys) == 3
    step = replace(ctx, known_failures=frozenset(baseline.problem_keys))
    for _ in range(2):
        report = gates.after_step(step)
        # The same ids in every separate run: all three are the user's, none the step's.
        assert report.passed and not report.new_findings
        assert set(report.problem_keys) == set(baseline.problem_keys)


def test_a_test_that_flips_between_identical_runs_is_flaky_not_blamed(
    demo: Path, context: Callable[..., GateContext]
) -> None:
    write(demo, "tests/test_flip.py", FLIPS)
    ctx = context(demo, ("tests/test_flip.py",))
    report = PythonGates(ctx.config).after_step(ctx)
    (finding,) = report.new_findings
    assert finding.type == "flaky" and finding.severity == "low" and not finding.blamed
    assert "tests/test_flip.py::test_flips is flaky" in finding.description
    assert report.passed and report.feedback() == ""


def test_pytest_randomly_switched_off_by_the_project_gets_no_seed_option(tmp_path: Path) -> None:
    from exec_auto.gates.testing import randomly_switched_off

    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "-p no:randomly -q"\n'
    )
    assert randomly_switched_off(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-p randomly"\n')
    assert not randomly_switched_off(tmp_path)
    (tmp_path / "setup.cfg").write_text("[tool:pytest]\naddopts = -pno:randomly\n")
    assert randomly_switched_off(tmp_path)
