"""The Claude Code PreToolUse hook and the stream-json reader, without the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exec_auto.agents.claude_hook import decide
from exec_auto.agents.claude_stream import parse_stream


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository directory with one file and a symlink leading out."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "app.py").write_text("x = 1\n")
    (root / "out").symlink_to(tmp_path)
    return root


@pytest.mark.parametrize(
    ("tool", "tool_input"),
    [
        ("Write", {"file_path": "app.py", "content": ""}),
        ("Write", {"file_path": "{repo}/new/dir/file.py", "content": ""}),
        ("Edit", {"file_path": "{repo}/app.py", "old_string": "1", "new_string": "2"}),
        ("Read", {"file_path": "{repo}/.git/HEAD"}),
        ("Glob", {"pattern": "**/*.py"}),
        ("Glob", {"pattern": "src/*.py", "path": "{repo}"}),
        ("Grep", {"pattern": "import", "path": "src"}),
        ("Grep", {"pattern": "import"}),
        ("Bash", {"command": "pytest -q && ruff check ."}),
        ("TodoWrite", {"todos": []}),
    ],
)
def test_calls_inside_the_repository_pass(
    repo: Path, tool: str, tool_input: dict[str, str]
) -> None:
    filled = {
        k: v.replace("{repo}", str(repo)) if isinstance(v, str) else v
        for k, v in tool_input.items()
    }
    assert decide(tool, filled, repo) is None


@pytest.mark.parametrize(
    ("tool", "tool_input", "reason"),
    [
        ("Write", {"file_path": "/etc/passwd", "content": ""}, "outside"),
        ("Write", {"file_path": "~/.bashrc", "content": ""}, "outside"),
        ("Write", {"file_path": "out/escaped.txt", "content": ""}, "outside"),
        ("Edit", {"file_path": "../x.py", "old_string": "a", "new_string": "b"}, "outside"),
        ("MultiEdit", {"file_path": "/tmp/x.py", "edits": []}, "outside"),
        ("NotebookEdit", {"notebook_path": "/tmp/n.ipynb", "new_source": ""}, "outside"),
        ("Write", {"file_path": ".git/hooks/pre-commit", "content": ""}, ".git"),
        ("Read", {"file_path": "/etc/hostname"}, "outside"),
        ("Glob", {"pattern": "/etc/**/*.conf"}, "outside"),
        ("Glob", {"pattern": "*.py", "path": "/usr"}, "outside"),
        ("Grep", {"pattern": "secret", "path": "~/.ssh"}, "outside"),
        ("Bash", {"command": "git push origin main"}, "off this machine"),
        ("Bash", {"command": "rm -rf ~"}, "outside"),
        ("Bash", {}, "without a command"),
        ("Write", {"file_path": 42, "content": ""}, "must be a string"),
    ],
)
def test_calls_leaving_the_repository_are_refused(
    repo: Path, tool: str, tool_input: dict[str, object], reason: str
) -> None:
    refusal = decide(tool, tool_input, repo)
    assert refusal is not None
    assert reason in refusal


def run_hook(repo: Path, log: Path, event: str) -> subprocess.CompletedProcess[str]:
    """Run the hook the way Claude Code does: the event as JSON on stdin."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "exec_auto.agents.claude_hook",
            "--repo",
            str(repo),
            "--log",
            str(log),
        ],
        input=event,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hook_process_denies_and_logs(repo: Path, tmp_path: Path) -> None:
    log = tmp_path / "refusals.jsonl"
    event = {"tool_name": "Write", "tool_input": {"file_path": "/etc/x"}, "tool_use_id": "toolu_9"}
    done = run_hook(repo, log, json.dumps(event))
    assert done.returncode == 0
    decision = json.loads(done.stdout)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny"
    assert "outside the repository" in decision["permissionDecisionReason"]
    record = json.loads(log.read_text())
    assert (record["tool"], record["target"], record["id"]) == ("Write", "/etc/x", "toolu_9")


def test_hook_process_allows_silently(repo: Path, tmp_path: Path) -> None:
    log = tmp_path / "refusals.jsonl"
    event = {"tool_name": "Bash", "tool_input": {"command": "git status"}}
    done = run_hook(repo, log, json.dumps(event))
    assert (done.returncode, done.stdout) == (0, "")
    assert not log.exists()


def test_hook_process_fails_closed_on_garbage(repo: Path, tmp_path: Path) -> None:
    log = tmp_path / "refusals.jsonl"
    done = run_hook(repo, log, "this is not json")
    assert json.loads(done.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "guard failed" in log.read_text()


def _line(**event: object) -> str:
    return json.dumps(event)


def test_stream_result_line_is_authoritative() -> None:
    usage = {"input_tokens": 5, "output_tokens": 6, "cache_read_input_tokens": 7}
    stdout = "\n".join(
        [
            _line(type="system", subtype="init"),
            _line(
                type="assistant", message={"id": "m1", "usage": {"input_tokens": 1}, "content": []}
            ),
            "a warning that is not JSON",
            _line(type="result", subtype="success", num_turns=3, usage=usage, total_cost_usd=0.25),
        ]
    )
    transcript = parse_stream(stdout)
    assert transcript.turns == 3
    assert transcript.usage == {
        "input_tokens": 5,
        "output_tokens": 6,
        "cache_read_tokens": 7,
        "cache_write_tokens": 0,
    }
    assert transcript.cost_usd == 0.25
    assert transcript.noise == ["a warning that is not JSON"]


def test_stream_without_result_counts_messages_seen() -> None:
    def assistant(message_id: str, said: str) -> str:
        content = [{"type": "text", "text": said}]
        usage = {"input_tokens": 100, "output_tokens": 2}
        return _line(
            type="assistant",
            parent_tool_use_id=None,
            message={"id": message_id, "usage": usage, "content": content},
        )

    # The same message id twice is one turn (the CLI prints one line per content block).
    transcript = parse_stream(
        "\n".join([assistant("m1", "a"), assistant("m1", "b"), assistant("m2", "c")])
    )
    assert transcript.result is None
    assert transcript.turns == 2
    assert transcript.usage["input_tokens"] == 200
    assert transcript.last_text == "c"
    assert transcript.cost_usd == 0.0


def test_stream_budget_stop_takes_tokens_from_model_usage() -> None:
    model_usage = {
        "claude-a": {"inputTokens": 10, "outputTokens": 1, "cacheReadInputTokens": 2},
        "claude-b": {"inputTokens": 5, "outputTokens": 1, "cacheCreationInputTokens": 3},
    }
    zero = {"input_tokens": 0, "output_tokens": 0}
    stdout = _line(
        type="result", subtype="error_max_budget_usd", usage=zero, modelUsage=model_usage
    )
    assert parse_stream(stdout).usage == {
        "input_tokens": 15,
        "output_tokens": 2,
        "cache_read_tokens": 2,
        "cache_write_tokens": 3,
    }
