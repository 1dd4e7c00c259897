"""Bring any progress.yaml mapping, ours or one an older assistant-driven run wrote, to our schema.

Older runs wrote `steps:` instead of `implementation_steps:`, ids like `step_1`, statuses like
`done` or `✅ completed`, a `status:` mapping with `current_step` and `completed_steps`, issues
with missing fields. Resuming must work on all of them, so every field is coerced to what the
`Progress` model expects and each adaptation is reported as a one-line warning. A document in
our own schema passes through without warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from exec_auto.ticket import progress_words as w
from exec_auto.ticket.model import (
    AgentUsage,
    AutoActionsSummary,
    CriterionProgress,
    Progress,
    ProgressIssue,
    StepProgress,
    StepStatus,
    TicketProgress,
)
from exec_auto.ticket.progress_words import Keys, normalize_step_id

# Derived or bookkeeping keys older runs wrote; dropping them loses nothing.
_SILENTLY_DROPPED = frozenset({"last_updated", "updated_at", "total_steps", "version"})
_STEP_LISTS: dict[str, StepStatus] = {
    "completed_steps": "completed",
    "failed_steps": "failed",
    "skipped_steps": "skipped",
}
# Step keys whose text is kept as a step warning so an older run's explanation survives.
_STEP_NOTES = ("notes", "note", "error", "errors", "blocker", "blocked_by", "reason")


def normalize_progress(
    data: Mapping[Any, Any], default_name: str
) -> tuple[dict[str, Any], list[str]]:
    """A parsed progress mapping as a dict that `Progress.model_validate` accepts, plus warnings."""
    normalizer = _Normalizer(data, default_name)
    result = normalizer.run()
    return result, list(dict.fromkeys(normalizer.warnings))


class _Normalizer:
    """One pass over a parsed progress mapping; collects warnings as it adapts fields."""

    def __init__(self, data: Mapping[Any, Any], default_name: str) -> None:
        self.top = Keys(data)
        self.default_name = default_name
        self.warnings: list[str] = []
        self.status_notes: dict[str, str] = {}
        self.ignored: dict[str, set[str]] = {}

    def run(self) -> dict[str, Any]:
        status = self.top.get("status")
        status_block = Keys(status if isinstance(status, Mapping) else {})
        result: dict[str, Any] = {
            "ticket": self._ticket(status, status_block),
            "implementation_steps": self._steps(status_block),
            "acceptance_criteria": self._criteria(self.top.get("acceptance_criteria")),
            "issues": self._issues(self.top.get("issues")),
            "auto_actions_summary": self._summary(self.top.get("auto_actions_summary")),
            "quality_gates": self._gates(self.top.get("quality_gates")),
        }
        _pass_through(self.top, Progress, result)
        if self.status_notes:
            notes = ", ".join(f"{k!r} as {v!r}" for k, v in self.status_notes.items())
            self.warnings.append(f"read older step statuses: {notes}")
        self._ignore("the top level", self.top.unknown() - _SILENTLY_DROPPED)
        for where, keys in self.ignored.items():
            self.warnings.append(
                f"ignored unknown keys in {where} (dropped on the next save): "
                + ", ".join(sorted(keys))
            )
        return result

    def _ignore(self, where: str, keys: set[str]) -> None:
        if keys:
            self.ignored.setdefault(where, set()).update(keys)

    def _ticket(self, status: Any, status_block: Keys) -> dict[str, Any]:
        raw = self.top.get("ticket")
        block = Keys(raw if isinstance(raw, Mapping) else {})
        if not isinstance(raw, Mapping) and raw not in (None, ""):
            block.raw["name"] = w.text(raw)
            self.warnings.append(f"ticket was the text {w.text(raw)!r}; read as its name")
        name = w.text(block.first("name id ticket ticket_name slug nome")).strip()
        if not name:
            name = self.default_name
            self.warnings.append(f"progress.yaml names no ticket; using {name!r}")
        overall = status
        if status_block.raw:
            overall = status_block.first("overall state value ticket status")
            self.warnings.append(
                f"status was a mapping; read its overall status {w.text(overall)!r}"
            )
        started = block.first("started_at started start") or self.top.first("started_at")
        completed = block.first("completed_at finished_at") or self.top.first("completed_at")
        ticket = {
            "name": name,
            "type": w.text(block.first("type ticket_type tipo")) or None,
            "execution_mode": w.text(block.first("execution_mode mode")) or "autonomous",
            "started_at": w.stamp(started),
            "completed_at": w.stamp(completed),
            "status": w.text(block.first("status") or overall).strip() or "pending",
        }
        _pass_through(block, TicketProgress, ticket)
        self._ignore("ticket", block.unknown())
        return ticket

    def _steps(self, status_block: Keys) -> list[dict[str, Any]]:
        raw_steps: list[Any] = []
        for key in ("implementation_steps", "steps", "tasks"):
            value = self.top.get(key)
            if isinstance(value, Mapping):
                # `steps: {step_1: done, step_2: {...}}`: the key is the id.
                value = [
                    {"step_id": k, **v} if isinstance(v, Mapping) else {"step_id": k, "status": v}
                    for k, v in value.items()
                ]
            if isinstance(value, list):
                raw_steps.extend(value)
                if key != "implementation_steps":
                    self.warnings.append(f"read steps from `{key}:` (now implementation_steps)")
        steps: dict[str, dict[str, Any]] = {}
        for index, item in enumerate(raw_steps):
            step = self._step(item, index)
            if step is None:
                continue
            if step["step_id"] in steps:
                self.warnings.append(f"step {step['step_id']!r} appeared twice; kept the later one")
            steps[step["step_id"]] = step
        # `completed_steps: [1, 2]` and `current_step: 3`, at the top or inside `status:`.
        listed: dict[str, StepStatus] = {}
        for source in (self.top, status_block):
            for key, status in _STEP_LISTS.items():
                for value in w.strings(source.get(key)):
                    if step_id := normalize_step_id(value):
                        listed[step_id] = status
            current = normalize_step_id(source.get("current_step"))
            if current is not None:
                listed.setdefault(current, "in_progress")
        added = []
        for step_id, status in listed.items():
            if step_id not in steps:
                steps[step_id] = _blank_step(step_id, status)
                added.append(step_id)
            elif steps[step_id]["status"] in ("pending", "in_progress"):
                steps[step_id]["status"] = status
        if added:
            self.warnings.append(
                f"step(s) {', '.join(added)} known only from completed_steps/current_step "
                "(no titles recorded)"
            )
        return list(steps.values())

    def _step(self, item: Any, index: int) -> dict[str, Any] | None:
        if not isinstance(item, Mapping):
            if item in (None, ""):
                return None
            self.warnings.append(
                f"step {index + 1} was the text {w.text(item)!r}; read as its title"
            )
            item = {"step_id": index + 1, "description": w.text(item)}
        raw = Keys(item)
        step_id = normalize_step_id(raw.first("step_id id step_number number"))
        description = raw.first("description name title step_name task summary descricao")
        step_value = raw.get("step")  # `step: 1` or `step: "Install dependencies"`
        if step_value is not None and step_id is None and w.looks_like_step_id(step_value):
            step_id = normalize_step_id(step_value)
        elif step_value is not None and description is None:
            description = step_value
        if step_id is None:
            step_id = str(index + 1)
            self.warnings.append(f"a step without an id was numbered {step_id} by position")
        step = _blank_step(step_id, self._step_status(raw))
        step["description"] = w.text(description)
        step["started_at"] = w.stamp(raw.first("started_at start_time started start"))
        step["completed_at"] = w.stamp(
            raw.first("completed_at finished_at end_time ended_at done_at")
        )
        step["files_touched"] = _files(raw)
        step["auto_actions"] = w.strings(raw.first("auto_actions actions actions_taken"))
        step["warnings"] = w.strings(raw.get("warnings")) + w.strings(raw.get("warning"))
        for key in _STEP_NOTES:
            step["warnings"].extend(f"{key}: {note}" for note in w.strings(raw.get(key)))
        step["attempts"] = w.count(raw.get("attempts") or 0) or 0
        agent = raw.get("agent")
        if isinstance(agent, Mapping):
            usage = {
                k: v for k, v in agent.items() if k in AgentUsage.model_fields and v is not None
            }
            try:
                step["agent"] = AgentUsage.model_validate(usage).model_dump()
            except ValueError:
                self.warnings.append(f"step {step_id}: unreadable agent usage; reset")
        _pass_through(raw, StepProgress, step)
        unreadable_agent = agent is not None and not isinstance(agent, Mapping)
        unknown = raw.unknown() | ({"agent"} if unreadable_agent else set())
        self._ignore("implementation_steps", unknown)
        return step

    def _step_status(self, raw: Keys) -> StepStatus:
        value = raw.first("status state")
        if value is None:
            flag = raw.first("done completed")
            return "completed" if flag is True else "pending"
        status = w.step_status(value)
        if status is None:
            self.warnings.append(f"unknown step status {w.text(value)!r}; read as 'pending'")
            return "pending"
        if w.text(value) != status:
            self.status_notes[w.text(value)] = status
        return status

    def _issues(self, raw: Any) -> list[dict[str, Any]]:
        if raw is None:
            return []
        items = list(raw.values()) if isinstance(raw, Mapping) else raw
        items = items if isinstance(items, list) else [items]
        return [self._issue(item) for item in items if item not in (None, "")]

    def _issue(self, item: Any) -> dict[str, Any]:
        raw = Keys(item if isinstance(item, Mapping) else {"description": w.text(item)})
        details = w.text(raw.first("details detail output traceback error_output log"))
        description = w.text(raw.first("description message title summary issue error"))
        if not description and details.strip():
            description = details.strip().split("\n")[0]
        description = description or "(no description)"
        level = raw.first("severity priority level")
        severity = w.severity(level) if level is not None else "medium"
        if severity is None:
            self.warnings.append(f"unknown issue severity {w.text(level)!r}; read as medium")
            severity = "medium"
        resolution = w.text(raw.first("resolution resolved_by fix")) or None
        state = w.word(raw.get("status") or "")
        if resolution is None and state in ("resolved", "fixed", "closed", "done"):
            resolution = state
        if resolution is None and raw.get("resolved") is True:
            resolution = "resolved"
        missing = [k for k in ("timestamp", "type", "description") if k not in raw.raw]
        if missing and isinstance(item, Mapping):
            self.warnings.append(f"an issue had no {', '.join(missing)}; filled in")
        issue = {
            "timestamp": w.stamp(raw.first("timestamp time at date logged_at created_at")) or "",
            "type": w.text(raw.first("type issue_type category kind tipo") or "unknown"),
            "step_id": normalize_step_id(raw.first("step_id step step_number")),
            "description": description,
            "details": details,
            "severity": severity,
            "resolution": resolution,
            "resolved_at": w.stamp(raw.get("resolved_at")),
            "action_taken": _joined(raw.first("action_taken action actions")),
        }
        _pass_through(raw, ProgressIssue, issue)
        self._ignore("issues", raw.unknown())
        return issue

    def _criteria(self, raw: Any) -> list[dict[str, Any]]:
        if raw is None:
            return []
        if isinstance(raw, Mapping):  # `{criterion text: met}`
            raw = [{"criterion": k, "status": v} for k, v in raw.items()]
        out: list[dict[str, Any]] = []
        for item in raw if isinstance(raw, list) else [raw]:
            entry = Keys(item if isinstance(item, Mapping) else {"criterion": item})
            criterion = w.text(entry.first("criterion text description name"))
            if not criterion.strip():
                continue
            value = entry.first("status met result")
            status = w.criterion_status(value) if value is not None else "unverified"
            if status is None:
                self.warnings.append(
                    f"unknown criterion status {w.text(value)!r}; read as unverified"
                )
            evidence = w.strings(entry.first("evidence notes"))
            record = {
                "criterion": criterion,
                "status": status or "unverified",
                "evidence": evidence,
            }
            _pass_through(entry, CriterionProgress, record)
            out.append(record)
            self._ignore("acceptance_criteria", entry.unknown())
        return out

    def _summary(self, raw: Any) -> dict[str, Any]:
        summary = AutoActionsSummary().model_dump()
        if not isinstance(raw, Mapping):
            return summary
        for key, value in raw.items():
            field = str(key)
            default = summary.get(field)
            if field not in summary:
                self._ignore("auto_actions_summary", {field})
            elif isinstance(default, list):
                summary[field] = w.strings(value)
            elif not isinstance(default, int):
                summary[field] = value
            elif (number := w.count(value)) is not None:
                summary[field] = number
            else:
                self.warnings.append(f"auto_actions_summary.{field} {value!r} is not a count")
        return summary

    def _gates(self, raw: Any) -> dict[str, str]:
        if isinstance(raw, Mapping):
            return {str(k): _gate_text(v) for k, v in raw.items()}
        gates: dict[str, str] = {}
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            if isinstance(item, Mapping):
                name = w.text(Keys(item).first("name gate tool")) or str(index + 1)
                gates[name] = _gate_text(item)
            elif ":" in w.text(item):
                name, _, result = w.text(item).partition(":")
                gates[name.strip()] = result.strip()
            elif item is not None:
                gates[str(index + 1)] = w.text(item)
        return gates


def _pass_through(raw: Keys, model: type[BaseModel], out: dict[str, Any]) -> None:
    """Copy fields of model that this module does not adapt (added to the schema later) as they are."""
    for field in model.model_fields:
        if field not in out and raw.get(field) is not None:
            out[field] = raw.get(field)


def _joined(value: Any) -> str | None:
    """Text as is; a list of actions as one `; `-separated line."""
    if value is None or isinstance(value, str):
        return value
    return "; ".join(w.strings(value))


def _blank_step(step_id: str, status: StepStatus) -> dict[str, Any]:
    return {
        "step_id": step_id,
        "description": "",
        "status": status,
        "started_at": None,
        "completed_at": None,
        "files_touched": {"created": [], "modified": [], "deleted": []},
        "auto_actions": [],
        "warnings": [],
        "attempts": 0,
        "agent": AgentUsage().model_dump(),
    }


def _files(raw: Keys) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {"created": [], "modified": [], "deleted": []}
    touched = raw.first("files_touched files")
    if isinstance(touched, Mapping):
        for key, value in touched.items():
            folded = w.word(key)
            bucket = {"added": "created", "new": "created", "removed": "deleted"}.get(folded)
            files[bucket or (folded if folded in files else "modified")].extend(w.strings(value))
    else:
        files["modified"].extend(w.strings(touched))
    files["created"].extend(w.strings(raw.get("files_created")))
    files["modified"].extend(w.strings(raw.get("files_modified")))
    files["modified"].extend(w.strings(raw.get("files_changed")))
    files["deleted"].extend(w.strings(raw.get("files_deleted")))
    return {k: list(dict.fromkeys(v)) for k, v in files.items()}


def _gate_text(value: Any) -> str:
    if isinstance(value, Mapping):
        status = Keys(value).first("status result")
        if status is not None:
            return w.text(status)
        return ", ".join(f"{k}={w.text(v)}" for k, v in value.items())
    return w.text(value)
