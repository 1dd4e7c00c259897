"""A whole ticket through the OpenAI-compatible backend (real SDK via pydantic-ai) against the fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exec_auto.cli import main
from tests.conftest import make_project
from tests.fakes.openai_server import FakeOpenAI, text, tool_use


def test_openai_ticket_with_gates_fix_and_judge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "proj"
    root.mkdir()
    spec = "acceptance_criteria:\n  - greet() greets by name\n  - Nobody can cite this\nticket:\n  status: planned\n"
    make_project(root, titles=["Write greet", "Test greet"], spec=spec)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-run-0123456789abcdef")
    module = 'def greet(name):\n    return "hi " + name\n'
    test = (
        "from greet import greet\n\n\ndef test_greet():\n    assert greet('ann') == 'hello ann'\n"
    )
    verdict = {
        "status": "met",
        "reason": "greet.py defines it",
        "files": ["greet.py"],
        "tests": ["test_greet"],
    }
    bogus = {"status": "met", "reason": "trust me", "files": ["nowhere.py"], "tests": []}
    script = [
        tool_use("write_file", {"path": "greet.py", "content": module}),
        text("Wrote greet.py."),
        tool_use("write_file", {"path": "test_greet.py", "content": test}),
        text("Wrote the test."),
        # The gates fail test_greet; the fix attempt repairs greet.py.
        tool_use(
            "edit_file", {"path": "greet.py", "old_string": '"hi "', "new_string": '"hello "'}
        ),
        text("Fixed the greeting."),
        text(json.dumps(verdict)),
        text(json.dumps(bogus)),
    ]
    with FakeOpenAI(script) as fake:
        monkeypatch.chdir(root)
        code = main(
            [
                "run",
                "feature-x",
                "--agent",
                "openai",
                "--base-url",
                fake.base_url,
                "--no-archive",
                "--force",
            ]
        )
        fix_request = json.dumps(fake.requests[4])
    report = json.loads((root / "specs" / "tickets" / "feature-x" / "report.json").read_text())
    assert [s["status"] for s in report["steps"]] == ["completed", "completed"]
    assert (
        "test_greet" in fix_request and "hello ann" in fix_request
    )  # the gate output reached the model
    assert (root / "greet.py").read_text() == 'def greet(name):\n    return "hello " + name\n'
    assert report["auto_actions"]["fix_attempts"] == 1
    assert report["usage"]["input_tokens"] > 0 and report["usage"]["output_tokens"] > 0
    crit = {c["criterion"]: c for c in report["acceptance_criteria"]}
    assert crit["greet() greets by name"]["status"] == "met"
    assert "test test_greet passed" in crit["greet() greets by name"]["evidence"]
    assert crit["Nobody can cite this"]["status"] == "unverified"  # the cited file does not exist
    assert code == 1
