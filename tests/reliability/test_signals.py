"""SIGINT (once and twice), SIGTERM and SIGHUP in every phase of a gated run, then a rerun.

Each case sends the signal to exec-auto's process group, as a terminal or a supervisor does,
while the phase is under way; the agent and the project's test both ignore SIGTERM and run in
sessions of their own. It must end with 128 + the signal, nothing of the run left alive,
progress saved as interrupted, and a rerun that finishes without redoing a finished step (see
tests/reliability/phases.py). CI runs a bounded set that covers every phase and every signal;
`benchmarks/reliability.py` runs all 24 combinations. Killing exec-auto's process group while
the agent ignores SIGTERM, and a daemon the agent leaves, are in tests/sandbox/test_no_survivors.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.phases import PHASES, SIGNALS, interrupt, shared_template

# Every phase once or twice, every signal at least once.
CASES = [
    ("startup", "TERM"),
    ("agent", "INT2"),
    ("agent", "HUP"),
    ("gate", "INT"),
    ("fix", "TERM"),
    ("criteria", "HUP"),
    ("report", "INT2"),
]
assert {p for p, _ in CASES} == set(PHASES) and {s for _, s in CASES} == set(SIGNALS)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The signal project, built once for all xdist workers of this session."""
    base = tmp_path_factory.getbasetemp()
    return shared_template((base.parent if worker_id != "master" else base) / "signals")


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("phase", "sig"), CASES, ids=[f"{p}-{s}" for p, s in CASES])
def test_signal_in_phase(template: Path, tmp_path: Path, phase: str, sig: str) -> None:
    result = interrupt(template, tmp_path, phase, sig)
    assert result.problems == []
