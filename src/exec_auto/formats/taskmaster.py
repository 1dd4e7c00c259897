"""Taskmaster: .taskmaster/tasks/tasks.json, one ticket per tag.

The tagged file holds tags at the top level (`{"master": {"tasks": [...], "metadata": ...}}`);
an older untagged file (`{"tasks": [...]}`) is read as the tag `master`. Each task with subtasks
contributes one step per subtask (id `5.2`, phase `Task 5: title`); a task without subtasks is a
step itself (id `5`). A task's `dependencies` (task ids) make every step of it wait for every
step of those tasks; a subtask's numeric dependencies name siblings, dotted strings ("1.2") any
subtask. Tasks or subtasks already `done`, `cancelled` or `deferred` are not run. Criteria are
the `testStrategy` of each task left to run and any subtask `acceptanceCriteria`.

Status goes back as Taskmaster writes it: a subtask (and its task) becomes `in-progress` when
work starts and `done` when it completes; a task is `done` once all its subtasks are; a step
that completed with a warning becomes `review`; one that failed or was skipped gets back the
status it had. Each change replaces only the status value's bytes (a missing status key is
added after the last member, indented like its siblings); key order, indentation and every
other byte stay as they were. Taskmaster has no progress file, so progress.yaml and reports
live under the repository's exec-auto state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from exec_auto.atomicio import atomic_write_text
from exec_auto.errors import FormatError
from exec_auto.formats.base import LoadedTicket, RunSummary, StaysInPlace
from exec_auto.formats.jsonedit import JSONEditError, set_value
from exec_auto.formats.textfile import read_text
from exec_auto.ticket.model import Criterion, Plan, Step, StepStatus
from exec_auto.ticket.resolve import TicketRef

TASKS_FILE = Path(".taskmaster") / "tasks" / "tasks.json"
NOT_TO_RUN = frozenset({"done", "cancelled", "deferred"})


def _document(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            path=path,
            hint="fix it with `task-master validate-dependencies` or an editor; it was not changed",
        ) from None


def _tags(data: Any) -> dict[str, tuple[tuple[str, ...], list[Any]]]:
    """tag -> (path of its tasks array, tasks)."""
    if not isinstance(data, dict):
        return {}
    if isinstance(data.get("tasks"), list):
        return {"master": (("tasks",), data["tasks"])}
    return {
        name: ((name, "tasks"), value["tasks"])
        for name, value in data.items()
        if isinstance(value, dict) and isinstance(value.get("tasks"), list)
    }


def _sid(task: Mapping[str, Any], sub: Mapping[str, Any] | None = None) -> str:
    return f"{task.get('id')}.{sub.get('id')}" if sub is not None else str(task.get("id"))


class Taskmaster(StaysInPlace):
    """The Taskmaster tasks.json layout."""

    name = "taskmaster"
    label = "Taskmaster"
    uses_state_home = True

    def detect(self, root: Path) -> bool:
        """.taskmaster/tasks/tasks.json exists."""
        return (root / TASKS_FILE).is_file()

    def list_tickets(self, root: Path) -> list[TicketRef]:
        """One ticket per tag."""
        path = root / TASKS_FILE
        if not path.is_file():
            return []
        try:
            tags = _tags(_document(path))
        except FormatError:
            # Listed so `list` can show it as unreadable rather than hide it.
            return [TicketRef("master", root, format=self.name, source=path)]
        return [TicketRef(tag, root, format=self.name, source=path) for tag in tags]

    def owns(self, path: Path, root: Path) -> TicketRef | None:
        """The tasks file (its first tag) or the .taskmaster folder."""
        if path.resolve() in ((root / TASKS_FILE).resolve(), (root / ".taskmaster").resolve()):
            tickets = self.list_tickets(root)
            return tickets[0] if tickets else None
        return None

    def load(self, ref: TicketRef) -> LoadedTicket:
        """The tag's tasks and subtasks as steps; testStrategy and acceptanceCriteria as criteria."""
        path = ref.root / TASKS_FILE
        rel = TASKS_FILE.as_posix()
        tags = _tags(_document(path))
        if ref.name not in tags:
            raise FormatError(
                f"has no tag {ref.name!r}",
                path=path,
                hint="tags: " + ", ".join(tags) if tags else None,
            )
        _, tasks = tags[ref.name]
        steps: list[Step] = []
        criteria: list[Criterion] = []
        leaves: dict[str, list[str]] = {}
        pending_deps: list[tuple[int, list[str]]] = []
        warnings: list[str] = []
        for ti, task in enumerate(tasks):
            if not isinstance(task, dict) or "id" not in task:
                warnings.append(f"{rel}: {ref.name}.tasks[{ti}] has no id; skipped")
                continue
            tid = str(task["id"])
            subs = [s for s in task.get("subtasks") or [] if isinstance(s, dict) and "id" in s]
            task_status = str(task.get("status", "pending"))
            head = f"Task {tid}: {task.get('title', '')}"
            context = _context(task)
            task_deps = [str(d) for d in task.get("dependencies") or []]
            ids = []
            for si, sub in enumerate(subs) if subs else [(None, None)]:
                status = str(sub.get("status", "pending")) if sub is not None else task_status
                sid = _sid(task, sub)
                ids.append(sid)
                own = (
                    [_sibling(tid, d) for d in (sub.get("dependencies") or [])]
                    if sub is not None
                    else []
                )
                where = f"{ref.name}.tasks[{ti}]" + (f".subtasks[{si}]" if sub is not None else "")
                body = (
                    context
                    if sub is None
                    else f"{context}\n\n## Subtask {sid}: {sub.get('title', '')}\n{_context(sub)}"
                )
                steps.append(
                    Step(
                        id=sid,
                        title=str((sub or task).get("title") or sid),
                        body=body.strip(),
                        phase=head if sub is not None else None,
                        done=status in NOT_TO_RUN
                        or (task_status in NOT_TO_RUN and sub is not None),
                        source=f"{rel} {where} (status {status})",
                    )
                )
                pending_deps.append((len(steps) - 1, own + [f"task:{d}" for d in task_deps]))
                if sub is not None and sub.get("acceptanceCriteria") and status not in NOT_TO_RUN:
                    criteria += _criteria(
                        sub.get("acceptanceCriteria"), sid, f"{rel} {where}.acceptanceCriteria"
                    )
            leaves[tid] = ids
            strategy = task.get("testStrategy")
            if strategy and task_status not in NOT_TO_RUN:
                criteria.append(
                    Criterion(
                        text=f"Task {tid} ({task.get('title', '')}): {' '.join(str(strategy).split())}",
                        group=f"Task {tid}",
                        source=f"{rel} {ref.name}.tasks[{ti}].testStrategy",
                    )
                )
        known = {s.id for s in steps}
        for index, deps in pending_deps:
            resolved: list[str] = []
            for dep in deps:
                targets = leaves.get(dep[5:], []) if dep.startswith("task:") else [dep]
                for target in targets:
                    if target in known and target != steps[index].id and target not in resolved:
                        resolved.append(target)
                if not targets or any(t not in known for t in targets):
                    warnings.append(
                        f"{rel}: {steps[index].id} depends on {dep.removeprefix('task:')}, which is not in tag {ref.name}; ignored"
                    )
            step = steps[index]
            steps[index] = step.model_copy(
                update={
                    "depends_on": tuple(resolved),
                    "source": step.source
                    + (f", depends on {', '.join(resolved)}" if resolved else ""),
                }
            )
        if not steps:
            raise FormatError(
                f"tag {ref.name!r} has no tasks",
                path=path,
                hint="add them with `task-master parse-prd`",
            )
        done = sum(s.done for s in steps)
        return LoadedTicket(
            ref=ref,
            format=self.name,
            title=f"Taskmaster tag {ref.name}",
            plan=Plan(
                path=path,
                title=f"Taskmaster tag {ref.name}",
                overview=f"Tasks of the Taskmaster tag {ref.name!r} in {rel}. The harness records each "
                "task's status there; do not edit it.",
                steps=tuple(steps),
            ),
            criteria=tuple(criteria),
            status="done" if done == len(steps) else ("in-progress" if done else "pending"),
            files=(rel,),
            warnings=tuple(dict.fromkeys(warnings)),
            no_criteria_note=None
            if criteria
            else "no testStrategy or acceptanceCriteria on the open tasks: nothing to validate",
            derivation=(
                f"steps: the subtasks of each task of tag {ref.name!r} (a task without subtasks is one step); "
                "dependencies from task and subtask `dependencies`",
                "criteria: testStrategy of each open task, acceptanceCriteria of each open subtask",
            ),
            state={s.id: _status_of(tasks, s.id) for s in steps},
        )

    def mark_started(self, ticket: LoadedTicket, now: str) -> list[str]:
        """Nothing until a task starts."""
        return []

    def mark_step(self, ticket: LoadedTicket, step: Step, status: StepStatus) -> list[str]:
        """Write the step's status (and its task's) as Taskmaster would."""
        wanted = {
            "in_progress": "in-progress",
            "completed": "done",
            "completed_with_warning": "review",
        }.get(status) or ticket.state.get(step.id, "pending")
        path = ticket.ref.root / TASKS_FILE
        out: list[str] = []
        if self._write(path, ticket.ref.name, step.id, wanted):
            out.append(f"tasks.json: {step.id} status {wanted}")
        tid, _, sub = step.id.partition(".")
        if not sub:
            return out
        task = self._task(path, ticket.ref.name, tid)
        if task is None:
            return out
        subs = task.get("subtasks") or []
        states = {str(s.get("status", "pending")) for s in subs}
        parent = None
        if subs and states <= {"done", "cancelled"}:
            parent = "done"
        elif wanted == "in-progress" and str(task.get("status")) not in ("in-progress", "done"):
            parent = "in-progress"
        if parent and self._write(path, ticket.ref.name, tid, parent):
            out.append(f"tasks.json: task {tid} status {parent}")
        return out

    def _task(self, path: Path, tag: str, tid: str) -> dict[str, Any] | None:
        _, tasks = _tags(_document(path))[tag]
        return next((t for t in tasks if isinstance(t, dict) and str(t.get("id")) == tid), None)

    def _write(self, path: Path, tag: str, step_id: str, value: str) -> bool:
        text = read_text(path)
        data = json.loads(text)
        base, tasks = _tags(data)[tag]
        tid, _, sub = step_id.partition(".")
        ti = next(
            (i for i, t in enumerate(tasks) if isinstance(t, dict) and str(t.get("id")) == tid),
            None,
        )
        if ti is None:
            raise FormatError(f"task {tid} is no longer in tag {tag!r}", path=path)
        where: tuple[str | int, ...] = (*base, ti)
        holder = tasks[ti]
        if sub:
            subs = holder.get("subtasks") or []
            si = next((i for i, s in enumerate(subs) if str(s.get("id")) == sub), None)
            if si is None:
                raise FormatError(f"subtask {step_id} is no longer in tag {tag!r}", path=path)
            where, holder = (*where, "subtasks", si), subs[si]
        if holder.get("status") == value:
            return False
        try:
            atomic_write_text(path, set_value(text, (*where, "status"), value))
        except JSONEditError as exc:
            raise FormatError(
                f"cannot record status {value!r} for {step_id}: {exc}", path=path
            ) from None
        return True

    def mark_finished(
        self, ticket: LoadedTicket, now: str, *, clean: bool, summary: RunSummary
    ) -> list[str]:
        """Nothing beyond the task statuses."""
        return []


def _context(item: Mapping[str, Any]) -> str:
    parts = [str(item.get("description") or "").strip()]
    if item.get("details"):
        parts.append(f"Details:\n{str(item['details']).strip()}")
    if item.get("testStrategy"):
        parts.append(f"Test strategy: {str(item['testStrategy']).strip()}")
    return "\n\n".join(p for p in parts if p)


def _sibling(tid: str, dep: Any) -> str:
    """A subtask dependency: 3 is sibling 3 of the same task; "4.1" is subtask 1 of task 4."""
    text = str(dep)
    return text if "." in text else f"{tid}.{text}"


def _criteria(value: Any, sid: str, source: str) -> list[Criterion]:
    items = (
        value
        if isinstance(value, list)
        else [line.strip("-* ") for line in str(value).splitlines()]
    )
    return [
        Criterion(text=f"Subtask {sid}: {str(item).strip()}", group=f"Subtask {sid}", source=source)
        for item in items
        if str(item).strip()
    ]


def _status_of(tasks: list[Any], step_id: str) -> str:
    tid, _, sub = step_id.partition(".")
    for task in tasks:
        if isinstance(task, dict) and str(task.get("id")) == tid:
            if not sub:
                return str(task.get("status", "pending"))
            for s in task.get("subtasks") or []:
                if isinstance(s, dict) and str(s.get("id")) == sub:
                    return str(s.get("status", "pending"))
    return "pending"
