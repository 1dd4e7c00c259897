"""The readiness score: detailed plans high, vague ones low, with the reasons, in English and Portuguese."""

from __future__ import annotations

from pathlib import Path

import pytest

from exec_auto.readiness.text import decision_hits
from tests.readiness.support import PLANS, READINESS, kinds, make_ticket, score, text

# Files the detailed fixtures say they modify (they exist in the project those plans are for).
FEATURE_EN_FILES = ("src/ingest/__init__.py", "src/ingest/runner.py")
FEATURE_PT_FILES = ("src/relatorios/__init__.py", "src/relatorios/rotas.py")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("plan", "spec", "files"),
    [
        ("feature-en.md", "detailed-spec-en.yaml", FEATURE_EN_FILES),
        ("feature-pt.md", "detailed-spec-pt.yaml", FEATURE_PT_FILES),
    ],
)
def test_a_detailed_plan_scores_high(tmp_path, plan, spec, files):
    ticket = make_ticket(
        tmp_path / "p", "t", _read(PLANS / plan), _read(READINESS / spec), files=files
    )
    result = score(ticket)
    assert result.ready and result.score >= 85, text(result)
    assert not kinds(result) & {"vague_step", "open_question", "unverifiable_criterion"}


def test_a_vague_english_plan_scores_low_with_its_reasons(tmp_path):
    ticket = make_ticket(
        tmp_path / "p", "t", _read(READINESS / "vague-en.md"), _read(READINESS / "vague-spec.yaml")
    )
    result = score(ticket)
    assert not result.ready and result.score < 40
    assert kinds(result) >= {
        "vague_step",
        "open_question",
        "unverifiable_criterion",
        "missing_file",
        "critical_area",
    }
    found = text(result)
    assert "step 4 (Clean up) has no concrete outcome" in found
    for label in ("investigate", "figure out", "TBD", "'or' between approaches", "decide", "maybe"):
        assert label in found, label
    assert "question" in found  # the overview's "per user or per session?"
    assert "vague wording 'fast'" in found and "vague wording 'works', 'correctly'" in found
    assert "`src/shop/payment_flow.py`, which does not exist" in found
    assert "touch payments" in found


def test_a_vague_portuguese_plan_scores_low_with_its_reasons(tmp_path):
    ticket = make_ticket(
        tmp_path / "p",
        "t",
        _read(READINESS / "vague-pt.md"),
        _read(READINESS / "vague-spec-pt.yaml"),
    )
    result = score(ticket)
    assert not result.ready and result.score < 40
    assert kinds(result) >= {
        "vague_step",
        "open_question",
        "unverifiable_criterion",
        "missing_file",
        "critical_area",
    }
    found = text(result)
    assert "step 4 (Limpeza) has no concrete outcome" in found
    for label in ("investigar", "descobrir", "a definir", "'or' between approaches", "decidir"):
        assert label in found, label
    assert "talvez" in found and "question" in found
    assert "vague wording 'rapida'" in found and "vague wording 'funciona', 'corretamente'" in found
    assert "`src/loja/fluxo_pagamento.py`, which does not exist" in found
    assert "touch payments" in found


@pytest.mark.parametrize("plan", ["spike-en.md", "spike-pt.md"])
def test_spikes_are_not_ready_for_an_unattended_run(tmp_path, plan):
    spec = 'title: "spike"\nacceptance_criteria:\n  - "A recommendation exists"\nticket:\n  type: spike\n'
    result = score(make_ticket(tmp_path / "p", "t", _read(PLANS / plan), spec))
    assert not result.ready
    assert {"research_ticket", "open_question"} <= kinds(result)


def test_real_cdd_plans_score_in_the_middle_without_false_critical_areas(tmp_path):
    """Two real CDD tickets in their repository's real file layout."""
    tree = tuple(_read(READINESS / "cdd" / "tree.txt").split())
    for name in ("enhancement-shorthand-ticket-paths", "feature-add-documentation-support"):
        folder = READINESS / "cdd" / name
        ticket = make_ticket(
            tmp_path / name, name, _read(folder / "plan.md"), _read(folder / "spec.yaml"), tree
        )
        result = score(ticket)
        # Detailed, but every criterion is prose nothing can run: ready, with those reasons.
        assert 55 <= result.score <= 85, text(result)
        assert "unverifiable_criterion" in kinds(result)
        # `feature-user-auth` and docs/features/auth.md are example names, not auth code.
        assert "critical_area" not in kinds(result), text(result)


def test_the_score_is_deterministic(tmp_path):
    ticket = make_ticket(tmp_path / "p", "t", _read(READINESS / "vague-en.md"))
    assert score(ticket) == score(ticket)


def test_a_file_a_later_step_creates_is_not_missing(tmp_path):
    plan = (
        "# P\n\n## Implementation Steps\n\n"
        "### Step 1: Create the parser\n**Outcome:** `app/parser.py` exists with `parse()`.\n\n"
        "### Step 2: Use it\n**Outcome:** `app/cli.py` calls `parse()` from `app/parser.py`.\n\n"
        "### Step 3: Wire the config\n**Outcome:** `app/settings.toml` is read by `app/cli.py`.\n"
    )
    result = score(make_ticket(tmp_path / "p", "t", plan, files=("app/cli.py",)))
    missing = [f.message for f in result.findings if f.kind == "missing_file"]
    assert missing == [
        "step 3 names file `app/settings.toml`, which does not exist and no step creates"
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Run `grep -E 'a|b?'` to list them.", []),  # code is not prose
        ("See https://example.com/search?q=x for details.", []),
        ("Use `redis` or `memcached` for the cache.", ["'or' between approaches"]),
        ("Return one or more rows.", []),
        ("Write zero or more lines; see also README or docs.", []),
        ("Usar um ou mais arquivos.", []),
        ("Should we keep the old endpoint?", ["question"]),
        ("Decisão pendente: a definir com o time.", ["a definir"]),
    ],
)
def test_decision_words_match_prose_only(line, expected):
    from exec_auto.readiness.text import scrub

    prose = " ".join(scrub(line).prose)
    assert decision_hits(prose) == expected
