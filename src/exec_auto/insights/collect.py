"""Read the progress files of every active and archived ticket into lessons about this repository.

Only reads (never moves or repairs a file: `peek_progress`). Each lesson counts tickets and
steps, so one bad night does not read like a pattern: `MIN_TICKETS` tickets must agree before a
dependency or a step kind is called a pitfall.

Every run reads this history twice (the readiness gate, the prompt's pitfalls) and a YAML parse
costs tens of milliseconds a file, so parsed records are kept in `.git/exec-auto/history.json`,
keyed by each file's path, size, mtime, ctime and inode: a file that changed in any way is read
again, one changed less than `SETTLED_NS` ago is never cached. The cache is only ever a copy -
unreadable, from another version, or not writable, it is ignored and the files are read.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.readiness.kinds import step_kind
from exec_auto.readiness.rules import KindHistory
from exec_auto.ticket.model import Progress, ProgressIssue, StepProgress
from exec_auto.ticket.resolve import TicketRef, active_tickets, archived_tickets

TROUBLED_STATUSES = frozenset({"failed", "skipped", "completed_with_warning"})
# Issue types that are about the run, not about what a step did.
NOT_STEP_TROUBLE = frozenset({"budget_exhausted", "warning", "no_changes"})
_FIX_LINE = re.compile(r"^Fix attempt (\d+): gates (passed|still failing)")
_INSTALL = re.compile(
    r"(?:Failed to install|Missing module '[^']+' \(|still missing after installing) ?([\w.\-\[\]<>=!~, ]+)"
)


@dataclass(frozen=True)
class PastTicket:
    """One ticket's progress file, as the insights read it."""

    name: str
    archived: bool
    progress: Progress


@dataclass
class KindStats:
    """Steps of one kind across every past run."""

    kind: str
    steps: int = 0
    troubled: int = 0
    issue_types: Counter[str] = field(default_factory=Counter)
    fix_attempts: int = 0
    fixes_that_helped: int = 0
    decisions: int = 0


CACHE_NAME = "history.json"
_CACHE_SCHEMA = 1
# A file changed this recently may change again within one timestamp tick: never cached.
SETTLED_NS = 2_000_000_000
# path -> (identity, record): the same process reads the history twice per run.
_MEMO: dict[str, tuple[str, Progress]] = {}


def collect(root: Path, exclude: Iterable[str] = ()) -> list[PastTicket]:
    """Every readable progress.yaml under specs/tickets and specs/archive (except `exclude`)."""
    from exec_auto.ticket.progress import peek_progress

    skip = set(exclude)
    found = []
    cache = _Cache(root)
    refs: list[TicketRef] = [*active_tickets(root), *archived_tickets(root)]
    for ref in refs:
        path = ref.progress_path
        if not path.is_file():
            continue
        if ref.name in skip:
            cache.keep(path)
            continue
        key = _identity(path)
        progress = cache.get(path, key) if key is not None else None
        if progress is None:
            progress = peek_progress(path)
            if progress is not None and key is not None:
                cache.put(path, key, progress)
        if progress is not None:
            found.append(PastTicket(ref.name, ref.archived, progress))
    cache.save()
    return found


def _identity(path: Path) -> str | None:
    """size, mtime, ctime and inode of path; None when it changed too recently to be cached."""
    try:
        st = path.stat()
    except OSError:
        return None
    if max(st.st_mtime_ns, st.st_ctime_ns) > time.time_ns() - SETTLED_NS:
        return None
    return f"{st.st_size}-{st.st_mtime_ns}-{st.st_ctime_ns}-{st.st_ino}"


class _Cache:
    """Parsed progress records by path and identity, in exec-auto's state dir."""

    def __init__(self, root: Path) -> None:
        from exec_auto import __version__

        self.version = f"{_CACHE_SCHEMA}-{__version__}"
        self.file: Path | None = None
        self.entries: dict[str, dict[str, object]] = {}
        self.used: set[str] = set()
        self.changed = False
        try:
            from exec_auto.repo import state_dir

            self.file = state_dir(root) / CACHE_NAME
        except Exception:  # outside a repository, .git read-only...: read the files
            return
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("version") == self.version:
                entries = data.get("entries")
                self.entries = entries if isinstance(entries, dict) else {}

    def get(self, path: Path, key: str) -> Progress | None:
        """The cached record of path if the file is unchanged."""
        name = str(path)
        self.used.add(name)
        memo = _MEMO.get(name)
        if memo is not None and memo[0] == key:
            return memo[1]
        entry = self.entries.get(name)
        text = entry.get("json") if isinstance(entry, dict) and entry.get("key") == key else None
        if not isinstance(text, str):
            return None
        try:
            progress = Progress.model_validate_json(text)
        except ValueError:
            return None
        _MEMO[name] = (key, progress)
        return progress

    def keep(self, path: Path) -> None:
        """path still exists (left out of this read): its entry stays."""
        self.used.add(str(path))

    def put(self, path: Path, key: str, progress: Progress) -> None:
        """Remember a freshly read record."""
        name = str(path)
        self.used.add(name)
        self.entries[name] = {"key": key, "json": progress.model_dump_json()}
        _MEMO[name] = (key, progress)
        self.changed = True

    def save(self) -> None:
        """Write the cache when it gained or lost entries (never fails the caller)."""
        gone = set(self.entries) - self.used
        if self.file is None or not (self.changed or gone):
            return
        for name in gone:
            del self.entries[name]
        from exec_auto.atomicio import atomic_write_text

        with contextlib.suppress(OSError):
            text = json.dumps({"version": self.version, "entries": self.entries})
            atomic_write_text(self.file, text)


def step_issues(progress: Progress, step: StepProgress) -> list[ProgressIssue]:
    """The issues a step logged itself (not the run's own notes)."""
    return [
        i for i in progress.issues if i.step_id == step.step_id and i.type not in NOT_STEP_TROUBLE
    ]


def fix_outcomes(step: StepProgress) -> tuple[int, bool]:
    """(fix attempts the step made, whether the last one got the gates to pass)."""
    attempts, helped = 0, False
    for action in step.auto_actions:
        match = _FIX_LINE.match(action)
        if match:
            attempts = max(attempts, int(match.group(1)))
            helped = match.group(2) == "passed"
    return attempts, helped


def _decided_steps(progress: Progress) -> set[str]:
    return {d.step_id for d in progress.decisions}


def kind_stats(tickets: Iterable[PastTicket]) -> dict[str, KindStats]:
    """Per step kind: how many steps, how many had trouble, which issues, how fixes went."""
    stats: dict[str, KindStats] = {}
    for past in tickets:
        decided = _decided_steps(past.progress)
        for step in past.progress.implementation_steps:
            if step.status in ("pending", "in_progress") and not step.attempts:
                continue
            kind = step_kind(step.description)
            entry = stats.setdefault(kind, KindStats(kind))
            entry.steps += 1
            issues = step_issues(past.progress, step)
            serious = [i for i in issues if i.severity != "low"]
            if serious or step.status in ("failed", "skipped"):
                entry.troubled += 1
            entry.issue_types.update(i.type for i in serious)
            attempts, helped = fix_outcomes(step)
            entry.fix_attempts += attempts
            entry.fixes_that_helped += 1 if helped else 0
            entry.decisions += 1 if step.step_id in decided else 0
    return stats


def kind_history(tickets: Iterable[PastTicket]) -> dict[str, KindHistory]:
    """The readiness rules' view of the stats: kinds and how often they went wrong."""
    return {
        kind: KindHistory(
            kind=kind,
            steps=s.steps,
            troubled=s.troubled,
            issue_types=tuple(t for t, _ in s.issue_types.most_common(3)),
        )
        for kind, s in kind_stats(tickets).items()
    }


def failed_installs(tickets: Iterable[PastTicket]) -> Counter[str]:
    """Requirements that failed to install, by how many tickets they failed in."""
    counts: Counter[str] = Counter()
    for past in tickets:
        names = set()
        for issue in past.progress.issues:
            if issue.type != "dependency_error":
                continue
            match = _INSTALL.search(issue.description)
            if match:
                names.add(match.group(1).strip().rstrip(")").strip())
        counts.update(names)
    return counts
