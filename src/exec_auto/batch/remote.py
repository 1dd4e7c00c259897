"""The job unit's remote: fetch a ticket's branch and step refs before a run, push them after.

The remote is the job's memory: a CI runner starts from a fresh clone, so a rerun of a killed job
fetches `refs/heads/<branch>` and `refs/exec-auto/<ticket>/*` and carries on from the last pushed
checkpoint. The branch only ever moves forward: a local branch behind the remote is fast-forwarded,
one ahead is pushed, and diverged histories stop the job (exit 2) instead of being overwritten.

Step refs (`executor.history`) live in the ticket's private snapshot store, not among the user's
refs, so they are fetched into and pushed from that store. The store is its own git directory and
has no remotes or credentials: the remote's URL and the repository's `http.*`/`credential.*`
settings (where CI checkouts keep their token) are handed to those git calls through the
environment (GIT_CONFIG_*), never on a command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.proc import ProcResult, git, run

STEP_REF_ROOT = "refs/exec-auto"
# Where a fetched remote branch is parked before it is compared with the local one.
FETCHED_ROOT = "refs/exec-auto-fetched"
NETWORK_TIMEOUT = 300.0


class RemoteError(ExecAutoError):
    """The remote cannot be used: unknown, unreachable, or its branch diverged from ours."""


def step_ref_prefix(ticket: str) -> str:
    """The namespace of a ticket's step refs in its store: `refs/exec-auto/<safe ticket>/`."""
    from exec_auto.executor.snapshot import safe_name

    return f"{STEP_REF_ROOT}/{safe_name(ticket)}/"


def _store(root: Path, ticket: str) -> Path:
    from exec_auto.executor.snapshot import SnapshotStore

    return SnapshotStore(root, ticket).ensure().path


def local_step_refs(root: Path, ticket: str) -> dict[str, str]:
    """The ticket's step refs (its snapshot store's refs): ref name -> commit."""
    from exec_auto.executor.snapshot import SnapshotStore

    store = SnapshotStore(root, ticket)
    if not store.exists():
        return {}
    out = store.try_git(
        "for-each-ref", "--format=%(refname) %(objectname)", step_ref_prefix(ticket)
    )
    refs = {}
    for line in out.stdout.splitlines():
        name, _, sha = line.partition(" ")
        if name and sha:
            refs[name] = sha
    return refs


def _passthrough_env(root: Path) -> dict[str, str]:
    """The repository's http.* and credential.* settings as GIT_CONFIG_* variables."""
    found = git("config", "--get-regexp", r"^(http|credential)\.", cwd=root)
    env: dict[str, str] = {}
    count = 0
    for line in found.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key:
            env[f"GIT_CONFIG_KEY_{count}"] = key
            env[f"GIT_CONFIG_VALUE_{count}"] = value
            count += 1
    if count:
        env["GIT_CONFIG_COUNT"] = str(count)
    return env


def _sha(root: Path, ref: str) -> str | None:
    result = git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", cwd=root)
    return result.stdout.strip() if result.ok else None


def _is_ancestor(root: Path, older: str, newer: str) -> bool:
    return git("merge-base", "--is-ancestor", older, newer, cwd=root).ok


@dataclass(frozen=True)
class Synced:
    """What fetching did: the remote's tip (None when it has no such branch) and the local tip."""

    remote_tip: str | None
    local_tip: str | None
    fast_forwarded: bool


class Remote:
    """One remote (a configured name, a URL or a path) for one ticket's branch."""

    def __init__(self, root: Path, remote: str, branch: str, ticket: str):
        self.root = root
        self.remote = remote
        self.branch = branch
        self.ticket = ticket

    def url(self) -> str:
        """The remote's URL (a configured remote's, or the argument itself; paths made absolute)."""
        named = git("remote", "get-url", self.remote, cwd=self.root)
        if named.ok and named.stdout.strip():
            return named.stdout.strip()
        path = Path(self.remote)
        if "://" not in self.remote and (self.root / path).exists():
            return str((self.root / path).resolve())
        return self.remote

    def _store_git(self, *args: str) -> ProcResult:
        """git on the ticket's snapshot store, with the repository's credentials."""
        return run(
            ["git", "--git-dir", str(_store(self.root, self.ticket)), *args],
            cwd=self.root,
            timeout=NETWORK_TIMEOUT,
            extra_env={
                "GIT_TERMINAL_PROMPT": "0",
                "LC_ALL": "C",
                **_passthrough_env(self.root),
            },
        )

    def check(self) -> None:
        """RemoteError when the remote is neither a configured remote nor reachable as a URL/path."""
        if git("remote", "get-url", self.remote, cwd=self.root).ok:
            return
        probe = git("ls-remote", "--heads", self.remote, cwd=self.root, timeout=NETWORK_TIMEOUT)
        if not probe.ok:
            raise RemoteError(
                f"--push {self.remote}: not a remote of this repository and not reachable "
                f"({probe.output[-200:] or 'no answer'})",
                path=self.root,
                hint="name a configured remote (git remote -v) or a reachable URL or path",
            )

    def fetch(self, checked_out: Path | None) -> Synced:
        """Fetch the branch and step refs; bring the local branch up to the remote's tip.

        checked_out: the worktree that has the branch checked out, if any (it is fast-forwarded
        there, and only when it holds no uncommitted work).
        """
        parked = f"{FETCHED_ROOT}/{self.branch}"
        result = git(
            "fetch", "--no-tags", "--quiet", self.remote, f"+refs/heads/{self.branch}:{parked}",
            cwd=self.root, timeout=NETWORK_TIMEOUT,
        )  # fmt: skip
        local = _sha(self.root, f"refs/heads/{self.branch}")
        if result.ok:
            self._fetch_step_refs()
        if not result.ok:
            if "couldn't find remote ref" in result.output:
                return Synced(None, local, False)  # a first run: nothing pushed yet
            raise RemoteError(
                f"git fetch {self.remote} failed: {result.output[-300:]}",
                path=self.root,
                hint="check the remote's URL and credentials",
            )
        remote_tip = _sha(self.root, parked)
        git("update-ref", "-d", parked, cwd=self.root)
        if remote_tip is None or remote_tip == local:
            return Synced(remote_tip, local, False)
        if local is not None and _is_ancestor(self.root, remote_tip, local):
            return Synced(remote_tip, local, False)  # ours is ahead: the next push catches up
        if local is not None and not _is_ancestor(self.root, local, remote_tip):
            raise RemoteError(
                f"branch {self.branch} has diverged from {self.remote}/{self.branch}",
                path=self.root,
                hint=f"compare them (git log {self.branch}...{remote_tip[:12]}) and delete one",
            )
        self._advance(remote_tip, local, checked_out)
        return Synced(remote_tip, remote_tip, True)

    def _advance(self, tip: str, local: str | None, checked_out: Path | None) -> None:
        if checked_out is None:
            ref = f"refs/heads/{self.branch}"
            # The old value makes the update atomic: a concurrent change fails instead of being lost.
            moved = git("update-ref", ref, tip, local or "", cwd=self.root)
            if not moved.ok:
                raise RemoteError(
                    f"cannot move {self.branch} to {tip[:12]}: {moved.output[-200:]}",
                    path=self.root,
                )
            return
        if git("status", "--porcelain", cwd=checked_out).stdout.strip():
            raise RemoteError(
                f"{self.remote}/{self.branch} is ahead, but the local worktree holds uncommitted work",
                path=checked_out,
                hint="commit or remove that worktree's changes, then rerun",
            )
        merged = git("merge", "--ff-only", "--quiet", tip, cwd=checked_out, timeout=300)
        if not merged.ok:
            raise RemoteError(
                f"cannot fast-forward to {tip[:12]}: {merged.output[-200:]}", path=checked_out
            )

    def _fetch_step_refs(self) -> None:
        """The remote's step refs of this ticket into its store (none yet is fine)."""
        prefix = step_ref_prefix(self.ticket)
        fetched = self._store_git(
            "fetch", "--no-tags", "--quiet", self.url(), f"+{prefix}*:{prefix}*"
        )
        if not fetched.ok:
            raise RemoteError(
                f"fetching the step refs from {self.remote} failed: {fetched.output[-300:]}",
                path=self.root,
            )

    def push(self) -> str | None:
        """Push the branch (never forced) and the step refs; the error text, or None when pushed."""
        result = git(
            "push", "--quiet", "--porcelain", self.remote,
            f"refs/heads/{self.branch}:refs/heads/{self.branch}",
            cwd=self.root, timeout=NETWORK_TIMEOUT,
        )  # fmt: skip
        if not result.ok:
            return f"git push {self.remote} failed: {result.output[-300:]}"
        refs = local_step_refs(self.root, self.ticket)
        if not refs:
            return None
        # A resumed run may rewrite its last attempt refs: `+` lets those move.
        pushed = self._store_git(
            "push", "--quiet", "--porcelain", self.url(), *(f"+{ref}:{ref}" for ref in refs)
        )
        if pushed.ok:
            return None
        return f"pushing the step refs to {self.remote} failed: {pushed.output[-300:]}"
