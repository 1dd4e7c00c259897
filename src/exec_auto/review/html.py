"""The single-file HTML review: one page per ticket (report.html) and per batch (batch-report.html).

Everything is inline — styles, the few lines of script, the diff colours — so the page opens from disk
with no server and no network, and requests nothing from anywhere. It is generated only from stored
data (reports, batch rows, step history), deterministically: the same data gives the same bytes.
Empty sections say "none".
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exec_auto.evidence.model import PROOF_TEXT
from exec_auto.review import diffs
from exec_auto.review.model import TIER_NAMES, VERDICTS, TicketReview, audit_text, queue
from exec_auto.review.night import CheckChange, Conflict
from exec_auto.usage import Usage

if TYPE_CHECKING:
    from exec_auto.ticket.model import CriterionProgress

_CSS = """
:root{--bg:#fff;--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--red:#b42318;--green:#067647;
--amber:#b54708;--blue:#175cd3;--chip:#f2f4f7}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;vertical-align:top;
padding:5px 8px;border-bottom:1px solid var(--line)}th{font-weight:600;background:#f9fafb}
.muted{color:var(--muted)}.none{color:var(--muted);font-style:italic}
.v{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;background:var(--chip)}
.v-proven,.s-met,.s-completed{color:var(--green)}.v-failed,.s-not_met,.s-failed{color:var(--red)}
.v-partial,.s-partial,.s-completed_with_warning,.s-unverified{color:var(--amber)}
.v-blocked,.v-not_started,.s-skipped,.s-pending{color:var(--muted)}
.eyes{color:var(--red);font-weight:600}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:10px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}.cut{color:var(--muted)}
details{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:4px 8px}
summary{cursor:pointer;font-weight:600}.file{margin:8px 0}.fname{font-family:monospace;font-weight:600}
pre.diff{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;background:#fbfbfc;padding:6px;
overflow-x:auto;margin:4px 0}pre.diff span.add{background:#e7f7ed;display:inline-block;min-width:100%}
pre.diff span.del{background:#fdecec;display:inline-block;min-width:100%}
pre.diff span.hunk{color:var(--blue)}
.ledger label{margin-right:10px;white-space:nowrap}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
"""

# Accept/reject choices stay in the browser (localStorage); "copy" gives them as text to paste.
_SCRIPT = """
(function(){var key='exec-auto-ledger:'+document.title;var saved={};
try{saved=JSON.parse(localStorage.getItem(key)||'{}')}catch(e){}
document.querySelectorAll('.ledger input[type=radio]').forEach(function(r){
if(saved[r.name]===r.value){r.checked=true}
r.addEventListener('change',function(){saved[r.name]=r.value;
try{localStorage.setItem(key,JSON.stringify(saved))}catch(e){}})});
var b=document.getElementById('ledger-copy');if(b){b.addEventListener('click',function(){
var out=[];document.querySelectorAll('.ledger tbody tr').forEach(function(tr){
var c=tr.querySelector('input:checked');out.push((c?c.value:'undecided')+': '+tr.dataset.text)});
var t=document.getElementById('ledger-text');t.value=out.join('\\n');t.hidden=false;t.select()})}})();
"""


# Diff lines on one page at most (a night of many tickets must still open quickly).
PAGE_DIFF_LINES = 30_000


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _none(text: str = "none") -> str:
    return f'<p class="none">{_e(text)}</p>'


def duration(seconds: float | None) -> str:
    """'1 h 02 min', '3 min 05 s', '12 s' or 'unknown'."""
    if seconds is None:
        return "unknown"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def _table(
    head: Sequence[str], rows: Iterable[Sequence[str]], cls: str, empty: str = "none"
) -> str:
    body = ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    if not body:
        return _none(empty)
    heads = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f'<table class="{cls}"><thead><tr>{heads}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _verdict(v: str) -> str:
    return f'<span class="v v-{_e(v)}">{_e(v.replace("_", " "))}</span>'


def _status(s: str) -> str:
    return f'<span class="s-{_e(s)}">{_e(s)}</span>'


@dataclass(frozen=True)
class Headline:
    """The top of the page: counts, time, cost, and whether the night ran to its end."""

    wall_seconds: float | None
    usage: Usage
    ended: str


def _headline(tickets: Sequence[TicketReview], head: Headline) -> str:
    counts = {v: sum(1 for t in tickets if t.verdict == v) for v in VERDICTS}
    cards = "".join(
        f'<div class="card v-{v}"><b>{counts[v]}</b>{_e(v.replace("_", " "))}</div>'
        for v in VERDICTS
    )
    u = head.usage
    return (
        f'<div class="cards" id="headline">{cards}</div>'
        '<table class="facts"><tbody>'
        f"<tr><th>Wall time</th><td>{_e(duration(head.wall_seconds))}</td></tr>"
        f'<tr><th>Cost measured</th><td>${u.cost_usd:.4f} <span class="muted">(reported by the agent backend)</span></td></tr>'
        f'<tr><th>Cost estimated</th><td>${u.estimated_cost_usd:.4f} <span class="muted">(from token counts and a price table)</span></td></tr>'
        f"<tr><th>Tokens</th><td>{u.input_tokens} in / {u.output_tokens} out, {u.cache_read_tokens} cache read, {u.cache_write_tokens} cache write; {u.turns} turns</td></tr>"
        f'<tr><th>Run</th><td id="ended">{_e(head.ended)}</td></tr>'
        "</tbody></table>"
    )


def _queue(tickets: Sequence[TicketReview]) -> str:
    rows = []
    for n, t in enumerate(queue(tickets), 1):
        eyes = (
            f'<span class="eyes">needs eyes</span><br><span class="muted">{_e("; ".join(t.needs_eyes))}</span>'
            if t.needs_eyes
            else '<span class="muted">no</span>'
        )
        rows.append(
            (
                str(n),
                f'<a href="#t-{_e(t.name)}">{_e(t.name)}</a>',
                _verdict(t.verdict),
                _e(TIER_NAMES[t.tier]),
                _e(t.stat.text()),
                f'<span title="added / changed / removed">{_e(t.tests.text())}</span>',
                f"<code>{_e(t.branch)}</code>" if t.branch else '<span class="muted">-</span>',
                eyes,
            )
        )
    return _table(
        ("#", "Ticket", "Verdict", "Risk", "Diff", "Tests +/~/-", "Branch", "Needs eyes"),
        rows,
        "queue",
    ).replace('<table class="queue">', '<table class="queue" id="queue">', 1)


def _ledger(tickets: Sequence[TicketReview]) -> str:
    rows = []
    n = 0
    for t in sorted(tickets, key=lambda t: t.name):
        for d in t.decisions:
            n += 1
            name = f"d{n}"
            text = f"[{t.name}{' step ' + d.step if d.step else ''}] {d.kind}: {d.text}"
            rows.append(
                f'<tr data-text="{_e(text)}"><td>{_e(t.name)}</td><td>{_e(d.step or "-")}</td>'
                f"<td>{_e(d.kind.replace('_', ' '))}</td><td>{_e(d.text)}</td>"
                f'<td><label><input type="radio" name="{name}" value="accept"> accept</label>'
                f'<label><input type="radio" name="{name}" value="reject"> reject</label></td></tr>'
            )
    if not rows:
        return _none()
    return (
        '<table class="ledger"><thead><tr><th>Ticket</th><th>Step</th><th>Kind</th><th>Decision</th>'
        f"<th>Ratify</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<button id="ledger-copy" type="button">Copy decisions as text</button>'
        '<textarea id="ledger-text" rows="6" cols="100" hidden></textarea>'
    )


RED_GREEN_LINES = ("red/green", "passes without")


def _red_green(criterion: CriterionProgress) -> str:
    """The proof in words, then the validator's before/after lines for this criterion."""
    lines = [PROOF_TEXT.get(criterion.proof, criterion.proof)]
    lines += [e for e in criterion.evidence if e.startswith(RED_GREEN_LINES)]
    return "<br>".join(_e(line) for line in lines)


def _criteria(t: TicketReview) -> str:
    assert t.report is not None
    rows = []
    for c in t.report.acceptance_criteria:
        other = [e for e in c.evidence if not e.startswith(RED_GREEN_LINES)]
        rows.append(
            (
                _e(c.criterion),
                _status(c.status),
                "<br>".join(_e(e) for e in other) or '<span class="muted">none</span>',
                _red_green(c),
            )
        )
    return _table(
        ("Criterion", "Result", "Evidence", "Red/green"), rows, "criteria", "none defined"
    )


def _issues(t: TicketReview) -> str:
    assert t.report is not None
    rows = [
        (
            _status(i.severity),
            _e(i.type),
            _e(i.step_id or "-"),
            _e(i.description)
            + (
                f"<details><summary>details</summary><pre>{_e(i.details)}</pre></details>"
                if i.details
                else ""
            ),
            _e(i.action_taken or ""),
        )
        for i in t.report.issues
    ]
    return _table(("Severity", "Type", "Step", "Description", "Action taken"), rows, "issues")


def _timeline(t: TicketReview) -> str:
    rows = []
    for s in t.steps:
        gates = "<br>".join(_e(g) for g in s.gates) or '<span class="muted">not run</span>'
        if s.attempts:
            # Per attempt: the gates after the step, after each fix, then where it ended.
            tried = "<br>".join(f"<i>{_e(a)}</i>" for a in s.attempts)
            gates = f"{tried}<br><b>final:</b> {gates}"
        rows.append(
            (
                _e(s.id),
                _e(s.title),
                _status(s.status),
                gates,
                _e(duration(s.duration)),
                _e(f"{s.usage.input_tokens}/{s.usage.output_tokens}"),
                _e(s.usage.short_cost()),
                _e(s.stat.text()) if s.commit else '<span class="muted">no snapshot</span>',
            )
        )
    return _table(
        (
            "Step",
            "Title",
            "Status",
            "Gates (per fix attempt)",
            "Duration",
            "Tokens in/out",
            "Cost",
            "Diff",
        ),
        rows,
        "timeline",
    )


def _step_diffs(t: TicketReview, budget: list[int]) -> str:
    """Each step's diff; budget[0] is what is left of the page's diff lines (shared by tickets)."""
    parts = []
    for s in t.steps:
        if s.commit is None:
            continue
        lines = sum(len(f.lines) for f in s.files)
        if budget[0] <= 0:
            body = (
                '<p class="cut">not shown: the page holds its diff limit; exec-auto diff has it</p>'
            )
        else:
            body = diffs.render(list(s.files), min(diffs.MAX_LINES, budget[0]))
            budget[0] -= min(lines, diffs.MAX_LINES)
        parts.append(
            f'<details class="diff" id="diff-{_e(t.name)}-{_e(s.id)}"><summary>Step {_e(s.id)}: '
            f'{_e(s.title)} <span class="muted">({_e(s.stat.text())}; exec-auto diff {_e(t.name)} {_e(s.id)})'
            f"</span></summary>{body}</details>"
        )
    if not parts:
        return _none(f"none ({t.history})" if t.history else "none")
    return f'<p class="muted">{_e(t.history)}</p>' + "".join(parts)


def _ticket(t: TicketReview, budget: list[int]) -> str:
    head = (
        f'<section class="ticket" id="t-{_e(t.name)}"><h2>{_e(t.name)} {_verdict(t.verdict)}</h2>'
        f'<p class="muted">status {_e(t.status)}, exit {t.exit_code}'
        + (f", branch <code>{_e(t.branch)}</code>" if t.branch else "")
        + (f", {_e(t.note)}" if t.note else "")
        + "</p>"
    )
    if t.report is None:
        return head + _none("no report: nothing more is known about this ticket") + "</section>"
    integrity = f'<p class="muted">{_e(audit_text(t.report))}</p>' + (
        "<ul>" + "".join(f"<li>{_e(f)}</li>" for f in t.integrity) + "</ul>"
        if t.integrity
        else _none()
    )
    return (
        head
        + "<h3>Integrity findings</h3>"
        + integrity
        + "<h3>Acceptance criteria</h3>"
        + _criteria(t)
        + "<h3>Issue log</h3>"
        + _issues(t)
        + "<h3>Steps</h3>"
        + _timeline(t)
        + "<h3>Diffs</h3>"
        + _step_diffs(t, budget)
        + "</section>"
    )


def _night(changes: tuple[list[CheckChange], list[CheckChange]] | None) -> str:
    if changes is None:
        return _none("none (no earlier batch to compare with)")
    failing, passing = changes

    def rows(items: list[CheckChange]) -> list[tuple[str, ...]]:
        return [(_e(c.ticket), _e(c.check), _status(c.before), _status(c.now)) for c in items]

    head = ("Ticket", "Check", "Before", "Now")
    return (
        "<h3>Newly failing</h3>"
        + _table(head, rows(failing), "night-failing")
        + "<h3>Newly passing</h3>"
        + _table(head, rows(passing), "night-passing")
    )


def _conflicts(found: Sequence[Conflict], order: Sequence[str], branches: bool) -> str:
    if not branches:
        return _none("none (no finished branches: this batch worked in the current tree)")
    rows = [
        (_e(c.first), _e(c.second), "<br>".join(f"<code>{_e(f)}</code>" for f in c.files))
        for c in found
    ]
    table = _table(("Branch of", "and of", "Both change"), rows, "conflicts")
    merge = "<ol>" + "".join(f"<li>{_e(n)}</li>" for n in order) + "</ol>" if order else _none()
    return table + "<h3>Suggested merge order</h3>" + merge


def render_page(
    title: str,
    tickets: Sequence[TicketReview],
    head: Headline,
    *,
    night: tuple[list[CheckChange], list[CheckChange]] | None = None,
    conflicts: tuple[Sequence[Conflict], Sequence[str]] | None = None,
) -> str:
    """The whole page."""
    sections = [
        f"<h1>{_e(title)}</h1>",
        "<h2>Headline</h2>",
        _headline(tickets, head),
        "<h2>Review queue</h2>",
        '<p class="muted">Ranked by risk: integrity findings and unverified claims first, then '
        "failures, then the smallest clean changes.</p>",
        _queue(tickets),
        "<h2>Decisions to ratify</h2>",
        _ledger(tickets),
    ]
    if conflicts is not None:
        branches = any(t.branch for t in tickets)
        sections += ["<h2>Conflicts</h2>", _conflicts(*conflicts, branches)]
    if night is not None or conflicts is not None:
        sections += ["<h2>Night over night</h2>", _night(night)]
    budget = [PAGE_DIFF_LINES]
    sections += [_ticket(t, budget) for t in sorted(tickets, key=lambda t: t.name)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        # No network: even a stray URL in agent output cannot make the page fetch anything.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}{diffs.style_css()}</style></head><body>"
        + "".join(sections)
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )
