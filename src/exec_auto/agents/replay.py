"""The `replay` backend and its recorder: re-apply per-step patches saved from an earlier run.

`--record FILE` wraps any backend and saves, for every agent call, the patch of what it changed;
`--agent replay --replay-file FILE` applies those patches in order. It powers the offline demo and
the tests, and makes a run reproducible without a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exec_auto.agents.base import Agent, AgentResult, AgentTask
from exec_auto.atomicio import atomic_write_text
from exec_auto.config import AgentConfig
from exec_auto.errors import AgentNotConfiguredError
from exec_auto.names import file_name
from exec_auto.proc import run
from exec_auto.redact import redact

FORMAT_VERSION = 1


def _key(task: AgentTask) -> str:
    return f"{task.kind}:{task.step_id}:{task.attempt}"


def load_recording(path: Path) -> dict[str, Any]:
    """Read a recording file, raising AgentNotConfiguredError when it is unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AgentNotConfiguredError(
            f"cannot read recording: {exc}", path=path, hint="record one with --record FILE"
        ) from exc
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise AgentNotConfiguredError(
            f"not an exec-auto recording (version {FORMAT_VERSION})", path=path
        )
    return data


class ReplayAgent:
    """Applies the recorded patch for each (kind, step, attempt)."""

    name = "replay"

    def __init__(self, recording: dict[str, Any]):
        self.calls: dict[str, Any] = recording.get("calls", {})

    def run(self, task: AgentTask) -> AgentResult:
        """Apply the recorded patch with `git apply`; report what the recorded agent reported."""
        entry = self.calls.get(_key(task))
        if entry is None:
            return AgentResult(
                "error",
                error=f"no recorded {task.kind} call for step {task.step_id} attempt {task.attempt}",
            )
        patch = entry.get("patch", "")
        if patch:
            patch_file = (task.prompt_file.parent if task.prompt_file else task.repo_root) / (
                file_name(".replay", task.step_id, str(task.attempt), suffix=".patch")
            )
            patch_file.write_text(patch, encoding="utf-8")
            try:
                applied = run(
                    ["git", "apply", "--binary", "--whitespace=nowarn", str(patch_file)],
                    cwd=task.repo_root,
                    timeout=120,
                )
            finally:
                patch_file.unlink(missing_ok=True)
            if not applied.ok:
                return AgentResult(
                    "error", error=f"recorded patch did not apply: {applied.output[:500]}"
                )
        return AgentResult(
            entry.get("status", "ok"),
            summary=f"[replay] {entry.get('summary', '')}".strip(),
            error=entry.get("error"),
            subtype=entry.get("subtype"),
        )


class Recorder:
    """Collects each call's patch and writes the recording file after every call (crash-safe)."""

    def __init__(self, path: Path, ticket: str):
        self.path = path
        self.data: dict[str, Any] = {"version": FORMAT_VERSION, "ticket": ticket, "calls": {}}

    def add(self, task: AgentTask, result: AgentResult, patch: str) -> None:
        """Record one agent call and save the file."""
        root = task.repo_root
        # Recordings get shared: no secret in any field. A patch line holding one no longer
        # applies on replay, which is the lesser harm than a key in a file passed around.
        self.data["calls"][_key(task)] = {
            "status": result.status,
            "summary": redact(result.summary[-500:], repo_root=root),
            "error": redact(result.error, repo_root=root) if result.error else result.error,
            "subtype": result.subtype,
            "patch": redact(patch, repo_root=root),
        }
        atomic_write_text(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")


def create(config: AgentConfig) -> Agent:
    """Build the backend from --replay-file."""
    if config.replay_file is None:
        raise AgentNotConfiguredError(
            "the replay backend needs a recording", hint="pass --replay-file FILE"
        )
    return ReplayAgent(load_recording(config.replay_file))


def available(config: AgentConfig) -> bool:
    """Only when a recording is given."""
    return config.replay_file is not None
