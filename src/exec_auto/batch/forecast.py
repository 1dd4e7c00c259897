"""The forecast before a batch: steps, expected time and cost per ticket, from this repository's past.

The only evidence is what earlier runs here measured: archived tickets' report.json and the result
files earlier batches kept (`<git-common-dir>/exec-auto/batches/*/results/`). From the runs that
finished, it takes the median seconds and spend per step and multiplies by each ticket's step
count. With no finished run to learn from, time and cost are "unknown" — never a made-up number.
Budgets are checked against the forecast before the batch starts.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from exec_auto.batch.result import JobResult, find_result_files, read_result
from exec_auto.errors import ExecAutoError
from exec_auto.ticket.resolve import TicketRef, archived_tickets

FINISHED = frozenset({"completed", "completed_with_issues"})


@dataclass(frozen=True)
class Sample:
    """One finished past run: its ticket, step count, wall seconds and spend."""

    ticket: str
    steps: int
    seconds: float
    usd: float


@dataclass(frozen=True)
class TicketForecast:
    """What one ticket is expected to take (None: unknown)."""

    ticket: str
    steps: int
    seconds: float | None
    usd: float | None


@dataclass(frozen=True)
class Forecast:
    """Per-ticket expectations, what they are based on, and budget warnings."""

    tickets: tuple[TicketForecast, ...]
    samples: int
    seconds_per_step: float | None
    usd_per_step: float | None

    def total_seconds(self) -> float | None:
        """Agent time summed over the tickets (None when any is unknown)."""
        values = [t.seconds for t in self.tickets]
        return None if any(v is None for v in values) else sum(v or 0.0 for v in values)

    def total_usd(self) -> float | None:
        """Spend summed over the tickets (None when any is unknown)."""
        values = [t.usd for t in self.tickets]
        return None if any(v is None for v in values) else round(sum(v or 0.0 for v in values), 4)

    def expected(self) -> dict[str, float | None]:
        """ticket -> expected seconds, for the scheduler's queue order."""
        return {t.ticket: t.seconds for t in self.tickets}


def _batches_dir(root: Path) -> Path | None:
    from exec_auto.proc import git

    common = git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=root)
    return Path(common.stdout.strip()) / "exec-auto" / "batches" if common.ok else None


def _from_result(result: JobResult) -> Sample | None:
    if result.status not in FINISHED or not result.steps_total:
        return None
    if result.timings.duration_seconds is None:
        return None
    return Sample(
        result.ticket, result.steps_total, result.timings.duration_seconds, result.usage.spend_usd
    )


def past_samples(root: Path) -> list[Sample]:
    """Finished runs of this repository (one per ticket and run; batch results first)."""
    from exec_auto.report import Report

    samples: dict[tuple[str, float], Sample] = {}
    folder = _batches_dir(root)
    if folder is not None and folder.is_dir():
        for path in find_result_files(folder):
            try:
                sample = _from_result(read_result(path))
            except ExecAutoError:
                continue
            if sample is not None:
                samples[(sample.ticket, sample.seconds)] = sample
    for ticket in archived_tickets(root):
        try:
            report = Report.model_validate_json((ticket.dir / "report.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if report.status in FINISHED and report.steps and report.duration_seconds is not None:
            sample = Sample(
                report.ticket, len(report.steps), report.duration_seconds, report.usage.spend_usd
            )
            # The same run seen through a batch result already (its wall time differs a little).
            if not any(s.ticket == sample.ticket for s in samples.values()):
                samples[(sample.ticket, sample.seconds)] = sample
    return list(samples.values())


def _steps(ticket: TicketRef) -> int:
    from exec_auto.formats.registry import load_ticket

    try:
        return len(load_ticket(ticket).plan.steps)
    except ExecAutoError:
        return 0


def forecast(tickets: list[TicketRef], samples: list[Sample] | None = None) -> Forecast:
    """Expected steps, seconds and USD per ticket from past runs (unknown without any)."""
    if samples is None:
        samples = past_samples(tickets[0].root) if tickets else []
    per_step = [s.seconds / s.steps for s in samples if s.steps]
    usd_step = [s.usd / s.steps for s in samples if s.steps]
    rate = statistics.median(per_step) if per_step else None
    usd_rate = statistics.median(usd_step) if usd_step else None
    rows = []
    for ticket in tickets:
        steps = _steps(ticket)
        rows.append(
            TicketForecast(
                ticket.name,
                steps,
                round(rate * steps, 1) if rate is not None else None,
                round(usd_rate * steps, 4) if usd_rate is not None else None,
            )
        )
    return Forecast(tuple(rows), len(samples), rate, usd_rate)


def budget_warnings(
    fc: Forecast, wall_seconds: float | None, usd: float | None, seconds: float | None
) -> list[str]:
    """Where the forecast says a budget will not hold (unknown forecasts are said so)."""
    out = []
    total = fc.total_usd()
    if usd is not None:
        if total is None:
            out.append(f"--budget-usd {usd:g}: the cost is unknown (no finished past run here)")
        elif total > usd:
            out.append(
                f"forecast cost ${total:.2f} exceeds --budget-usd {usd:g}: "
                "the batch will likely stop before every ticket is done"
            )
    if seconds is not None:
        if wall_seconds is None:
            out.append(f"--budget-seconds {seconds:g}: the time is unknown (no finished past run)")
        elif wall_seconds > seconds:
            out.append(
                f"forecast wall time {wall_seconds:.0f} s exceeds --budget-seconds {seconds:g}"
            )
    return out


def render(fc: Forecast) -> list[str]:
    """The forecast as table lines."""

    def sec(v: float | None) -> str:
        return "unknown" if v is None else f"{v:.0f} s"

    def usd(v: float | None) -> str:
        return "unknown" if v is None else f"${v:.2f}"

    basis = (
        f"median of {fc.samples} finished past run(s) in this repository: "
        f"{sec(fc.seconds_per_step)}/step, {usd(fc.usd_per_step)}/step"
        if fc.samples
        else "no finished past run in this repository: time and cost unknown"
    )
    width = max([len(t.ticket) for t in fc.tickets] + [6])
    lines = [f"Forecast ({basis})", f"  {'ticket'.ljust(width)}  steps  time       cost"]
    for t in fc.tickets:
        lines.append(f"  {t.ticket.ljust(width)}  {t.steps:<5}  {sec(t.seconds):<9}  {usd(t.usd)}")
    lines.append(
        f"  {'total'.ljust(width)}  {sum(t.steps for t in fc.tickets):<5}  "
        f"{sec(fc.total_seconds()):<9}  {usd(fc.total_usd())}"
    )
    return lines
