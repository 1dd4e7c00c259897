"""The second layer, for every backend (sandboxed or not): the user's git state and files survive.

Before and after each agent call and gate run, `GitGuard.check` compares HEAD, the branch, the
index, the stash list, `.git/config` and `.git/hooks` with what they were, and the user's files
that were uncommitted or untracked when the run started with their start contents. What changed
is put back - config, hooks, the branch (agent commits are kept on a private ref and reported
with their ids and files; their changes stay in the work tree as the step's work), the index, and
every user file the agent deleted or reverted (`git reset --hard`, `clean -fdx`, `stash`,
`checkout`) - and reported as one high-severity finding per change.

A check costs no git process when nothing changed: each capture also records the identity (inode,
size, mtime, ctime) of the files git keeps that state in (HEAD, the index, the branch's ref,
packed-refs, the stash's ref and reflog). When none of them changed since a capture whose files
were all at least `_SETTLED_NS` old, the state is the same and is reused; otherwise git is asked.
A file rewritten later always gets a newer ctime (which no user call can set back), so a change
can never look like an unchanged file. Repositories storing refs in a reftable always ask git.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.proc import ProcResult, run

# A user file larger than this is only hashed: a loss is reported but cannot be undone.
MAX_SAVED_FILE_BYTES = 64 * 1024 * 1024
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
# A state file changed less than this before a capture may change again within the same
# timestamp tick: such a capture is never reused (well above any file system's time granularity).
_SETTLED_NS = 1_000_000_000
# Set in the environment, they make git read state from elsewhere: the guard then always asks git.
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE")
# (path, inode, size, mtime, ctime), or (path,) for a missing file.
FileId = tuple[str, ...] | tuple[str, int, int, int, int]


# exec-auto's own branches (batch worktrees make and merge them while a guard is active).
OWN_BRANCHES = ("refs/heads/exec-auto/",)


def _git(root: Path, *args: str) -> ProcResult:
    # Never inside a sandbox, never running hooks: this is exec-auto's own bookkeeping.
    return run(
        ["git", "-c", "core.hooksPath=/dev/null", *args],
        cwd=root,
        extra_env=_GIT_ENV,
        timeout=120,
        sandbox=None,
    )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blob_id(data: bytes, like: str | None) -> str:
    """git's object id for a blob with this content (sha1, or sha256 in a sha256 repository)."""
    header = f"blob {len(data)}\0".encode()
    algo = hashlib.sha256 if like is not None and len(like) == 64 else hashlib.sha1
    return algo(header + data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


@dataclass(frozen=True)
class GitState:
    """What the guard compares: refs, index, stash, config and hooks, as comparable values."""

    head: str | None
    branch: str | None
    index: str
    stash: tuple[str, ...]
    config: str | None
    hooks: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Change:
    """One thing about the repository that changed behind exec-auto's back, and what was done."""

    what: str
    details: str
    action: str


def _file_ids(paths: Iterable[Path], now_ns: int) -> tuple[FileId, ...] | None:
    """The identity of each file; None when one changed too recently to be compared by it."""
    ids: list[FileId] = []
    for path in paths:
        try:
            st = path.stat()
        except FileNotFoundError:
            ids.append((str(path),))
            continue
        except OSError:
            return None
        if max(st.st_ctime_ns, st.st_mtime_ns) > now_ns - _SETTLED_NS:
            return None
        ids.append((str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(ids)


@dataclass
class GitGuard:
    """Snapshots the repository's git state and the user's uncommitted work; restores and reports."""

    root: Path
    git_dir: Path
    # Repo-relative paths exec-auto itself writes (the ticket folder): never the user's files.
    exclude: tuple[str, ...] = ()
    _state: GitState | None = None
    _index_copy: bytes | None = None
    _config_copy: bytes | None = None
    _hooks_copy: dict[str, bytes] = field(default_factory=dict)
    # path -> (start digest, saved copy or None when too big, mode, digest of its HEAD version)
    _user_files: dict[str, tuple[str, Path | None, int, str | None]] = field(default_factory=dict)
    _backup: Path | None = None
    # Where refs shared by all worktrees live (packed-refs, refs/heads, the stash).
    common_dir: Path | None = None
    # The files the last full capture's state was read from, and that state (see the docstring).
    _ids: tuple[FileId, ...] | None = None
    _captured: GitState | None = None
    # How many captures asked git (the rest were answered from the file identities).
    git_captures: int = 0
    # Branches and tags (name -> id) at the last baseline, read from the ref files.
    _refs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls, root: Path, exclude: Iterable[str] = ()) -> GitGuard | None:
        """Take the start snapshot; None when root is not a git work tree."""
        found = _git(root, "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir")
        if not found.ok:
            return None
        lines = found.stdout.splitlines()
        git_dir = Path(lines[0].strip())
        common = Path(lines[1].strip()) if len(lines) > 1 and lines[1].strip() else git_dir
        guard = cls(root.resolve(), git_dir, tuple(exclude), common_dir=common)
        guard._state = guard.capture()
        guard._refs = guard._read_refs()
        guard._save_git_files()
        guard._save_user_files()
        return guard

    def baseline(self) -> None:
        """Take the current git state as the one to keep (exec-auto's own commits between calls).

        The user's files keep their start-of-run snapshot.
        """
        self._state = self.capture()
        self._refs = self._read_refs()
        self._hooks_copy = {}
        self._save_git_files()

    def close(self) -> None:
        """Remove the saved copies of the user's files."""
        if self._backup is not None:
            shutil.rmtree(self._backup, ignore_errors=True)

    @property
    def _shared(self) -> Path:
        """The directory config and hooks live in (a linked worktree shares the main one's)."""
        return self.common_dir or self.git_dir

    # -- snapshots ---------------------------------------------------------------------------

    def _read_refs(self) -> dict[str, str]:
        """Branches and tags (not exec-auto's own `exec-auto/` branches) from packed-refs and loose files."""
        refs: dict[str, str] = {}
        packed = _read(self._shared / "packed-refs") or b""
        for line in packed.decode("utf-8", "replace").splitlines():
            parts = line.split(" ", 1)
            if len(parts) == 2 and not line.startswith(("#", "^")):
                refs[parts[1].strip()] = parts[0]
        for top in ("refs/heads", "refs/tags"):
            base = self._shared / top
            for folder, _dirs, files in os.walk(base):
                for name in files:
                    path = Path(folder, name)
                    data = (_read(path) or b"").decode("utf-8", "replace").strip()
                    if data and not name.endswith(".lock"):
                        refs[path.relative_to(self._shared).as_posix()] = data
        return {k: v for k, v in refs.items() if not k.startswith(OWN_BRANCHES)}

    def _state_files(self, branch: str | None) -> list[Path] | None:
        """The files HEAD, the branch, the index and the stash are read from (None: ask git)."""
        common = self._shared
        if any(name in os.environ for name in _GIT_LOCATION_VARS):
            return None  # git reads other files than these
        if (common / "reftable").exists() or (
            branch is not None and not branch.startswith("refs/")
        ):
            return None
        files = [
            self.git_dir / "HEAD",
            self.git_dir / "index",
            common / "packed-refs",
            common / "refs" / "stash",
            common / "logs" / "refs" / "stash",
        ]
        if branch is not None:
            files.append(common / branch)
        return files

    def capture(self) -> GitState:
        """The repository's git state now (from the last one when its files did not change)."""
        now_ns = time.time_ns()
        if self._captured is not None and self._ids is not None:
            files = self._state_files(self._captured.branch)
            if files is not None and _file_ids(files, now_ns) == self._ids:
                return self._with_files(self._captured)
        # Stat before git reads: a file changing while git reads it then never matches later.
        predicted = self._head_branch()
        files = self._state_files(predicted)
        before = _file_ids(files, now_ns) if files is not None else None
        state = self._ask_git()
        usable = before is not None and predicted == state.branch
        usable = usable and not self._symbolic_ref(state.branch)
        self._ids = before if usable else None
        self._captured = state
        return state

    def _head_branch(self) -> str | None:
        """The branch HEAD names, read from the file (None when detached or unreadable)."""
        data = _read(self.git_dir / "HEAD")
        if data is None or not data.startswith(b"ref: "):
            return None
        return data[5:].decode("utf-8", "replace").strip()

    def _symbolic_ref(self, branch: str | None) -> bool:
        """True when the branch's loose ref is itself symbolic (then only git resolves it)."""
        if branch is None:
            return False
        data = _read(self._shared / branch)
        return data is not None and data.startswith(b"ref:")

    def _with_files(self, state: GitState) -> GitState:
        """state with config and hooks read again (cheap: files only, no git)."""
        config, hooks = self._read_config_hooks()
        return GitState(state.head, state.branch, state.index, state.stash, config, hooks)

    def _read_config_hooks(self) -> tuple[str | None, tuple[tuple[str, str], ...]]:
        hooks_dir = self._shared / "hooks"
        hooks = []
        if hooks_dir.is_dir():
            for path in sorted(hooks_dir.iterdir()):
                data = _read(path)
                if data is not None and not path.name.endswith(".sample"):
                    hooks.append((path.name, _digest(data)))
        config = _read(self._shared / "config")
        return (_digest(config) if config is not None else None), tuple(hooks)

    def _ask_git(self) -> GitState:
        """The repository's git state, read by git."""
        self.git_captures += 1
        head = _git(self.root, "rev-parse", "-q", "--verify", "HEAD^{commit}")
        branch = _git(self.root, "symbolic-ref", "-q", "HEAD")
        index = _git(self.root, "ls-files", "-s", "-z")
        stash = _git(self.root, "log", "-g", "--format=%H", "refs/stash", "--")
        config, hooks = self._read_config_hooks()
        return GitState(
            head=head.stdout.strip() if head.ok else None,
            branch=branch.stdout.strip() if branch.ok else None,
            index=_digest(index.stdout.encode()),
            stash=tuple(stash.stdout.split()) if stash.ok else (),
            config=config,
            hooks=hooks,
        )

    def _save_git_files(self) -> None:
        self._index_copy = _read(self.git_dir / "index")
        self._config_copy = _read(self._shared / "config")
        hooks_dir = self._shared / "hooks"
        if hooks_dir.is_dir():
            for path in hooks_dir.iterdir():
                data = _read(path) if path.is_file() else None
                if data is not None and not path.name.endswith(".sample"):
                    self._hooks_copy[path.name] = data

    def _excluded(self, rel: str) -> bool:
        return any(rel == e or rel.startswith(e.rstrip("/") + "/") for e in self.exclude)

    def _save_user_files(self) -> None:
        """Copy every uncommitted (staged, modified) and untracked file, so a loss can be undone."""
        status = _git(self.root, "status", "--porcelain=v1", "-z", "--untracked-files=all")
        if not status.ok:
            return
        entries = status.stdout.split("\0")
        paths: list[str] = []
        skip = False
        for entry in entries:
            if skip:
                skip = False
                continue
            if len(entry) < 4:
                continue
            code, rel = entry[:2], entry[3:]
            if code[0] in "RC":
                skip = True  # the next entry is the rename's source
            if "D" in code or self._excluded(rel):
                continue
            paths.append(rel)
        if not paths:
            return
        self._backup = Path(tempfile.mkdtemp(prefix="exec-auto-userfiles-"))
        for n, rel in enumerate(paths):
            path = self.root / rel
            if path.is_symlink() or not path.is_file():
                continue
            size = path.stat().st_size
            data = path.read_bytes() if size <= MAX_SAVED_FILE_BYTES else None
            digest = _digest(data) if data is not None else f"size:{size}"
            copy = None
            if data is not None:
                copy = self._backup / f"{n}"
                copy.write_bytes(data)
            committed = _git(self.root, "rev-parse", "-q", "--verify", f"HEAD:{rel}")
            head = committed.stdout.strip() if committed.ok else None
            self._user_files[rel] = (digest, copy, path.stat().st_mode & 0o777, head)

    # -- the check -------------------------------------------------------------------------

    def check(self, agent_work: Iterable[str] = ()) -> list[Change]:
        """Compare with the last snapshot, put back what must not change, report every change.

        agent_work: paths the agent itself created or changed in earlier steps (not the user's).
        """
        assert self._state is not None, "check() before start()"
        before, now = self._state, self.capture()
        changes: list[Change] = []
        if now.branch != before.branch:
            changes.append(self._restore_branch(before, now))
            now = self.capture()
        if now.head != before.head:
            changes.append(self._restore_head(before, now))
            now = self.capture()
        if now.index != before.index:
            changes.append(self._restore_index())
        if now.stash != before.stash:
            changes.append(self._restore_stash(before, now))
        refs_now = self._read_refs()
        if refs_now != self._refs:
            changes.append(self._restore_refs(self._refs, refs_now, now.branch))
        if now.config != before.config:
            changes.append(self._restore_config())
        if now.hooks != before.hooks:
            changes.append(self._restore_hooks(before, now))
        restored_git = bool(changes)
        lost = self._restore_user_files(set(agent_work))
        if lost:
            changes.append(lost)
        # Nothing put back: the state just captured is the one to keep.
        self._state = self.capture() if restored_git else now
        return changes

    def _restore_branch(self, before: GitState, now: GitState) -> Change:
        what = f"HEAD moved from {before.branch or 'a detached HEAD'} to {now.branch or 'a detached HEAD'}"
        if before.branch is not None:
            done = _git(self.root, "symbolic-ref", "HEAD", before.branch)
            action = (
                "HEAD put back on " + before.branch
                if done.ok
                else f"Could not restore: {done.output[:200]}"
            )
        else:
            done = _git(self.root, "update-ref", "--no-deref", "HEAD", before.head or "")
            action = (
                "Detached HEAD put back" if done.ok else f"Could not restore: {done.output[:200]}"
            )
        return Change(what, f"branch before: {before.branch}, after: {now.branch}", action)

    def _restore_head(self, before: GitState, now: GitState) -> Change:
        """The agent committed (or reset): keep its commits on a private ref, move the branch back."""
        old, new = before.head, now.head
        commits = _git(
            self.root, "log", "--format=%h %s", "--name-only", f"{old}..{new}" if old else str(new)
        )
        listed = commits.stdout.strip() if commits.ok and new else ""
        ref = f"refs/exec-auto/agent-commits/{(new or 'none')[:12]}"
        if new:
            _git(self.root, "update-ref", ref, new)
        target = before.branch or "HEAD"
        done = (
            _git(self.root, "update-ref", target, old, new or "")
            if old
            else _git(self.root, "update-ref", "-d", target)
        )
        kept = f"; the agent's commits are kept on {ref}" if new else ""
        action = (
            f"Branch moved back to {(old or 'its unborn state')[:12]}, the changes stay in the work "
            f"tree as the step's work{kept}"
            if done.ok
            else f"Could not move the branch back: {done.output[:200]}"
        )
        what = f"HEAD changed from {(old or 'nothing')[:12]} to {(new or 'nothing')[:12]}"
        details = (
            f"commits by the agent (id, subject, files):\n{listed}" if listed else "HEAD was reset"
        )
        return Change(what, details, action)

    def _restore_stash(self, before: GitState, now: GitState) -> Change:
        """The agent stashed (or dropped): its entries kept on private refs, the list put back."""
        added = [(i, sha) for i, sha in enumerate(now.stash) if sha not in before.stash]
        gone = [sha for sha in before.stash if sha not in now.stash]
        failed: list[str] = []
        for i, sha in sorted(added, reverse=True):  # highest index first: the others keep theirs
            _git(self.root, "update-ref", f"refs/exec-auto/agent-stash/{sha[:12]}", sha)
            if not _git(self.root, "stash", "drop", "-q", f"stash@{{{i}}}").ok:
                failed.append(sha[:12])
        for sha in reversed(gone):  # oldest first, so the newest ends on top again
            if not _git(self.root, "stash", "store", "-m", "restored by exec-auto", sha).ok:
                failed.append(sha[:12])
        details = (
            f"new entries: {', '.join(s[:12] for _, s in added) or 'none'}; "
            f"dropped: {', '.join(s[:12] for s in gone) or 'none'}"
        )
        action = (
            "Stash list put back; the agent's entries are kept on refs/exec-auto/agent-stash/"
            if not failed
            else f"Could not put back stash entries {', '.join(failed)}; nothing in them is lost"
        )
        return Change("the stash list changed", details, action)

    def _restore_refs(
        self, before: dict[str, str], now: dict[str, str], head: str | None
    ) -> Change:
        """Branches or tags the agent made, moved or deleted: put back, its ids kept on private refs."""
        done: list[str] = []
        failed: list[str] = []
        for name in sorted(set(before) | set(now)):
            old, new = before.get(name), now.get(name)
            if old == new or name == head:
                continue  # the checked-out branch is _restore_head's
            if new is not None and not new.startswith("ref:"):
                _git(self.root, "update-ref", f"refs/exec-auto/agent-refs/{name}", new)
            result = (
                _git(self.root, "update-ref", name, old)
                if old is not None
                else _git(self.root, "update-ref", "-d", name)
            )
            verb = "created" if old is None else "deleted" if new is None else "moved"
            (done if result.ok else failed).append(f"{name} ({verb})")
        action = (
            "Put back; what the agent pointed them at is kept on refs/exec-auto/agent-refs/"
            if not failed
            else f"Could not put back: {', '.join(failed)}"
        )
        return Change("branches or tags changed", ", ".join(done + failed), action)

    def _restore_index(self) -> Change:
        if self._index_copy is None:
            return Change(
                "the index changed", "", "Left as it is (there was no index at the start)"
            )
        target = self.git_dir / "index"
        target.write_bytes(self._index_copy)
        return Change(
            "the index (staged changes) changed", "", "Index restored from the start of the run"
        )

    def _restore_config(self) -> Change:
        if self._config_copy is None:
            return Change(".git/config changed", "", "Left as it is (none existed at the start)")
        (self._shared / "config").write_bytes(self._config_copy)
        return Change(".git/config changed (e.g. core.hooksPath)", "", ".git/config restored")

    def _restore_hooks(self, before: GitState, now: GitState) -> Change:
        hooks_dir = self._shared / "hooks"
        old, new = dict(before.hooks), dict(now.hooks)
        touched = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
        for name in touched:
            path = hooks_dir / name
            if name in self._hooks_copy:
                path.write_bytes(self._hooks_copy[name])
            elif path.exists() or path.is_symlink():
                path.unlink()
        return Change(
            f".git/hooks changed: {', '.join(touched)}",
            "",
            "Hooks restored (planted ones removed) - none of them ran",
        )

    def _restore_user_files(self, agent_work: set[str]) -> Change | None:
        """Put back each of the user's start files that is gone or was reverted to its HEAD version.

        A file with any other new content is the step's work on it (an edit on top of the user's)
        and is left alone; gone or reverted is what `reset --hard`, `clean`, `stash` and `checkout`
        do.
        """
        restored, unrecoverable = [], []
        for rel, (digest, copy, mode, head) in self._user_files.items():
            if rel in agent_work:
                continue
            path = self.root / rel
            data = _read(path) if path.is_file() and not path.is_symlink() else None
            current = (
                (_digest(data) if copy is not None else f"size:{len(data)}")
                if data is not None
                else None
            )
            if current == digest or (data is not None and _blob_id(data, head) != head):
                continue
            if copy is None:
                unrecoverable.append(rel)
                continue
            if path.is_symlink() or path.is_dir():
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copy, path)
            os.chmod(path, mode)
            restored.append(rel)
        if not restored and not unrecoverable:
            return None
        action = f"Restored from the start of the run: {', '.join(restored)}" if restored else ""
        if unrecoverable:
            action += (
                f"{'; ' if action else ''}too large to have been saved: {', '.join(unrecoverable)}"
            )
        return Change(
            "your uncommitted or untracked files were changed or removed",
            "\n".join(sorted([*restored, *unrecoverable])),
            action,
        )
