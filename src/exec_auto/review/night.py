"""Across tickets and nights: branches that touch the same files, and checks that changed state.

A "check" is an acceptance criterion of a ticket: passing when `met`, failing when `not_met` or
`partial` (an `unverified` one is neither, so it never counts as newly passing or failing). Night over
night compares this batch with the previous batch report in the same batches folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exec_auto.review.model import TicketReview

PASSING = frozenset({"met"})
FAILING = frozenset({"not_met", "partial"})


@dataclass(frozen=True)
class Conflict:
    """Two finished branches that change the same files."""

    first: str
    second: str
    files: tuple[str, ...]


def conflicts(tickets: Sequence[TicketReview]) -> list[Conflict]:
    """Every pair of finished branches touching a common file, in name order."""
    finished = sorted((t for t in tickets if t.branch and t.touched), key=lambda t: t.name)
    out = []
    for i, a in enumerate(finished):
        for b in finished[i + 1 :]:
            common = sorted(set(a.touched) & set(b.touched))
            if common:
                out.append(Conflict(a.name, b.name, tuple(common)))
    return out


def merge_order(tickets: Sequence[TicketReview], found: Sequence[Conflict]) -> list[str]:
    """Finished branches in the order to merge them: the safest, smallest, least entangled first.

    Each later branch that shares files with an earlier one needs a rebase (or a look) first.
    """
    entangled: dict[str, int] = {}
    for c in found:
        entangled[c.first] = entangled.get(c.first, 0) + 1
        entangled[c.second] = entangled.get(c.second, 0) + 1
    finished = [t for t in tickets if t.branch and t.verdict in ("proven", "partial")]
    ranked = sorted(
        finished,
        key=lambda t: (
            t.verdict != "proven",
            bool(t.needs_eyes),
            entangled.get(t.name, 0),
            t.stat.lines,
            t.name,
        ),
    )
    return [t.name for t in ranked]


@dataclass(frozen=True)
class CheckChange:
    """A check whose result changed since the previous batch."""

    ticket: str
    check: str
    before: str
    now: str


def _criteria(report: dict[str, object]) -> dict[str, str]:
    crits = report.get("acceptance_criteria")
    if not isinstance(crits, list):
        return {}
    return {
        str(c.get("criterion")): str(c.get("status"))
        for c in crits
        if isinstance(c, dict) and c.get("criterion")
    }


def _ticket_reports(batch_json: Path) -> dict[str, dict[str, str]]:
    """ticket -> {criterion: status} from a batch folder's kept ticket reports."""
    try:
        batch = json.loads(batch_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for row in batch.get("tickets", []) if isinstance(batch, dict) else []:
        if not isinstance(row, dict) or not row.get("ticket"):
            continue
        path = batch_json.parent / str(row["ticket"]) / "report.json"
        try:
            out[str(row["ticket"])] = _criteria(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def previous_batch(folder: Path, started_at: str) -> Path | None:
    """The batch-report.json of the latest earlier batch beside folder, if any."""
    best: tuple[str, Path] | None = None
    for candidate in folder.parent.glob("*/batch-report.json"):
        if candidate.parent == folder:
            continue
        try:
            started = str(json.loads(candidate.read_text(encoding="utf-8")).get("started_at", ""))
        except (OSError, ValueError, AttributeError):
            continue
        if started and started < started_at and (best is None or started > best[0]):
            best = (started, candidate)
    return best[1] if best else None


def night_over_night(
    now: Sequence[TicketReview], previous: Path | None
) -> tuple[list[CheckChange], list[CheckChange]]:
    """(newly failing, newly passing) checks since the previous batch (empty without one)."""
    if previous is None:
        return [], []
    before = _ticket_reports(previous)
    failing, passing = [], []
    for t in sorted(now, key=lambda t: t.name):
        if t.report is None or t.name not in before:
            continue
        for c in t.report.acceptance_criteria:
            old = before[t.name].get(c.criterion)
            if old is None:
                continue
            if old in PASSING and c.status in FAILING:
                failing.append(CheckChange(t.name, c.criterion, old, c.status))
            elif old in FAILING and c.status in PASSING:
                passing.append(CheckChange(t.name, c.criterion, old, c.status))
    return failing, passing
