"""A single ticket's run writes report.html beside report.md/json, with the decisions ledger."""

from __future__ import annotations

import json

from tests.conftest import run_cli

SPEAKS = 'echo "$EXEC_AUTO_STEP_ID" > "s$EXEC_AUTO_STEP_ID.txt"; echo "ASSUMPTION: step $EXEC_AUTO_STEP_ID assumes UTC"; echo "DEVIATION: kept the old name"'


def test_ticket_run_writes_the_html_review_with_the_agents_decisions(project, monkeypatch, capsys):
    assert run_cli(project, monkeypatch, SPEAKS, "--no-gates") == 1
    out = capsys.readouterr().out
    folder = project / "specs" / "archive" / "feature-x"
    page = folder / "report.html"
    assert f"Review page: {page}" in out
    assert page.is_file() and (folder / "report.md").is_file()
    report = json.loads((folder / "report.json").read_text())
    assert report["steps"][0]["decisions"] == [
        {"kind": "assumption", "text": "step 1 assumes UTC", "source": "step"},
        {"kind": "deviation", "text": "kept the old name", "source": "step"},
    ]
    md = (folder / "report.md").read_text()
    assert "- [ ] deviation (step 3): kept the old name" in md
    text = page.read_text()
    assert text.count('name="d') == 2 * 6  # 3 steps x 2 decisions, accept + reject each
    assert "step 2 assumes UTC" in text and "kept the old name" in text
    assert 'id="diff-feature-x-1"' in text and "+1" in text
    assert "Night over night" not in text  # a batch-only section
    # Deterministic: the same stored data renders the same bytes.
    from exec_auto.report import Report
    from exec_auto.review.pages import render_ticket

    again = render_ticket(Report.model_validate(report), project)
    assert again == text
