"""Pause requests: the fixed block an agent writes to ask for a decision, and plan pause markers.

The agent ends its reply with

    EXEC-AUTO-DECISION
    question: Which cache backend should the sessions use?
    option: Redis (already deployed)
    option: Memcached (simpler)
    END-DECISION

and a plan step may carry `**Pause:** <question>` (`**Pausa:**`), optionally followed by
`**Options:** a; b` (`**Opções:**`), or `<!-- exec-auto: pause <question> -->`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exec_auto.readiness.text import fold
from exec_auto.ticket.model import Step

BEGIN = "EXEC-AUTO-DECISION"
END = "END-DECISION"
MAX_QUESTION = 500
MAX_OPTIONS = 8

PROMPT_SECTION = f"""\
## If this step needs a human decision
Decide by yourself whatever a competent developer would. Only if the step cannot be done well
without a decision that is not yours to make (a product choice, a trade-off the plan leaves open,
something that needs credentials or access you lack), stop and end your reply with exactly:

{BEGIN}
question: <one line: what must be decided>
option: <one possible answer, with its consequence>
option: <another possible answer>
{END}

The ticket is then parked until someone answers; the answer will be given to you when the step
runs again. Leave the files in a consistent state before you stop."""

_FIELD = re.compile(r"^\s*[-*]?\s*(question|pergunta|option|opcao)\s*:\s*(.*)$")
_PLAN_PAUSE = re.compile(
    r"^\s*(?:[-*]\s+)?\**\s*(?:pause|pausa|decision\s+needed|decisao\s+necessaria)\s*\**\s*:\s*\**\s*(.+)$"
)
_PLAN_OPTIONS = re.compile(r"^\s*(?:[-*]\s+)?\**\s*(?:options|opcoes)\s*\**\s*:\s*\**\s*(.+)$")
_HTML_PAUSE = re.compile(r"<!--\s*exec-auto:\s*pause\b\s*(.*?)\s*-->", re.I | re.S)


@dataclass(frozen=True)
class DecisionRequest:
    """A question for a human, with the options the asker sees."""

    step_id: str
    question: str
    options: tuple[str, ...] = ()
    source: str = "agent"


def parse_agent_request(text: str, step_id: str) -> DecisionRequest | None:
    """The last decision block in an agent's reply, or None (a block without a question is none)."""
    start = text.rfind(BEGIN)
    if start < 0:
        return None
    body = text[start + len(BEGIN) :]
    end = body.find(END)
    if end >= 0:
        body = body[:end]
    question, options = "", list[str]()
    for line in body.splitlines():
        match = _FIELD.match(fold(line))
        if match is None:
            continue
        # The folded match says which field; the value keeps the original accents and case.
        value = line.split(":", 1)[1].strip()
        if match.group(1) in ("question", "pergunta") and not question:
            question = value
        elif value and len(options) < MAX_OPTIONS:
            options.append(value[:200])
    if not question:
        return None
    return DecisionRequest(step_id, question[:MAX_QUESTION], tuple(options), "agent")


def plan_pause(step: Step) -> DecisionRequest | None:
    """The pause marker a plan step carries, if any."""
    html = _HTML_PAUSE.search(step.body)
    question = html.group(1).strip() if html else ""
    options: list[str] = []
    for line in step.body.splitlines():
        folded = fold(line)
        pause = _PLAN_PAUSE.match(folded)
        if pause and not question:
            question = line.split(":", 1)[1].strip().strip("*").strip()
        elif _PLAN_OPTIONS.match(folded):
            raw = line.split(":", 1)[1].strip().strip("*")
            options = [o.strip() for o in re.split(r";|\s/\s|\|", raw) if o.strip()]
    if html is not None and not question:
        question = f"step {step.id} ({step.title}) needs a decision before it runs"
    if not question:
        return None
    return DecisionRequest(step.id, question[:MAX_QUESTION], tuple(options[:MAX_OPTIONS]), "plan")
