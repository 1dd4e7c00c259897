"""Decisions the agent reports: the fixed-format lines the step prompt asks for, parsed.

The prompt asks the agent to end its answer with one line per decision the plan did not make for
it — `ASSUMPTION: ...` or `DEVIATION: ...` — and exec-auto keeps them for the human to ratify.
Markdown decoration around the keyword (a bullet, bold) is tolerated; anything else is not a decision.
"""

from __future__ import annotations

import re
from pathlib import Path

from exec_auto.redact import redact
from exec_auto.ticket.model import AgentDecision, DecisionKind

PROMPT_RULE = """\
When you finish, end your answer with one line for each decision you made that the plan did not make
for you, exactly in this form (leave them out when there were none):
ASSUMPTION: <what you assumed, and why>
DEVIATION: <where you departed from the plan, and why>"""

MAX_PER_CALL = 20
MAX_CHARS = 500
_LINE = re.compile(
    r"^\s*(?:[-*>]\s*)?(?:\*\*|__)?(ASSUMPTION|DEVIATION)S?(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(.+?)\s*$",
    re.IGNORECASE,
)


def parse_decisions(text: str, source: str, repo_root: Path | None = None) -> list[AgentDecision]:
    """The decision lines in an agent's answer (secrets redacted, bounded in number and size)."""
    found: list[AgentDecision] = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match or not match.group(2).strip("*_ "):
            continue
        kind: DecisionKind = "assumption" if match.group(1).upper() == "ASSUMPTION" else "deviation"
        body = redact(match.group(2).strip("*_ "), repo_root=repo_root)[:MAX_CHARS]
        found.append(AgentDecision(kind=kind, text=body, source=source))
        if len(found) >= MAX_PER_CALL:
            break
    return found
