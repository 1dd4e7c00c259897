"""Text judgement for plan.md: what a heading or list item says once its decoration is gone.

Plans are written by people and assistants in English and Portuguese, with emoji, bold markers,
"Step N -" / "Passo N:" prefixes and "(60 min)" estimates. These helpers reduce a heading or an
item to its number and title, and name the sections the step finder looks for.
"""

from __future__ import annotations

import re

# "Step 3: Title", "Passo 2.1 - Título", "Etapa 4. Título", "STEP 5 — Title", "Step #6) Title", "Task 2: ...", "Tarefa 1: ...".
_STEP = re.compile(
    r"^(?:step|passo|etapa|task|tarefa)\s*#?\s*(\d+(?:\.\d+)*)(?!\w)\s*[:.)\-\u2013\u2014]*\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
# "Phase 2: Title", "Fase 1 - Título", "Stage 3. Title", "Milestone 1: ...".
_PHASE = re.compile(
    r"^(?:phase|fase|stage|milestone)\b\s*#?\s*(\d+)?(?!\d)\s*[:.)\-\u2013\u2014]*\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
# "1. Title", "2.1 Title", "3) Title" — numbered headings that carry no "Step" word.
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)(?:[.):]\s*|\s+)(\S.*)$", re.DOTALL)

_TIME_UNITS = (
    r"min|mins|minutes?|minutos?|h|hr|hrs|hours?|horas?|d|days?|dias?|wks?|weeks?|semanas?"
    r"|sp|pts?|points?|pontos?"
)
# A trailing estimate: "(60 min)", "(~2h)", "(Estimated: 1-2 hours)", "([time estimate])", "- 30 min".
_ESTIMATE = re.compile(
    r"\s*(?:"
    r"[(\[][^()\[\]]*\d[^()\[\]]*?(?<![A-Za-z])(?:" + _TIME_UNITS + r")\b\.?[^()\[\]]*[)\]]"
    r"|\(\[[^\]]*\]\)"
    r"|[-\u2013\u2014]\s*~?\d+(?:[.,]\d+)?\s*(?:-\s*\d+\s*)?(?:" + _TIME_UNITS + r")\b\.?"
    r")\s*$",
    re.IGNORECASE,
)
_BOLD = re.compile(r"\*\*|__")
# Emoji, checkmarks, bullets and other symbols in front of the words that matter.
_LEADING_SYMBOLS = re.compile(r"^[^\w`\[(\"']+")


def strip_emphasis(text: str) -> str:
    """The text without bold markers and without single emphasis wrapping the whole text."""
    text = _BOLD.sub("", text).strip()
    if len(text) > 2 and text[0] == text[-1] and text[0] in "*_":
        text = text[1:-1].strip()
    return text


def plain(text: str) -> str:
    """First line of text, emphasis and leading emoji/symbols removed, whitespace collapsed."""
    first = text.strip().split("\n", 1)[0]
    first = strip_emphasis(first)
    first = _LEADING_SYMBOLS.sub("", first)
    return " ".join(first.split())


def untick(text: str) -> str:
    """The text without a leading task-list checkbox ("[ ] ", "[x] ")."""
    return re.sub(r"^\[[ xX]\]\s*", "", text.strip())


def strip_estimate(title: str) -> str:
    """The title without trailing time estimates and dangling separators."""
    previous = None
    while previous != title:
        previous = title
        title = _ESTIMATE.sub("", title).strip()
        title = title.rstrip(":\u2013\u2014-").strip()
    return title


def step_number(text: str) -> tuple[str, str] | None:
    """(number, title) when the text is a "Step N: title" style label, else None."""
    match = _STEP.match(plain(text))
    if match is None:
        return None
    return match.group(1), strip_estimate(strip_emphasis(match.group(2)))


def phase_label(text: str) -> tuple[str | None, str] | None:
    """(number or None, title) when the text is a "Phase N: title" label, else None."""
    match = _PHASE.match(plain(text))
    if match is None:
        return None
    return match.group(1), strip_estimate(strip_emphasis(match.group(2)))


def numbered_label(text: str) -> tuple[str, str] | None:
    """(number, title) for "1. Title" / "2.1 Title" headings without a Step word."""
    match = _NUMBERED.match(plain(text))
    if match is None:
        return None
    return match.group(1), strip_estimate(strip_emphasis(match.group(2)))


def clean_title(text: str) -> str:
    """A heading's or item's display title: no prefix symbols, bold markers or estimates."""
    return strip_estimate(plain(text))


def item_title(text: str) -> str:
    """The title of a list item: its leading bold phrase if it has one, else its first line."""
    first = text.strip().split("\n", 1)[0].strip()
    first = re.sub(r"^\[[ xX]\]\s*", "", first)
    bold = re.match(r"^(?:\*\*|__)(.+?)(?:\*\*|__)(.*)$", first)
    if bold is None:
        return clean_title(first)
    inner = plain(bold.group(1))
    labelled = step_number(inner)
    if labelled is not None:
        inner = labelled[1]
    inner = strip_estimate(inner)
    return inner if inner else clean_title(bold.group(2))


def starts_bold(text: str) -> bool:
    """Whether an item or paragraph opens with a bold phrase (the plan's way to title steps)."""
    return bool(re.match(r"^\s*(?:\[[ xX]\]\s*)?(?:\*\*|__)\S", text))


def section_key(text: str) -> str:
    """A heading reduced for name matching: lower case, no numbering, emoji or trailing notes."""
    key = plain(text).lower()
    key = re.sub(r"^(?:\d+(?:\.\d+)*[.):]?|[ivx]+[.)])\s+", "", key)
    key = re.sub(r"\s*\([^)]*\)\s*$", "", key)
    return key.strip(" :.-\u2013\u2014")


_IMPL = re.compile(
    r"(?:detailed\s+|step[- ]by[- ]step\s+)?implementation"
    r"(?:\s+(?:steps?|phases?|tasks?|plan|roadmap|sequence|order|details|breakdown|guide|checklist))?"
    r"|(?:passos|etapas|fases|tarefas|plano|roteiro|sequ[êe]ncia|ordem)\s+de\s+implementa[çc][ãa]o"
    r"|implementa[çc][ãa]o(?:\s+(?:passo\s+a\s+passo|detalhada))?"
    r"|execution\s+(?:steps|plan|phases)|(?:passos|etapas)\s+de\s+execu[çc][ãa]o"
    r"|(?:fix|bug\s*fix)\s+(?:implementation|steps)|(?:passos|etapas)\s+(?:de|da)\s+corre[çc][ãa]o"
)
_INVESTIGATION = re.compile(
    r"(?:investigation|research|spike)\s+(?:steps|plan|tasks)"
    r"|(?:passos|etapas)\s+(?:de|da)\s+(?:investiga[çc][ãa]o|pesquisa)"
)
_GENERIC_STEPS = re.compile(
    r"steps|passos|etapas|tasks|tarefas|task\s+(?:list|breakdown)|work\s+breakdown"
    r"|action\s+plan|plano\s+de\s+a[çc][ãa]o|(?:the\s+)?plan|plano|roadmap"
)
# Sections that analyse rather than change: their "Step N" headings are never executed.
_ANALYSIS = re.compile(
    r"investigat|research|reproduc|root\s+cause|analysis|an[áa]lise|hypothes|hip[óo]tese|diagn"
    r"|test|rollback|revers|method|m[ée]todo|pesquisa|investiga|debug|example|exemplo|sample"
    r"|template|modelo|prompt"
)
# Sub-sections beside the work: their numbered lists are remarks, not steps.
_ASIDE = re.compile(
    r"notes?|notas?|observa[çc]|caveats?|risks?|riscos?|references?|refer[êe]ncias?|tips?|dicas?"
    r"|summary|resumo|overview|vis[ãa]o\s+geral|context|contexto|prerequisites?|pr[ée]-?requisitos?"
    r"|verification|verifica[çc][ãa]o|validation|valida[çc][ãa]o|rollback|revers[ãa]o"
)
_OVERVIEW = re.compile(
    r"executive\s+summary|overview|summary|resumo\s+executivo|vis[ãa]o\s+geral|resumo"
    r"|bug\s+(?:analysis|summary)|resumo\s+do\s+bug|problem\s+statement"
    r"|research\s+objectives?|objetivos?\s+da\s+investiga[çc][ãa]o"
    r"|context|contexto|background|motivation|motiva[çc][ãa]o|problem|problema"
)
_TITLE_PREFIX = re.compile(
    r"^(?:[\w\s/&-]{0,40}?\b(?:plan|plano)\b(?:\s+de\s+\w+)?|feature|bug|bugfix|fix|hotfix|spike|enhancement|melhoria|corre[çc][ãa]o)"
    r"(?::\s*|\s+[-\u2013\u2014]\s+)(\S.*)$",
    re.IGNORECASE,
)


def section_tier(text: str) -> int | None:
    """1 implementation section, 2 investigation steps (spikes), 3 generic steps list, else None."""
    key = section_key(text)
    for tier, pattern in ((1, _IMPL), (2, _INVESTIGATION), (3, _GENERIC_STEPS)):
        if pattern.fullmatch(key):
            return tier
    return None


def is_analysis(text: str) -> bool:
    """Whether a heading names an analysis/testing/example section rather than work to do."""
    return _ANALYSIS.search(section_key(text)) is not None


def is_aside(text: str) -> bool:
    """Whether a heading names notes, risks or a summary beside the steps."""
    return _ASIDE.search(section_key(text)) is not None


def is_overview(text: str) -> bool:
    """Whether a heading names the plan's summary."""
    return _OVERVIEW.fullmatch(section_key(text)) is not None


def plan_title(h1: str) -> str:
    """The H1 without an "Implementation Plan:" style prefix."""
    text = plain(h1)
    match = _TITLE_PREFIX.match(text)
    return match.group(1).strip() if match else text
