"""Decisions in progress.yaml: asking (parking the step), answering, and the answers in prompts."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from exec_auto.clock import now_iso
from exec_auto.decisions.markers import DecisionRequest
from exec_auto.ticket.model import Decision, Progress

MAX_PROMPT_CHARS = 4000


def ask(progress: Progress, request: DecisionRequest) -> Decision:
    """Record the question as pending (one pending question per step: a repeat replaces it)."""
    progress.decisions = [
        d for d in progress.decisions if not (d.step_id == request.step_id and d.answer is None)
    ]
    decision = Decision(
        step_id=request.step_id,
        question=request.question,
        options=list(request.options),
        source="plan" if request.source == "plan" else "agent",
        asked_at=now_iso(),
    )
    progress.decisions.append(decision)
    return decision


def answer(progress: Progress, decision: Decision, text: str, by: str) -> Decision:
    """Record the answer to a pending decision, with who gave it and when."""
    decision.answer = text
    decision.answered_by = by
    decision.answered_at = now_iso()
    return decision


def answered(progress: Progress, step_id: str, source: str | None = None) -> list[Decision]:
    """The step's answered decisions, oldest first (only those from source, when given)."""
    return [
        d
        for d in progress.decisions
        if d.step_id == step_id and d.answer is not None and (source is None or d.source == source)
    ]


def who(root: Path) -> str:
    """Who answers: git's user.name (and email), else the login name."""
    from exec_auto.proc import git

    name = git("config", "user.name", cwd=root)
    email = git("config", "user.email", cwd=root)
    if name.ok and name.stdout.strip():
        mail = f" <{email.stdout.strip()}>" if email.ok and email.stdout.strip() else ""
        return name.stdout.strip() + mail
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def prompt_section(progress: Progress, step_id: str) -> str:
    """The decisions made for this step, for its prompt (bounded; the latest kept)."""
    done = answered(progress, step_id)
    if not done:
        return ""
    lines = [
        "## Decisions a human made for this step (follow them)",
        *(
            f"- Q: {d.question}\n  A: {d.answer} (decided by {d.answered_by}, {d.answered_at})"
            for d in done
        ),
    ]
    text = "\n".join(lines)
    if len(text) > MAX_PROMPT_CHARS:
        text = lines[0] + "\n[... earlier decisions omitted ...]\n" + text[-MAX_PROMPT_CHARS:]
    return text + "\n"
