"""`exec-auto pr-body TICKET`: the pull-request description of a finished ticket, on stdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from exec_auto.errors import ExecAutoError


def main(args: argparse.Namespace) -> int:
    """Print the Markdown body (pipe it to `gh pr create --body-file -`)."""
    from exec_auto.formats.registry import resolve
    from exec_auto.report import Report
    from exec_auto.review.model import review_ticket
    from exec_auto.review.prbody import pr_body

    ticket = resolve(args.ticket, Path.cwd(), allow_archived=True)
    path = ticket.dir / "report.json"
    try:
        report = Report.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExecAutoError(
            "no report.json yet",
            path=path,
            hint=f"run the ticket first: exec-auto run {ticket.name}",
        ) from None
    except (OSError, ValueError) as exc:
        raise ExecAutoError(
            f"report.json cannot be read: {str(exc).splitlines()[0][:200]}",
            path=path,
            hint="rerun the ticket to write a fresh report",
        ) from None
    page = ticket.dir / "report.html"
    sys.stdout.write(
        pr_body(review_ticket(report, ticket.root), str(page) if page.is_file() else None)
    )
    return 0
