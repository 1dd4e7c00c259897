"""Pause points in a step: a plan's marker before it runs, an agent's request after, answers in prompts."""

from __future__ import annotations

from exec_auto.decisions.markers import DecisionRequest, plan_pause
from exec_auto.decisions.provider import DecisionProvider
from exec_auto.decisions.record import answer, answered, ask, prompt_section
from exec_auto.ticket.model import Progress, Step


def consult_pause(provider: DecisionProvider, progress: Progress, request: DecisionRequest) -> bool:
    """Record the question and ask the provider; True when it answered (the step goes on)."""
    decision = ask(progress, request)
    reply = provider.decide(request)
    if reply is None:
        return False
    answer(progress, decision, reply, provider.who)
    return True


def pause_before(provider: DecisionProvider, progress: Progress, step: Step) -> bool:
    """True when the step must park: an unanswered question (its plan marker, or one asked
    earlier) that nobody answers now."""
    waiting = [d for d in progress.pending_decisions() if d.step_id == step.id]
    if waiting:
        # Asked before and still unanswered: ask again now, or stay parked (no agent call).
        last = waiting[-1]
        again = DecisionRequest(step.id, last.question, tuple(last.options), last.source)
        return not consult_pause(provider, progress, again)
    marker = plan_pause(step)
    if marker is None or answered(progress, step.id, "plan"):
        return False
    return not consult_pause(provider, progress, marker)


def with_decisions(prompt: str, progress: Progress, step_id: str) -> str:
    """The step prompt with the decisions a human already made for this step."""
    section = prompt_section(progress, step_id)
    return f"{prompt}\n{section}" if section else prompt
