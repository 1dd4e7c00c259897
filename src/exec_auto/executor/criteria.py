"""Validate acceptance criteria with evidence the tool checked itself.

Order of evidence: a `verify:` command (exit 0 = met), then tests the criterion names (from
`tests:` or test ids in its text) judged by the final test run, then — when a judging backend is
configured — the agent's verdict, accepted only if every file it cites exists and every test it
cites passed. Without evidence a criterion stays `unverified`, never `met` on anyone's word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from exec_auto.proc import run
from exec_auto.ticket.model import Criterion, CriterionProgress, CriterionStatus

VERIFY_TIMEOUT = 300.0
TEST_NAME = re.compile(r"\btest_[A-Za-z0-9_]+")

# A judge takes the criterion text and returns the agent's raw answer (or None when unavailable).
Judge = Callable[[Criterion], str | None]


def _tail(text: str, n: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= n else "..." + text[-n:]


def _by_command(
    criterion: Criterion, root: Path, env: Mapping[str, str] | None = None
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
    return CriterionProgress(criterion=criterion.text, status=status, evidence=evidence)


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


def _by_tests(
    criterion: Criterion, passed: Sequence[str], failed: Sequence[str]
) -> CriterionProgress | None:
    names = list(criterion.tests) or TEST_NAME.findall(criterion.text)
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
    return CriterionProgress(criterion=criterion.text, status=status, evidence=evidence)


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
    return CriterionProgress(criterion=criterion.text, status=claimed, evidence=evidence)


def validate(
    criteria: Sequence[Criterion],
    root: Path,
    passed_tests: Sequence[str],
    failed_tests: Sequence[str],
    judge: Judge | None = None,
    env: Mapping[str, str] | None = None,
) -> list[CriterionProgress]:
    """Decide every criterion from the strongest evidence available.

    env: variables that put verify commands inside the project's environment.
    """
    results = []
    for criterion in criteria:
        if criterion.verify:
            results.append(_by_command(criterion, root, env))
            continue
        by_tests = _by_tests(criterion, passed_tests, failed_tests)
        if by_tests is not None and by_tests.status != "unverified":
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
