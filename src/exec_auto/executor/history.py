"""Per-step history that cannot be lost: every step's tree as a commit on a private ref.

Each run of a ticket gets `refs/exec-auto/<ticket>/<run>/base` (the commit the run started from,
plus any uncommitted changes present at the start) and `.../step-<id>` per finished step, whose
parent is the previous step's commit (or the base). The refs live in the ticket's snapshot store
(`executor.snapshot`), not among the user's refs: they survive worktree and branch removal, kills and
restarts, and never show up in `git branch`, `git log --all` or the user's `git gc`.

Intermediate snapshots (each fix attempt) sit under `.../attempts/` and are dropped when the ticket
is archived, and so is the content of large files no run's final tree kept (`executor.compact`);
step refs stay until `exec-auto prune` removes an archived ticket's store.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.executor.snapshot import Snapshot, SnapshotStore, all_stores, safe_name
from exec_auto.proc import run
from exec_auto.ticket.model import TicketProgress

REF_ROOT = "refs/exec-auto"
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "exec-auto",
    "GIT_AUTHOR_EMAIL": "exec-auto@localhost",
    "GIT_COMMITTER_NAME": "exec-auto",
    "GIT_COMMITTER_EMAIL": "exec-auto@localhost",
}
# Trailers in a step commit's message: what the report needs without reading progress.yaml.
STEP_TRAILER = "Exec-Auto-Step"
STATUS_TRAILER = "Exec-Auto-Status"


class HistoryError(ExecAutoError):
    """No recorded history matches what was asked for."""


def run_id(started_at: str | None) -> str:
    """A run's ref component before 0.2 recorded one: its start time ('...T06:52:09Z' -> '...T065209')."""
    stamp = re.sub(r"[^0-9T]", "", started_at or "")[:15]
    return stamp or "run"


def new_run_id(started_at: str | None) -> str:
    """A fresh run's id: its start time (so runs sort by it) and a random part (so none collide).

    Two runs of one ticket started in the same second (the main tree and a linked worktree share
    the snapshot store) would otherwise write one history.
    """
    return f"{run_id(started_at)}-{secrets.token_hex(4)}"


def recorded_run_id(ticket: TicketProgress) -> str:
    """The run id progress.yaml records; a file without one keeps its start-time id (and gets it)."""
    if not ticket.run_id:
        ticket.run_id = run_id(ticket.started_at)
    return ticket.run_id


@dataclass(frozen=True)
class StepCommit:
    """One recorded step: its ref, commit, parent commit and what the commit message says."""

    ticket: str
    run: str
    step_id: str
    ref: str
    commit: str
    parent: str
    title: str
    status: str


@dataclass(frozen=True)
class RunHistory:
    """The recorded steps of one run, in the order they were recorded."""

    ticket: str
    run: str
    base: str
    steps: tuple[StepCommit, ...]

    def step(self, step_id: str) -> StepCommit | None:
        """The recorded step with this id, if any."""
        return next((s for s in self.steps if s.step_id == step_id), None)

    @property
    def tip(self) -> str:
        """The last step's commit (the base when no step was recorded)."""
        return self.steps[-1].commit if self.steps else self.base


class StepHistory:
    """Writes one run's refs: the base at the start, one commit per finished step."""

    def __init__(self, store: SnapshotStore, run: str, step_ids: Sequence[str]):
        self.store = store.ensure()
        self.run = run
        self.step_ids = tuple(step_ids)
        self.prefix = f"{REF_ROOT}/{safe_name(store.ticket)}/{safe_name(run)}"
        self._known: dict[str, str] | None = None

    def step_ref(self, step_id: str) -> str:
        """The ref of a step of this run."""
        return f"{self.prefix}/step-{safe_name(step_id)}"

    def _resolve(self, ref: str) -> str | None:
        found = self.store.try_git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
        return found.stdout.strip() if found.ok and found.stdout.strip() else None

    def _commit(self, tree: str, parent: str | None, message: str) -> str:
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args += ["-p", parent]
        return self.store.git(*args, env=_IDENTITY).strip()

    def _set(self, ref: str, commit: str) -> None:
        self.store.set_ref(ref, commit)

    def _load(self) -> dict[str, str]:
        """This run's refs (leaf name -> commit), read once; kept current by this process after."""
        if self._known is None:
            self._known = {
                ref.rsplit("/", 1)[-1]: commit
                for ref, commit in _refs(self.store, f"{self.prefix}/")
                if "/attempts/" not in ref
            }
        return self._known

    def begin(self, start: Snapshot) -> str:
        """The run's base commit: recorded once, kept as it is on every resume."""
        known = self._load()
        if "base" in known:
            return known["base"]
        head = self.store.root_head()
        head_tree = self._resolve_tree(head) if head else None
        if head and head_tree == start.tree:
            base = head
        else:
            # Uncommitted changes at the start belong to the base, not to step 1's diff.
            base = self._commit(
                start.tree,
                head,
                f"exec-auto: {self.store.ticket} run {self.run} started"
                + (" (with uncommitted changes)" if head else " (no commit yet)"),
            )
        if head:
            self.store.add_boundary(head)
        self._set(f"{self.prefix}/base", base)
        known["base"] = base
        return base

    def _resolve_tree(self, commit: str) -> str | None:
        found = self.store.try_git("rev-parse", "--verify", "-q", f"{commit}^{{tree}}")
        return found.stdout.strip() if found.ok else None

    def parent_of(self, step_id: str) -> str:
        """The commit a step builds on: the nearest earlier recorded step, else the base."""
        known = self._load()
        earlier = self.step_ids[: self.step_ids.index(step_id)] if step_id in self.step_ids else ()
        for previous in reversed(earlier):
            commit = known.get(f"step-{safe_name(previous)}")
            if commit:
                return commit
        if "base" not in known:
            raise HistoryError(f"run {self.run} of {self.store.ticket} has no base ref")
        return known["base"]

    def record_step(self, step_id: str, title: str, status: str, end: Snapshot) -> str:
        """Keep a finished step's tree as a commit on its ref (overwriting an interrupted attempt)."""
        message = (
            f"exec-auto: {self.store.ticket} step {step_id}: {title}\n\n"
            f"{STEP_TRAILER}: {step_id}\n{STATUS_TRAILER}: {status}\n"
        )
        commit = self._commit_on_chain(step_id, end.tree, message)
        self._set(self.step_ref(step_id), commit)
        self._load()[f"step-{safe_name(step_id)}"] = commit
        return commit

    def record_attempt(self, step_id: str, label: str, snap: Snapshot) -> str:
        """Keep an intermediate snapshot (e.g. after a fix attempt) until the ticket is archived."""
        ref = f"{self.prefix}/attempts/step-{safe_name(step_id)}-{safe_name(label)}"
        commit = self._commit_on_chain(step_id, snap.tree, f"{step_id}: {label}")
        self._set(ref, commit)
        return commit

    def _commit_on_chain(self, step_id: str, tree: str, message: str) -> str:
        """A commit of tree on the step's parent; a new chain when the store was deleted.

        The agent (outside a sandbox) may delete `.git/exec-auto`: the earlier steps' commits are
        gone with the store, so the chain starts again from the work tree's HEAD.
        """
        try:
            return self._commit(tree, self.parent_of(step_id), message)
        except ExecAutoError:
            if self._chain_intact():
                raise
        self.store.ensure()
        head = self.store.root_head()
        if head:
            self.store.add_boundary(head)
            base = head
        else:
            base = self._commit(_EMPTY_TREE, None, f"exec-auto: {self.store.ticket} (history lost)")
        self._set(f"{self.prefix}/base", base)
        self._known = {"base": base}
        return self._commit(tree, base, message)

    def _chain_intact(self) -> bool:
        """Whether every commit this run recorded is still in the store."""
        return all(
            self.store.try_git("cat-file", "-e", f"{commit}^{{commit}}").ok
            for commit in self._load().values()
        )


# -- reading ---------------------------------------------------------------------------------


def _refs(store: SnapshotStore, pattern: str) -> list[tuple[str, str]]:
    out = store.try_git("for-each-ref", "--format=%(refname) %(objectname)", pattern)
    if not out.ok:
        return []
    return [tuple(line.split(" ", 1)) for line in out.stdout.splitlines() if " " in line]  # type: ignore[misc]


def _trailers(message: str) -> dict[str, str]:
    found = {}
    for line in message.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith("Exec-Auto-"):
            found[key] = value.strip()
    return found


def runs(root: Path, ticket: str) -> list[RunHistory]:
    """Every recorded run of a ticket, oldest first (empty when nothing was recorded)."""
    store = SnapshotStore(root, ticket)
    if not store.exists():
        return []
    prefix = f"{REF_ROOT}/{safe_name(ticket)}/"
    bases: dict[str, str] = {}
    step_refs: list[tuple[str, str, str]] = []
    for ref, commit in _refs(store, prefix):
        rest = ref[len(prefix) :].split("/")
        if len(rest) != 2:
            continue  # attempts/... and anything unknown
        run, leaf = rest
        if leaf == "base":
            bases[run] = commit
        elif leaf.startswith("step-"):
            step_refs.append((run, ref, commit))
    shown = _show_commits(store, {commit for _, _, commit in step_refs})
    steps: dict[str, list[StepCommit]] = {}
    for run, ref, commit in step_refs:
        steps.setdefault(run, []).append(
            _step_commit(store, ticket, run, ref, commit, shown.get(commit))
        )
    out = []
    for run in sorted(bases):
        recorded = _in_order(store, steps.get(run, []), bases[run])
        out.append(RunHistory(ticket, run, bases[run], tuple(recorded)))
    return out


def _show_commits(store: SnapshotStore, commits: set[str]) -> dict[str, str]:
    """`%P%n%B` of each commit, read by one git call (a commit missing from it is read alone)."""
    if not commits:
        return {}
    listed = store.try_git("show", "-s", "--format=%H%n%P%n%B%x00", *sorted(commits))
    found: dict[str, str] = {}
    if listed.ok:
        for entry in listed.stdout.split("\0"):
            commit, _, rest = entry.lstrip("\n").partition("\n")
            if commit in commits:
                found[commit] = rest
    return found


def _in_order(store: SnapshotStore, steps: list[StepCommit], base: str) -> list[StepCommit]:
    """The steps of a run in the order they were recorded (each builds on an earlier one).

    The parent links give the order when they chain up to the base; otherwise git counts.
    """
    by_commit = {s.commit: s for s in steps}
    depth: dict[str, int] = {}

    def chain(commit: str) -> int | None:
        seen = []
        while commit not in depth:
            if commit == base:
                depth[commit] = 0
                break
            step = by_commit.get(commit)
            if step is None or commit in seen:
                return None
            seen.append(commit)
            commit = step.parent
        for n, walked in enumerate(reversed(seen), 1):
            depth[walked] = depth[commit] + n
        return depth[seen[0]] if seen else depth[commit]

    known = {s.commit: chain(s.commit) for s in steps}
    if any(d is None for d in known.values()):
        return sorted(steps, key=lambda s: _depth(store, s.commit, base))
    return sorted(steps, key=lambda s: known[s.commit] or 0)


def _step_commit(
    store: SnapshotStore, ticket: str, run: str, ref: str, commit: str, shown: str | None = None
) -> StepCommit:
    if shown is None:
        shown = store.git("show", "-s", "--format=%P%n%B", commit)
    parents, _, message = shown.partition("\n")
    trailers = _trailers(message)
    subject = message.splitlines()[0] if message else ""
    step_id = trailers.get(STEP_TRAILER, ref.rsplit("/step-", 1)[-1])
    title = subject.split(": ", 2)[-1] if subject.count(": ") >= 2 else subject
    return StepCommit(
        ticket=ticket,
        run=run,
        step_id=step_id,
        ref=ref,
        commit=commit,
        parent=parents.split()[0] if parents.split() else "",
        title=title,
        status=trailers.get(STATUS_TRAILER, ""),
    )


def _depth(store: SnapshotStore, commit: str, base: str) -> int:
    """How many commits lie between base and commit (orders the steps of one run)."""
    counted = store.try_git("rev-list", "--count", commit, f"^{base}")
    return int(counted.stdout.strip()) if counted.ok and counted.stdout.strip().isdigit() else 0


def latest_run(root: Path, ticket: str, run: str | None = None) -> RunHistory:
    """The named run of a ticket, or its latest; HistoryError when there is none."""
    found = runs(root, ticket)
    if run is not None:
        found = [r for r in found if r.run == run]
    if not found:
        what = f"run {run} of {ticket}" if run else ticket
        raise HistoryError(
            f"no step history recorded for {what}",
            hint="step history is kept from exec-auto 0.2 on; `exec-auto prune --dry-run` lists what is kept",
        )
    return found[-1]


def diff(
    root: Path,
    ticket: str,
    step_id: str | None = None,
    *,
    run: str | None = None,
    stat: bool = False,
) -> str:
    """The patch of one step (vs the previous one), or of the whole run (base to the last step)."""
    history = latest_run(root, ticket, run)
    if step_id is None:
        start, end = history.base, history.tip
    else:
        step = history.step(step_id)
        if step is None:
            known = ", ".join(s.step_id for s in history.steps) or "none"
            raise HistoryError(
                f"step {step_id} of {ticket} (run {history.run}) has no recorded snapshot",
                hint=f"recorded steps: {known}",
            )
        start, end = step.parent, step.commit
    store = SnapshotStore(root, ticket)
    args = ["diff", "--no-renames", "--no-color"]
    args += ["--stat"] if stat else ["--binary"]
    return store.git(*args, start, end)


def numstat(root: Path, ticket: str, start: str, end: str) -> list[tuple[int, int, str]]:
    """(added, deleted, path) per file between two commits of a ticket's store (binary: 0, 0)."""
    out = SnapshotStore(root, ticket).git("diff", "--no-renames", "--numstat", "-z", start, end)
    rows = []
    for entry in out.split("\0"):
        parts = entry.split("\t")
        if len(parts) == 3:
            added, deleted, path = parts
            rows.append(
                (
                    int(added) if added.isdigit() else 0,
                    int(deleted) if deleted.isdigit() else 0,
                    path,
                )
            )
    return rows


# -- archive and prune -----------------------------------------------------------------------


def drop_attempts(root: Path, ticket: str, *, prune: bool = True) -> int:
    """At archive: delete a ticket's intermediate snapshots and free what only they used.

    prune=False leaves the freeing to the caller (`executor.compact` prunes once for both).
    """
    store = SnapshotStore(root, ticket)
    if not store.exists():
        return 0
    doomed = [
        ref for ref, _ in _refs(store, f"{REF_ROOT}/{safe_name(ticket)}/") if "/attempts/" in ref
    ]
    _delete_refs(store, doomed)
    if prune:
        store.prune_unreachable()
    return len(doomed)


def _delete_refs(store: SnapshotStore, refs: Sequence[str]) -> None:
    if refs:
        store.git("update-ref", "--stdin", input_text="".join(f"delete {r}\n" for r in refs))


@dataclass(frozen=True)
class PruneCandidate:
    """A ticket's store that `prune` would remove, and why."""

    ticket: str
    path: Path
    refs: tuple[str, ...]
    size_bytes: int


def store_ticket(root: Path, path: Path) -> str:
    """The ticket a store belongs to (recorded in its config; else the folder name)."""
    found = run(
        ["git", "--git-dir", str(path), "config", "--get", "exec-auto.ticket"], cwd=root, timeout=30
    )
    name = found.stdout.strip() if found.ok else ""
    return name or path.name.removesuffix(".git")


def prune_candidates(root: Path, active: set[str]) -> list[PruneCandidate]:
    """Stores of tickets that are not active (archived, or gone): what `prune` removes."""
    out = []
    for path in all_stores(root):
        name = store_ticket(root, path)
        store = SnapshotStore(root, name)
        if store.path != path:
            continue  # a store whose name does not round-trip: never guess, leave it alone
        if name in active:
            continue
        refs = tuple(ref for ref, _ in _refs(store, f"{REF_ROOT}/"))
        out.append(PruneCandidate(name, path, refs, store.size_bytes()))
    return out
