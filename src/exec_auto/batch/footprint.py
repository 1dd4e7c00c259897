"""Which files a ticket will probably touch, predicted before it runs (for conflict planning).

Three sources, each recorded with the reason a path was predicted:

- **named**: paths the plan names (`src/app/log.py`, `README.md`, a dotted module `app.log`),
  matched against the repository's files; a path in an existing folder that does not exist yet
  counts too (two tickets creating the same new file collide);
- **imports**: the repository modules that the named Python files import (one level) — a ticket
  that edits `app/log.py` conflicts with one whose files import it;
- **history**: what earlier runs of similar tickets (archived tickets whose plan shares enough
  words) created, modified or deleted, from their report.json.

A prediction is a guess: a ticket can touch files its plan never names. The planner only uses
it to keep likely conflicts apart; merging still checks for real conflicts and runs the tests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.proc import git
from exec_auto.ticket.resolve import TicketRef, archived_tickets

# `path/to/file.ext`, `file.ext`, `pkg.module` — in backticks or bare words.
_PATHLIKE = re.compile(
    r"(?<![\w/.-])((?:[\w-]+/)*[\w.-]*[\w-]\.[A-Za-z0-9]{1,8}|(?:[\w-]+/)+[\w-]+)"
)
_WORD = re.compile(r"[a-z][a-z0-9_]{2,}")
# Words that say nothing about what a ticket is about.
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "into",
        "step",
        "steps",
        "add",
        "update",
        "make",
        "use",
        "new",
        "file",
        "files",
        "test",
        "tests",
        "implement",
        "implementation",
        "plan",
        "should",
        "must",
        "will",
        "all",
        "each",
        "when",
        "then",
        "code",
        "module",
        "function",
    ]
)
SIMILARITY = 0.3


@dataclass(frozen=True)
class Footprint:
    """A ticket's predicted edits and reads, with why each path was predicted."""

    ticket: str
    edits: frozenset[str]
    reads: frozenset[str] = frozenset()
    reasons: dict[str, str] = field(default_factory=dict, compare=False)

    def overlaps(self, other: Footprint) -> set[str]:
        """Paths that make the two tickets conflict: one edits what the other edits or reads."""
        return set(self.edits & (other.edits | other.reads)) | set(other.edits & self.reads)


def repo_files(root: Path) -> frozenset[str]:
    """Tracked files, relative to root (POSIX)."""
    out = git("ls-files", "-z", cwd=root).stdout
    return frozenset(p for p in out.split("\0") if p)


def _module_candidates(dotted: str) -> list[str]:
    base = dotted.replace(".", "/")
    return [f"{base}.py", f"{base}/__init__.py", f"src/{base}.py", f"src/{base}/__init__.py"]


def named_paths(text: str, files: frozenset[str]) -> set[str]:
    """Repository paths the text names (existing files, or new ones in existing folders)."""
    folders = {str(Path(f).parent) for f in files}
    by_name: dict[str, list[str]] = {}
    for f in files:
        by_name.setdefault(Path(f).name, []).append(f)
    found: set[str] = set()
    for match in _PATHLIKE.finditer(text):
        token = match.group(1).strip("./").removeprefix("./")
        if not token or token.startswith(("http", "www")):
            continue
        if token in files:
            found.add(token)
        elif "/" in token and (str(Path(token).parent) in folders) and "." in Path(token).name:
            found.add(token)  # a new file in an existing folder
        elif "/" not in token and len(by_name.get(token, [])) == 1:
            found.add(by_name[token][0])
        elif "/" not in token and token.count(".") >= 1:
            for candidate in _module_candidates(token.rsplit(".py", 1)[0]):
                if candidate in files:
                    found.add(candidate)
                    break
    return found


def imported_files(root: Path, paths: Iterable[str], files: frozenset[str]) -> set[str]:
    """Repository files the given Python files import (absolute and relative imports)."""
    out: set[str] = set()
    for rel in paths:
        if not rel.endswith(".py") or rel not in files:
            continue
        try:
            tree = ast.parse((root / rel).read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue
        package = Path(rel).parent
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = package
                    for _ in range(node.level - 1):
                        anchor = anchor.parent
                    stem = (anchor / (node.module or "").replace(".", "/")).as_posix().strip("./")
                    names = [stem.replace("/", ".")]
                    names += [f"{names[0]}.{a.name}" for a in node.names]
                else:
                    names = [node.module or ""]
                    names += [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                for candidate in _module_candidates(name):
                    if candidate in files and candidate != rel:
                        out.add(candidate)
                        break
    return out


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass(frozen=True)
class PastRun:
    """An earlier, archived run: the words of its plan and the files it touched."""

    ticket: str
    words: frozenset[str]
    touched: frozenset[str]


def past_runs(root: Path) -> list[PastRun]:
    """Archived tickets with a plan.md and a readable report.json."""
    from exec_auto.report import Report

    found = []
    for ticket in archived_tickets(root):
        try:
            plan = ticket.plan_path.read_text(encoding="utf-8", errors="replace")
            report = Report.model_validate_json((ticket.dir / "report.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        touched = {*report.files_created, *report.files_modified, *report.files_deleted}
        own = {p for p in touched if p.startswith("specs/")}
        found.append(PastRun(ticket.name, _words(plan), frozenset(touched - own)))
    return found


def plan_text(ticket: TicketRef) -> tuple[str, frozenset[str]]:
    """The ticket's plan as its format reads it (title, overview, steps), and the format's own files."""
    from exec_auto.errors import ExecAutoError
    from exec_auto.formats.registry import load_ticket

    try:
        loaded = load_ticket(ticket)
    except ExecAutoError:
        try:
            return ticket.plan_path.read_text(encoding="utf-8", errors="replace"), frozenset()
        except OSError:
            return "", frozenset()
    plan = loaded.plan
    parts = [plan.title, plan.overview, *(f"{s.title}\n{s.body}" for s in plan.steps)]
    return "\n".join(parts), frozenset(loaded.files)


def predict(
    ticket: TicketRef, files: frozenset[str], history: list[PastRun] | None = None
) -> Footprint:
    """The ticket's footprint from its plan, the imports of the files it names, and history."""
    text, own_files = plan_text(ticket)
    own = f"{ticket.rel_dir}/"
    reasons: dict[str, str] = {}
    edits = {p for p in named_paths(text, files) if not p.startswith(own) and p not in own_files}
    for path in edits:
        reasons[path] = "named in the plan"
    words = _words(text)
    for past in history or []:
        if past.ticket == ticket.name or _similarity(words, past.words) < SIMILARITY:
            continue
        for path in past.touched:
            if path not in edits:
                edits.add(path)
                reasons[path] = f"touched by similar ticket {past.ticket}"
    reads = imported_files(ticket.root, edits, files) - edits
    for path in reads:
        reasons[path] = "imported by a file the plan names"
    return Footprint(ticket.name, frozenset(edits), frozenset(reads), reasons)


def predict_all(tickets: list[TicketRef]) -> dict[str, Footprint]:
    """Footprints of every ticket of a batch (one file listing and one history read)."""
    if not tickets:
        return {}
    root = tickets[0].root
    files = repo_files(root)
    history = past_runs(root)
    return {t.name: predict(t, files, history) for t in tickets}
