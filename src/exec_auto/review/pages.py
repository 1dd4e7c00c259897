"""Writing the HTML review beside report.md/json (a ticket) and batch-report.md/json (a batch)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from exec_auto.atomicio import atomic_write_text
from exec_auto.review.html import Headline, render_page
from exec_auto.review.model import TicketReview, review_ticket
from exec_auto.review.night import conflicts, merge_order, night_over_night, previous_batch

if TYPE_CHECKING:
    from exec_auto.batch.report import BatchReport
    from exec_auto.report import Report

TICKET_PAGE = "report.html"
BATCH_PAGE = "batch-report.html"


def ticket_ended(report: Report) -> str:
    """Whether the ticket's run reached its end, and if not, why."""
    if report.status == "stopped":
        why = next((i.description for i in report.issues if i.type == "budget_exhausted"), "")
        return f"cut off: stopped before its end{': ' + why if why else ''}; rerun to resume"
    if report.status == "interrupted":
        return "cut off: interrupted; rerun to resume"
    return "ran to the end"


def render_ticket(report: Report, root: Path | None) -> str:
    """The HTML review of one ticket."""
    review = review_ticket(report, root)
    head = Headline(report.duration_seconds, report.usage, ticket_ended(report))
    return render_page(f"exec-auto review: {report.ticket}", [review], head)


def write_ticket_html(report: Report, folder: Path, root: Path | None) -> Path:
    """Write report.html into folder."""
    path = folder / TICKET_PAGE
    atomic_write_text(path, render_ticket(report, root))
    return path


def _kept_report(row_path: str | None) -> Report | None:
    from exec_auto.report import Report

    if not row_path or ":" in row_path.split("/")[0]:
        return None  # absent, or `branch:path` of an earlier batch (not a file)
    path = Path(row_path).with_name("report.json")
    try:
        return Report.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def batch_ended(batch: BatchReport) -> str:
    """Whether the batch ran to its end, and if not, why."""
    reason = batch.budget.get("exhausted") if isinstance(batch.budget, dict) else None
    if batch.exit_code == 130 or any(r.status == "interrupted" for r in batch.tickets):
        return "cut off: interrupted (progress saved; rerun the same command to resume)"
    if reason:
        return f"cut off: {reason}"
    return "ran to the end"


def batch_reviews(batch: BatchReport, root: Path | None) -> list[TicketReview]:
    """One review per batch row, from the ticket reports the batch kept."""
    return [
        review_ticket(_kept_report(r.report_path), root, name=r.ticket, row=r)
        for r in batch.tickets
    ]


def render_batch(batch: BatchReport, folder: Path, root: Path | None) -> str:
    """The HTML review of a batch."""
    reviews = batch_reviews(batch, root)
    found = conflicts(reviews)
    previous = previous_batch(folder, batch.started_at)
    night = night_over_night(reviews, previous) if previous is not None else None
    head = Headline(batch.wall_seconds, batch.totals.usage, batch_ended(batch))
    return render_page(
        f"exec-auto review: batch of {batch.started_at}",
        reviews,
        head,
        night=night,
        conflicts=(found, merge_order(reviews, found)),
    )


def write_batch_html(batch: BatchReport, folder: Path, root: Path | None) -> Path:
    """Write batch-report.html into folder."""
    path = folder / BATCH_PAGE
    atomic_write_text(path, render_batch(batch, folder, root))
    return path
