"""The plan may authorise a weakened check: when the step's text names it and says to change it.

A finding is authorised when one sentence of the step (title or body) names one of its subjects
(the test, file, setting or rule code) and uses a verb of change; for a suppression comment, a
verb of adding counts too ("add `# type: ignore` to the import of untyped_lib"). The sentence is
kept as the reason, and the finding is still logged, at low severity: nothing is allowed silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from exec_auto.evidence.finding import IntegrityFinding

CHANGE_VERBS = (
    "remove",
    "delete",
    "drop",
    "rename",
    "skip",
    "xfail",
    "disable",
    "deselect",
    "exclude",
    "ignore",
    "relax",
    "loosen",
    "lower",
    "reduce",
    "decrease",
    "raise",
    "increase",
    "change",
    "replace",
    "update",
    "modify",
    "rewrite",
    "adjust",
    "edit",
    "move",
    "retire",
    "deprecate",
    "mark",
    "switch",
    "turn off",
)
ADD_VERBS = ("add", "allow", "permit", "suppress", "silence", "use", "keep")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def _sentences(text: str) -> list[str]:
    return [s.strip(" -*\t") for s in _SENTENCE.split(text) if s.strip(" -*\t")]


def _names(sentence: str, subject: str) -> bool:
    if len(subject) < 3:
        return False
    low, sub = sentence.lower(), subject.lower()
    if re.fullmatch(r"[\w.-]+", sub):
        return re.search(rf"(?<![\w.-]){re.escape(sub)}(?![\w-])", low) is not None
    return sub in low


def _has_verb(sentence: str, verbs: Iterable[str]) -> bool:
    low = sentence.lower()
    return any(re.search(rf"\b{re.escape(v)}", low) for v in verbs)


def reason_for(finding: IntegrityFinding, step_text: str) -> str | None:
    """The step sentence that authorises the finding, if one does."""
    verbs = CHANGE_VERBS + (ADD_VERBS if finding.kind == "suppression_added" else ())
    subjects = [s for s in finding.subjects if s]
    for sentence in _sentences(step_text):
        if any(_names(sentence, s) for s in subjects) and _has_verb(sentence, verbs):
            return sentence
    return None


def authorise(findings: Iterable[IntegrityFinding], step_text: str) -> list[IntegrityFinding]:
    """The findings, each marked with the plan's words when the step's text allows it."""
    out = []
    for finding in findings:
        reason = reason_for(finding, step_text)
        out.append(finding.authorise(reason) if reason else finding)
    return out
