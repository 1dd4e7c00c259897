"""Being told: `--notify-command CMD` runs once per finished ticket and once per batch.

The command runs through the shell with the report paths and a one-line summary in its
environment (enough for `curl` to a chat webhook or `mail`). It is bounded by a timeout; a command that
fails or cannot start is logged — on stderr and in `<git-common-dir>/exec-auto/notify.log` — and
never changes the run's outcome or exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from exec_auto.clock import now_iso
from exec_auto.proc import run

if TYPE_CHECKING:
    from exec_auto.batch.report import BatchReport
    from exec_auto.report import Report

TIMEOUT_SECONDS = 60.0


def notify(
    command: str | None,
    *,
    kind: str,
    summary: str,
    paths: Sequence[Path],
    cwd: Path,
    extra: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
) -> bool:
    """Run the notify command (if any); True when it ran and exited 0."""
    if not command:
        return False
    env = {
        "EXEC_AUTO_NOTIFY_KIND": kind,
        "EXEC_AUTO_SUMMARY": summary,
        "EXEC_AUTO_REPORT_PATHS": "\n".join(str(p) for p in paths),
        **{f"EXEC_AUTO_REPORT_{p.suffix.lstrip('.').upper()}": str(p) for p in paths},
        **(extra or {}),
    }
    try:
        result = run(command, cwd=cwd, shell=True, extra_env=env, timeout=TIMEOUT_SECONDS)
    except Exception as exc:  # never fatal: a notification is a courtesy
        _log(log_dir, f"{kind}: notify command could not run: {type(exc).__name__}: {exc}")
        return False
    if result.ok:
        return True
    why = "timed out" if result.timed_out else f"exited {result.returncode}"
    tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [""]
    _log(log_dir, f"{kind}: notify command {why}: {tail[0][:300]}")
    return False


def _log(log_dir: Path | None, message: str) -> None:
    print(f"[AUTO] {message} (the run is not affected)", file=sys.stderr, flush=True)
    if log_dir is None:
        return
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "notify.log", "a", encoding="utf-8") as f:
            f.write(f"{now_iso()} {message}\n")
    except OSError:
        pass  # the message is on stderr already


def log_dir(root: Path) -> Path | None:
    """Where notify.log goes: exec-auto's folder in the repository's common git dir."""
    from exec_auto.repo import common_dir

    try:
        return common_dir(root) / "exec-auto"
    except Exception:  # not a repository any more: stderr only
        return None


def ticket_summary(report: Report) -> str:
    """'feature-x: partial (completed_with_issues, exit 1), $0.1200 measured, 3/4 steps'."""
    from exec_auto.review.model import review_ticket

    verdict = review_ticket(report, None).verdict
    c = report.step_counts
    done = c.get("completed", 0) + c.get("completed_with_warning", 0)
    return (
        f"{report.ticket}: {verdict.replace('_', ' ')} ({report.status}, exit {report.exit_code}), "
        f"{done}/{len(report.steps)} steps, {len(report.issues)} open issue(s), cost {report.usage.cost_text()}"
    )


def notify_ticket(command: str | None, report: Report, paths: Sequence[Path], root: Path) -> bool:
    """The per-ticket notification."""
    return notify(
        command,
        kind="ticket",
        summary=ticket_summary(report),
        paths=paths,
        cwd=root,
        extra={"EXEC_AUTO_TICKET": report.ticket, "EXEC_AUTO_EXIT_CODE": str(report.exit_code)},
        log_dir=log_dir(root),
    )


def batch_summary(batch: BatchReport) -> str:
    """'batch of 3: 1 proven, 1 partial, 1 failed; exit 1; 2 min 10 s; cost $0 (not reported)'."""
    from exec_auto.review.html import duration
    from exec_auto.review.model import VERDICTS
    from exec_auto.review.pages import batch_reviews

    verdicts = [r.verdict for r in batch_reviews(batch, None)]
    counts = ", ".join(
        f"{verdicts.count(v)} {v.replace('_', ' ')}" for v in VERDICTS if v in verdicts
    )
    return (
        f"batch of {len(batch.tickets)}: {counts}; exit {batch.exit_code}; "
        f"{duration(batch.wall_seconds)}; cost {batch.totals.usage.cost_text()}"
    )


def notify_batch(
    command: str | None, batch: BatchReport, paths: Sequence[Path], root: Path
) -> bool:
    """The per-batch notification."""
    return notify(
        command,
        kind="batch",
        summary=batch_summary(batch),
        paths=paths,
        cwd=root,
        extra={"EXEC_AUTO_EXIT_CODE": str(batch.exit_code)},
        log_dir=log_dir(root),
    )
