"""Acceptance criteria: only evidence the tool checked itself makes a criterion met."""

from __future__ import annotations

import json

from exec_auto.executor.criteria import check_judgement, validate
from exec_auto.ticket.model import Criterion


def test_verify_command_decides(tmp_path):
    (tmp_path / "ok").write_text("")
    results = validate(
        [Criterion(text="ok exists", verify="test -f ok"), Criterion(text="nope", verify="exit 4")],
        tmp_path,
        [],
        [],
    )
    assert [r.status for r in results] == ["met", "not_met"]
    assert "exited 4" in results[1].evidence[0]


def test_named_tests_decide():
    passed = ["tests/test_a.py::test_one", "tests/test_a.py::test_two[x]"]
    failed = ["tests/test_b.py::test_three"]
    results = validate(
        [
            Criterion(text="one", tests=("test_one", "test_two")),
            Criterion(text="three works (test_three)"),
            Criterion(text="mixed", tests=("test_one", "test_three")),
            Criterion(text="never ran", tests=("test_missing",)),
        ],
        __import__("pathlib").Path("."),
        passed,
        failed,
    )
    assert [r.status for r in results] == ["met", "not_met", "partial", "unverified"]


def test_without_evidence_nothing_is_met(tmp_path):
    (result,) = validate([Criterion(text="Docs are nice")], tmp_path, [], [])
    assert result.status == "unverified"


def test_judge_verdict_needs_checkable_citations(tmp_path):
    (tmp_path / "app.py").write_text("")
    crit = Criterion(text="app exists")
    good = json.dumps({"status": "met", "reason": "r", "files": ["app.py"], "tests": ["test_app"]})
    assert check_judgement(crit, good, tmp_path, ["t.py::test_app"], []).status == "met"
    missing_file = json.dumps({"status": "met", "files": ["nope.py"]})
    assert check_judgement(crit, missing_file, tmp_path, [], []).status == "unverified"
    no_citation = json.dumps({"status": "met", "reason": "trust me"})
    assert check_judgement(crit, no_citation, tmp_path, [], []).status == "unverified"
    outside = json.dumps({"status": "met", "files": ["../../etc/passwd"]})
    assert check_judgement(crit, outside, tmp_path, [], []).status == "unverified"
    assert check_judgement(crit, "I think so", tmp_path, [], []).status == "unverified"
    used = validate([crit], tmp_path, ["t.py::test_app"], [], judge=lambda c: good)
    assert used[0].status == "met"
