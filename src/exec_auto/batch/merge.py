"""`--merge`: merge finished ticket branches, one by one, into the current branch.

Nothing is resolved silently: a conflicting merge is aborted, the branch is left as it was and the
conflicting files are reported. A work tree with uncommitted changes is never merged into.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from exec_auto.batch.worktree import identity_args
from exec_auto.proc import git


@dataclass(frozen=True)
class MergeRequest:
    """A branch to merge, and what to say in the merge commit."""

    ticket: str
    branch: str
    status: str
    # The ticket whose branch this one started from (merged first, or this one is not merged).
    after: str | None = None


@dataclass(frozen=True)
class MergeResult:
    """Whether a branch is now part of the current branch, and why not if it is not."""

    ticket: str
    branch: str
    merged: bool
    note: str | None = None


def _dirty(root: Path) -> list[str]:
    # Untracked files do not block a merge (git refuses by itself if one would be overwritten).
    out = git("status", "--porcelain", "--untracked-files=no", cwd=root).stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def _merge_one(root: Path, req: MergeRequest) -> MergeResult:
    if git("merge-base", "--is-ancestor", req.branch, "HEAD", cwd=root).ok:
        return MergeResult(req.ticket, req.branch, True, "already merged")
    result = git(
        *identity_args(root),
        "merge",
        "--no-ff",
        "--no-edit",
        "-m",
        f"exec-auto: merge {req.ticket} ({req.status})",
        req.branch,
        cwd=root,
        timeout=300,
    )
    if result.ok:
        return MergeResult(req.ticket, req.branch, True)
    in_merge = git("rev-parse", "-q", "--verify", "MERGE_HEAD", cwd=root).ok
    conflicts = git("diff", "--name-only", "--diff-filter=U", cwd=root).stdout.split()
    if in_merge:
        git("merge", "--abort", cwd=root)
    if conflicts:
        shown = ", ".join(conflicts[:5]) + (" ..." if len(conflicts) > 5 else "")
        note = f"conflict in {shown}; merge aborted, branch left unmerged"
    else:
        note = f"merge failed, branch left unmerged: {result.output[-300:]}"
    return MergeResult(req.ticket, req.branch, False, note)


def merge_branches(root: Path, requests: list[MergeRequest]) -> list[MergeResult]:
    """Merge each branch with --no-ff in order; report conflicts instead of resolving them."""
    if not requests:
        return []
    dirty = _dirty(root)
    if dirty:
        note = (
            f"not merged: the work tree has uncommitted changes ({', '.join(dirty[:3])}); "
            "commit or stash them, then git merge --no-ff the branch"
        )
        return [MergeResult(r.ticket, r.branch, False, note) for r in requests]
    return [_merge_one(root, req) for req in requests]
