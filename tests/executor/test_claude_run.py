"""A whole ticket through the real Claude Code CLI against the fake Anthropic server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exec_auto.cli import main
from tests.agents.test_claude_backend import USAGE, fake_env, home, needs_cli  # noqa: F401 (fixtures)
from tests.conftest import make_project
from tests.fakes.anthropic_server import FakeAnthropic, text, tool_use


@needs_cli
def test_claude_ticket_runs_gates_and_records_usage(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_env: dict[str, str],  # noqa: F811
):
    root = tmp_path / "proj"
    root.mkdir()
    spec = "acceptance_criteria:\n  - hello.py prints hello\nticket:\n  status: planned\n"
    make_project(root, titles=["Write hello"], spec=spec)
    for key, value in fake_env.items():
        monkeypatch.setenv(key, value)
    verdict = json.dumps(
        {"status": "met", "reason": "hello.py prints it", "files": ["hello.py"], "tests": []}
    )
    script = [
        tool_use(
            "Write",
            {"file_path": str(root / "hello.py"), "content": "import os\nprint( 'hello' )\n"},
            usage=USAGE,
        ),
        text("Step done.", usage=USAGE),
        text(verdict, usage=USAGE),
    ]
    with FakeAnthropic(script) as fake:
        monkeypatch.chdir(root)
        code = main(
            [
                "run",
                "feature-x",
                "--agent",
                "claude",
                "--base-url",
                fake.base_url,
                "--no-archive",
                "--force",
            ]
        )
    folder = root / "specs" / "tickets" / "feature-x"
    report = json.loads((folder / "report.json").read_text())
    assert report["files_created"] == ["hello.py"]
    # Formatted by the gates; the unused import stays: a project without lint configuration
    # gets only error-class checks, not ruff's style fixes.
    assert (root / "hello.py").read_text() == 'import os\n\nprint("hello")\n'
    step = report["steps"][0]
    assert step["status"] == "completed"
    assert any(line.startswith("Ruff format: Formatted 1 file") for line in step["quality_gates"])
    assert (
        step["usage"]["input_tokens"] > 0
        and step["usage"]["output_tokens"] > 0
        and step["usage"]["cost_usd"] > 0
    )
    progress = (folder / "progress.yaml").read_text()
    assert "turns:" in progress and "result: success" in progress
    assert report["acceptance_criteria"][0]["status"] == "met"
    assert "file hello.py exists" in report["acceptance_criteria"][0]["evidence"]
    assert code == 0
