"""`--open-pr`: one draft pull request per finished branch of a parallel batch, through `gh`.

Each branch is pushed to the repository's `origin` remote, then `gh pr create --draft` opens the PR
with `pr-body`'s text. Without `gh`, without a logged-in `gh`, or without an `origin` remote, nothing
is pushed or opened and the batch says why; one branch failing does not stop the others.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exec_auto.proc import git, run
from exec_auto.review.model import TicketReview
from exec_auto.review.prbody import pr_body, title

REMOTE = "origin"


@dataclass(frozen=True)
class PrResult:
    """What --open-pr did for one ticket (url when a PR was opened)."""

    ticket: str
    url: str | None
    note: str


def unavailable(root: Path) -> str | None:
    """Why PRs cannot be opened here (None when they can)."""
    gh = shutil.which("gh")
    if gh is None:
        return "--open-pr: skipped, `gh` is not installed (https://cli.github.com)"
    if not run([gh, "auth", "status"], cwd=root, timeout=30).ok:
        return "--open-pr: skipped, `gh` is not logged in (run `gh auth login`)"
    if not git("remote", "get-url", REMOTE, cwd=root).ok:
        return f"--open-pr: skipped, the repository has no `{REMOTE}` remote to push branches to"
    return None


def open_prs(root: Path, reviews: Sequence[TicketReview], base: str | None) -> list[PrResult]:
    """Push each finished, unmerged branch and open a draft PR for it."""
    gh = shutil.which("gh") or "gh"
    out = []
    for review in reviews:
        if not review.branch or review.verdict not in ("proven", "partial", "failed"):
            continue
        pushed = git(
            "push", "--quiet", REMOTE, f"{review.branch}:{review.branch}", cwd=root, timeout=300
        )
        if not pushed.ok:
            out.append(PrResult(review.name, None, f"push failed: {pushed.output.strip()[-200:]}"))
            continue
        argv = [gh, "pr", "create", "--draft", "--head", review.branch, "--title", title(review)]
        argv += ["--base", base] if base else []
        created = run(
            [*argv, "--body-file", "-"], cwd=root, timeout=120, stdin_text=pr_body(review)
        )
        if created.ok:
            url = created.stdout.strip().splitlines()[-1:] or [""]
            out.append(PrResult(review.name, url[0] or None, "draft PR opened"))
        else:
            out.append(
                PrResult(review.name, None, f"gh pr create failed: {created.output.strip()[-200:]}")
            )
    return out
