"""A flood of output stays bounded in memory, lands in capped log files, and no line is missed.

Real child processes write 50 MB; what is measured is what exec-auto holds (the result's size and
tracemalloc's peak while the bytes flow) and what it wrote to disk - not how long it took.
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from exec_auto import proc
from exec_auto.agents.base import AgentTask
from exec_auto.agents.claude_stream import Transcript, feed
from exec_auto.agents.command import CommandAgent
from exec_auto.streams import DEFAULT_LOG_HEAD, DEFAULT_OUTPUT_CAP
from tests.conftest import init_repo, make_project, run_cli

MB = 1024 * 1024
SECRET = "sk-ant-api03-FLOODSECRET-0123456789abcdef"
# 50 lines of 1 MB each (a numbered line start, so where each part came from is checkable), the
# secret on the first and the last line, then a short last line on stderr.
FLOOD = (
    "import sys\n"
    "out = sys.stdout.buffer\n"
    "for i in range(50):\n"
    "    start = b'LINE %03d ' % i + (b'"
    + SECRET.encode().decode()
    + " ' if i in (0, 49) else b'')\n"
    "    out.write(start + b'x' * (1048575 - len(start)) + b'\\n')\n"
    "print('the end on stderr', file=sys.stderr)\n"
)


def test_fifty_megabytes_through_proc_run_stay_bounded(tmp_path: Path):
    seen: list[str] = []
    tracemalloc.start()
    try:
        result = proc.run(
            [sys.executable, "-c", FLOOD],
            sandbox=None,
            log_to=tmp_path / "logs" / "flood",
            on_line=lambda stream, line: seen.append(f"{stream}:{line[:8]}"),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok, result.stderr
    assert result.stdout_bytes == 50 * MB
    # In memory: the first and last 2 MB of stdout and a line counting the rest.
    assert len(result.stdout.encode()) < 2 * DEFAULT_OUTPUT_CAP + 200
    assert result.stdout.startswith("LINE 000 ")
    assert f"{50 * MB - 2 * DEFAULT_OUTPUT_CAP} bytes of output not kept in memory" in result.stdout
    assert result.stdout.rstrip().endswith("x")
    assert "LINE 049" in result.stdout[-DEFAULT_OUTPUT_CAP:]
    # Never the whole stream at once: the peak is a few caps, not 50 MB.
    assert peak < 20 * MB, f"peak {peak / MB:.1f} MB"
    # Every line reached the callback, the middle ones too, in order.
    assert [s for s in seen if s.startswith("stdout")] == [
        f"stdout:LINE {i:03d}" for i in range(50)
    ]
    assert any(s.startswith("stderr:the end") for s in seen)
    # On disk: the first 16 MB, a line counting the gap, the last 2 MB - redacted.
    log = result.stdout_log
    assert log == tmp_path / "logs" / "flood.stdout.log"
    data = log.read_bytes()
    assert DEFAULT_LOG_HEAD < len(data) < DEFAULT_LOG_HEAD + DEFAULT_OUTPUT_CAP + 200
    gap = 50 * MB - DEFAULT_LOG_HEAD - DEFAULT_OUTPUT_CAP
    assert f"[... {gap} bytes of output not kept ...]".encode() in data
    assert data.startswith(b"LINE 000 [REDACTED] x")
    assert b"LINE 049 [REDACTED] x" in data[-DEFAULT_OUTPUT_CAP:]
    assert SECRET.encode() not in data
    assert result.stderr_log is not None
    assert result.stderr_log.read_text() == "the end on stderr\n"
    assert (log.stat().st_mode & 0o777) == 0o600


def test_a_quiet_command_leaves_no_log_and_small_output_is_whole(tmp_path: Path):
    quiet = proc.run(["true"], sandbox=None, log_to=tmp_path / "q")
    assert quiet.stdout_log is None and quiet.stderr_log is None
    assert not list(tmp_path.iterdir())
    small = proc.run(["printf", "a\\nb"], sandbox=None, log_to=tmp_path / "s")
    assert small.stdout == "a\nb"
    assert small.stdout_log is not None and small.stdout_log.read_text() == "a\nb"


def test_the_command_backend_logs_into_the_scope_and_reports_the_overflow(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("x = 1\n")
    init_repo(repo)
    script = tmp_path / "flood.py"
    script.write_text(FLOOD)
    agent = CommandAgent(f"{sys.executable} {script}; echo done")
    task = AgentTask("t", "1", "Flood", "Step 1", repo, timeout=120)
    with proc.output_scope(tmp_path / "logs") as scope:
        result = agent.run(task)
    assert scope is not None
    assert result.status == "ok", result.error
    assert result.summary.endswith("the end on stderr")
    [over] = scope.drain()
    assert (over.stream, over.total) == ("stdout", 50 * MB + len("done\n"))
    assert over.log is not None and over.log.parent == tmp_path / "logs"
    assert over.log.name.endswith("-sh.stdout.log") or over.log.name.endswith(".stdout.log")
    assert over.log.stat().st_size < DEFAULT_LOG_HEAD + DEFAULT_OUTPUT_CAP + 200
    assert str(over.log) in over.line()


def test_claude_stream_json_is_parsed_whole_even_when_memory_keeps_only_its_ends(tmp_path: Path):
    # 40 assistant turns of ~1 MB each, then the result line: far more than proc keeps in memory.
    stream = tmp_path / "stream.py"
    stream.write_text(
        "import json, sys\n"
        "for i in range(40):\n"
        "    msg = {'id': f'm{i}', 'usage': {'input_tokens': 10, 'output_tokens': 1},\n"
        "           'content': [{'type': 'text', 'text': f'turn {i} ' + 'y' * 1000000}]}\n"
        "    print(json.dumps({'type': 'assistant', 'message': msg}))\n"
        "print(json.dumps({'type': 'result', 'subtype': 'success', 'num_turns': 40,\n"
        "                  'total_cost_usd': 0.5, 'result': 'done'}))\n"
    )
    transcript = Transcript()
    result = proc.run(
        [sys.executable, str(stream)],
        sandbox=None,
        on_line=lambda name, line: feed(transcript, line) if name == "stdout" else None,
    )
    assert result.ok
    assert "bytes of output not kept in memory" in result.stdout
    assert transcript.result is not None and transcript.result["result"] == "done"
    assert len(transcript.message_usage) == 40
    assert transcript.usage["input_tokens"] == 400
    assert transcript.last_text.startswith("turn 39 ")
    assert transcript.noise == []


def test_a_run_logs_the_flood_and_points_at_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    root = tmp_path / "proj"
    root.mkdir()
    ticket = make_project(root, titles=["Only"])
    script = tmp_path / "flood.py"
    script.write_text(FLOOD)
    monkeypatch.setenv("EXEC_AUTO_SANDBOX_WRITABLE", str(tmp_path))
    run_cli(
        root,
        monkeypatch,
        f"{sys.executable} {script}; echo work > a.txt",
        "--no-gates",
        "--no-archive",
    )
    progress = YAML(typ="safe").load((ticket / "progress.yaml").read_text())
    [issue] = [i for i in progress["issues"] if i["type"] == "output_truncated"]
    assert issue["severity"] == "low" and issue["step_id"] == "1"
    log = Path(issue["description"].split("more of it is in ")[1])
    assert log.is_file() and log.is_relative_to(root / ".git" / "exec-auto" / "logs")
    assert log.stat().st_size < DEFAULT_LOG_HEAD + DEFAULT_OUTPUT_CAP + 200
    assert SECRET.encode() not in log.read_bytes()
    assert SECRET not in json.dumps(progress)


def test_a_failing_line_callback_never_stalls_the_command(tmp_path: Path):
    def broken(stream: str, line: str) -> None:
        raise ValueError("parser bug")

    result = proc.run(
        [sys.executable, "-c", "print('x' * 100 + '\\n', end='' ) or print('y\\n' * 200000)"],
        sandbox=None,
        timeout=60,
        on_line=broken,
    )
    assert result.ok and not result.timed_out
    assert result.stdout_bytes > 400_000
