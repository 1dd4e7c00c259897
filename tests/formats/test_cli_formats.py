"""`exec-auto list` and `show` across formats; names resolve within and across formats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from exec_auto.cli import main
from exec_auto.errors import TicketNotFoundError
from exec_auto.formats.registry import resolve
from tests.conftest import init_repo, plan_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """One repository holding a ticket of every format (real fixtures), plus a CDD ticket."""
    root = tmp_path / "mixed"
    for fixture in (
        "speckit/community-mock-auth",
        "kiro/kolt-concurrent-build",
        "openspec/stacking",
        "taskmaster/edu-parser",
        "bmad/docvet",
    ):
        shutil.copytree(FIXTURES / fixture, root, dirs_exist_ok=True)
    cdd = root / "specs" / "tickets" / "mock-auth"
    cdd.mkdir(parents=True)
    (cdd / "plan.md").write_text(plan_text(["One"]))
    init_repo(root)
    return root


def test_list_shows_every_ticket_with_its_format(mixed, monkeypatch, capsys):
    monkeypatch.chdir(mixed)
    assert main(["list", "--json"]) == 0
    rows = {(r["format"], r["name"]): r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {
        ("cdd", "mock-auth"),
        ("speckit", "007-mock-auth"),
        ("kiro", "concurrent-build-safety"),
        ("openspec", "add-change-stacking-awareness"),
        ("taskmaster", "master"),
        ("bmad", "1-2-create-finding-dataclass"),
    }
    assert rows[("speckit", "007-mock-auth")]["steps"] == 25
    assert rows[("kiro", "concurrent-build-safety")]["status"] == "done"
    assert main(["list", "--format", "kiro"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["TICKET", "FORMAT", "WHERE"] and len(lines) == 2
    assert lines[1].split()[:3] == [
        "concurrent-build-safety",
        "kiro",
        ".kiro/specs/concurrent-build-safety",
    ]


def test_names_resolve_across_formats_and_ambiguity_lists_candidates(mixed):
    assert resolve("007", mixed).format == "speckit"
    assert resolve("1.2", mixed).format == "bmad"
    assert resolve("master", mixed).format == "taskmaster"
    assert resolve("specs/007-mock-auth/tasks.md", mixed).name == "007-mock-auth"
    # An exact name wins over a short name: "mock-auth" is the CDD ticket, not 007-mock-auth.
    assert resolve("mock-auth", mixed).format == "cdd"
    assert resolve("speckit:mock-auth", mixed).format == "speckit"
    kiro = mixed / ".kiro" / "specs" / "mock-auth"
    kiro.mkdir(parents=True)
    (kiro / "tasks.md").write_text("- [ ] 1. Do it\n")
    with pytest.raises(TicketNotFoundError) as err:
        resolve("mock-auth", mixed)
    message = err.value.message
    assert message.startswith("'mock-auth' names 2 tickets: ")
    assert "cdd:mock-auth (specs/tickets/mock-auth)" in message
    assert "kiro:mock-auth (.kiro/specs/mock-auth)" in message
    assert err.value.hint == "qualify it as FORMAT:NAME, or pass --format"
    assert resolve("mock-auth", mixed, only="kiro").format == "kiro"
    assert resolve("cdd:mock-auth", mixed).format == "cdd"
    with pytest.raises(TicketNotFoundError, match="unknown ticket format 'jira'"):
        resolve("x", mixed, only="jira")
    with pytest.raises(TicketNotFoundError, match="no ticket 'concurrent-build-safty'") as err:
        resolve("concurrent-build-safty", mixed)
    assert err.value.hint == "did you mean: concurrent-build-safety"


def test_show_says_which_format_and_how_each_step_and_criterion_was_read(
    mixed, monkeypatch, capsys
):
    monkeypatch.chdir(mixed)
    assert main(["show", "concurrent-build-safety"]) == 0
    out = capsys.readouterr().out
    assert "Format:   Kiro / cc-sdd — read .kiro/specs/concurrent-build-safety/tasks.md" in out
    assert "Read:     steps: the leaf checkbox tasks" in out
    assert "3.1. BuildCommands の build 系 entry を ProjectLock で wrap" in out
    assert "depends on: 1.1, 2.1" in out
    assert "from: .kiro/specs/concurrent-build-safety/tasks.md:39 checkbox 3.1 (P)" in out
    assert (
        "from: .kiro/specs/concurrent-build-safety/requirements.md:23 acceptance criterion 1.1"
        in out
    )
    assert main(["show", "007", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "speckit" and data["steps"][1]["parallel"] is True
    assert data["steps"][0]["status"] == "pending" and data["criteria_detail"][0][
        "source"
    ].startswith("specs/007-mock-auth/spec.md:20")


def test_archive_command_follows_each_format(mixed, monkeypatch, capsys):
    monkeypatch.chdir(mixed)
    tasks = mixed / "specs" / "007-mock-auth" / "tasks.md"
    before = tasks.read_bytes()
    # spec-kit keeps finished features in place: a clear refusal, nothing moved.
    assert main(["archive", "speckit:007-mock-auth"]) == 2
    err = capsys.readouterr().err
    assert "keeps finished tickets where they are (specs/007-mock-auth)" in err
    assert tasks.read_bytes() == before
    # OpenSpec archives by its own rules (the deltas applied, the change moved under archive/).
    assert main(["archive", "openspec:add-change-stacking-awareness"]) == 0
    out = capsys.readouterr().out
    assert "-> openspec/changes/archive/" in out
    assert not (mixed / "openspec/changes/add-change-stacking-awareness").exists()
    # ... and has no un-archive: said plainly.
    (moved,) = (mixed / "openspec/changes/archive").glob("*-add-change-stacking-awareness")
    assert main(["restore", f"openspec:{moved.name}"]) == 2
    assert "has no un-archive" in capsys.readouterr().err
    # CDD is unchanged: a move to specs/archive and back.
    assert main(["archive", "cdd:mock-auth"]) == 0
    assert (mixed / "specs" / "archive" / "mock-auth" / "plan.md").is_file()
    assert main(["restore", "cdd:mock-auth"]) == 0
    assert (mixed / "specs" / "tickets" / "mock-auth" / "plan.md").is_file()
