"""Markdown scrubbing and the English/Portuguese word lists the readiness rules match.

Matching runs on prose only: fenced code, inline code and URLs are taken out first, because a `?`
in a regex or an `or` in a shell line is not a question. Words are compared without accents and
in lower case, so "decisão", "Decisao" and "DECISÃO" are the same word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
_INLINE_CODE = re.compile(r"`+([^`\n]+)`+")
_URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+")


def fold(text: str) -> str:
    """Lower case without accents (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@dataclass(frozen=True)
class Scrubbed:
    """A markdown text split into prose lines, inline code spans and fenced code blocks."""

    prose: tuple[str, ...]
    spans: tuple[str, ...]
    # The first line of each fenced block (often a `# path/to/file.py` header comment).
    block_heads: tuple[str, ...]
    has_code_block: bool


def scrub(markdown: str) -> Scrubbed:
    """Separate prose from code so rules never match inside code."""
    prose: list[str] = []
    spans: list[str] = []
    heads: list[str] = []
    in_fence: str | None = None
    head_next = False
    blocks = 0
    for line in markdown.splitlines():
        fence = _FENCE.match(line)
        if fence is not None:
            mark = fence.group(1)
            if in_fence is None:
                in_fence, head_next, blocks = mark, True, blocks + 1
                continue
            # CommonMark: a closing fence uses the same character, at least as long, no info.
            if mark[0] == in_fence[0] and len(mark) >= len(in_fence) and not fence.group(2).strip():
                in_fence = None
                continue
        if in_fence is not None:
            if head_next and line.strip():
                heads.append(line.strip())
                head_next = False
            continue
        spans.extend(m.group(1).strip() for m in _INLINE_CODE.finditer(line))
        text = _INLINE_CODE.sub(" CODE ", line)
        prose.append(_URL.sub(" URL ", text))
    return Scrubbed(tuple(prose), tuple(spans), tuple(heads), blocks > 0)


# Fields that state what a step must produce (matched on folded text at a line's start).
OUTCOME_FIELD = re.compile(
    r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?[*_]*\s*(?:expected\s+)?(?:outcome|result|deliverables?|"
    r"validation|verification|verify|acceptance|done\s+when|expected|objective|goal|"
    r"success\s+criteria|resultado(?:\s+esperado)?|entregas?|entregavel|validacao|"
    r"verificacao|criterios?(?:\s+de\s+(?:sucesso|aceitacao|aceite))?|objetivo|meta|"
    r"pronto\s+quando)\s*[*_]*\s*:"
)

# Words that say the step leaves a decision or an investigation open (folded, EN and PT).
DECISION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        ("decide", r"\bdecid(?:e|ed|ing)\b(?!\s+(?:on|upon)\s+in\b)"),
        ("decision needed", r"\bdecision\s+(?:needed|pending|required|to\s+be\s+made)\b"),
        ("TBD", r"\b(?:tbd|tbc|tba)\b"),
        ("to be decided", r"\bto\s+be\s+(?:decided|determined|defined|confirmed|agreed)\b"),
        ("investigate", r"\binvestigat(?:e|ing)\b"),
        ("figure out", r"\bfigure\s+out\b"),
        ("not sure", r"\b(?:not\s+sure|unsure|unclear|undecided)\b"),
        ("maybe", r"\b(?:maybe|perhaps|possibly)\b"),
        ("whether", r"\bwhether\s+(?:to|we|or)\b"),
        ("choose", r"\bchoos(?:e|ing)\s+(?:between|a|an|the|which|one)\b"),
        ("either ... or", r"\beither\b[^.;:\n]{1,80}\bor\b"),
        ("open question", r"\bopen\s+questions?\b"),
        ("decidir", r"\bdecid(?:ir|a|am|imos|iremos)\b"),
        ("a definir", r"\b(?:a|ainda\s+a|por)\s+(?:definir|decidir|confirmar)\b"),
        ("a ser definido", r"\ba\s+ser(?:em)?\s+(?:definid|decidid|confirmad)[oa]s?\b"),
        ("investigar", r"\binvestig(?:ar|ue|uem|aremos)\b"),
        ("descobrir", r"\bdescobrir\b"),
        ("nao esta claro", r"\bnao\s+(?:esta\s+claro|sabemos|sei|temos\s+certeza)\b"),
        ("talvez", r"\b(?:talvez|possivelmente)\b"),
        ("escolher", r"\bescolh(?:er|a|emos)\s+(?:entre|qual|um|uma|o|a)\b"),
        ("ou ... ou", r"(?:^|[^\w])ou\s+[^.;:\n]{1,80}\bou\b"),
        ("em aberto", r"\b(?:em\s+aberto|questoes\s+abertas|perguntas\s+abertas)\b"),
        ("se devemos", r"\bse\s+(?:devemos|vamos|usamos)\b"),
    )
)

# Two named approaches joined by "or"/"ou": `redis` or `memcached`, Redis ou Memcached.
_ALTERNATIVE_CODE = re.compile(r"\bCODE\s+(?:or|ou)\s+CODE\b")
_ALTERNATIVE_NAMES = re.compile(
    r"(?<![\w.])(?!(?:Or|Ou)\b)([A-Z][\w.+#-]{1,30})\s+(?:or|ou)\s+([A-Z][\w.+#-]{1,30})"
)
_QUESTION = re.compile(r"[^\s?]\s*\?(?:\s|$|[)\]*_])")


def decision_hits(line: str) -> list[str]:
    """Labels of the decision words, alternatives and questions on one prose line."""
    folded = fold(line)
    hits = [label for label, pattern in DECISION_PATTERNS if pattern.search(folded)]
    if _ALTERNATIVE_CODE.search(line) or _ALTERNATIVE_NAMES.search(line):
        hits.append("'or' between approaches")
    if _QUESTION.search(line + " "):
        hits.append("question")
    return hits


# Words that say a step writes a new file (folded).
CREATE_WORDS = re.compile(
    r"\b(?:create[sd]?|creating|add(?:s|ed|ing)?|new|write|writes|writing|generate[sd]?|"
    r"scaffold|introduce[sd]?|exists?|criar|crie|criado|criada|adicionar|adicione|novo|nova|"
    r"escrever|escreva|gerar|gere|existe)\b"
)

# Acceptance-criterion wording that no check can decide on its own (folded, EN and PT).
VAGUE_CRITERION = re.compile(
    r"\b(?:works?|working|properly|correctly|as\s+expected|good|nice|better|clean(?:er)?|"
    r"robust|user[- ]friendly|intuitive|fast(?:er)?|efficient(?:ly)?|appropriate(?:ly)?|"
    r"reasonable|well|funciona|funcionando|corretamente|adequad[oa]s?|adequadamente|bom|boa|"
    r"melhor|limp[oa]|robust[oa]|amigavel|intuitiv[oa]|rapid[oa]|eficiente|bem)\b"
)

# Areas the seed description names as critical for unattended work (folded keywords).
CRITICAL_AREAS: dict[str, tuple[str, ...]] = {
    "auth": (
        "auth",
        "authentication",
        "authorization",
        "login",
        "logout",
        "password",
        "passwords",
        "credential",
        "credentials",
        "oauth",
        "jwt",
        "sso",
        "permission",
        "permissions",
        "autenticacao",
        "autorizacao",
        "senha",
        "senhas",
        "credencial",
        "credenciais",
        "permissao",
        "permissoes",
    ),
    "payments": (
        "payment",
        "payments",
        "billing",
        "invoice",
        "invoices",
        "stripe",
        "refund",
        "refunds",
        "pagamento",
        "pagamentos",
        "cobranca",
        "fatura",
        "faturas",
        "reembolso",
    ),
    "migrations": (
        "migration",
        "migrations",
        "migrate",
        "alembic",
        "migracao",
        "migracoes",
        "migrar",
        "migrate.py",
    ),
}
_WORD = re.compile(r"[a-z0-9_./-]+")
_DOC_FILE = re.compile(r"\.(?:md|rst|txt|adoc)$")


def critical_hits(text: str, areas: dict[str, tuple[str, ...]]) -> list[str]:
    """The critical areas whose keywords occur as words or path parts in text.

    Documentation files (`docs/auth.md`) and hyphenated names (`feature-user-auth`) do not count:
    writing about an area is not changing it.
    """
    words = set()
    for token in _WORD.findall(fold(text)):
        token = token.strip("./")
        if _DOC_FILE.search(token) or (("-" in token) and "/" not in token):
            continue
        for part in token.split("/"):
            words.add(part)
            words.update(part.split("_"))
            words.update(p for p in part.split(".") if p)
    return [area for area, keys in areas.items() if words.intersection(keys)]
