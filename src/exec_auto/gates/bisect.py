"""Blame by bisection: which step's snapshot introduced a failure first seen in the final gate.

A test that no step's gate ran (selection missed it, or it reads a file no step's selection
mapped) can fail for the first time in the final gate. Its cause is one of the steps: the failing
tests are run again on the recorded step snapshots (base, step 1, ..., last step) and a binary
search finds the first snapshot where each fails. Every probe runs only the tests still
undecided at that snapshot, with the final gate's runner, environment and seeds.

Nothing is blamed without evidence. The last snapshot must reproduce the failure and the base must
not have it; the boundary is confirmed by running both sides again when the budget allows, and a
test whose outcome changes between identical runs is flaky, never a step's. The number of runs
and the time are capped; what the cap leaves open is reported as undecided, with the range.

This module is the search only; `executor.bisection` supplies the snapshots and the runner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from exec_auto.gates.testing import TestRun

# Outcome of one test in one probe run.
Outcome = Literal["failed", "passed", "absent", "broken"]
Verdict = Literal["introduced", "baseline", "not_reproduced", "flaky", "undecided"]

DEFAULT_MAX_RUNS = 12
DEFAULT_MAX_SECONDS = 600.0
# More failures than this are not bisected one by one (the cost would grow with each).
MAX_TESTS = 20


@dataclass(frozen=True)
class Point:
    """One recorded snapshot: the base (step_id None) or a finished step's commit."""

    step_id: str | None
    commit: str
    # The steps whose changes this snapshot adds to the previous point's (itself, plus steps
    # before it whose snapshot was not recorded).
    covers: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """'the base' or 'step 2.1'."""
        return "the base (before step 1)" if self.step_id is None else f"step {self.step_id}"


@dataclass(frozen=True)
class Probe:
    """One run of some failing tests on one snapshot."""

    point: Point
    tests: tuple[str, ...]
    outcomes: dict[str, Outcome]
    seconds: float
    # Why the run could not judge (crash, timeout), '' when it ran.
    broken: str = ""


@dataclass(frozen=True)
class Blame:
    """What bisection decided for one test."""

    test_id: str
    verdict: Verdict
    reason: str
    # The step whose snapshot introduced the failure (verdict 'introduced').
    step_id: str | None = None
    # Steps between the last passing and the first failing recorded snapshot, when some were
    # not recorded: the failure came with one of them.
    steps: tuple[str, ...] = ()

    def suffix(self) -> str:
        """The words appended to the final gate's issue."""
        return {
            "introduced": f"(introduced by step {self.step_id}, found by bisection)",
            "baseline": "(bisection: fails before step 1 too)",
            "flaky": "(bisection: flaky)",
            "not_reproduced": "(bisection: not reproduced on the last step's snapshot)",
            "undecided": "(bisection could not decide)",
        }[self.verdict]


@dataclass
class BisectResult:
    """Every test's verdict, the runs it took and the time spent."""

    blames: dict[str, Blame] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""
    # Step snapshots searched (the base not counted).
    snapshots: int = 0

    @property
    def runs(self) -> int:
        """Test runs made (each probe is one run)."""
        return len(self.probes)

    def summary(self) -> str:
        """One line for progress.yaml's quality gates and the report."""
        if self.note and not self.blames:
            return f"Bisection: not run ({self.note})"
        counts: dict[str, int] = {}
        for blame in self.blames.values():
            counts[blame.verdict] = counts.get(blame.verdict, 0) + 1
        parts = [f"{n} {verdict.replace('_', ' ')}" for verdict, n in sorted(counts.items())]
        return (
            f"Bisection: {len(self.blames)} final-gate failure(s) over {self.snapshots} step snapshot(s): "
            f"{', '.join(parts)} [{self.runs} run(s), {self.seconds:.1f} s]"
        )


def outcome_in(run: TestRun, test_id: str) -> Outcome:
    """How test_id ended in run: a parametrised id also matches its base id's results."""
    file = test_id.split("::", 1)[0]
    base = test_id.split("[", 1)[0]

    def same(other: str) -> bool:
        return other == test_id or (test_id == base and other.startswith(base + "["))

    for failure in run.failures:
        if failure.kind in ("failed", "error") and same(failure.test_id):
            return "failed"
        if failure.kind == "collection" and failure.test_id in (file, test_id):
            return "failed"
    if any(same(p) for p in run.passed):
        return "passed"
    crashed = any(f.kind == "crash" for f in run.failures) and not run.counts.run
    if crashed or run.timed_out:
        return "broken"
    return "absent"


def why_broken(run: TestRun) -> str:
    """The cause of a run that could not judge, '' for a run that ran."""
    if run.timed_out:
        return "the run timed out"
    crash = next((f for f in run.failures if f.kind == "crash"), None)
    if crash is not None and not run.counts.run:
        return crash.message
    return ""


# A probe: run these tests on this snapshot within `timeout` seconds.
Runner = Callable[[Point, Sequence[str], float], TestRun]


class Bisector:
    """Binary search over the snapshots for each failing test, sharing runs between tests."""

    def __init__(
        self,
        points: Sequence[Point],
        runner: Runner,
        *,
        max_runs: int = DEFAULT_MAX_RUNS,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        confirm: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.points = tuple(points)
        self.runner = runner
        self.max_runs = max_runs
        self.max_seconds = max_seconds
        self.confirm = confirm
        self.clock = clock
        self.result = BisectResult()
        self._start = 0.0

    def _budget_left(self) -> float:
        """Seconds left, 0 when the run or time cap is reached."""
        if self.result.runs >= self.max_runs:
            return 0.0
        return max(0.0, self.max_seconds - (self.clock() - self._start))

    def _probe(self, index: int, tests: Sequence[str]) -> Probe | None:
        """Run tests on points[index]; None when the budget is spent."""
        left = self._budget_left()
        if left <= 0 or not tests:
            return None
        point = self.points[index]
        began = self.clock()
        run = self.runner(point, tests, left)
        broken = why_broken(run)
        outcomes: dict[str, Outcome] = {t: outcome_in(run, t) for t in tests}
        probe = Probe(point, tuple(tests), outcomes, self.clock() - began, broken)
        self.result.probes.append(probe)
        return probe

    def _decide(self, test: str, verdict: Verdict, reason: str, **kw: object) -> None:
        self.result.blames[test] = Blame(test, verdict, reason, **kw)  # type: ignore[arg-type]

    def run(self, tests: Sequence[str]) -> BisectResult:
        """Bisect every test; each ends with a verdict, never silently dropped."""
        self._start = self.clock()
        self.result.snapshots = max(0, len(self.points) - 1)
        try:
            self._run(list(dict.fromkeys(tests)))
        finally:
            self.result.seconds = self.clock() - self._start
        return self.result

    def _run(self, tests: list[str]) -> None:
        if len(self.points) < 2:
            self.result.note = "no step snapshots were recorded"
            for test in tests:
                self._decide(test, "undecided", self.result.note)
            return
        for test in tests[MAX_TESTS:]:
            self._decide(test, "undecided", f"not bisected: more than {MAX_TESTS} failures")
        tests = tests[:MAX_TESTS]
        last = len(self.points) - 1
        open_tests = self._ends(tests, last)
        lo = dict.fromkeys(open_tests, 0)
        hi = dict.fromkeys(open_tests, last)
        while True:
            wide = [t for t in open_tests if hi[t] - lo[t] > 1 and t not in self.result.blames]
            if not wide:
                break
            widest = max(wide, key=lambda t: hi[t] - lo[t])
            mid = (lo[widest] + hi[widest]) // 2
            here = [t for t in wide if lo[t] < mid < hi[t]]
            probe = self._probe(mid, here)
            if probe is None:
                for t in wide:
                    self._decide(
                        t,
                        "undecided",
                        f"the run/time cap ended the search between {self.points[lo[t]].label}"
                        f" (passes) and {self.points[hi[t]].label} (fails)",
                    )
                break
            for t in here:
                outcome = probe.outcomes[t]
                if outcome == "broken":
                    self._decide(
                        t,
                        "undecided",
                        f"the tests could not run on {probe.point.label}: {probe.broken}",
                    )
                elif outcome == "failed":
                    hi[t] = mid
                else:
                    lo[t] = mid
        found = [t for t in open_tests if t not in self.result.blames]
        self._confirm(found, lo, hi)

    def _ends(self, tests: list[str], last: int) -> list[str]:
        """Run on the last snapshot and the base; the tests that fail at the end only go on."""
        tip = self._probe(last, tests)
        if tip is None:
            for test in tests:
                self._decide(test, "undecided", "no run budget left")
            return []
        going = []
        for test in tests:
            outcome = tip.outcomes[test]
            if outcome == "broken":
                self._decide(
                    test,
                    "undecided",
                    f"the tests could not run on the last step's snapshot: {tip.broken}",
                )
            elif outcome != "failed":
                self._decide(
                    test,
                    "not_reproduced",
                    f"{'passes' if outcome == 'passed' else 'does not run'} on the last step's"
                    " snapshot in a scratch checkout (flaky, or it depends on something outside"
                    " the snapshot, e.g. ignored or generated files)",
                )
            else:
                going.append(test)
        base = self._probe(0, going)
        if base is None:
            for test in going:
                self._decide(test, "undecided", "no run budget left for the base snapshot")
            return []
        out = []
        for test in going:
            outcome = base.outcomes[test]
            if outcome == "failed":
                self._decide(
                    test,
                    "baseline",
                    "fails on the code before step 1 too: present at baseline, not a step's",
                )
            elif outcome == "broken":
                self._decide(
                    test,
                    "undecided",
                    f"the tests could not run on the base snapshot: {base.broken}",
                )
            else:
                out.append(test)
        return out

    def _confirm(self, tests: list[str], lo: dict[str, int], hi: dict[str, int]) -> None:
        """Run each boundary's two sides once more; a changed outcome is flaky, not a step's."""
        groups: dict[tuple[int, int], list[str]] = {}
        for test in tests:
            groups.setdefault((lo[test], hi[test]), []).append(test)
        for (good, bad), members in groups.items():
            flipped: dict[str, str] = {}
            confirmed = False
            if self.confirm:
                again_bad = self._probe(bad, members)
                again_good = self._probe(good, members) if again_bad is not None else None
                confirmed = again_good is not None
                for test in members:
                    if again_bad is not None and again_bad.outcomes[test] != "failed":
                        flipped[test] = f"passed on a second run of {self.points[bad].label}"
                    elif again_good is not None and again_good.outcomes[test] == "failed":
                        flipped[test] = f"failed on a second run of {self.points[good].label}"
            for test in members:
                if test in flipped:
                    self._decide(
                        test,
                        "flaky",
                        f"flaky: it {flipped[test]}; not blamed on a step",
                    )
                    continue
                point = self.points[bad]
                between = tuple(
                    s
                    for p in self.points[good + 1 : bad + 1]
                    for s in p.covers or (p.step_id,)
                    if s is not None
                )
                note = "" if confirmed else " (not confirmed by a second run: run/time cap)"
                if len(between) > 1:
                    note += f"; steps {', '.join(between)} had no snapshot of their own"
                self._decide(
                    test,
                    "introduced",
                    f"passes on {self.points[good].label}, fails from {point.label} on{note}",
                    step_id=point.step_id,
                    steps=between,
                )


def bisect(
    points: Sequence[Point],
    tests: Sequence[str],
    runner: Runner,
    *,
    max_runs: int = DEFAULT_MAX_RUNS,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    confirm: bool = True,
) -> BisectResult:
    """Bisect tests over points (base first, then each recorded step in order)."""
    bisector = Bisector(points, runner, max_runs=max_runs, max_seconds=max_seconds, confirm=confirm)
    return bisector.run(tests)
