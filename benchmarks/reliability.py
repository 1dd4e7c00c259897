"""Bad luck and bad input, counted: the reliability figures of the README in one table.

    .venv/bin/python benchmarks/reliability.py [--points 24] [--timed 10] [--jobs 2] [--quick]

Rows (each "held / tried"; a skipped case is not counted as tried and its reason is printed):
- kills survived: kill -9 at `--points` exact state changes spread over a gated two-step run (all
  of them with `--points 0`), plus `--timed` SIGKILLs of the process group at random moments of
  the agent and gate phases; each followed by a rerun (tests/reliability/sweep.py);
- bad inputs handled cleanly: every case of the corpus (tests/reliability/corpus.py), with the
  same checks as tests/reliability/test_bad_inputs.py;
- hostile agents contained: the misbehaviours of tests/reliability/hostile.py through the CLI;
- concurrency cases held: tests/reliability/concurrency.py;
- signal cases held: SIGINT once and twice, SIGTERM and SIGHUP in each of the six phases of a
  run (tests/reliability/phases.py).
Every failure is printed under the table. Exit 1 when a row is below 100%.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest


@dataclass
class Row:
    """One line of the table."""

    name: str
    held: int = 0
    tried: int = 0
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, label: str, problems: list[str]) -> None:
        """Count one case (no problems: held)."""
        self.tried += 1
        if problems:
            self.failures += [f"[{label}] {p}" for p in problems]
        else:
            self.held += 1


def _pool(jobs: int, work: Iterable[tuple[str, Callable[[], list[str]]]], row: Row) -> None:
    """Run the cases `jobs` at a time (each starts real processes of its own)."""
    items = list(work)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda item: (item[0], _safe(item[1])), items))
    for label, problems in results:
        row.add(label, problems)


def _safe(case: Callable[[], list[str]]) -> list[str]:
    try:
        return case()
    except Exception as exc:  # a crashed case is a failed case, with its reason
        return [f"{type(exc).__name__}: {exc}"]


def kills(work: Path, points: int, timed: int, jobs: int) -> Row:
    """kill -9 at exact points and at random moments, each followed by a rerun."""
    from tests.reliability.sweep import build_project, check_kill, plan_kills, reference

    row = Row("kills survived")
    template = build_project(work / "template")
    ref = reference(template, work)
    how_many = points or len(ref.points)
    chosen = plan_kills(ref, how_many, timed)
    _pool(
        jobs,
        ((k.label, lambda k=k: check_kill(template, work, k, ref)) for k in chosen),
        row,
    )
    return row


def bad_inputs(work: Path) -> Row:
    """Every case of the bad-input corpus, checked as the test suite checks it."""
    from tests.reliability import test_bad_inputs as t
    from tests.reliability.support import build_template

    row = Row("bad inputs handled cleanly")
    template = build_template(work / "template")
    for i, case in enumerate(t.CASES):
        where = work / f"case-{i}"
        where.mkdir()
        try:
            if case.needs == "disk-full":
                t.test_disk_full_at_start(template, where)
            else:
                patch = pytest.MonkeyPatch()
                try:
                    t.test_bad_input(case, template, where, patch)
                finally:
                    patch.undo()
        except pytest.skip.Exception as exc:
            row.skipped.append(f"{case.id}: {exc}")
            continue
        except AssertionError as exc:
            row.add(case.id, [str(exc).splitlines()[0] if str(exc) else "assertion failed"])
            continue
        except Exception as exc:  # anything else is a failure of the case too
            row.add(case.id, [f"{type(exc).__name__}: {exc}"])
            continue
        row.add(case.id, [])
    return row


def hostile(work: Path, jobs: int) -> Row:
    """Hostile agents through the CLI."""
    from tests.reliability.hostile import CASES, check_case, template_in

    row = Row("hostile agents contained")
    template = template_in(work)

    def one(i: int) -> Callable[[], list[str]]:
        where = work / f"case-{i}"
        where.mkdir()
        return lambda: check_case(CASES[i], template, where)

    _pool(jobs, ((c.id, one(i)) for i, c in enumerate(CASES)), row)
    return row


def concurrency(work: Path) -> Row:
    """Two things at once on one project (serially: each case times its own overlap)."""
    from tests.reliability.concurrency import CASES
    from tests.reliability.support import build_template, copy_project

    row = Row("concurrency cases held")
    template = build_template(work / "template")
    for name, case in CASES.items():
        root = copy_project(template, work / name / "p")
        (work / name / "work").mkdir()
        row.add(
            name, _safe(lambda case=case, root=root, name=name: case(root, work / name / "work"))
        )
    return row


def signals(work: Path, jobs: int) -> Row:
    """Every signal in every phase."""
    from tests.reliability.phases import PHASES, SIGNALS, interrupt, shared_template

    row = Row("signal cases held")
    template = shared_template(work / "shared")

    def one(phase: str, sig: str) -> Callable[[], list[str]]:
        where = work / f"{phase}-{sig}"
        where.mkdir()
        return lambda: interrupt(template, where, phase, sig).problems

    _pool(jobs, ((f"{p}/{s}", one(p, s)) for p in PHASES for s in SIGNALS), row)
    return row


def main() -> int:
    """Run every section and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=24, help="exact kill points (0: all)")
    parser.add_argument("--timed", type=int, default=10, help="timed kills of the process group")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
    parser.add_argument("--quick", action="store_true", help="6 points, 2 timed kills")
    parser.add_argument(
        "--only", nargs="*", default=None, help="sections: kills bad hostile concurrency signals"
    )
    args = parser.parse_args()
    if args.quick:
        args.points, args.timed = 6, 2
    sections: dict[str, Callable[[Path], Row]] = {
        "kills": lambda w: kills(w, args.points, args.timed, args.jobs),
        "bad": bad_inputs,
        "hostile": lambda w: hostile(w, args.jobs),
        "concurrency": concurrency,
        "signals": lambda w: signals(w, args.jobs),
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="exec-auto-reliability-") as tmp:
        for name, section in sections.items():
            if args.only and name not in args.only:
                continue
            where = Path(tmp) / name
            where.mkdir()
            start = time.monotonic()
            row = section(where)
            row.seconds = time.monotonic() - start
            rows.append(row)
            print(f"  {row.name}: {row.held}/{row.tried} ({row.seconds:.0f} s)", file=sys.stderr)
    print(f"{'':<28}{'held':>6}{'tried':>7}{'rate':>9}{'skipped':>9}{'time s':>8}")
    for row in rows:
        rate = f"{100 * row.held / row.tried:.0f}%" if row.tried else "-"
        print(
            f"{row.name:<28}{row.held:>6}{row.tried:>7}{rate:>9}{len(row.skipped):>9}"
            f"{row.seconds:>8.0f}"
        )
    for row in rows:
        for line in row.skipped:
            print(f"skipped ({row.name}): {line}")
        for line in row.failures:
            print(f"FAILED ({row.name}): {line}")
    return 0 if all(r.held == r.tried and r.tried for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
