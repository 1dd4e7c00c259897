"""exec-auto serve: every report on one local page, 127.0.0.1 only, nothing but listed pages served."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest

from exec_auto.review.serve import HOST, make_server, running
from tests.conftest import run_cli


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_serve_lists_and_serves_reports_on_localhost_only(project, monkeypatch):
    run_cli(project, monkeypatch, "echo a > a.txt", "--no-gates")
    server = make_server(project, 0)
    assert server.server_address[0] == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        code, index = _get(port, "/")
        assert code == 200 and 'href="/r/archived/feature-x"' in index
        assert "Nothing running." in index and "refresh" not in index
        code, page = _get(port, "/r/archived/feature-x")
        assert code == 200 and "exec-auto review: feature-x" in page
        assert _get(port, "/r/../../etc/passwd")[0] == 404
        assert _get(port, "/specs/archive/feature-x/report.html")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_a_live_run_makes_the_index_refresh(project):
    from exec_auto.executor.lock import TicketLock
    from exec_auto.repo import state_dir
    from exec_auto.review.serve import index_page

    progress = project / "specs" / "tickets" / "feature-x" / "progress.yaml"
    progress.write_text(
        "ticket:\n  name: feature-x\n  status: in_progress\nimplementation_steps:\n"
        "  - step_id: '1'\n    description: One\n    status: completed\n"
        "  - step_id: '2'\n    description: Two\n    status: in_progress\n"
    )
    with TicketLock(state_dir(project), "feature-x"):
        assert running(project) == ["feature-x"]
        page = index_page(project)
        assert 'http-equiv="refresh"' in page
        assert "feature-x: step 2 running, 1 of 2 steps done, 0 issue(s)" in page
    assert running(project) == []


def test_serve_rejects_a_port_in_use(project, monkeypatch, capsys):
    from exec_auto.cli import main

    busy = make_server(project, 0)
    try:
        monkeypatch.chdir(project)
        assert main(["serve", "--port", str(busy.server_address[1])]) == 2
        assert "cannot listen on 127.0.0.1" in capsys.readouterr().err
    finally:
        busy.server_close()


pytestmark = pytest.mark.timeout(60)
