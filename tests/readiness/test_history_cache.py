"""The parsed-history cache: every run reads past progress files once, and never a stale copy."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from exec_auto.insights import collect as collect_module
from exec_auto.insights.collect import CACHE_NAME, collect
from exec_auto.ticket.model import Progress, StepProgress, TicketProgress
from exec_auto.ticket.progress import save_progress
from tests.conftest import init_repo

SETTLE_NS = 50_000_000


def _settle() -> None:
    time.sleep(SETTLE_NS / 1e9 + 0.02)


def _archive(root: Path, name: str, status: str = "completed") -> Path:
    folder = root / "specs" / "archive" / name
    folder.mkdir(parents=True)
    (folder / "plan.md").write_text("# Implementation Plan: x\n\n### Step 1: Create it\n")
    path = folder / "progress.yaml"
    save_progress(
        path,
        Progress(
            ticket=TicketProgress(name=name, status="completed"),
            implementation_steps=[
                StepProgress(step_id="1", description="Create it", status=status, attempts=1)
            ],
        ),
    )
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README.md").write_text("x\n")
    init_repo(root)
    monkeypatch.setattr(collect_module, "SETTLED_NS", SETTLE_NS)
    monkeypatch.setattr(collect_module, "_MEMO", {})
    return root


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every progress file parsed from YAML (not answered by the cache)."""
    from exec_auto.ticket import progress as progress_module

    seen: list[Path] = []
    real = progress_module.peek_progress

    def counting(path: Path) -> Progress | None:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(progress_module, "peek_progress", counting)
    return seen


def _statuses(found: list[collect_module.PastTicket]) -> dict[str, str]:
    return {p.name: p.progress.implementation_steps[0].status for p in found}


def test_a_second_read_comes_from_the_cache_and_equals_the_files(
    repo: Path, reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        _archive(repo, f"t{n}")
    _settle()
    first = collect(repo)
    assert len(reads) == 3
    assert (repo / ".git" / "exec-auto" / CACHE_NAME).is_file()
    monkeypatch.setattr(collect_module, "_MEMO", {})  # a new process: only the file cache
    second = collect(repo)
    assert len(reads) == 3
    assert [p.progress for p in second] == [p.progress for p in first]


def test_a_file_changed_in_place_with_its_mtime_put_back_is_read_again(
    repo: Path, reads: list[Path]
) -> None:
    path = _archive(repo, "t0")
    _settle()
    assert _statuses(collect(repo)) == {"t0": "completed"}
    stat = path.stat()
    # Same size: "failed" padded with spaces a plain YAML scalar drops.
    text = path.read_text().replace("    status: completed\n", "    status: failed   \n")
    assert len(text) == stat.st_size
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _settle()
    assert _statuses(collect(repo)) == {"t0": "failed"}
    assert len(reads) == 2


def test_a_file_changed_just_now_is_never_cached(repo: Path, reads: list[Path]) -> None:
    _archive(repo, "t0")
    collect(repo)
    collect(repo)
    assert len(reads) == 2  # too fresh to trust its timestamps: parsed each time


def test_an_unreadable_or_foreign_cache_is_ignored_and_replaced(
    repo: Path, reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _archive(repo, "t0")
    _settle()
    cache = repo / ".git" / "exec-auto" / CACHE_NAME
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("{not json")
    assert _statuses(collect(repo)) == {"t0": "completed"}
    data = json.loads(cache.read_text())
    data["version"] = "0-old"
    cache.write_text(json.dumps(data))
    monkeypatch.setattr(collect_module, "_MEMO", {})
    assert _statuses(collect(repo)) == {"t0": "completed"}
    assert len(reads) == 2
    assert json.loads(cache.read_text())["version"] != "0-old"


def test_the_ticket_left_out_keeps_its_entry(
    repo: Path, reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _archive(repo, "t0")
    _archive(repo, "t1")
    _settle()
    collect(repo)
    monkeypatch.setattr(collect_module, "_MEMO", {})
    assert [p.name for p in collect(repo, exclude=["t1"])] == ["t0"]
    monkeypatch.setattr(collect_module, "_MEMO", {})
    assert sorted(p.name for p in collect(repo)) == ["t0", "t1"]
    assert len(reads) == 2  # each file parsed once over the three reads
