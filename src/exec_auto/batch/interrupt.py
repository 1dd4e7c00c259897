"""Ctrl-C for worker threads: only the main thread gets SIGINT, so the batch relays it.

On Ctrl-C the main thread sets the batch's event and kills every child process. Each ticket's
agent and gates are wrapped so that a call cut short that way raises KeyboardInterrupt in its
worker, right where the signal lands in a single run: the step stays `in_progress` (a rerun redoes
it) and the killed call is not logged as the agent's or the tests' failure.
"""

from __future__ import annotations

import threading

from exec_auto.agents.base import Agent, AgentResult, AgentTask
from exec_auto.gates.base import GateContext, GateReport, Gates


def _check(event: threading.Event) -> None:
    if event.is_set():
        raise KeyboardInterrupt


class InterruptibleAgent:
    """An agent whose calls raise KeyboardInterrupt once the batch is interrupted."""

    def __init__(self, agent: Agent, event: threading.Event):
        self.agent = agent
        self.name = agent.name
        self.event = event

    def run(self, task: AgentTask) -> AgentResult:
        """Run the task unless interrupted; an answer arriving after the interrupt is dropped."""
        _check(self.event)
        result = self.agent.run(task)
        _check(self.event)
        return result


class InterruptibleGates:
    """Gates whose runs raise KeyboardInterrupt once the batch is interrupted."""

    def __init__(self, gates: Gates, event: threading.Event):
        self.gates = gates
        self.event = event

    def baseline(self, ctx: GateContext) -> GateReport:
        """The wrapped baseline."""
        _check(self.event)
        report = self.gates.baseline(ctx)
        _check(self.event)
        return report

    def after_step(self, ctx: GateContext) -> GateReport:
        """The wrapped after-step gates."""
        _check(self.event)
        report = self.gates.after_step(ctx)
        _check(self.event)
        return report

    def final(self, ctx: GateContext) -> GateReport:
        """The wrapped final gate."""
        _check(self.event)
        report = self.gates.final(ctx)
        _check(self.event)
        return report
