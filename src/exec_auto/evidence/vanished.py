"""Tests that ran before the ticket and not at its end: the baseline's test ids against the final run's.

The step audit reads source; this check reads what pytest actually did, so it also sees tests
taken out by means the audit does not model (a plugin, a custom collector, an environment
variable, a marker expression). Only a final run that completed is compared: a killed or crashed
run leaves tests out for reasons of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from exec_auto.evidence.finding import IntegrityFinding


def _base(node_id: str) -> str:
    return node_id.split("[", 1)[0]


def vanished_tests(
    baseline: Iterable[str], final_ran: Iterable[str], reported: Iterable[str]
) -> list[IntegrityFinding]:
    """One finding per test of the baseline that did not run at the end, unless already reported.

    reported: text of the integrity issues already logged (a test is not named twice).
    """
    ran = {_base(t) for t in final_ran}
    texts = list(reported)
    gone: dict[str, None] = {}
    for test_id in baseline:
        node = _base(test_id)
        if "::" not in node or node in ran or node in gone:
            continue
        path, _, qualname = node.partition("::")
        if any(path in text and qualname in text for text in texts):
            continue  # a step's audit already named it (removed, skipped, renamed, ...)
        gone[node] = None
    findings = []
    for node in gone:
        path, _, qualname = node.partition("::")
        findings.append(
            IntegrityFinding(
                "test_not_collected",
                path,
                None,
                f"{node} ran before the ticket but not in the final test run"
                " (skipped, deselected or no longer collected)",
                "ran in the baseline test run",
                "did not run in the final test run",
                subjects=tuple(p for p in qualname.split("::") if p),
            )
        )
    return findings
