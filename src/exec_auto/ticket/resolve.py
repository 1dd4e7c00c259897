"""Resolve what the user typed (a name, a path to plan.md/spec.yaml or the folder) to a ticket."""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from exec_auto.errors import TicketNotFoundError
from exec_auto.names import NAME_MAX
from exec_auto.repo import find_root

TICKETS = Path("specs") / "tickets"
ARCHIVE = Path("specs") / "archive"
TICKET_FILES = ("plan.md", "spec.yaml", "progress.yaml")


@dataclass(frozen=True)
class TicketRef:
    """A ticket of some format: by default a CDD folder, active (specs/tickets) or archived.

    Other formats set `format`, `source` (their own folder or file) and `home`, the folder under
    the repository's exec-auto state that holds progress.yaml and the reports for them.
    """

    name: str
    root: Path
    archived: bool = False
    format: str = "cdd"
    source: Path | None = None
    home: Path | None = None

    @property
    def dir(self) -> Path:
        """The folder holding progress.yaml and the reports (the ticket folder for CDD)."""
        if self.home is not None:
            return self.home
        if self.source is not None:
            return state_home(self.root, self.format, self.name)
        return self.root / (ARCHIVE if self.archived else TICKETS) / self.name

    @property
    def location(self) -> Path:
        """The format's own folder or file (CDD: the ticket folder)."""
        return self.source if self.source is not None else self.dir

    @property
    def plan_path(self) -> Path:
        """plan.md."""
        return self.dir / "plan.md"

    @property
    def spec_path(self) -> Path:
        """spec.yaml."""
        return self.dir / "spec.yaml"

    @property
    def progress_path(self) -> Path:
        """progress.yaml."""
        return self.dir / "progress.yaml"

    @property
    def rel_dir(self) -> str:
        """The format's folder or file relative to the project root, POSIX style."""
        if self.source is not None:
            return self.source.relative_to(self.root).as_posix()
        return (ARCHIVE if self.archived else TICKETS).joinpath(self.name).as_posix()

    @property
    def history_key(self) -> str:
        """The name of the ticket's snapshot store and step refs, unique across formats.

        CDD keeps the bare name (stores written before other formats existed still match); a
        spec-kit `001-auth` and a CDD `001-auth` in one repository get separate stores.
        """
        return self.name if self.format == "cdd" else f"{self.format}:{self.name}"

    def moved(self, archived: bool) -> TicketRef:
        """The same CDD ticket on the other side of an archive/restore."""
        return TicketRef(self.name, self.root, archived)


@functools.lru_cache(maxsize=256)
def state_home(root: Path, fmt: str, name: str) -> Path:
    """Where progress.yaml and reports of a format without its own progress file live."""
    from exec_auto.repo import state_dir

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "ticket"
    home = state_dir(root) / "tickets" / fmt / safe
    home.mkdir(parents=True, exist_ok=True)
    return home


def _names(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def active_tickets(root: Path) -> list[TicketRef]:
    """Every folder under specs/tickets."""
    return [TicketRef(n, root) for n in _names(root / TICKETS)]


def archived_tickets(root: Path) -> list[TicketRef]:
    """Every folder under specs/archive."""
    return [TicketRef(n, root, archived=True) for n in _names(root / ARCHIVE)]


def ticket_from_path(candidate: Path, root: Path) -> TicketRef | None:
    """A ticket from a path inside specs/tickets or specs/archive, else None."""
    folder = candidate.parent if candidate.name in TICKET_FILES else candidate
    folder = folder.resolve()
    for base, archived in ((root / TICKETS, False), (root / ARCHIVE, True)):
        base = base.resolve()
        if folder.parent == base:
            return TicketRef(folder.name, root, archived)
    return None


def resolve_ticket(ref: str, cwd: Path, *, allow_archived: bool = False) -> TicketRef:
    """Resolve ref from cwd (any subdirectory of the project); raise TicketNotFoundError with hints."""
    text = ref.strip().rstrip("/")
    if not text:
        raise TicketNotFoundError("empty ticket name", hint="run `exec-auto list` to see tickets")
    check_reference(text)
    root = find_root(cwd)
    try:
        return _resolve(text, root, cwd, allow_archived)
    except OSError as exc:
        raise TicketNotFoundError(
            f"cannot look up ticket {_short(text)}: {exc.strerror or exc}",
            path=root,
            hint="run `exec-auto list` to see the tickets",
        ) from None


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def check_reference(text: str) -> None:
    """Refuse a name no ticket folder can have, before any file-system call."""
    if "\0" in text or any(ord(c) < 32 for c in text):
        raise TicketNotFoundError(
            f"ticket name {_short(text)} contains control characters",
            hint="run `exec-auto list` to see the tickets",
        )
    try:
        parts = text.encode("utf-8").split(b"/")
    except UnicodeEncodeError:
        raise TicketNotFoundError(
            f"ticket name {_short(text)} is not valid text", hint="run `exec-auto list`"
        ) from None
    longest = max(len(part) for part in parts)
    if longest > NAME_MAX:
        raise TicketNotFoundError(
            f"ticket name {_short(text)} is {longest} bytes long; a folder name can have at most "
            f"{NAME_MAX}",
            hint="use the ticket's folder name under specs/tickets (`exec-auto list` shows them)",
        )


def _resolve(text: str, root: Path, cwd: Path, allow_archived: bool) -> TicketRef:
    looks_like_path = "/" in text or text.endswith((".md", ".yaml", ".yml")) or text in {".", ".."}
    if looks_like_path:
        candidate = Path(text) if Path(text).is_absolute() else cwd / text
        found = ticket_from_path(candidate, root)
        if found is None:
            raise TicketNotFoundError(
                f"{text!r} is not a ticket folder inside {TICKETS}/ or {ARCHIVE}/",
                path=root,
                hint="give a ticket name, or a path to specs/tickets/NAME[/plan.md|/spec.yaml]",
            )
    else:
        found = TicketRef(text, root)
    if found.archived or (not found.dir.is_dir() and found.moved(True).dir.is_dir()):
        archived = found.moved(True)
        if allow_archived:
            return archived
        raise TicketNotFoundError(
            f"ticket {found.name!r} is archived ({archived.rel_dir})",
            hint=f"restore it with: exec-auto restore {found.name}",
        )
    if not found.dir.is_dir():
        names = [t.name for t in active_tickets(root)]
        close = difflib.get_close_matches(found.name, names, n=3, cutoff=0.5)
        hint = (
            "did you mean: " + ", ".join(close)
            if close
            else "run `exec-auto list` to see the tickets"
        )
        raise TicketNotFoundError(f"no ticket {found.name!r} in {TICKETS}/", path=root, hint=hint)
    return found
