"""Validate acceptance criteria with evidence the tool checked itself.

Order of evidence: a `verify:` command (exit 0 = met), then tests the criterion names (from
`tests:` or test ids in its text) judged by the final test run, then — when a judging backend is
configured — the agent's verdict, accepted only if every file it cites exists and every test it
cites passed. Without evidence a criterion stays `unverified`, never `met` on anyone's word.

Red/green: with the code before the ticket at hand (`evidence.redgreen.BeforeTicket`), a passing
command or test makes the criterion `met` only when it failed before the ticket; one that already
passed before is `unverified` ("passes without this ticket's change"), and one that could not be
run before is `unverified` too. Each result's `proof` says which: red_green, passing or none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from exec_auto.evidence.model import Proof, SideResult, VerifyEvidence, verdict_of
from exec_auto.evidence.redgreen import BeforeTicket
from exec_auto.proc import run
from exec_auto.ticket.model import Criterion, CriterionProgress, CriterionStatus

VERIFY_TIMEOUT = 300.0
TEST_NAME = re.compile(r"\btest_[A-Za-z0-9_]+")

# A judge takes the criterion text and returns the agent's raw answer (or None when unavailable).
Judge = Callable[[Criterion], str | None]


def _tail(text: str, n: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= n else "..." + text[-n:]


RED_GREEN_OFF = "not run against the code before the ticket (evidence.red_green is off)"


def _by_command(
    criterion: Criterion,
    root: Path,
    env: Mapping[str, str] | None = None,
    before: BeforeTicket | None = None,
) -> CriterionProgress:
    assert criterion.verify is not None
    # env: the project's environment (its venv / uv / poetry interpreter first on PATH).
    result = run(criterion.verify, shell=True, cwd=root, timeout=VERIFY_TIMEOUT, extra_env=env)
    if result.timed_out:
        return CriterionProgress(
            criterion=criterion.text,
            status="not_met",
            evidence=[f"verify command `{criterion.verify}` timed out after {VERIFY_TIMEOUT:.0f}s"],
        )
    status: CriterionStatus = "met" if result.returncode == 0 else "not_met"
    evidence = [f"verify command `{criterion.verify}` exited {result.returncode}"]
    if result.output:
        evidence.append(_tail(result.output))
    proof: Proof = "none"
    if status == "met":
        status, proof, lines = _command_before(criterion, before, result.returncode)
        evidence = lines + evidence
    return CriterionProgress(
        criterion=criterion.text, status=status, evidence=evidence, proof=proof
    )


def _command_before(
    criterion: Criterion, before: BeforeTicket | None, after_code: int
) -> tuple[CriterionStatus, Proof, list[str]]:
    """A passing verify command, judged by how it did on the code before the ticket."""
    assert criterion.verify is not None
    if before is None:
        return "met", "passing", [RED_GREEN_OFF]
    old = before.verify(criterion.verify)
    new = SideResult(outcome="passed", detail=f"exited {after_code}")
    verdict = verdict_of(old, new)
    before.record.verify.append(
        VerifyEvidence(
            criterion=criterion.text,
            command=criterion.verify,
            before=old,
            after=new,
            verdict=verdict,
        )
    )
    pair = f"before the ticket: {old.describe()}; after: exited {after_code}"
    shown = f"`{criterion.verify}`"
    if verdict == "proven":
        return "met", "red_green", [f"red/green: verify command {shown} — {pair}"]
    if verdict == "passes_before":
        return (
            "unverified",
            "passing",
            [
                f"verify command already succeeds on the code before this ticket ({pair}):"
                " it proves nothing by itself"
            ],
        )
    return (
        "unverified",
        "passing",
        [f"verify command could not be checked before the ticket: {pair}"],
    )


def _matches(name: str, test_ids: Sequence[str]) -> list[str]:
    """Test ids equal to name, ending with ::name, or parametrisations of it."""
    return [
        t
        for t in test_ids
        if t == name
        or t.endswith(f"::{name}")
        or f"::{name}[" in t
        or t.split("::")[-1].split("[")[0] == name
    ]


def test_names(criterion: Criterion) -> list[str]:
    """The tests a criterion names (its `tests:` list, else test ids in its text)."""
    return list(criterion.tests) or TEST_NAME.findall(criterion.text)


def node_ids(criterion: Criterion, passed: Sequence[str], failed: Sequence[str]) -> list[str]:
    """The final run's node ids (parametrisation stripped) of the tests a criterion names."""
    found: dict[str, None] = {}
    for name in test_names(criterion):
        for test_id in _matches(name, [*passed, *failed]):
            found[test_id.split("[", 1)[0]] = None
    return list(found)


def _by_tests(
    criterion: Criterion,
    passed: Sequence[str],
    failed: Sequence[str],
    before: BeforeTicket | None = None,
) -> CriterionProgress | None:
    names = test_names(criterion)
    if not names:
        return None
    ok, bad, missing = [], [], []
    for name in names:
        p, f = _matches(name, passed), _matches(name, failed)
        if f:
            bad.append(name)
        elif p:
            ok.append(name)
        else:
            missing.append(name)
    evidence = [f"test {n} passed" for n in ok] + [f"test {n} failed" for n in bad]
    evidence += [f"test {n} did not run" for n in missing]
    status: CriterionStatus
    if bad:
        status = "partial" if ok else "not_met"
    elif missing:
        status = "partial" if ok else "unverified"
    else:
        status = "met"
    proof: Proof = "none"
    if status == "met":
        status, proof, evidence = _tests_before(criterion, passed, before)
    return CriterionProgress(
        criterion=criterion.text, status=status, evidence=evidence, proof=proof
    )


def _tests_before(
    criterion: Criterion, passed: Sequence[str], before: BeforeTicket | None
) -> tuple[CriterionStatus, Proof, list[str]]:
    """Passing tests, judged by how they did on the code before the ticket."""
    ids = node_ids(criterion, passed, ())
    if before is None:
        return "met", "passing", [f"test {n} passed" for n in ids] + [RED_GREEN_OFF]
    lines, verdicts = [], []
    for node in ids:
        old = before.test_outcome(node)
        verdicts.append(verdict_of(old, SideResult(outcome="passed")))
        lines.append(f"test {node} — before the ticket: {old.describe()}; after: passed")
    if "proven" in verdicts:
        return "met", "red_green", ["red/green: " + line for line in lines]
    if verdicts and all(v == "passes_before" for v in verdicts):
        return (
            "unverified",
            "passing",
            [
                *lines,
                "passes without this ticket's change: the test does not show the ticket did anything",
            ],
        )
    return "unverified", "passing", [*lines, "could not be shown to fail before the ticket"]


def check_judgement(
    criterion: Criterion, answer: str, root: Path, passed: Sequence[str], failed: Sequence[str]
) -> CriterionProgress:
    """Accept an agent's verdict only when the files and tests it cites check out."""
    match = re.search(r"\{.*\}", answer, re.DOTALL)
    try:
        data = json.loads(match.group(0)) if match else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return CriterionProgress(
            criterion=criterion.text,
            status="unverified",
            evidence=["the judge's answer was not the requested JSON"],
        )
    raw = str(data.get("status", "unverified"))
    claimed: CriterionStatus = raw if raw in ("met", "partial", "not_met") else "unverified"  # type: ignore[assignment]
    files = [str(f) for f in data.get("files", []) if isinstance(f, str)]
    tests = [str(t) for t in data.get("tests", []) if isinstance(t, str)]
    evidence = [f"judge: {str(data.get('reason', ''))[:300]}"]
    problems = []
    for name in files:
        exists = (root / name).resolve().is_relative_to(root.resolve()) and (root / name).exists()
        evidence.append(f"file {name} {'exists' if exists else 'does NOT exist'}")
        if not exists:
            problems.append(name)
    for name in tests:
        passed_ok = bool(_matches(name, passed)) and not _matches(name, failed)
        evidence.append(f"test {name} {'passed' if passed_ok else 'did not pass'}")
        if not passed_ok:
            problems.append(name)
    if claimed in {"met", "partial"} and (problems or not (files or tests)):
        evidence.append("cited evidence missing or unchecked: not accepted")
        claimed = "unverified"
    # A judge's verdict rests on passing tests and existing files, never on a red/green pair.
    proof: Proof = "passing" if claimed == "met" else "none"
    return CriterionProgress(
        criterion=criterion.text, status=claimed, evidence=evidence, proof=proof
    )


def validate(
    criteria: Sequence[Criterion],
    root: Path,
    passed_tests: Sequence[str],
    failed_tests: Sequence[str],
    judge: Judge | None = None,
    env: Mapping[str, str] | None = None,
    before: BeforeTicket | None = None,
) -> list[CriterionProgress]:
    """Decide every criterion from the strongest evidence available.

    env: variables that put verify commands inside the project's environment.
    before: the code before the ticket, for red/green; None when red/green is switched off.
    """
    results = []
    for criterion in criteria:
        if criterion.verify:
            results.append(_by_command(criterion, root, env, before))
            continue
        by_tests = _by_tests(criterion, passed_tests, failed_tests, before)
        if by_tests is not None and (by_tests.status != "unverified" or by_tests.proof != "none"):
            results.append(by_tests)
            continue
        answer = judge(criterion) if judge is not None else None
        if answer is not None:
            results.append(check_judgement(criterion, answer, root, passed_tests, failed_tests))
            continue
        results.append(
            by_tests
            or CriterionProgress(
                criterion=criterion.text,
                status="unverified",
                evidence=[
                    "no verify command, no named test, no judge: nothing the tool could check"
                ],
            )
        )
    return results


JUDGE_PROMPT = """\
Judge whether this acceptance criterion is met by the code in this repository. Do not change any file.
Criterion: {criterion}

Answer with ONE JSON object and nothing else:
{{"status": "met" | "partial" | "not_met", "reason": "...", "files": ["repo/relative/path.py", ...],
"tests": ["test_function_name", ...]}}
Cite the files that implement it and the tests that prove it; uncited claims are not accepted."""
