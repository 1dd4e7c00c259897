"""The kind of a step (dependencies, tests, docs, ...) from its title, in English and Portuguese.

Insights group past problems by kind and the readiness score looks kinds up, so both sides must
classify the same way: by the title alone, which progress.yaml keeps for every step.
"""

from __future__ import annotations

import re

from exec_auto.readiness.text import fold

# First match wins: the order puts the most specific kinds first.
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("migration", r"\b(?:migrat\w*|migra\w*|alembic|schema)\b"),
        (
            "dependencies",
            r"\b(?:install\w*|dependenc\w*|dependenc\w*|deps|requirements|instal\w*|pacotes?)\b",
        ),
        ("tests", r"\b(?:tests?|testing|spec|specs|testes?|testar|regress\w*)\b"),
        ("docs", r"\b(?:docs?|documentation|document|readme|changelog|document\w*)\b"),
        ("config", r"\b(?:config\w*|settings|environment|env|configur\w*)\b"),
        ("cli", r"\b(?:cli|command[- ]line|entry[- ]point|linha\s+de\s+comando)\b"),
        ("api", r"\b(?:api|endpoints?|routes?|rotas?|handlers?|views?)\b"),
        ("refactor", r"\b(?:refactor\w*|refator\w*|rename\w*|renomear|extract|extrair)\b"),
    )
)


def step_kind(title: str) -> str:
    """The kind of a step with this title; "code" when nothing more specific fits."""
    folded = fold(title)
    return next((kind for kind, pattern in KINDS if pattern.search(folded)), "code")
