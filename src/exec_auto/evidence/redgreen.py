"""Red/green evidence: run the ticket's tests and verify commands against the code before the ticket.

"Before" is the ticket's base snapshot with the ticket's test files laid over it, checked out in a
scratch directory outside the user's tree (`scratch.ScratchCheckout`) and run with the project's
own interpreter; "after" is the final gate's run of the finished code. A criterion's test proves
the ticket's change only when it fails before and passes after; one that passes both ways proves
nothing about this ticket, and the report says so.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from exec_auto import proc, tempdirs
from exec_auto.evidence.audit import read_blob, tree_changes
from exec_auto.evidence.model import RedGreenRecord, SideResult, TestEvidence, verdict_of
from exec_auto.evidence.scratch import ScratchCheckout, overlay_tests
from exec_auto.evidence.testcode import is_test_file, parse_module
from exec_auto.executor.snapshot import SnapshotStore
from exec_auto.gates.environment import Environment
from exec_auto.gates.testing import PLUGIN_DIR, TestRun, parse_events, pytest_argv, read_events

VERIFY_TIMEOUT = 300.0


def matching(node_id: str, ids: Iterable[str]) -> list[str]:
    """ids equal to node_id or parametrisations of it."""
    return [t for t in ids if t == node_id or t.startswith(node_id + "[")]


class BeforeTicket:
    """The code before the ticket, checked out on demand, for tests and verify commands.

    Tests the ticket added or changed run on the base tree with the ticket's test files laid over
    it; tests it left untouched run on the base tree as it was (a changed import at the top of
    their file must not make them look red).
    """

    def __init__(
        self,
        store: SnapshotStore | None,
        base_tree: str | None,
        final_tree: str | None,
        python: str,
        extra_env: Mapping[str, str],
        timeout: float,
    ) -> None:
        self.store = store
        self.final_tree = final_tree or ""
        self.python = python
        self.extra_env = dict(extra_env)
        self.timeout = timeout
        self.record = RedGreenRecord(base_tree=base_tree)
        self.unavailable: str | None = None
        self.checkout: ScratchCheckout | None = None
        self._base: ScratchCheckout | None = None
        self._runs: dict[str, TestRun] = {}
        self._where: dict[str, str] = {}
        if store is None or base_tree is None or final_tree is None:
            self.unavailable = "no snapshot of the code before the ticket was recorded"
            self.record.notes.append(self.unavailable)
            return
        try:
            tree, overlaid = overlay_tests(store, base_tree, final_tree)
            self.checkout = ScratchCheckout(store, tree)
        except Exception as exc:  # evidence that cannot be made is reported, never faked
            self.unavailable = f"could not check out the code before the ticket: {exc}"
            self.record.notes.append(self.unavailable)
            return
        self.record.before_tree, self.record.overlaid = tree, overlaid

    def close(self) -> None:
        """Remove the scratch checkouts."""
        for checkout in (self.checkout, self._base):
            if checkout is not None:
                checkout.close()

    def _env(self, where: Path) -> dict[str, str]:
        # The checkout's own code first: an editable install would otherwise import the final code.
        paths = [str(PLUGIN_DIR), *(str(p) for p in (where / "src", where) if p.is_dir())]
        if os.environ.get("PYTHONPATH"):
            paths.append(os.environ["PYTHONPATH"])
        return {**self.extra_env, "PYTHONPATH": os.pathsep.join(paths)}

    def _pytest(self, checkout: ScratchCheckout, files: Sequence[str]) -> TestRun:
        workdir = tempdirs.make("redgreen")
        try:
            report = workdir / "report.jsonl"
            env = Environment(checkout.path, "plain", (self.python,))
            argv = [*pytest_argv(env, report, sorted(set(files))), "-p", "no:cacheprovider"]
            result = proc.run(
                argv,
                cwd=checkout.path,
                extra_env=self._env(checkout.path),
                timeout=self.timeout,
                # Inside the run's sandbox (inherited): the checkout and the report are ours to write.
                writable=[checkout.path, workdir],
            )
            run = parse_events(read_events(report), result)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        crash = next((f for f in run.failures if f.kind == "crash"), None)
        if crash is not None and not run.counts.run:
            self.record.notes.append(f"pytest could not run before the ticket: {crash.message}")
        if run.timed_out:
            self.record.notes.append(
                f"the before-the-ticket test run timed out after {self.timeout:g}s"
            )
        return run

    def run_tests(self, changed: Sequence[str], untouched: Sequence[str] = ()) -> None:
        """One pytest run per tree: changed/new tests on the overlay, untouched ones on the base."""
        if self.checkout is None or self.store is None:
            return
        if changed:
            self._runs["overlay"] = self._pytest(self.checkout, [_file(n) for n in changed])
            self._where.update(dict.fromkeys(changed, "overlay"))
        if untouched and self.record.base_tree is not None:
            if self._base is None:
                self._base = ScratchCheckout(self.store, self.record.base_tree)
            self._runs["base"] = self._pytest(self._base, [_file(n) for n in untouched])
            self._where.update(dict.fromkeys(untouched, "base"))

    def test_outcome(self, node_id: str) -> SideResult:
        """How one test ended on the code before the ticket."""
        if self.unavailable:
            return SideResult(outcome="not_run", detail=self.unavailable)
        run = self._runs.get(self._where.get(node_id, ""))
        if run is None:
            return SideResult(outcome="not_run", detail="not run before the ticket")
        where = self._base if self._where.get(node_id) == "base" else self.checkout
        return _outcome_in(run, node_id, where.path if where else None)

    def verify(self, command: str) -> SideResult:
        """Run a verify command in the overlay checkout: passed = exit 0 before the ticket."""
        if self.checkout is None:
            return SideResult(outcome="not_run", detail=self.unavailable or "no checkout")
        result = proc.run(
            command,
            shell=True,
            cwd=self.checkout.path,
            extra_env=self._env(self.checkout.path),
            timeout=VERIFY_TIMEOUT,
            writable=[self.checkout.path],
        )
        if result.timed_out:
            return SideResult(outcome="failed", detail=f"timed out after {VERIFY_TIMEOUT:g}s")
        tail = result.output.strip().splitlines()[-1:] if result.output.strip() else []
        last = _short(tail[0], self.checkout.path)[:160] if tail else ""
        detail = f"exited {result.returncode}" + (f": {last}" if last else "")
        return SideResult(outcome="passed" if result.ok else "failed", detail=detail)


def _file(node_id: str) -> str:
    return node_id.split("::", 1)[0]


def _short(text: str, checkout: Path | None) -> str:
    """One line for the evidence, the scratch checkout's path shown as <before>."""
    if checkout is not None:
        text = text.replace(f"{checkout}/", "").replace(str(checkout), "<before>")
    return text[:200]


def _outcome_in(run: TestRun, node_id: str, checkout: Path | None = None) -> SideResult:
    for failure in run.failures:
        if failure.test_id == node_id or failure.test_id.startswith(node_id + "["):
            if failure.kind == "failed":
                return SideResult(outcome="failed", detail=_short(failure.message, checkout))
            return SideResult(outcome="error", detail=_short(failure.message, checkout))
    for failure in run.failures:
        if failure.kind == "collection" and failure.test_id in (_file(node_id), "."):
            return SideResult(outcome="error", detail=_short(failure.message, checkout))
    if matching(node_id, run.passed):
        return SideResult(outcome="passed")
    crash = next((f for f in run.failures if f.kind == "crash"), None)
    why = crash.message if crash else "not collected, or skipped, before the ticket"
    return SideResult(outcome="not_run", detail=why[:200])


def added_tests(store: SnapshotStore, base: str, final: str) -> list[str]:
    """Node ids (path::qualname) of tests in the final tree that the base tree did not have."""
    found: list[str] = []
    for status, old, new in tree_changes(store, base, final):
        if status == "D" or not is_test_file(new):
            continue
        after = read_blob(store, final, new)
        if after is None:
            continue
        # A modified or moved test file: only the tests its base version lacked are new.
        base_text = read_blob(store, base, old) if status != "A" and is_test_file(old) else None
        known = set(parse_module(base_text).tests) if base_text else set()
        found.extend(f"{new}::{q}" for q in parse_module(after).tests if q not in known)
    return found


def untouched_tests(
    store: SnapshotStore, base: str, final: str, node_ids: Iterable[str]
) -> set[str]:
    """The node ids whose test function is the same in base and final (not changed by the ticket)."""
    cache: dict[tuple[str, str], dict[str, str]] = {}

    def prints(tree: str, path: str) -> dict[str, str]:
        if (tree, path) not in cache:
            text = read_blob(store, tree, path)
            module = parse_module(text) if text is not None else None
            cache[(tree, path)] = (
                {q: t.fingerprint for q, t in module.tests.items()} if module else {}
            )
        return cache[(tree, path)]

    same = set()
    for node in node_ids:
        path, _, qualname = node.partition("::")
        old, new = prints(base, path).get(qualname), prints(final, path).get(qualname)
        if old is not None and old == new:
            same.add(node)
    return same


def after_outcome(node_id: str, passed: Sequence[str], failed: Sequence[str]) -> SideResult:
    """How a test ended in the final gate's run of the finished code."""
    if matching(node_id, failed):
        return SideResult(outcome="failed", detail="failed in the final test run")
    if matching(node_id, passed):
        return SideResult(outcome="passed")
    return SideResult(outcome="not_run", detail="not in the final test run")


def evidence_for(
    before: BeforeTicket,
    wanted: Mapping[str, str],
    passed: Sequence[str],
    failed: Sequence[str],
) -> list[TestEvidence]:
    """Run the wanted tests (node id -> origin) before the ticket; pair them with the final run.

    Only tests that pass after the ticket are run before it: a failing one proves nothing either
    way, and one the final gate did not run has nothing to be compared with.
    """
    after = {node: after_outcome(node, passed, failed) for node in wanted}
    runnable = [n for n in wanted if after[n].outcome == "passed"]
    same: set[str] = set()
    if before.store is not None and before.record.base_tree and before.record.before_tree:
        same = untouched_tests(before.store, before.record.base_tree, before.final_tree, runnable)
    before.run_tests([n for n in runnable if n not in same], [n for n in runnable if n in same])
    out = []
    for node_id, origin in wanted.items():
        a = after[node_id]
        b = (
            before.test_outcome(node_id)
            if node_id in runnable
            else SideResult(outcome="not_run", detail="not run: it does not pass after the ticket")
        )
        out.append(
            TestEvidence(
                test_id=node_id, origin=origin, before=b, after=a, verdict=verdict_of(b, a)
            )
        )
    return out
