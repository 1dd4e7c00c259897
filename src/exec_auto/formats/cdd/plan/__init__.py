"""plan.md -> `Plan`: title, overview, dependencies and the ordered steps to execute.

Each step's body is the plan's own markdown for that step, verbatim: the source lines from its
heading (or list item) to the next step or the end of the implementation section. Line endings
are normalised to "\\n" and a BOM is dropped before anything else, so bodies are exact slices of
the normalised text. The heavy lifting lives in `blocks` (parsing), `steps` (choosing the
steps) and `deps` (installable dependencies).
"""

from __future__ import annotations

from pathlib import Path

from exec_auto.errors import PlanError
from exec_auto.formats.cdd.plan.blocks import Document, parse_document
from exec_auto.formats.cdd.plan.deps import find_dependencies
from exec_auto.formats.cdd.plan.steps import AmbiguousNumbering, find_steps
from exec_auto.formats.cdd.plan.text import is_overview, plain, plan_title
from exec_auto.safe_read import PLAN_LIMIT, read_limited
from exec_auto.ticket.model import Plan, Step

OVERVIEW_LIMIT = 2000
_HINT = (
    "put the steps under '## Implementation Steps' as '### Step 1: Title' headings, "
    "or as a numbered list of bold items ('1. **Title**')"
)


def normalise(text: str) -> str:
    """Text without a BOM and with "\\n" line endings (what step bodies are sliced from)."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_plan(text: str, path: Path | None = None) -> Plan:
    """Parse plan.md text; raise PlanError listing the headings when no steps are recognisable."""
    doc = parse_document(normalise(text))
    try:
        found = find_steps(doc)
    except AmbiguousNumbering as exc:
        raise PlanError(
            str(exc),
            path=path,
            hint="number the steps uniquely (1..N), or put each restarting run under its own "
            "'### Phase N: ...' heading",
        ) from None
    if not found:
        raise PlanError(_no_steps_message(doc), path=path, hint=_HINT)
    steps = tuple(
        Step(
            id=step.number or str(index),
            title=step.title,
            body="\n".join(doc.lines[step.line : step.end]),
            phase=step.phase,
        )
        for index, step in enumerate(found, 1)
    )
    return Plan(
        path=path,
        title=_title(doc, path),
        overview=_overview(doc),
        steps=steps,
        dependencies=find_dependencies(doc),
    )


def load_plan(path: Path) -> Plan:
    """Read and parse a plan file (UTF-8, BOM and CRLF tolerated)."""
    try:
        raw = read_limited(path, limit=PLAN_LIMIT, error=PlanError, what="plan")
    except FileNotFoundError:
        raise PlanError(
            "plan.md not found",
            path=path,
            hint="write the plan first (/plan), or check the ticket name",
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PlanError(
            f"plan is not valid UTF-8 (byte {error.start})",
            path=path,
            hint="re-save the file as UTF-8",
        ) from None
    return parse_plan(text, path)


def _no_steps_message(doc: Document) -> str:
    if not doc.headings:
        return "no implementation steps found, and the plan has no headings at all"
    shown = [f"{'#' * h.level} {plain(h.text)}" for h in doc.headings[:40]]
    more = f" (+{len(doc.headings) - 40} more)" if len(doc.headings) > 40 else ""
    return "no implementation steps found; headings: " + "; ".join(shown) + more


def _title(doc: Document, path: Path | None) -> str:
    h1 = next((h for h in doc.headings if h.level == 1), None)
    if h1 is not None:
        return plan_title(h1.text)
    if doc.headings:
        return plain(doc.headings[0].text)
    return path.parent.name if path is not None else ""


def _overview(doc: Document) -> str:
    """The summary section's text, else the text between the H1 and the first H2."""
    summary = next((h for h in doc.headings if h.level >= 2 and is_overview(h.text)), None)
    if summary is not None:
        start, end = summary.line + 1, doc.section_end(summary)
    else:
        h1 = next((h for h in doc.headings if h.level == 1), None)
        start = h1.line + 1 if h1 is not None else 0
        end = next(
            (h.line for h in doc.headings if h.line >= start and h.level >= 1), len(doc.lines)
        )
    lines = list(doc.lines[start:end])
    while lines and lines[-1].strip() in ("", "---", "***", "___"):
        lines.pop()
    text = "\n".join(lines).strip()
    if len(text) > OVERVIEW_LIMIT:
        cut = text.rfind("\n", 0, OVERVIEW_LIMIT - 1)
        text = text[: cut if cut > OVERVIEW_LIMIT // 2 else OVERVIEW_LIMIT - 1].rstrip() + "…"
    return text
