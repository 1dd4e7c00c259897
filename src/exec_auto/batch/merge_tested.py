"""`--merge` with tests between merges: each branch is merged and tested before the next one.

The merges happen in a private worktree (detached at the current branch's tip, under the git
directory), never in the user's tree: merge the branch there, run the tests there, and only when
they pass move the user's branch forward with `git merge --ff-only` (a clean tree is required, so
that only fast-forwards a checkout nothing is lost from). A conflict is aborted and reported; a
merge whose tests fail is dropped and reported; the next branch is tried on what did pass.

What "the tests" are: `--merge-test CMD` (a shell command; exit 0 passes) when given, else the
gates' final run (the project's test suite) when gates are on — with failures that the base
already had not counted. With neither, branches are merged untested and the report says so.

The order: branches with a clean run (exit 0) first, then the ones predicted to overlap the
fewest others, then by when they finished — the likeliest merges go in before the riskier ones.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from exec_auto.batch.merge import MergeRequest, MergeResult, _dirty
from exec_auto.batch.worktree import identity_args
from exec_auto.config import Config
from exec_auto.proc import git, run

# A verdict: (passed, failures or the reason it could not run).
Verdict = tuple[bool, frozenset[str], str]


@dataclass(frozen=True)
class Candidate:
    """A finished branch that may be merged, with what decides its place in the order."""

    request: MergeRequest
    exit_code: int
    overlaps: int
    finished_at: str


def merge_order(candidates: Sequence[Candidate]) -> list[MergeRequest]:
    """Clean runs first, then fewest predicted overlaps, then earliest finished; a branch built
    on another ticket's branch always comes after that one."""
    ranked = sorted(candidates, key=lambda c: (c.exit_code != 0, c.overlaps, c.finished_at))
    placed: list[Candidate] = []
    names = {c.request.ticket for c in ranked}
    pending = list(ranked)
    while pending:
        for c in pending:
            done = {p.request.ticket for p in placed}
            after = c.request.after
            if after is None or after not in names or after in done:
                placed.append(c)
                pending.remove(c)
                break
        else:  # a cycle cannot happen (a base finished first); keep the rest as ranked
            placed += pending
            break
    return [c.request for c in placed]


def command_tester(command: str, timeout: float) -> Callable[[Path], Verdict]:
    """A tester running a shell command in the merge worktree."""

    def test(where: Path) -> Verdict:
        result = run(command, cwd=where, shell=True, timeout=timeout)
        if result.ok:
            return True, frozenset(), ""
        tail = result.output.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        why = "timed out" if result.timed_out else f"exit {result.returncode}: {tail[0][:200]}"
        return False, frozenset({why}), why

    return test


def gates_tester(config: Config) -> Callable[[Path], Verdict]:
    """A tester running the gates' final test run (the project's suite) in the merge worktree."""
    from exec_auto.gates import make_gates
    from exec_auto.gates.base import GateContext

    def test(where: Path) -> Verdict:
        report = make_gates(config.gates, ()).final(GateContext(where, (), None, config.gates))
        if report.gate_errors and not report.tests.run:
            return (
                False,
                frozenset(),
                "the tests could not run: " + report.gate_errors[0].description,
            )
        failed = frozenset(report.problem_keys or report.failed_tests)
        return not failed, failed, ", ".join(sorted(failed)[:3])

    return test


def tester_for(config: Config) -> Callable[[Path], Verdict] | None:
    """The configured tester, or None when nothing can test the merges."""
    if config.batch.merge_test:
        return command_tester(config.batch.merge_test, config.gates.gate_timeout)
    if config.gates.enabled and config.gates.test:
        return gates_tester(config)
    return None


class MergeSpace:
    """A private detached worktree at the current branch's tip, where merges are tried."""

    def __init__(self, root: Path):
        common = git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=root)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        self.root = root
        self.path = Path(common.stdout.strip()) / "exec-auto" / "merge" / stamp

    def __enter__(self) -> MergeSpace:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        added = git(
            "worktree", "add", "--detach", str(self.path), "HEAD", cwd=self.root, timeout=300
        )
        if not added.ok:
            raise RuntimeError(f"git worktree add failed: {added.output[-300:]}")
        return self

    def __exit__(self, *exc: object) -> None:
        git("worktree", "remove", "--force", str(self.path), cwd=self.root, timeout=120)
        shutil.rmtree(self.path, ignore_errors=True)
        git("worktree", "prune", cwd=self.root)

    def reset(self, commit: str) -> None:
        """Back to commit (this worktree is ours alone: nothing of the user's is in it)."""
        git("merge", "--abort", cwd=self.path)
        git("checkout", "-q", "--force", "--detach", commit, cwd=self.path)
        git("clean", "-q", "-fdx", cwd=self.path)


def _merge_into_space(space: MergeSpace, req: MergeRequest) -> tuple[bool, str | None]:
    result = git(
        *identity_args(space.path), "merge", "--no-ff", "--no-edit",
        "-m", f"exec-auto: merge {req.ticket} ({req.status})", req.branch,
        cwd=space.path, timeout=300,
    )  # fmt: skip
    if result.ok:
        return True, None
    conflicts = git("diff", "--name-only", "--diff-filter=U", cwd=space.path).stdout.split()
    if conflicts:
        shown = ", ".join(conflicts[:5]) + (" ..." if len(conflicts) > 5 else "")
        return False, f"conflict in {shown}; merge aborted, branch left unmerged"
    return False, f"merge failed, branch left unmerged: {result.output[-300:]}"


def merge_with_tests(
    root: Path,
    requests: Sequence[MergeRequest],
    tester: Callable[[Path], Verdict] | None,
    note: Callable[[str], None] = print,
) -> list[MergeResult]:
    """Merge the branches in order, testing after each; the user's branch only fast-forwards."""
    if not requests:
        return []
    dirty = _dirty(root)
    if dirty:
        why = (
            f"not merged: the work tree has uncommitted changes ({', '.join(dirty[:3])}); "
            "commit or stash them, then git merge --no-ff the branch"
        )
        return [MergeResult(r.ticket, r.branch, False, why) for r in requests]
    out: list[MergeResult] = []
    with MergeSpace(root) as space:
        baseline: frozenset[str] = frozenset()
        if tester is not None:
            passed, baseline, why = tester(space.path)
            if not passed:
                note(f"[AUTO] tests fail before any merge ({why}): only new failures block a merge")
        merged_ok: set[str] = set()
        for req in requests:
            if req.after is not None and req.after not in merged_ok:
                why = f"started from {req.after}'s branch, which was not merged; left unmerged"
                out.append(MergeResult(req.ticket, req.branch, False, why))
                continue
            tip = git("rev-parse", "HEAD", cwd=space.path).stdout.strip()
            if git("merge-base", "--is-ancestor", req.branch, "HEAD", cwd=root).ok:
                out.append(MergeResult(req.ticket, req.branch, True, "already merged"))
                merged_ok.add(req.ticket)
                continue
            merged, failed_why = _merge_into_space(space, req)
            if not merged:
                space.reset(tip)
                out.append(MergeResult(req.ticket, req.branch, False, failed_why))
                continue
            verdict = "merged untested (no --merge-test and gates are off)"
            if tester is not None:
                passed, failures, why = tester(space.path)
                new = failures - baseline
                if not passed and (new or not failures):
                    space.reset(tip)
                    out.append(
                        MergeResult(
                            req.ticket,
                            req.branch,
                            False,
                            f"tests failed after merging ({why}); branch left unmerged",
                        )
                    )
                    note(f"[AUTO] {req.branch}: tests failed after merging; not merged")
                    continue
                verdict = "tests passed after merging"
            head = git("rev-parse", "HEAD", cwd=space.path).stdout.strip()
            moved = git("merge", "--ff-only", "--quiet", head, cwd=root, timeout=300)
            if not moved.ok:
                space.reset(tip)
                out.append(
                    MergeResult(
                        req.ticket, req.branch, False, f"fast-forward failed: {moved.output[-200:]}"
                    )
                )
                continue
            note(f"[AUTO] merged {req.branch}: {verdict}")
            merged_ok.add(req.ticket)
            out.append(MergeResult(req.ticket, req.branch, True, verdict))
    return out
