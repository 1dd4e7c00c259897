"""Red/green pieces on real trees: the scratch checkout, the overlay, and criteria without a "before"."""

from __future__ import annotations

import sys
from pathlib import Path

from exec_auto.evidence.redgreen import BeforeTicket, added_tests
from exec_auto.evidence.scratch import overlay_tests
from exec_auto.executor.criteria import validate
from exec_auto.executor.snapshot import Snapshotter
from exec_auto.ticket.model import Criterion
from tests.conftest import git, init_repo


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pkg/__init__.py").write_text("")
    (root / "pkg/core.py").write_text("def f():\n    return 1\n")
    (root / "tests/test_core.py").write_text(
        "from pkg.core import f\n\n\ndef test_f():\n    assert f() == 1\n"
    )
    init_repo(root)
    return root


def test_checkout_leaves_the_repository_alone(tmp_path):
    root = _repo(tmp_path)
    (root / "wip.txt").write_text("uncommitted\n")
    status = git(root, "status", "--porcelain")
    with Snapshotter(root) as snaps:
        base = snaps.take()
        (root / "pkg/core.py").write_text("def f():\n    return 2\n\n\ndef g():\n    return 3\n")
        (root / "tests/test_core.py").write_text(
            "from pkg.core import f, g\n\n\ndef test_f():\n    assert f() == 2\n\n\ndef test_g():\n    assert g() == 3\n"
        )
        final = snaps.take()
        tree, overlaid = overlay_tests(snaps.store, base.tree, final.tree)
        assert overlaid == ["tests/test_core.py"]
        assert added_tests(snaps.store, base.tree, final.tree) == ["tests/test_core.py::test_g"]
        before = BeforeTicket(snaps.store, base.tree, final.tree, sys.executable, {}, 120)
        checkout = before.checkout
        assert checkout is not None and not checkout.path.is_relative_to(root)
        # The old code with the new test file: the test sees the code before the ticket.
        assert (checkout.path / "pkg/core.py").read_text() == "def f():\n    return 1\n"
        assert "test_g" in (checkout.path / "tests/test_core.py").read_text()
        assert (checkout.path / "wip.txt").read_text() == "uncommitted\n"
        before.run_tests(["tests/test_core.py::test_g"])
        outcome = before.test_outcome("tests/test_core.py::test_g")
        assert outcome.outcome == "error" and "cannot import name 'g'" in outcome.detail
        assert "exec-auto-before" not in outcome.detail  # the scratch path is not shown
        before.close()
    assert not checkout.path.exists()
    assert (
        git(root, "status", "--porcelain")
        .replace(" M pkg/core.py\n", "")
        .replace(" M tests/test_core.py\n", "")
        == status
    )
    assert git(root, "worktree", "list").count("\n") == 1
    assert tree != base.tree


def test_without_a_before_snapshot_nothing_is_met(tmp_path):
    before = BeforeTicket(None, None, None, sys.executable, {}, 60)
    results = validate(
        [Criterion(text="t", tests=("test_a",)), Criterion(text="v", verify="true")],
        tmp_path,
        ["tests/test_a.py::test_a"],
        [],
        before=before,
    )
    assert [(r.status, r.proof) for r in results] == [("unverified", "passing")] * 2
    assert "no snapshot of the code before the ticket" in results[0].evidence[0]
    assert "could not be checked before the ticket" in results[1].evidence[0]


def test_red_green_switched_off_says_so(tmp_path):
    (result,) = validate([Criterion(text="t", tests=("test_a",))], tmp_path, ["t.py::test_a"], [])
    assert (result.status, result.proof) == ("met", "passing")
    assert "evidence.red_green is off" in result.evidence[-1]
