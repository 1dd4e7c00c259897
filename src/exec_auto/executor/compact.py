"""At archive: large files a run wrote and deleted again leave its step history, a note in their place.

Every step's tree is a commit in the ticket's snapshot store, so a 200 MB file the agent wrote in
step 1 and deleted in step 2 would stay there until `exec-auto prune`. When the ticket is archived,
each blob larger than `history.keep_bytes` that the steps added (not in the run's base) and that no
run's final tree still has is replaced, in every step commit holding it, by a small text blob naming
the file and its size. The commits are rewritten parents first with the same message, trailers,
author and dates; the refs move in one transaction, then the store drops what nothing reaches.
`exec-auto diff` and the review page keep working and show the note instead of the content.

A kill at any moment is safe: until the refs move the old history is intact (the new objects are
unreachable and go at the next prune); after, the new one is complete.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from exec_auto.executor.history import RunHistory, drop_attempts, runs
from exec_auto.executor.snapshot import SnapshotStore
from exec_auto.repo import state_dir


@dataclass(frozen=True)
class DroppedFile:
    """A file's content that left the step history: its path, size and the first run that had it."""

    run: str
    path: str
    size: int


@dataclass(frozen=True)
class Compacted:
    """What archiving freed in a ticket's step history."""

    attempts: int
    dropped: tuple[DroppedFile, ...]

    @property
    def dropped_bytes(self) -> int:
        """The dropped contents' sizes added up (each path and content once)."""
        return sum(d.size for d in self.dropped)


def compact_at_archive(root: Path, ticket: str, keep_bytes: int) -> Compacted:
    """Drop the fix attempts' snapshots and the large files no final tree has; free their space."""
    attempts = drop_attempts(root, ticket, prune=False)
    store = SnapshotStore(root, ticket)
    if not store.exists():
        return Compacted(attempts, ())
    dropped = drop_large_files(store, runs(root, ticket), keep_bytes)
    store.prune_unreachable()
    return Compacted(attempts, tuple(dropped))


def dropped_line(freed: Compacted) -> str:
    """One line for the console: which large files left the step history."""
    names = ", ".join(f"{d.path} ({d.size / 1e6:.1f} MB)" for d in freed.dropped[:5])
    more = f" and {len(freed.dropped) - 5} more" if len(freed.dropped) > 5 else ""
    return (
        f"Dropped {len(freed.dropped)} large file(s) no final tree kept from the step history "
        f"({freed.dropped_bytes / 1e6:.1f} MB freed): {names}{more}"
    )


def placeholder_text(path: str, size: int, keep_bytes: int) -> str:
    """What a dropped file's content becomes in the step history."""
    return (
        "[exec-auto] This file was dropped from the step history when the ticket was archived.\n"
        f"path: {path}\n"
        f"size: {size} bytes (more than history.keep_bytes = {keep_bytes}), "
        "not in the final tree\n"
    )


def drop_large_files(
    store: SnapshotStore, histories: Iterable[RunHistory], keep_bytes: int
) -> list[DroppedFile]:
    """Rewrite the runs' step commits without their large dropped files; move the refs (no prune)."""
    histories = [h for h in histories if h.steps]
    # A blob some run still has at its end is in the user's tree (or was): never dropped.
    finals = [f"^{h.tip}^{{tree}}" for h in histories]
    rewriter = _Rewriter(store, keep_bytes)
    moves: list[tuple[str, str, str]] = []
    for history in histories:
        tips = sorted({s.commit for s in history.steps})
        large = rewriter.large_blobs([*tips, f"^{history.base}", *finals])
        if not large:
            continue
        order = store.git("rev-list", "--reverse", "--topo-order", *tips, f"^{history.base}")
        mapping: dict[str, str] = {}
        for commit in order.split():
            mapping[commit] = rewriter.rewrite(commit, large, mapping, history.run)
        moves += [(s.ref, mapping[s.commit], s.commit) for s in history.steps]
    changed = [(ref, new, old) for ref, new, old in moves if new != old]
    if changed:
        # One transaction: every ref of the ticket moves, or none does.
        lines = "".join(f"update {ref} {new} {old}\n" for ref, new, old in changed)
        store.git("update-ref", "--stdin", input_text=lines)
    return rewriter.dropped


class _Rewriter:
    """Rewrites commits of one store, remembering trees and placeholders across runs."""

    def __init__(self, store: SnapshotStore, keep_bytes: int):
        self.store = store
        self.keep_bytes = keep_bytes
        self.sizes: dict[str, int] = {}
        self.dropped: list[DroppedFile] = []
        self._trees: dict[str, str] = {}
        self._notes: dict[tuple[str, str], str] = {}
        self._index = state_dir(store.root) / f"snapshot-index-{os.getpid()}-archive"

    def large_blobs(self, revisions: list[str]) -> set[str]:
        """Blobs over keep_bytes reachable from the positive revisions and none of the negative."""
        listed = self.store.git(
            "rev-list",
            "--objects",
            f"--filter=blob:limit={self.keep_bytes + 1}",
            "--filter-print-omitted",
            *revisions,
        )
        found = {line[1:].strip() for line in listed.splitlines() if line.startswith("~")}
        unknown = sorted(found - set(self.sizes))
        if unknown:
            checked = self.store.git(
                "cat-file",
                "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                input_text="".join(f"{b}\n" for b in unknown),
            )
            for line in checked.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[1] == "blob":
                    self.sizes[parts[0]] = int(parts[2])
        return {b for b in found if self.sizes.get(b, 0) > self.keep_bytes}

    def rewrite(self, commit: str, large: set[str], mapping: dict[str, str], run: str) -> str:
        """commit with its tree cleaned and its parents mapped (itself when nothing changes)."""
        raw = self.store.git("cat-file", "commit", commit)
        header, sep, message = raw.partition("\n\n")
        lines = header.split("\n")
        out = []
        for line in lines:
            key, _, value = line.partition(" ")
            if key == "tree":
                line = f"tree {self._clean_tree(value, large, run)}"
            elif key == "parent":
                line = f"parent {mapping.get(value, value)}"
            out.append(line)
        if out == lines:
            return commit
        text = "\n".join(out) + sep + message
        return self.store.git(
            "hash-object", "-t", "commit", "-w", "--stdin", input_text=text
        ).strip()

    def _clean_tree(self, tree: str, large: set[str], run: str) -> str:
        """tree with each large blob replaced by its placeholder (same path, same mode)."""
        if tree in self._trees:
            return self._trees[tree]
        listing = self.store.git("ls-tree", "-r", "-z", tree)
        entries = []
        for entry in listing.split("\0"):
            meta, _, path = entry.partition("\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == "blob" and parts[2] in large:
                entries.append((parts[0], parts[2], path))
        if not entries:
            self._trees[tree] = tree
            return tree
        env = {"GIT_INDEX_FILE": str(self._index)}
        try:
            self.store.git("read-tree", tree, env=env)
            info = "".join(
                f"{mode} {self._note(path, blob, run)}\t{path}\0" for mode, blob, path in entries
            )
            self.store.git("update-index", "-z", "--index-info", env=env, input_text=info)
            cleaned = self.store.git("write-tree", env=env).strip()
        finally:
            self._index.unlink(missing_ok=True)
        self._trees[tree] = cleaned
        return cleaned

    def _note(self, path: str, blob: str, run: str) -> str:
        """The placeholder blob for one dropped file (written once)."""
        size = self.sizes[blob]
        key = (path, blob)
        if key not in self._notes:
            self.dropped.append(DroppedFile(run, path, size))
            text = placeholder_text(path, size, self.keep_bytes)
            self._notes[key] = self.store.git(
                "hash-object", "-w", "--stdin", input_text=text
            ).strip()
        return self._notes[key]
