"""`exec-auto serve`: a small local page over every report in the repository.

Bound to 127.0.0.1 only. The index lists ticket reports (active and archived) and batch reports,
newest batch first, and the tickets running right now; while anything runs it refreshes itself every
few seconds. Only the files on the index are served — a request names an entry, never a path.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from exec_auto.review.pages import BATCH_PAGE, TICKET_PAGE
from exec_auto.ticket.resolve import ARCHIVE, TICKETS

HOST = "127.0.0.1"
REFRESH_SECONDS = 5


@dataclass(frozen=True)
class Entry:
    """One page on the index."""

    key: str
    kind: str  # ticket | archived | batch
    label: str
    path: Path


def _batches_dir(root: Path) -> Path | None:
    from exec_auto.repo import common_dir

    try:
        return common_dir(root) / "exec-auto" / "batches"
    except Exception:  # not a git repository: no batches
        return None


def _ticket_pages(root: Path) -> list[tuple[str, str, Path]]:
    """(kind, name, page) of every ticket's report.html, over every ticket format."""
    from exec_auto.formats.registry import all_tickets

    pages: dict[Path, tuple[str, str, Path]] = {}
    for kind, folder in (("ticket", root / TICKETS), ("archived", root / ARCHIVE)):
        if folder.is_dir():
            for page in sorted(folder.glob(f"*/{TICKET_PAGE}")):
                pages[page.resolve()] = (kind, page.parent.name, page)
    try:
        refs = all_tickets(root)
    except Exception:  # a format that cannot list its tickets must not hide the others
        refs = []
    for ref in refs:
        page = ref.dir / TICKET_PAGE
        if page.is_file() and page.resolve() not in pages:
            kind = "archived" if ref.archived else "ticket"
            pages[page.resolve()] = (kind, f"{ref.format}:{ref.name}", page)
    return sorted(pages.values(), key=lambda p: (p[0] != "ticket", p[1]))


def entries(root: Path) -> list[Entry]:
    """Every report page in the repository, in a stable order."""
    found = [Entry(f"{kind}/{name}", kind, name, page) for kind, name, page in _ticket_pages(root)]
    batches = _batches_dir(root)
    if batches is not None and batches.is_dir():
        for page in sorted(batches.glob(f"*/{BATCH_PAGE}"), reverse=True):
            found.append(Entry(f"batch/{page.parent.name}", "batch", page.parent.name, page))
    return found


def running(root: Path) -> list[str]:
    """Tickets whose run lock names a live process (in this work tree or any of its worktrees)."""
    from exec_auto.repo import common_dir

    try:
        common = common_dir(root)
    except Exception:
        return []
    holders = [*common.glob("exec-auto/locks/*.holder.json")]
    holders += common.glob("worktrees/*/exec-auto/locks/*.holder.json")
    live = []
    for holder in holders:
        try:
            pid = int(json.loads(holder.read_text(encoding="utf-8"))["pid"])
            os.kill(pid, 0)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        name = holder.name.removesuffix(".holder.json")
        # Ticket locks are named ticket-<name>; the work-tree lock names no ticket.
        if name.startswith("ticket-"):
            live.append(name.removeprefix("ticket-"))
    return sorted(set(live))


def progress_line(root: Path, name: str) -> str:
    """'feature-x: step 2 of 4 running, 1 done' from its progress.yaml (here or in its worktree)."""
    from exec_auto.repo import common_dir
    from exec_auto.ticket.model import FINISHED_STEP_STATUSES
    from exec_auto.ticket.progress import peek_progress

    candidates = [root / TICKETS / name / "progress.yaml"]
    try:
        worktree = common_dir(root) / "exec-auto" / "worktrees" / name
        candidates += sorted(worktree.glob(f"**/{TICKETS.as_posix()}/{name}/progress.yaml"))
    except Exception:  # not a repository: only the work tree's own file
        pass
    for path in candidates:
        progress = peek_progress(path)
        if progress is None:
            continue
        steps = progress.implementation_steps
        done = sum(1 for s in steps if s.status in FINISHED_STEP_STATUSES)
        now = next((s for s in steps if s.status == "in_progress"), None)
        doing = f"step {now.step_id} running, " if now else ""
        return f"{name}: {doing}{done} of {len(steps)} steps done, {len(progress.open_issues())} issue(s)"
    return f"{name}: running"


def index_page(root: Path) -> str:
    """The index: running tickets (with their progress), then every report."""
    live = running(root)
    refresh = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if live else ""
    rows = "".join(
        f'<tr><td>{html.escape(e.kind)}</td><td><a href="/r/{html.escape(e.key)}">'
        f"{html.escape(e.label)}</a></td></tr>"
        for e in entries(root)
    )
    now = (
        f"<p>Running now (this page refreshes every {REFRESH_SECONDS} s):</p><ul>"
        + "".join(f"<li>{html.escape(progress_line(root, n))}</li>" for n in live)
        + "</ul>"
        if live
        else "<p>Nothing running.</p>"
    )
    table = (
        f"<table><tr><th>Kind</th><th>Report</th></tr>{rows}</table>"
        if rows
        else "<p><i>No reports yet.</i></p>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"{refresh}<title>exec-auto reports</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:24px}td,th{padding:4px 10px;text-align:left}</style>"
        f"</head><body><h1>exec-auto reports</h1><p>{html.escape(str(root))}</p>{now}{table}</body></html>"
    )


def make_server(root: Path, port: int = 0) -> ThreadingHTTPServer:
    """The server on 127.0.0.1:port (0: any free port), not yet serving."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = unquote(self.path.split("?", 1)[0])
            if path in ("/", "/index.html"):
                self._send(200, index_page(root).encode())
                return
            if path.startswith("/r/"):
                wanted = path[3:]
                for entry in entries(root):
                    if entry.key == wanted:
                        try:
                            self._send(200, entry.path.read_bytes())
                        except OSError:
                            break
                        return
            self._send(404, b"<!DOCTYPE html><p>not found: <a href='/'>index</a></p>")

        def _send(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the terminal shows the URL, not every request

    return ThreadingHTTPServer((HOST, port), Handler)
