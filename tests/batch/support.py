"""Batch test helpers: several tickets in one git project, a ticket-aware shell agent, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exec_auto.cli import main
from tests.conftest import git, make_project, plan_text


def ticket_spec(name: str) -> str:
    """A spec whose only criterion the batch agent meets (so a clean run exits 0)."""
    return (
        f'title: "{name}"\n'
        "acceptance_criteria:\n"
        f'  - criterion: "{name}-1.txt exists"\n'
        f'    verify: "test -f {name}-1.txt"\n'
        "ticket:\n  type: feature\n  status: planned\n"
    )


def add_ticket(root: Path, name: str, titles: tuple[str, ...] = ("One", "Two", "Three")) -> Path:
    """Write specs/tickets/<name>/{plan.md,spec.yaml} (not committed)."""
    folder = root / "specs" / "tickets" / name
    folder.mkdir(parents=True)
    (folder / "plan.md").write_text(plan_text(list(titles)), encoding="utf-8")
    (folder / "spec.yaml").write_text(ticket_spec(name), encoding="utf-8")
    return folder


def commit_all(root: Path, message: str = "tickets") -> None:
    """git add -A && git commit in root."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def make_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Build a committed project with the given tickets; returns its root.

    The shell agents write call logs and markers beside the project, and fake git's failures in
    the main repository's .git: the sandbox is told to let them (EXEC_AUTO_SANDBOX_WRITABLE).
    """
    monkeypatch.setenv("EXEC_AUTO_SANDBOX_WRITABLE", str(tmp_path))

    def build(names: list[str], titles: tuple[str, ...] = ("One", "Two", "Three")) -> Path:
        root = tmp_path / "proj"
        root.mkdir()
        make_project(root, names[0], list(titles), spec=ticket_spec(names[0]))
        for name in names[1:]:
            add_ticket(root, name, titles)
        if names[1:]:
            commit_all(root)
        return root

    return build


def agent_command(
    *,
    fail: tuple[str, ...] = (),
    readme: tuple[str, ...] = (),
    sleep: float = 0,
    pre: str = "",
    extra: str = "",
) -> str:
    """A shell agent: writes <ticket>-<step>.txt; fails for `fail`; overwrites README for `readme`.

    `pre` and `extra` are shell snippets run before and after the write.
    """
    parts = ['T="$EXEC_AUTO_TICKET"; S="$EXEC_AUTO_STEP_ID"']
    if sleep:
        parts.append(f"sleep {sleep}")
    if pre:
        parts.append(pre)
    if fail:
        parts.append(f'case " {" ".join(fail)} " in *" $T "*) echo boom >&2; exit 3;; esac')
    parts.append('echo "$T $S" > "$T-$S.txt"')
    if readme:
        parts.append(f'case " {" ".join(readme)} " in *" $T "*) echo "$T" > README.md;; esac')
    if extra:
        parts.append(extra)
    return "; ".join(parts)


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """Where the batch report goes (outside the project)."""
    return tmp_path / "batch-report"


@pytest.fixture
def run_batch_cli(monkeypatch: pytest.MonkeyPatch, report_dir: Path):
    """Run `exec-auto run ...` in root with the shell agent, gates off; returns the exit code."""

    def run(root: Path, agent: str, *args: str) -> int:
        monkeypatch.chdir(root)
        return main(
            [
                "run",
                *args,
                "--agent",
                "command",
                "--agent-command",
                agent,
                "--no-gates",
                "--report-dir",
                str(report_dir),
                # The helper plans are minimal ("Do one."): forced past the readiness gate.
                "--force",
            ]
        )

    return run


def batch_json(report_dir: Path) -> dict:
    """batch-report.json as a dict."""
    return json.loads((report_dir / "batch-report.json").read_text(encoding="utf-8"))


def rows(report_dir: Path) -> dict[str, dict]:
    """The report's rows by ticket name."""
    return {r["ticket"]: r for r in batch_json(report_dir)["tickets"]}
