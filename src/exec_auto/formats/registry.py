"""The explicit list of ticket formats, listing across them, and resolving a name to one ticket.

A name resolves within the forced format (`--format`) or across every format; `format:name`
qualifies it. Short names work too: a spec-kit `007-mock-auth` also answers to `007` and
`mock-auth`, a BMAD story `1-2-user-login` to `1.2`. More than one match is an error listing the
candidates; no match keeps CDD's messages (archived, did you mean) when the repository is CDD.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from exec_auto.errors import TicketNotFoundError
from exec_auto.formats.base import Format, LoadedTicket
from exec_auto.formats.bmad import Bmad
from exec_auto.formats.cdd.layout import Cdd
from exec_auto.formats.kiro import Kiro
from exec_auto.formats.openspec import OpenSpec
from exec_auto.formats.speckit import SpecKit
from exec_auto.formats.taskmaster import Taskmaster
from exec_auto.repo import find_root
from exec_auto.ticket.resolve import TicketRef, check_reference, resolve_ticket

FORMATS: tuple[Format, ...] = (Cdd(), SpecKit(), Kiro(), OpenSpec(), Taskmaster(), Bmad())
NAMES = tuple(f.name for f in FORMATS)


def get_format(name: str) -> Format:
    """The format called name; TicketNotFoundError naming the known ones otherwise."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise TicketNotFoundError(
        f"unknown ticket format {name!r}", hint="formats: " + ", ".join(NAMES)
    )


def format_of(ref: TicketRef) -> Format:
    """The format a ticket reference belongs to."""
    return get_format(ref.format)


def load_ticket(ref: TicketRef) -> LoadedTicket:
    """Read the ticket with its own format."""
    return format_of(ref).load(ref)


def detected(root: Path) -> list[Format]:
    """The formats whose files are in the repository."""
    return [f for f in FORMATS if f.detect(root)]


def all_tickets(root: Path, only: str | None = None) -> list[TicketRef]:
    """Every ticket of every detected format (or of the one forced)."""
    formats = [get_format(only)] if only else detected(root)
    return [t for f in formats for t in f.list_tickets(root)]


def aliases(ref: TicketRef) -> set[str]:
    """The names a ticket answers to besides its own."""
    names = {ref.name}
    match = re.match(r"^(\d+)-(\d+)-(.+)$", ref.name)
    if match:  # BMAD story files: 1-2-slug
        names |= {
            f"{int(match.group(1))}.{int(match.group(2))}",
            f"{match.group(1)}-{match.group(2)}",
        }
    match = re.match(r"^(\d+\.\d+)\.story$", ref.name)
    if match:  # BMAD v4 story files: 1.2.story
        names.add(match.group(1))
    match = re.match(r"^(\d+)-([A-Za-z].*)$", ref.name)
    if match:  # spec-kit features: 007-slug
        names |= {match.group(1), match.group(2)}
    return names


def label(ref: TicketRef) -> str:
    """'speckit:007-mock-auth (specs/007-mock-auth)' — how candidates are listed."""
    return f"{ref.format}:{ref.name} ({ref.rel_dir})"


def resolve(
    text: str, cwd: Path, *, allow_archived: bool = False, only: str | None = None
) -> TicketRef:
    """The one ticket text names; TicketNotFoundError (ambiguity lists the candidates)."""
    root = find_root(cwd)
    ref = text.strip().rstrip("/")
    if only is None and ":" in ref and ref.split(":", 1)[0] in NAMES:
        only, ref = ref.split(":", 1)
    if only is not None:
        get_format(only)
    if not ref:
        raise TicketNotFoundError("empty ticket name", hint="run `exec-auto list` to see tickets")
    # A name no folder can have (too long, control characters) is refused before any lookup.
    check_reference(ref)
    formats = [get_format(only)] if only else detected(root)
    candidate_path = Path(ref) if Path(ref).is_absolute() else cwd / ref
    if (
        "/" in ref
        or ref in {".", ".."}
        or (candidate_path.exists() and ref.endswith((".md", ".json", ".yaml", ".yml")))
    ):
        for fmt in formats or FORMATS:
            if fmt.name == "cdd":
                continue
            owned = fmt.owns(candidate_path, root)
            if owned is not None:
                return owned
        if only in (None, "cdd"):
            return resolve_ticket(ref, cwd, allow_archived=allow_archived)
        raise TicketNotFoundError(
            f"{ref!r} is not a {only} ticket",
            path=root,
            hint=f"run `exec-auto list --format {only}`",
        )
    tickets = [t for f in formats for t in f.list_tickets(root)]
    exact = [t for t in tickets if t.name == ref]
    matches = exact or [t for t in tickets if ref in aliases(t)]
    if len(matches) > 1 and all(t.format == "cdd" and t.name == ref for t in matches):
        # One CDD name, active and archived: CDD's own rules pick (archive takes the active one,
        # restore the archived one).
        return resolve_ticket(ref, cwd, allow_archived=allow_archived)
    if len(matches) > 1:
        active = [t for t in matches if not t.archived]
        if len(active) == 1 and not allow_archived:
            matches = active
    if len(matches) > 1:
        raise TicketNotFoundError(
            f"{ref!r} names {len(matches)} tickets: " + "; ".join(label(t) for t in matches),
            path=root,
            hint="qualify it as FORMAT:NAME, or pass --format",
        )
    if matches:
        found = matches[0]
        if found.format == "cdd":
            return resolve_ticket(found.name, cwd, allow_archived=allow_archived)
        if found.archived and not allow_archived:
            raise TicketNotFoundError(
                f"ticket {label(found)} is archived", hint="archived tickets are not run again"
            )
        return found
    if only == "cdd" or (only is None and all(f.name == "cdd" for f in formats)):
        # A CDD-only repository keeps CDD's own messages (did you mean, archived, ...).
        return resolve_ticket(ref, cwd, allow_archived=allow_archived)
    names = sorted({n for t in tickets for n in aliases(t)})
    close = difflib.get_close_matches(ref, names, n=3, cutoff=0.5)
    raise TicketNotFoundError(
        f"no ticket {ref!r}" + (f" in format {only}" if only else ""),
        path=root,
        hint=("did you mean: " + ", ".join(close))
        if close
        else "run `exec-auto list` to see the tickets",
    )
