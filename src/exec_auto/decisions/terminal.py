"""The interactive provider (`exec-auto run --interactive`): a person at a terminal decides.

On a step that ended with problems it shows the evidence (each issue with its details) and asks:
debug with another fix attempt, continue, skip the step, or stop. On a pause point it shows the
question and the options and takes an answer. Without a terminal it refuses to start: unattended
work belongs to the autonomous mode.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from exec_auto.decisions.markers import DecisionRequest
from exec_auto.decisions.provider import Choice, Problem, Verdict
from exec_auto.errors import ExecAutoError

MAX_DETAIL_LINES = 15
KEYS: dict[str, Choice] = {
    "d": "debug",
    "debug": "debug",
    "c": "continue",
    "continue": "continue",
    "s": "skip",
    "skip": "skip",
    "t": "stop",
    "stop": "stop",
}
MENU = "[d]ebug with another fix attempt / [c]ontinue / [s]kip the step / s[t]op: "


class NoTerminalError(ExecAutoError):
    """--interactive without a terminal to ask on."""


def require_terminal(stdin: TextIO, stdout: TextIO) -> None:
    """Raise NoTerminalError unless both stdin and stdout are terminals."""
    missing = [name for name, s in (("stdin", stdin), ("stdout", stdout)) if not s.isatty()]
    if missing:
        raise NoTerminalError(
            f"--interactive needs a terminal to ask on, and {' and '.join(missing)} is not one",
            hint="run without --interactive: the autonomous mode logs problems and parks "
            "decisions for `exec-auto answer`",
        )


class TerminalProvider:
    """Asks the person at the terminal."""

    interactive = True

    def __init__(self, root: Path, stdin: TextIO | None = None, stdout: TextIO | None = None):
        from exec_auto.decisions.record import who

        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.who = f"{who(root)} (interactive)"

    def _say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _ask(self, prompt: str) -> str | None:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        return None if line == "" else line.strip()  # "" is end of input

    def decide(self, request: DecisionRequest) -> str | None:
        """Show the question and its options; a number picks one, text is the answer, empty parks."""
        origin = "the plan's pause point" if request.source == "plan" else "the agent"
        self._say(f"\n== Step {request.step_id} needs a decision ({origin}) ==")
        self._say(request.question)
        for number, option in enumerate(request.options, 1):
            self._say(f"  {number}. {option}")
        while True:
            reply = self._ask("Your decision (a number, or your own words; empty: park it): ")
            if not reply:
                return None
            if reply.isdigit() and request.options:
                index = int(reply)
                if 1 <= index <= len(request.options):
                    return request.options[index - 1]
                self._say(f"pick 1-{len(request.options)}, or type the answer")
                continue
            return reply

    def problem(self, problem: Problem) -> Verdict:
        """Show the evidence; ask what to do."""
        tried = (
            f", after {problem.debug_attempts} debug attempt(s)" if problem.debug_attempts else ""
        )
        self._say(
            f"\n== Step {problem.step_id} ({problem.step_title}) ended with "
            f"{len(problem.issues)} problem(s){tried} =="
        )
        for issue in problem.issues:
            self._say(f"[{issue.severity.upper()}] {issue.type}: {issue.description}")
            details = issue.details.splitlines()
            for line in details[:MAX_DETAIL_LINES]:
                self._say(f"    {line}")
            if len(details) > MAX_DETAIL_LINES:
                self._say(
                    f"    [... {len(details) - MAX_DETAIL_LINES} more lines in progress.yaml]"
                )
        while True:
            reply = self._ask(MENU)
            if reply is None:
                self._say("(end of input: stopping; rerun to resume)")
                return Verdict("stop")
            choice = KEYS.get(reply.lower())
            if choice is None:
                self._say("answer d, c, s or t")
                continue
            if choice == "debug":
                hint = self._ask("A hint for the agent (optional, Enter to skip): ") or ""
                return Verdict("debug", hint)
            return Verdict(choice)
