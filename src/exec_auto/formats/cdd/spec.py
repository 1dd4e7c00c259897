"""spec.yaml: read a ticket's title, type, status and acceptance criteria; record lifecycle status.

Real specs drift from the templates (English and Portuguese keys, criteria as lists, groups or
mappings), so reading is tolerant and reports what it adapted as warnings. Writing is careful:
a status change touches only the lines it must, and a file that does not parse is never rewritten.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exec_auto.atomicio import atomic_write_text
from exec_auto.errors import SpecError
from exec_auto.safe_read import SPEC_LIMIT, read_limited
from exec_auto.ticket.model import SPEC_STATUSES, Criterion
from exec_auto.ticket.yamledit import YAMLEditError, update_mapping
from exec_auto.ticket.yamlio import YAMLError, describe_parse_error, load_rt

# Keys compared after _norm_key (lower case, accents dropped, spaces and dashes as underscores).
_CRITERIA_KEYS = (
    "acceptance_criteria",
    "criterios_aceitacao",
    "criterios_de_aceitacao",
    "criterios_de_aceite",
    "criterios_aceite",
)
_FALLBACK_CRITERIA_KEYS = (
    "success_criteria",
    "definition_of_done",
    "criterios_sucesso",
    "criterios_de_sucesso",
)
_TITLE_KEYS = ("title", "titulo", "name", "nome")
_TYPE_KEYS = ("type", "tipo", "ticket_type")
_TEXT_KEYS = (
    "criterion",
    "criterio",
    "description",
    "descricao",
    "text",
    "texto",
    "name",
    "nome",
    "title",
    "titulo",
    "requirement",
    "requisito",
)
_VERIFY_KEYS = ("verify", "verificar", "verification", "verificacao", "command", "comando")
_TESTS_KEYS = ("tests", "test", "testes", "teste")
_GROUP_KEYS = ("group", "grupo", "category", "categoria")
_ITEMS_KEYS = ("criteria", "criterios", "items", "itens")
_GHERKIN = (("given", ("given", "dado")), ("when", ("when", "quando")), ("then", ("then", "entao")))
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
_TIMESTAMP_KEYS = {
    "in_progress": "implementation_started",
    "completed": "implementation_completed",
    "archived": "archived_at",
}


@dataclass(frozen=True)
class Spec:
    """What exec-auto needs from spec.yaml."""

    path: Path
    title: str
    ticket_type: str | None
    status: str | None
    criteria: tuple[Criterion, ...]
    warnings: tuple[str, ...]
    # Lifecycle timestamps set_spec_status records (as written in the file).
    implementation_started: str | None = None
    implementation_completed: str | None = None
    archived_at: str | None = None
    # Why exec-auto will not record a status in this file (None: it will). A file with a
    # duplicate key is read with the first value, but which copy to edit is ambiguous.
    not_writable: str | None = None


class SpecParseError(SpecError):
    """spec.yaml is not valid YAML; carries the 1-based line and column of the problem."""

    def __init__(
        self, message: str, *, path: Path, line: int | None, column: int | None, hint: str
    ):
        super().__init__(message, path=path, hint=hint)
        self.line = line
        self.column = column

    def one_line(self) -> str:
        """`path:line:col: message`, the form editors and terminals link to."""
        where = "".join(f":{n}" for n in (self.line, self.column) if n is not None)
        return f"{self.path}{where}: {self.message}"

    def __str__(self) -> str:
        return self.one_line()


def load_spec(path: Path) -> Spec:
    """Read spec.yaml; raises SpecError when it is missing, not YAML, or not a mapping."""
    path = Path(path)
    text, _, _ = _read(path)
    warnings: list[str] = []
    not_writable: str | None = None
    try:
        data = load_rt(text)
    except YAMLError as exc:
        if "duplicate key" not in str(exc):
            raise _parse_error(path, text, exc) from None
        problem = describe_parse_error(exc, text)
        warnings.append(f"line {problem.line}: {problem.problem}; the first value is used")
        not_writable = f"line {problem.line}: {problem.problem}"
        try:
            data = load_rt(text, allow_duplicate_keys=True)
        except YAMLError as again:
            raise _parse_error(path, text, again) from None
    root = _require_mapping(path, data)
    ticket = _get(root, ("ticket",))
    ticket_block = ticket if isinstance(ticket, Mapping) else {}

    title = _text(_get(root, _TITLE_KEYS) or _get(ticket_block, _TITLE_KEYS))
    if not title:
        title = path.parent.name
        warnings.append(f"no title; using the ticket folder name {title!r}")
    ticket_type = _text(_get(ticket_block, _TYPE_KEYS) or _get(root, _TYPE_KEYS)) or None
    status = _text(_get(ticket_block, ("status",)) or _get(root, ("status",))) or None
    if status is not None and status not in SPEC_STATUSES:
        warnings.append(f"status {status!r} is not one of {', '.join(SPEC_STATUSES)}")
    criteria = _criteria(root, ticket_block, warnings)
    stamps = ticket_block if _status_holder(root) else root
    return Spec(
        path,
        title,
        ticket_type,
        status,
        tuple(criteria),
        tuple(warnings),
        implementation_started=_text(stamps.get("implementation_started")) or None,
        implementation_completed=_text(stamps.get("implementation_completed")) or None,
        archived_at=_text(stamps.get("archived_at")) or None,
        not_writable=not_writable,
    )


def set_spec_status(path: Path, status: str, now: str) -> None:
    """Record a lifecycle status (and its timestamp) in spec.yaml, changing only those lines."""
    if status not in SPEC_STATUSES:
        raise ValueError(f"unknown spec status {status!r}; expected one of {SPEC_STATUSES}")
    path = Path(path)
    text, newline, bom = _read(path)
    try:
        data = load_rt(text)
    except YAMLError as exc:
        raise _parse_error(path, text, exc) from None
    root = _require_mapping(path, data)
    target = _status_holder(root)
    holder = root.get("ticket") if target else root
    holder = holder if isinstance(holder, Mapping) else {}
    updates = {"status": status}
    stamp_key = _TIMESTAMP_KEYS.get(status)
    if stamp_key == "implementation_started" and holder.get(stamp_key) not in (None, ""):
        stamp_key = None  # a resumed run keeps the original start time
    if stamp_key is not None:
        updates[stamp_key] = now
    try:
        new_text = update_mapping(text, target, updates)
    except YAMLError as exc:
        raise _parse_error(path, text, exc) from None
    except YAMLEditError as exc:
        raise SpecError(
            f"could not record status {status!r} without disturbing the rest of the file ({exc})",
            path=path,
            hint=f"set `status: {status}` under `ticket:` by hand",
        ) from None
    if new_text != text:
        try:
            atomic_write_text(path, bom + new_text.replace("\n", newline))
        except OSError as exc:
            raise SpecError(
                f"cannot record status {status!r}: {exc.strerror or exc}",
                path=path,
                hint="make spec.yaml and its folder writable (an immutable file: `chattr -i`), "
                "and check the disk is not full",
            ) from None


def _status_holder(root: Mapping[Any, Any]) -> tuple[str, ...]:
    """Where the status lives: ("ticket",) for the ticket block, () for the top level."""
    ticket = root.get("ticket")
    if isinstance(ticket, Mapping) and "status" in ticket:
        return ("ticket",)
    if "status" in root and not isinstance(root["status"], Mapping | list):
        return ()  # an older spec keeps its status at the top level: keep it there
    if ticket is None or isinstance(ticket, Mapping):
        return ("ticket",)
    return ()  # `ticket:` holds a scalar; the status cannot go inside it


def _read(path: Path) -> tuple[str, str, str]:
    """The text with '\\n' line ends, the file's own line end, and its byte-order mark if any."""
    try:
        raw = read_limited(path, limit=SPEC_LIMIT, error=SpecError, what="spec")
    except FileNotFoundError:
        raise SpecError(
            "spec.yaml not found", path=path, hint="create it from a ticket template"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"not UTF-8 text (byte {exc.start})", path=path, hint="save the file as UTF-8"
        ) from None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom) :]
    crlf = text.count("\r\n")
    newline = "\r\n" if crlf and crlf == text.count("\n") else "\n"
    return text.replace("\r\n", "\n"), newline, bom


def _parse_error(path: Path, text: str, exc: YAMLError) -> SpecParseError:
    problem = describe_parse_error(exc, text)
    return SpecParseError(
        f"could not parse: {problem.problem}",
        path=path,
        line=problem.line,
        column=problem.column,
        hint=problem.hint,
    )


def _require_mapping(path: Path, data: Any) -> Mapping[Any, Any]:
    if isinstance(data, Mapping):
        return data
    kind = "empty" if data is None else f"a {_kind(data)}"
    raise SpecError(
        f"the top level is {kind}, expected a mapping",
        path=path,
        hint="spec.yaml holds keys such as title:, acceptance_criteria: and ticket:",
    )


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    return "text value" if isinstance(value, str) else type(value).__name__


def _norm_key(key: Any) -> str:
    text = unicodedata.normalize("NFKD", str(key)).encode("ascii", "ignore").decode()
    return re.sub(r"[\s-]+", "_", text.strip().lower())


def _get(mapping: Mapping[Any, Any], names: Iterable[str]) -> Any:
    """The value of the first key of mapping whose normalised form is one of names."""
    wanted = tuple(names)
    by_name = {_norm_key(k): v for k, v in reversed(list(mapping.items()))}
    return next((by_name[name] for name in wanted if name in by_name), None)


def _text(value: Any) -> str:
    """A scalar as the text a person wrote (numbers and booleans included), stripped."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(t for t in (_text(v) for v in value) if t)
    return " ".join(str(value).split()) if "\n" not in str(value) else str(value).strip()


def _criteria(
    root: Mapping[Any, Any], ticket: Mapping[Any, Any], warnings: list[str]
) -> list[Criterion]:
    found: list[Criterion] = []
    sources = [v for m in (root, ticket) for k, v in m.items() if _norm_key(k) in _CRITERIA_KEYS]
    for source in sources:
        _collect(source, None, found, warnings)
    if not sources:
        fallback = _get(root, _FALLBACK_CRITERIA_KEYS)
        if fallback is not None:
            _collect(fallback, None, found, warnings)
            warnings.append("no acceptance_criteria; using the success criteria instead")
    unique = list(dict.fromkeys(found))
    if not unique:
        warnings.append("no acceptance criteria found (expected acceptance_criteria:)")
    return unique


def _collect(node: Any, group: str | None, out: list[Criterion], warnings: list[str]) -> None:
    """Append the criteria in node (any of the shapes people write) to out."""
    if node is None:
        return
    if isinstance(node, Mapping):
        _collect_mapping(node, group, out, warnings)
    elif isinstance(node, list):
        for item in node:
            if (
                isinstance(item, list)
                and item
                and not any(isinstance(i, Mapping | list) for i in item)
            ):
                # `- [Some text, more text]` is a flow list by accident: keep it as one criterion.
                joined = _text(item)
                warnings.append(f"criterion [{joined}] was written as a list; read as one text")
                out.append(Criterion(text=joined, group=group))
            else:
                _collect(item, group, out, warnings)
    elif isinstance(node, str) and len(bullets := _bullets(node)) > 1:
        out.extend(Criterion(text=b, group=group) for b in bullets)
    elif text := _text(node):
        out.append(Criterion(text=text, group=group))


def _collect_mapping(
    node: Mapping[Any, Any], group: str | None, out: list[Criterion], warnings: list[str]
) -> None:
    items = _get(node, _ITEMS_KEYS)
    if isinstance(items, Mapping | list):
        # `{group: Security, criteria: [...]}`: a named group of criteria.
        name = _text(_get(node, (*_GROUP_KEYS, *_TITLE_KEYS)))
        _collect(items, _subgroup(group, name), out, warnings)
        return
    text_value = _get(node, _TEXT_KEYS)
    if text_value is not None and not isinstance(text_value, Mapping):
        text = _text(text_value)
        verify = _verify(_get(node, _VERIFY_KEYS))
        if not text:
            if verify:
                warnings.append(f"a criterion with verify {verify!r} has no text; skipped")
            return
        own_group = _text(_get(node, _GROUP_KEYS)) or group
        tests = tuple(t for t in (_text(v) for v in _as_list(_get(node, _TESTS_KEYS))) if t)
        out.append(Criterion(text=text, verify=verify, group=own_group, tests=tests))
        return
    gherkin = [(label, _text(_get(node, names))) for label, names in _GHERKIN]
    if any(value for _, value in gherkin):
        text = ", ".join(f"{label} {value}" for label, value in gherkin if value)
        out.append(Criterion(text=text[0].upper() + text[1:], group=group))
        return
    for key, value in node.items():
        name = _text(key)
        if value is None:
            if name:
                out.append(Criterion(text=name, group=group))
        elif isinstance(value, Mapping | list) or (
            isinstance(value, str) and len(_bullets(value)) > 1
        ):
            _collect(value, _subgroup(group, name), out, warnings)
        else:
            # `- Response time: under 200ms` is a one-key mapping by accident: keep the colon.
            out.append(Criterion(text=f"{name}: {_text(value)}", group=group))


def _subgroup(group: str | None, name: str) -> str | None:
    if not name:
        return group
    return f"{group} / {name}" if group else name


def _verify(value: Any) -> str | None:
    commands = [c for c in (_text(v) for v in _as_list(value)) if c]
    return " && ".join(commands) if commands else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _bullets(text: str) -> list[str]:
    """The items of a bulleted or numbered list inside one text value (intro lines dropped).

    Text with fewer than two bullets is one item.
    """
    items: list[str] = []
    bullet_indent = -1
    for line in text.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if _BULLET.match(line):
            items.append(_BULLET.sub("", line).strip())
            bullet_indent = indent
        elif items and indent > bullet_indent:
            items[-1] += " " + line.strip()  # a wrapped bullet continues
    if len(items) < 2:
        return [text.strip()] if text.strip() else []
    return items
