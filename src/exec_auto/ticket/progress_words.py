"""How older progress files spell things: step ids, statuses, severities, timestamps, counts.

One small coercion per kind of field, each total (it never raises), used by progress_legacy.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from exec_auto.ticket.model import CriterionStatus, Severity, StepStatus

_STEP_GROUPS: tuple[tuple[StepStatus, str], ...] = (
    (
        "pending",
        "pending todo to_do not_started planned queued waiting new open pendente nao_iniciado",
    ),
    (
        "in_progress",
        "in_progress inprogress started running active wip doing ongoing current "
        "em_andamento em_progresso",
    ),
    (
        "completed",
        "completed complete done finished success succeeded passed ok "
        "concluido concluida feito finalizado",
    ),
    (
        "completed_with_warning",
        "completed_with_warning completed_with_warnings completed_with_issues "
        "done_with_warnings partial partially_completed warning",
    ),
    ("failed", "failed fail failure error errored blocked broken falhou erro bloqueado"),
    ("skipped", "skipped skip cancelled canceled not_applicable n_a na ignored pulado"),
    ("needs_decision", "needs_decision awaiting_decision decision_needed aguardando_decisao"),
)
_STEP_WORDS = {w: s for s, words in _STEP_GROUPS for w in words.split()}
# Checked in order: the warning sign wins over a tick in "✅ done ⚠️ with warnings".
_STEP_SYMBOLS: tuple[tuple[str, StepStatus], ...] = (
    ("⚠", "completed_with_warning"),
    ("✅", "completed"),
    ("✔", "completed"),
    ("☑", "completed"),
    ("❌", "failed"),
    ("✗", "failed"),
    ("✘", "failed"),
    ("🔄", "in_progress"),
    ("⏳", "in_progress"),
    ("🚧", "in_progress"),
    ("⏭", "skipped"),
    ("⬜", "pending"),
    ("☐", "pending"),
)
_CRITERION_GROUPS: tuple[tuple[CriterionStatus, str], ...] = (
    ("met", "met pass passed done yes true complete completed satisfied fully_met ok"),
    ("partial", "partial partially partially_met partly"),
    ("not_met", "not_met unmet failed fail no false missing"),
    ("unverified", "unverified unknown pending untested not_verified"),
)
_CRITERION_WORDS = {w: s for s, words in _CRITERION_GROUPS for w in words.split()}
_SEVERITY_GROUPS: tuple[tuple[Severity, str], ...] = (
    ("high", "high critical blocker major error alta alto critica"),
    ("medium", "medium moderate normal warning warn media medio"),
    ("low", "low minor info trivial baixa baixo"),
)
_SEVERITY_WORDS = {w: s for s, words in _SEVERITY_GROUPS for w in words.split()}
# A separator (`step_1`, `Step-2`, `#3`) only after a word: "-2" is not step 2.
_STEP_ID = re.compile(
    r"(?:(?:step|passo|etapa|task)\s*[_#-]?\s*|#\s*)?(\d+(?:\.\d+)*)(?=$|[\s:.)_-])",
    re.IGNORECASE,
)


def normalize_step_id(value: Any) -> str | None:
    """A step id as plan.md spells it: `step_1`, `Step 1`, `1` and 1 all become "1"; "2.1" stays."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    match = _STEP_ID.match(text)
    if match is None:
        return text or None
    return match.group(1)  # digits as written, so ids match plan.md's exactly


def looks_like_step_id(value: Any) -> bool:
    """Whether value is a step number (1, "2.1", "step_3") rather than a title."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or bool(_STEP_ID.fullmatch(str(value).strip()))


def word(value: Any) -> str:
    """value folded to a lower-case ASCII identifier: "✅ In-Progress" -> "in_progress"."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def step_status(value: Any) -> StepStatus | None:
    """Our StepStatus for a status however an older run wrote it; None when unrecognisable."""
    if isinstance(value, bool):
        return "completed" if value else "pending"
    exact = _STEP_WORDS.get(word(value))
    if exact is not None:
        return exact
    symbol = next((s for mark, s in _STEP_SYMBOLS if mark in str(value)), None)
    if symbol is not None:
        return symbol
    return next((_STEP_WORDS[w] for w in word(value).split("_") if w in _STEP_WORDS), None)


def criterion_status(value: Any) -> CriterionStatus | None:
    """Our CriterionStatus for met/partial/not met however written; None when unrecognisable."""
    folded = word(value)
    found = _CRITERION_WORDS.get(folded)
    if found is None:
        found = next(
            (_CRITERION_WORDS[w] for w in folded.split("_") if w in _CRITERION_WORDS), None
        )
    return found


def severity(value: Any) -> Severity | None:
    """high/medium/low for a severity or priority however written; None when unrecognisable."""
    folded = word(value)
    return _SEVERITY_WORDS.get(folded) or next(
        (_SEVERITY_WORDS[w] for w in folded.split("_") if w in _SEVERITY_WORDS), None
    )


def text(value: Any) -> str:
    """Any parsed YAML value as readable text (lists one item a line, mappings `key: value`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return stamp(value) or ""
    if isinstance(value, list | tuple):
        return "\n".join(text(v) for v in value)
    if isinstance(value, Mapping):
        return "\n".join(f"{k}: {text(v)}" for k, v in value.items())
    return str(value)


def stamp(value: Any) -> str | None:
    """A timestamp as now_iso writes it when YAML parsed it into a datetime; text kept as is."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment: dt.datetime = value
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return moment.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip() or None


def strings(value: Any) -> list[str]:
    """A scalar or list as a list of texts (kept exactly; None items dropped)."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [text(v) for v in items if v is not None]


def count(value: Any) -> int | None:
    """A count from 5, 5.0, "5_files", "7 issues" or a list of 5 things; None when there is none."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float):
        return int(value)
    if isinstance(value, list | tuple):
        return len(value)
    match = re.match(r"\s*(\d+)", str(value))
    return int(match.group(1)) if match else None


class Keys:
    """A mapping read through aliases, remembering every key asked for (to report the rest)."""

    def __init__(self, raw: Mapping[Any, Any]) -> None:
        # Keys compared folded, so `Description`, `started-at` and `descrição` match too.
        self.raw = {word(k) or str(k): v for k, v in raw.items()}
        self.asked: set[str] = set()

    def first(self, aliases: str) -> Any:
        """The value of the first alias present and not null."""
        names = aliases.split()
        self.asked.update(names)
        return next((self.raw[k] for k in names if self.raw.get(k) is not None), None)

    def get(self, key: str) -> Any:
        """The value of one key (None when absent)."""
        self.asked.add(key)
        return self.raw.get(key)

    def unknown(self) -> set[str]:
        """Keys never asked for."""
        return set(self.raw) - self.asked
