"""Compare a step's test modules before and after: removed tests, new skips, weakened asserts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from exec_auto.evidence.finding import FindingKind, IntegrityFinding
from exec_auto.evidence.testcode import Check, TestFunction, TestModule, is_test_file

# Unconditional ways to skip; a brand-new test may use a conditional skipif legitimately.
UNCONDITIONAL = re.compile(r"(?:^|[.@])(?:skip|xfail|expectedFailure)\b")


@dataclass(frozen=True)
class ModulePair:
    """One changed Python file under test: its parse before and after (None: absent)."""

    path: str
    before: TestModule | None
    after: TestModule | None
    # Where git saw the file go (a rename), when it went somewhere.
    renamed_to: str | None = None
    # Set on the new path of a test file that moved: its tests are compared, not counted removed.
    moved_from: str | None = None


def _subjects(path: str, *names: str) -> tuple[str, ...]:
    """What a plan must name to authorise a finding: the test itself, or the file when no test."""
    out = [] if names else [path, PurePosixPath(path).name]
    for name in names:
        out.extend(p for p in name.split("::") if p)
    return tuple(dict.fromkeys(out))


def _new(
    before: Iterable[tuple[int, str]], after: Iterable[tuple[int, str]]
) -> list[tuple[int, str]]:
    """Items of after whose text is not (as often) in before."""
    left = Counter(text for _, text in before)
    out = []
    for line, text in after:
        if left[text]:
            left[text] -= 1
        else:
            out.append((line, text))
    return out


def _finding(
    kind: FindingKind,
    path: str,
    line: int | None,
    description: str,
    before: str,
    after: str,
    *names: str,
) -> IntegrityFinding:
    return IntegrityFinding(kind, path, line, description, before, after, _subjects(path, *names))


def _where_renamed(
    name: str, test: TestFunction, pair: ModulePair, pairs: Mapping[str, ModulePair]
) -> str | None:
    """Where a vanished test went: a non-collected file, or a name pytest does not collect."""
    stem = test.name.removeprefix("test").strip("_")
    candidates = [pair]
    if pair.renamed_to and pair.renamed_to in pairs:
        candidates.insert(0, pairs[pair.renamed_to])
    for cand in candidates:
        module = cand.after
        if module is None:
            continue
        names = list(module.others) + ([] if is_test_file(cand.path) else list(module.tests))
        for other in names:
            last = other.split("::")[-1]
            if last == test.name or (stem and stem in last and last != test.name):
                why = (
                    f"{cand.path} is not a test file"
                    if not is_test_file(cand.path)
                    else f"pytest does not collect `{other}`"
                )
                return f"renamed to {cand.path}::{other} ({why})"
    return None


def removed_tests(pairs: Mapping[str, ModulePair]) -> list[IntegrityFinding]:
    """Tests that existed before the step and are not collected after it."""
    findings = []
    present_after = {
        (pair.path, q)
        for pair in pairs.values()
        if pair.after and is_test_file(pair.path)
        for q in pair.after.tests
    }
    for pair in pairs.values():
        if pair.before is None or pair.moved_from or not is_test_file(pair.path):
            continue
        for qualname, test in pair.before.tests.items():
            if (pair.path, qualname) in present_after:
                continue
            if pair.renamed_to and (pair.renamed_to, qualname) in present_after:
                continue  # the file moved, the test is still collected
            if pair.after is not None and pair.after.syntax_error:
                why = f"{pair.path} no longer parses ({pair.after.syntax_error})"
            else:
                why = _where_renamed(qualname, test, pair, pairs) or (
                    "deleted" if pair.after is not None else f"{pair.path} deleted"
                )
            kind: FindingKind = "test_removed"
            if why.startswith("renamed") or "no longer parses" in why:
                kind = "test_not_collected"
            findings.append(
                _finding(
                    kind,
                    pair.path,
                    test.line,
                    f"{pair.path}::{qualname} is gone: {why}",
                    f"def {test.name}(...)  # {pair.path}:{test.line}, {len(test.checks)} check(s)",
                    why,
                    qualname,
                    *((pair.path,) if pair.after is None else ()),
                )
            )
    return findings


def _texts(checks: Iterable[Check]) -> Counter[str]:
    return Counter(c.text for c in checks)


def _check_label(check: Check) -> str:
    if check.swallowed:
        return f"{check.text}  # inside try/except that swallows its failure"
    if check.strength == "trivial":
        return f"{check.text}  # cannot fail"
    return check.text


def _changed_checks(
    path: str, before: TestFunction, after: TestFunction
) -> IntegrityFinding | None:
    """Fewer effective checks, or exact comparisons loosened, in one test."""
    b_eff = [c for c in before.checks if c.effective]
    a_eff = [c for c in after.checks if c.effective]
    removed = _texts(before.checks) - _texts(after.checks)
    added = _texts(after.checks) - _texts(before.checks)
    gone = [c for c in before.checks if removed[c.text]]
    new = [c for c in after.checks if added[c.text]]
    newly_swallowed = sum(c.swallowed for c in after.checks) > sum(
        c.swallowed for c in before.checks
    )
    kind: FindingKind
    if len(a_eff) < len(b_eff):
        if len(after.checks) < len(before.checks):
            kind = "assert_removed"
            what = f"{len(before.checks) - len(after.checks)} check(s) removed"
        elif newly_swallowed:
            kind, what = "assert_weakened", "assert wrapped in try/except that swallows its failure"
        else:
            kind, what = "assert_weakened", "assert replaced by one that cannot fail"
    elif sum(c.strength == "strict" for c in a_eff) < sum(c.strength == "strict" for c in b_eff):
        kind, what = "assert_weakened", "exact comparison loosened"
    elif sum(c.approx for c in after.checks) > sum(c.approx for c in before.checks):
        kind, what = "assert_weakened", "pytest.approx added to an exact comparison"
    else:
        return None
    line = min((c.line for c in new), default=after.line)
    before_text = "\n".join(_check_label(c) for c in gone) or "\n".join(
        _check_label(c) for c in before.checks
    )
    after_text = "\n".join(_check_label(c) for c in new) or "(removed)"
    if newly_swallowed and not new:
        after_text = "\n".join(_check_label(c) for c in after.checks if c.swallowed)
    return _finding(
        kind,
        path,
        line,
        f"{after.qualname}: {what} ({len(b_eff)} effective check(s) before, {len(a_eff)} after)",
        before_text,
        after_text,
        after.qualname,
    )


def _shortcuts(
    path: str, before: TestFunction | None, after: TestFunction
) -> list[IntegrityFinding]:
    """New skip markers, skip calls, early returns and dead branches in one test."""
    findings = []
    fresh = before is None
    groups: list[tuple[FindingKind, str, list[tuple[int, str]], list[tuple[int, str]]]] = [
        (
            "skip_added",
            "skip/xfail marker added",
            before.skip_markers if before else [],
            after.skip_markers,
        ),
        ("skip_added", "skip call added", before.skip_calls if before else [], after.skip_calls),
        (
            "test_disabled",
            "early return before the test's checks",
            before.early_returns if before else [],
            after.early_returns,
        ),
        (
            "test_disabled",
            "constant-false branch hides test code",
            before.dead_branches if before else [],
            after.dead_branches,
        ),
    ]
    for kind, what, old, now in groups:
        for line, text in _new(old, now):
            if fresh and what == "skip call added":
                continue  # a new test may skip itself when a tool is missing
            if fresh and kind == "skip_added" and not UNCONDITIONAL.search(text):
                continue
            findings.append(
                _finding(
                    kind,
                    path,
                    line,
                    f"{after.qualname}: {what}",
                    "(not there)" if not fresh else "(new test)",
                    text,
                    after.qualname,
                )
            )
    if (
        fresh
        and any(c.strength == "trivial" for c in after.checks)
        and not any(c.effective for c in after.checks)
    ):
        check = next(c for c in after.checks if c.strength == "trivial")
        findings.append(
            _finding(
                "assert_weakened",
                path,
                check.line,
                f"{after.qualname}: new test whose only check cannot fail",
                "(new test)",
                _check_label(check),
                after.qualname,
            )
        )
    return findings


def changed_tests(pair: ModulePair) -> list[IntegrityFinding]:
    """Weakened tests and new skips within one file that exists after the step."""
    after = pair.after
    if after is None:
        return []
    before = pair.before or TestModule()
    findings = []
    for qualname, test in after.tests.items():
        old = before.tests.get(qualname)
        if old is not None:
            changed = _changed_checks(pair.path, old, test)
            if changed is not None:
                findings.append(changed)
        findings.extend(_shortcuts(pair.path, old, test))
    module_groups: list[tuple[FindingKind, str, list[tuple[int, str]], list[tuple[int, str]]]] = [
        ("skip_added", "module-level skip added", before.module_skips, after.module_skips),
        (
            "skip_added",
            "skip call added to a fixture or helper",
            before.helper_skips,
            after.helper_skips,
        ),
        (
            "test_not_collected",
            "`__test__ = False` stops collection",
            before.uncollected,
            after.uncollected,
        ),
    ]
    for kind, what, old_items, new_items in module_groups:
        for line, text in _new(old_items, new_items):
            if pair.before is None and kind == "skip_added" and what.endswith("helper"):
                continue
            findings.append(
                _finding(kind, pair.path, line, f"{pair.path}: {what}", "(not there)", text)
            )
    return findings
