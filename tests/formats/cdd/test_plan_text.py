"""Heading and item labels: step numbers, phases, estimates, plan titles, section names."""

from __future__ import annotations

import pytest

from exec_auto.formats.cdd.plan.text import (
    clean_title,
    is_overview,
    item_title,
    phase_label,
    plan_title,
    section_tier,
    step_number,
)


@pytest.mark.parametrize(
    ("text", "number", "title"),
    [
        ("Step 1: Create the resolver", "1", "Create the resolver"),
        ("Step 2 - Add the flag", "2", "Add the flag"),
        ("Step 3. Document it", "3", "Document it"),
        ("**Step 4:** Reject replays — 30 min", "4", "Reject replays"),
        ("🔧 STEP 5: Wire it (45 min)", "5", "Wire it"),
        ("step 6 — Log rejections", "6", "Log rejections"),
        ("Step 2.1: Middleware", "2.1", "Middleware"),
        ("Passo 3: Criar o exportador (2 horas)", "3", "Criar o exportador"),
        ("Etapa 1.2: Worker de envio (1h)", "1.2", "Worker de envio"),
        ("Step 7: Add `--json` output ([time estimate])", "7", "Add `--json` output"),
        ("Step 8", "8", ""),
    ],
)
def test_step_labels(text: str, number: str, title: str):
    assert step_number(text) == (number, title)


@pytest.mark.parametrize(
    "text", ["Steps to Reproduce", "Stepping back", "Step one: think", "Overview"]
)
def test_not_step_labels(text: str):
    assert step_number(text) is None


def test_phase_labels():
    assert phase_label("Phase 2: Implementation") == ("2", "Implementation")
    assert phase_label("Fase 1 - Leitura do arquivo") == ("1", "Leitura do arquivo")
    assert phase_label("Phase 1: Core limiter (3 hours)") == ("1", "Core limiter")
    assert phase_label("Faseamento do projeto") is None


def test_titles_keep_code_and_words_but_drop_estimates():
    assert clean_title("Cache for (24 items)") == "Cache for (24 items)"
    assert clean_title("Set up admins (see docs)") == "Set up admins (see docs)"
    assert item_title("**Create the resolver** (60 min)\n   - details") == "Create the resolver"
    assert item_title("**Step 2:** Add retries (30 min)") == "Add retries"
    assert item_title("Plain item without bold") == "Plain item without bold"


@pytest.mark.parametrize(
    ("h1", "title"),
    [
        ("Implementation Plan: Structured Logging", "Structured Logging"),
        ("Plano de Implementação: Exportar CSV", "Exportar CSV"),
        ("Bug Fix Plan: Duplicate Invoices", "Duplicate Invoices"),
        ("Plano de Correção: Fuso Horário", "Fuso Horário"),
        ("Spike Plan: Task Queues", "Task Queues"),
        ("Migrate plan-store to Redis", "Migrate plan-store to Redis"),
        ("Add a `--json` Flag", "Add a `--json` Flag"),
    ],
)
def test_plan_title_drops_plan_type_prefixes(h1: str, title: str):
    assert plan_title(h1) == title


def test_section_names():
    assert section_tier("Implementation Steps") == 1
    assert section_tier("🛠️ Passos de Implementação") == 1
    assert section_tier("5. Implementation Plan (detailed)") == 1
    assert section_tier("Investigation Steps") == 2
    assert section_tier("Passos de Investigação") == 2
    assert section_tier("Tarefas") == 3
    assert section_tier("Steps to Reproduce") is None
    assert section_tier("Investigation Approach") is None
    assert (
        is_overview("Resumo Executivo")
        and is_overview("Bug Analysis")
        and is_overview("Visão Geral")
    )
    assert not is_overview("Implementation Steps")
