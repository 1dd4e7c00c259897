"""What a step changed: git trees of the working directory, kept in a private object store.

A snapshot is the tree git would commit if every file (untracked included, ignored excluded) were
added — written through a temporary index copy, so the user's index, stash and working tree are
never touched. Two snapshots give created/modified/deleted files and a binary patch.

The objects a snapshot writes never go into the user's `.git/objects`: each ticket has its own bare
store, `<git-common-dir>/exec-auto/snapshots/<ticket>.git`, whose `objects/info/alternates` borrows
the repository's objects (so unchanged files cost nothing). The user's `git gc` never sees these
objects and a 200 MB file an agent wrote and deleted again is freed when the ticket is archived;
the store goes as a whole with `exec-auto prune`. Step history (refs) lives there too: see
`executor.history`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from exec_auto.atomicio import atomic_write_text
from exec_auto.errors import ExecAutoError
from exec_auto.proc import ProcResult, commands_started, run
from exec_auto.repo import common_dir, git_dir, state_dir
from exec_auto.ticket.model import FilesTouched

STORES = Path("exec-auto") / "snapshots"
# The store of snapshots taken outside any ticket run (tests, benchmarks, recordings).
SCRATCH_STORE = "_scratch"
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# git's empty tree: what a repository without a commit is compared with.
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Snapshot:
    """A tree object id for the working directory at one moment."""

    tree: str


def safe_name(text: str) -> str:
    """text as one path component of a git ref and a file name.

    Names that need changing get a hash suffix, so two different names never share a component.
    """
    name = _UNSAFE.sub("-", text).strip("-.").replace("..", "-")
    if name.endswith(".lock"):
        name = name[: -len(".lock")] + "-lock"
    if name != text or len(name) > 100:
        name = f"{name[:100] or 'x'}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
    return name


def _git(
    args: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> ProcResult:
    return run(
        ["git", *args],
        cwd=cwd,
        extra_env={**_GIT_ENV, **(env or {})},
        timeout=300,
        stdin_text=input_text,
    )


def _checked(result: ProcResult, args: Sequence[str], where: Path) -> str:
    if not result.ok:
        raise ExecAutoError(
            f"git {' '.join(args[:3])} failed: {result.stderr.strip()[:300]}",
            path=where,
            hint="check that the repository is healthy (`git status`)",
        )
    return result.stdout


def store_root(root: Path) -> Path:
    """Where every ticket's snapshot store lives."""
    return common_dir(root) / STORES


class SnapshotStore:
    """One ticket's bare object store and refs, borrowing the repository's objects."""

    def __init__(self, root: Path, ticket: str):
        self.root = root
        self.ticket = ticket
        common = common_dir(root)
        self.path = common / STORES / f"{safe_name(ticket)}.git"
        self.repo_objects = common / "objects"
        # `diff --name-status -M -z` of tree pairs: trees never change, so neither does this.
        self._renames: dict[tuple[str, str], str] = {}

    @property
    def objects(self) -> Path:
        """The store's own object directory."""
        return self.path / "objects"

    def exists(self) -> bool:
        """True once the store has been created."""
        return (self.path / "HEAD").is_file()

    def ensure(self) -> SnapshotStore:
        """Create the store if missing (idempotent; safe after a kill mid-creation)."""
        alternates = self.objects / "info" / "alternates"
        if self.exists() and alternates.is_file():
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        args = ("init", "--bare", "-q", str(self.path))
        _checked(_git(args, self.root), args, self.path)
        # gc.auto off: a background repack must never race a running step's loose objects.
        self.git("config", "gc.auto", "0")
        # The real name, for `prune` (the folder name may be a hashed, ref-safe form of it).
        self.git("config", "exec-auto.ticket", self.ticket)
        alternates.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(alternates, f"{self.repo_objects}\n")
        return self

    def write_env(self) -> dict[str, str]:
        """Environment for a git command in the work tree that must write objects here."""
        return {
            "GIT_OBJECT_DIRECTORY": str(self.objects),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(self.repo_objects),
        }

    def git(
        self, *args: str, env: Mapping[str, str] | None = None, input_text: str | None = None
    ) -> str:
        """Run git on the store; ExecAutoError when it fails."""
        full = ("--git-dir", str(self.path), *args)
        return _checked(_git(full, self.root, env, input_text), args, self.path)

    def set_ref(self, ref: str, commit: str) -> None:
        """Point ref (under refs/exec-auto/) at commit, durably.

        The store is exec-auto's own and its refs are loose files (git's "files" backend), so the
        ref is written the way git's `update-ref` writes it: `<ref>.lock` created exclusively,
        the id written, renamed over the ref. That spares a git process per step. Not fsynced,
        like git's own default: the commit it names is a loose object git did not fsync either.
        Anything else (a reftable store, a lock git holds, a name clashing with a folder) is left
        to `git update-ref` itself.
        """
        target = self.path / ref
        if (
            ref.startswith("refs/exec-auto/")
            and ".." not in ref
            and not (self.path / "reftable").exists()
        ):
            lock = target.with_name(target.name + ".lock")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except OSError:
                pass
            else:
                try:
                    with os.fdopen(fd, "w", encoding="ascii") as handle:
                        handle.write(f"{commit}\n")
                    os.replace(lock, target)
                    return
                except OSError:
                    lock.unlink(missing_ok=True)
        self.git("update-ref", ref, commit)

    def patches(self, pairs: Sequence[tuple[str, str]]) -> list[str]:
        """The patch of each (parent, commit) pair, from one git process (`diff-tree --stdin`).

        Plumbing, so the user's diff settings (noprefix, colour) never change the text. Each
        pair's output starts with its commit's id line (`--always`: also when the diff is empty).
        """
        if not pairs:
            return []
        listed = self.git(
            "diff-tree",
            "--stdin",
            "--always",
            "-r",
            "-p",
            "--no-renames",
            "--no-color",
            "-U3",
            input_text="".join(f"{commit} {parent}\n" for parent, commit in pairs),
        )
        found: list[list[str]] = []
        expected = iter(commit for _, commit in pairs)
        following = next(expected, None)
        for line in listed.splitlines(keepends=True):
            if following is not None and line.rstrip("\n") == following:
                found.append([])
                following = next(expected, None)
            elif found:
                found[-1].append(line)
        texts = ["".join(lines) for lines in found]
        return texts + [""] * (len(pairs) - len(texts))

    def name_status(self, before: str, after: str) -> str | None:
        """`git diff --name-status -M -z` between two trees (renames detected); None on failure.

        Kept per pair: a step's audit and its files-touched record ask for the same one.
        """
        known = self._renames.get((before, after))
        if known is None:
            found = self.try_git("diff", "--name-status", "-M", "-z", before, after)
            if not found.ok:
                return None
            known = self._renames[(before, after)] = found.stdout
        return known

    def root_head(self) -> str | None:
        """The commit the work tree has checked out (None before the first commit)."""
        found = _git(("rev-parse", "--verify", "-q", "HEAD^{commit}"), self.root)
        return found.stdout.strip() if found.ok and found.stdout.strip() else None

    def try_git(self, *args: str) -> ProcResult:
        """Run git on the store and return the result, failed or not."""
        return _git(("--git-dir", str(self.path), *args), self.root)

    def add_boundary(self, commit: str) -> None:
        """Treat a repository commit as parentless here, so walks (prune) stop at it.

        Step history chains onto the commit a run started from; without this boundary every
        `git prune` of the store would walk the repository's whole history.
        """
        shallow = self.path / "shallow"
        try:
            lines = shallow.read_text(encoding="utf-8").split()
        except FileNotFoundError:
            lines = []
        if commit not in lines:
            atomic_write_text(shallow, "".join(f"{c}\n" for c in [*lines, commit]))

    def size_bytes(self) -> int:
        """Disk space the store takes."""
        total = 0
        for dirpath, _, files in os.walk(self.path):
            for name in files:
                try:
                    total += (Path(dirpath) / name).lstat().st_size
                except OSError:
                    continue
        return total

    def prune_unreachable(self) -> None:
        """Drop objects no ref of this store reaches (call only while no run of the ticket is live)."""
        self.git("prune", "--expire=now")
        if any((self.objects / "pack").glob("*.pack")):
            # Files over core.bigFileThreshold were written straight into packs.
            self.git("repack", "-a", "-d", "-l", "-q")

    def remove(self) -> None:
        """Delete the store and everything in it."""
        shutil.rmtree(self.path, ignore_errors=True)


def all_stores(root: Path) -> list[Path]:
    """Every ticket's store in this repository, by name."""
    base = store_root(root)
    return sorted(p for p in base.glob("*.git") if (p / "HEAD").is_file()) if base.is_dir() else []


def show_file(root: Path, tree: str, path: str) -> str | None:
    """The text of path in a snapshot tree (any ticket's store), or None when it is not there."""
    stores = [str(p / "objects") for p in all_stores(root)]
    env = {"GIT_ALTERNATE_OBJECT_DIRECTORIES": os.pathsep.join(stores)} if stores else {}
    shown = _git(("show", f"{tree}:{path}"), root, env)
    return shown.stdout if shown.ok else None


class Snapshotter:
    """Takes snapshots of root into a ticket's store, leaving out exec-auto's own ticket folder."""

    def __init__(
        self,
        root: Path,
        exclude: Sequence[str] = (),
        ticket: str | None = None,
        *,
        renames: bool = False,
    ):
        self.root = root
        # changes() reads the rename-detecting diff the integrity audit needs anyway (one git
        # call for both) and splits each rename into a deletion and a creation.
        self.renames = renames
        # `git add` refuses an exclude pathspec naming an ignored path ("paths are ignored by one
        # of your .gitignore files"): a project ignoring specs/ would fail every snapshot. Such a
        # folder is dropped from the private index after the add instead (its files may still be
        # tracked, force-added).
        ignored = {p for p in exclude if _ignored(root, p)}
        self.exclude = tuple(p for p in exclude if p not in ignored)
        self._drop = tuple(sorted(ignored))
        self._git_dir = git_dir(root)
        self.store = SnapshotStore(root, ticket or SCRATCH_STORE).ensure()
        # Private index kept for the whole run: its stat cache spares re-hashing unchanged files,
        # untracked ones included, on every snapshot.
        scratch = state_dir(root)
        _remove_orphans(scratch)
        self._index = scratch / f"snapshot-index-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # Problems the run logs as issues (a store deleted mid-run); see drain_notes.
        self.notes: list[str] = []
        # Two trees' difference never changes: a step asks for the same pair more than once.
        self._changes: dict[tuple[str, str], FilesTouched] = {}
        # The private index's identity right after the last write-tree, and the tree written.
        self._written: tuple[tuple[int, int, int, int] | None, str] | None = None
        # The last snapshot and how many commands had been started then (see latest).
        self._last: tuple[Snapshot, int] | None = None

    def __enter__(self) -> Snapshotter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the private index."""
        self._index.unlink(missing_ok=True)

    def latest(self) -> Snapshot:
        """The last snapshot when nothing can have changed the tree since, else a new one.

        "Nothing" means no command started (agent, gate, tool: `proc.commands_started`) and no
        write of exec-auto's own (`wrote`). A step starts within milliseconds of the previous
        step's end snapshot, so this spares a scan of the whole tree per step; a person editing
        in that window is attributed to the next step, as edits during a step always are.
        """
        if self._last is not None and self._last[1] == commands_started():
            return self._last[0]
        return self.take()

    def wrote(self) -> None:
        """exec-auto itself changed files in the tree (a format's task list): snapshot again."""
        self._last = None

    def take(self) -> Snapshot:
        """Snapshot the working directory as a tree (its new objects land in the ticket's store)."""
        started = commands_started()
        snap = self._take()
        self._last = (snap, started)
        return snap

    def _take(self) -> Snapshot:
        # Recreated if something removed it mid-run (earlier snapshots are then gone with it).
        if not self.store.exists():
            self._written = None  # that tree went with the store: write it again
        self.store.ensure()
        real_index = self._git_dir / "index"
        # The agent may have deleted .git/exec-auto since the last snapshot.
        self._index.parent.mkdir(parents=True, exist_ok=True)
        kept_index = self._index.exists()
        if not kept_index and real_index.is_file():
            # Starting from the real index reuses its stat cache: only changed files are hashed.
            shutil.copyfile(real_index, self._index)
        env = {**self.store.write_env(), "GIT_INDEX_FILE": str(self._index)}
        pathspec = [".", *(f":(exclude){p}" for p in self.exclude)]
        # --ignore-errors: a tracked file replaced by a FIFO or socket ("can only add regular
        # files") must not stop the run; it keeps its last content in the snapshot, said once.
        # --verbose names every path it stages: none means the index holds what it held.
        add = ("add", "-A", "--ignore-errors", "--verbose", "--", *pathspec)
        added = _git(add, self.root, env)
        if not added.ok:
            if "fatal:" in added.stderr or not added.stderr.strip():
                _checked(added, add, self.root)
            for line in added.stderr.strip().splitlines():
                self.notes.append(
                    f"a file could not be snapshotted ({line.removeprefix('error: ')}); "
                    "its last content is what the step's diff shows"
                )
        if self._drop:
            drop = ("rm", "--cached", "-r", "-q", "--ignore-unmatch", "--", *self._drop)
            _checked(_git(drop, self.root, env), drop, self.root)
        elif kept_index and self._written is not None and not added.stdout.strip():
            # Nothing staged into the index of the last write-tree: the same tree (the start of
            # a step is usually the end of the one before). Spares a git process per step.
            return Snapshot(self._written[1])
        # git rewrites an index only when its entries change, always through a new file (a new
        # inode): the index file unchanged since the last write-tree means the same tree.
        if self._written is not None and self._written[0] == _identity(self._index) is not None:
            return Snapshot(self._written[1])
        tree = _checked(_git(("write-tree",), self.root, env), ("write-tree",), self.root).strip()
        self._written = (_identity(self._index), tree)
        return Snapshot(tree)

    def changes(self, before: Snapshot, after: Snapshot) -> FilesTouched:
        """Files created, modified and deleted between two snapshots."""
        touched = FilesTouched()
        if before.tree == after.tree:
            return touched
        known = self._changes.get((before.tree, after.tree))
        if known is not None:
            return known.model_copy(deep=True)
        found = self.store.name_status(before.tree, after.tree) if self.renames else None
        if found is not None:
            _split_renames(found, touched)
        else:
            out = self._diff(("--name-status", "--no-renames", "-z"), before, after)
            fields = out.split("\0")
            for status, path in zip(fields[0::2], fields[1::2], strict=False):
                if status.startswith("A"):
                    touched.created.append(path)
                elif status.startswith("D"):
                    touched.deleted.append(path)
                elif path:
                    touched.modified.append(path)
        self._changes[(before.tree, after.tree)] = touched.model_copy(deep=True)
        return touched

    def patch(self, before: Snapshot, after: Snapshot) -> str:
        """A binary-safe patch from before to after (for recordings)."""
        if before.tree == after.tree:
            return ""
        return self._diff(("--binary", "--no-renames"), before, after)

    def _diff(self, options: tuple[str, ...], before: Snapshot, after: Snapshot) -> str:
        """git diff of two snapshots; against the last commit when `before` was lost.

        The agent (outside a sandbox) may delete `.git/exec-auto`, and the snapshot store with
        it: a tree taken before that is gone. The step is then compared with HEAD (an
        over-estimate: uncommitted changes from before the step count too) and a note says so.
        """
        args = ("diff", *options, before.tree, after.tree)
        found = self.store.try_git(*args)
        if found.ok:
            return found.stdout
        if self.store.try_git("cat-file", "-e", f"{before.tree}^{{tree}}").ok:
            _checked(found, args, self.store.path)
        head = self.store.try_git("rev-parse", "--verify", "-q", "HEAD^{tree}")
        base = head.stdout.strip() if head.ok and head.stdout.strip() else _EMPTY_TREE
        self.notes.append(
            f"exec-auto's snapshot store ({self.store.path}) was deleted during the run; "
            "this step's changes are counted against the last commit instead"
        )
        return self.store.git("diff", *options, base, after.tree)

    def drain_notes(self) -> list[str]:
        """What went wrong with the snapshots since the last call (each said once)."""
        notes, self.notes = list(dict.fromkeys(self.notes)), []
        return notes


def _split_renames(name_status: str, touched: FilesTouched) -> None:
    """Fill touched from a `-M -z` name-status listing: a rename is a deletion plus a creation."""
    fields = name_status.split("\0")
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status[:1] in "RC":
            old, new = fields[i + 1], fields[i + 2]
            if status[:1] == "R":
                touched.deleted.append(old)
            touched.created.append(new)
            i += 3
            continue
        path = fields[i + 1]
        if status.startswith("A"):
            touched.created.append(path)
        elif status.startswith("D"):
            touched.deleted.append(path)
        else:
            touched.modified.append(path)
        i += 2
    # The order --no-renames gives: by path.
    for paths in (touched.created, touched.deleted, touched.modified):
        paths.sort()


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """A file's inode, size, mtime and ctime (None when it cannot be read)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _ignored(root: Path, path: str) -> bool:
    """Whether git ignores path in root's work tree."""
    return _git(("check-ignore", "-q", "--no-index", "--", path), root).returncode == 0


def _remove_orphans(scratch: Path) -> None:
    """Delete private indexes left by runs that were killed (their pid is gone)."""
    for path in scratch.glob("snapshot-index-*"):
        try:
            pid = int(path.name.split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except (ValueError, IndexError, PermissionError):
            continue
