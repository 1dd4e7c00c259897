"""Readiness test helpers: a committed project holding one ticket built from fixture files."""

from __future__ import annotations

from pathlib import Path

from exec_auto.config import build_config
from exec_auto.readiness.gate import check_ticket
from exec_auto.readiness.model import Readiness
from exec_auto.ticket.resolve import TicketRef
from tests.conftest import init_repo

FIXTURES = Path(__file__).parent.parent / "fixtures"
PLANS = FIXTURES / "plans"
READINESS = FIXTURES / "readiness"


def make_ticket(
    root: Path,
    name: str,
    plan: str,
    spec: str | None = None,
    files: tuple[str, ...] = (),
) -> TicketRef:
    """A git project at root with specs/tickets/<name> and the given (empty) files, committed."""
    folder = root / "specs" / "tickets" / name
    folder.mkdir(parents=True)
    (folder / "plan.md").write_text(plan, encoding="utf-8")
    if spec is not None:
        (folder / "spec.yaml").write_text(spec, encoding="utf-8")
    for rel in ("README.md", *files):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    init_repo(root)
    return TicketRef(name, root)


def score(ticket: TicketRef) -> Readiness:
    """The ticket's readiness with the default configuration."""
    return check_ticket(ticket, build_config(ticket.root))


def kinds(readiness: Readiness) -> set[str]:
    """The kinds of finding that cost points."""
    return {f.kind for f in readiness.findings if f.penalty}


def text(readiness: Readiness) -> str:
    """Every finding's message, one per line."""
    return "\n".join(f.message for f in readiness.findings)
