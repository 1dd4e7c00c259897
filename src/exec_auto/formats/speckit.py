"""GitHub spec-kit: specs/NNN-feature/ with spec.md, plan.md and tasks.md.

Steps are tasks.md's checkbox tasks with an id (`- [ ] T001 [P] [US1] Description`), grouped by
the `## Phase N:` heading above them. `[P]` marks a task as parallel; `(depends on T012, T013)` in
a task (or in the sub-heading above a group of tasks) names its dependencies. A phase's
`**Checkpoint**:` line is appended to the body of the phase's last task, so the agent checks it.
Criteria are spec.md's acceptance scenarios (Given/When/Then, grouped by user story) and its
success criteria (`**SC-001**: ...`). A finished task is written back as `- [X]`, as spec-kit's
`/implement` does; spec-kit has no progress file, so progress.yaml and reports live under the
repository's exec-auto state.
"""

from __future__ import annotations

import re
from pathlib import Path

from exec_auto.errors import FormatError
from exec_auto.formats import markdown as md
from exec_auto.formats.base import LoadedTicket, RunSummary, StaysInPlace
from exec_auto.formats.textfile import (
    Checkbox,
    bare,
    checkboxes,
    continuation,
    lines_of,
    read_text,
    tick,
)
from exec_auto.ticket.model import Criterion, Plan, Step, StepStatus
from exec_auto.ticket.resolve import TicketRef

SPECS = "specs"
# CDD's own folders under specs/ are never spec-kit features.
_NOT_FEATURES = frozenset({"tickets", "archive"})
_TASK = re.compile(r"^(?P<id>T\d+[a-z]?(?:-[A-Za-z0-9]+)?)(?=[\s:.]|$)[:.]?\s*(?P<rest>.*)$")
_TAG = re.compile(r"^\[(?P<tag>[^\]]+)\]\s*")
_STORY = re.compile(r"^US\d+$|^Story\s*\d+$", re.IGNORECASE)
_SCENARIO = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(?P<text>.*\bGiven\b.*)$", re.IGNORECASE)
_SUCCESS = re.compile(r"^\s*[-*]\s+\*\*(?P<id>SC-\d+)\*\*\s*:?\s*(?P<text>.+)$")
_STORY_HEAD = re.compile(
    r"^User Story\s+(?P<n>\d+[a-z]?)\s*[-:\u2013\u2014]?\s*(?P<title>.*?)(?:\s*\(Priority.*\))?\s*(?:🎯.*)?$",
    re.IGNORECASE,
)
_CHECKPOINT = re.compile(r"^\s*\*\*Checkpoint\*\*\s*:?\s*(?P<text>.+)$", re.IGNORECASE)
CONSTITUTION = Path(".specify") / "memory" / "constitution.md"


class SpecKit(StaysInPlace):
    """The spec-kit layout."""

    name = "speckit"
    label = "GitHub spec-kit"
    uses_state_home = True

    def detect(self, root: Path) -> bool:
        """specs/<feature>/tasks.md exists for some feature folder."""
        return bool(self._folders(root))

    def _folders(self, root: Path) -> list[Path]:
        base = root / SPECS
        if not base.is_dir():
            return []
        return sorted(
            p
            for p in base.iterdir()
            if p.is_dir() and p.name not in _NOT_FEATURES and _present(p / "tasks.md")
        )

    def _ref(self, folder: Path, root: Path) -> TicketRef:
        return TicketRef(folder.name, root, format=self.name, source=folder)

    def list_tickets(self, root: Path) -> list[TicketRef]:
        """Every feature folder with a tasks.md."""
        return [self._ref(f, root) for f in self._folders(root)]

    def owns(self, path: Path, root: Path) -> TicketRef | None:
        """specs/<feature> or one of its files."""
        path = path.resolve()
        for folder in self._folders(root):
            folder_r = folder.resolve()
            if path == folder_r or path.parent == folder_r:
                return self._ref(folder, root)
        return None

    def load(self, ref: TicketRef) -> LoadedTicket:
        """Read tasks.md (steps) and spec.md (criteria)."""
        folder = ref.location
        tasks_path = folder / "tasks.md"
        text = read_text(tasks_path)
        lines = lines_of(text)
        steps, warnings = parse_tasks(lines, tasks_path.relative_to(ref.root).as_posix())
        if not steps:
            raise FormatError(
                "has no tasks (`- [ ] T001 Description` checkbox lines)",
                path=tasks_path,
                hint="generate them with spec-kit's /speckit.tasks",
            )
        files = [tasks_path.relative_to(ref.root).as_posix()]
        criteria: tuple[Criterion, ...] = ()
        spec_path = folder / "spec.md"
        note = None
        title = md.strip_label(md.first_h1(lines), "Tasks")
        if spec_path.is_file():
            spec_lines = lines_of(read_text(spec_path))
            criteria = tuple(
                parse_spec_criteria(spec_lines, spec_path.relative_to(ref.root).as_posix())
            )
            files.append(spec_path.relative_to(ref.root).as_posix())
            title = md.strip_label(md.first_h1(spec_lines), "Feature Specification") or title
            if not criteria:
                note = (
                    "spec.md has no acceptance scenarios or success criteria: nothing to validate"
                )
        else:
            note = "spec.md not found: no acceptance criteria to validate"
        overview = (
            f"spec-kit feature {folder.name}. Design documents: "
            + ", ".join(p.name for p in sorted(folder.iterdir()) if p.suffix == ".md" or p.is_dir())
            + f". The harness ticks tasks in {files[0]}; do not edit it."
        )
        conventions = (CONSTITUTION.as_posix(),) if (ref.root / CONSTITUTION).is_file() else ()
        done = sum(1 for s in steps if s.done)
        return LoadedTicket(
            ref=ref,
            format=self.name,
            title=title or folder.name,
            plan=Plan(path=tasks_path, title=title, overview=overview, steps=tuple(steps)),
            criteria=criteria,
            status="done" if done == len(steps) else ("in progress" if done else "planned"),
            files=tuple(files),
            conventions=conventions,
            warnings=tuple(warnings),
            no_criteria_note=note,
            derivation=(
                f"steps: checkbox tasks with a T-number in {files[0]}, phase = the `##` heading above",
                "criteria: spec.md Given/When/Then acceptance scenarios and **SC-NNN** success criteria",
            ),
        )

    def mark_started(self, ticket: LoadedTicket, now: str) -> list[str]:
        """spec-kit records nothing when work starts."""
        return []

    def mark_step(self, ticket: LoadedTicket, step: Step, status: StepStatus) -> list[str]:
        """A completed task becomes `- [X]`; nothing else in tasks.md changes.

        A step that finished with a warning (a gate still failing) stays unticked: the file's
        readers take [X] as done, and it is not.
        """
        if status != "completed":
            return []
        path = ticket.ref.location / "tasks.md"
        if tick(path, lambda boxes: find_task(boxes, step.id), "X"):
            return [f"tasks.md: {step.id} ticked [X]"]
        return []

    def mark_finished(
        self, ticket: LoadedTicket, now: str, *, clean: bool, summary: RunSummary
    ) -> list[str]:
        """Nothing beyond the ticks."""
        return []


def _task_of(box: Checkbox) -> tuple[str, str] | None:
    match = _TASK.match(box.text.strip())
    return (match.group("id"), match.group("rest")) if match else None


def find_task(boxes: list[Checkbox], step_id: str) -> Checkbox | None:
    """The checkbox of task step_id ('T013', or 'T013#2' for the second task with that id)."""
    base, _, nth = step_id.partition("#")
    wanted = int(nth) if nth else 1
    seen = 0
    for box in boxes:
        task = _task_of(box)
        if task and task[0] == base:
            seen += 1
            if seen == wanted:
                return box
    return None


def parse_tasks(lines: list[str], rel: str) -> tuple[list[Step], list[str]]:
    """tasks.md's tasks as steps (ids unique), with warnings for what could not be honoured."""
    heads = md.headings(lines)
    boxes = checkboxes(lines)
    starts = [b.line for b in boxes]
    steps: list[Step] = []
    warnings: list[str] = []
    counts: dict[str, int] = {}
    checkpoints = _checkpoints(lines, heads)
    for i, box in enumerate(boxes):
        task = _task_of(box)
        if task is None:
            continue
        task_id, rest = task
        counts[task_id] = counts.get(task_id, 0) + 1
        step_id = task_id if counts[task_id] == 1 else f"{task_id}#{counts[task_id]}"
        if counts[task_id] == 2:
            warnings.append(
                f"{rel}: task id {task_id} is used more than once; later ones are {task_id}#2, ..."
            )
        tags: list[str] = []
        while True:
            tag = _TAG.match(rest)
            if not tag:
                break
            tags.append(tag.group("tag").strip())
            rest = rest[tag.end() :]
        stop = starts[i + 1] if i + 1 < len(starts) else len(lines)
        next_head = next((h.line for h in heads if h.line > box.line), len(lines))
        extra = continuation(lines, box, min(stop, next_head))
        phase_head = md.heading_before(heads, box.line, max_level=2)
        group_head = md.heading_before(heads, box.line)
        deps = md.depends_on(" ".join([rest, *extra]))
        if group_head is not None and group_head is not phase_head:
            deps += [d for d in md.depends_on(group_head.text) if d not in deps]
        body_lines = [bare(lines[box.line]), *extra]
        steps.append(
            Step(
                id=step_id,
                title=md.plain(rest.strip()) or step_id,
                body="\n".join(body_lines),
                phase=phase_head.text if phase_head else None,
                depends_on=tuple(deps),
                parallel=any(t.upper() == "P" for t in tags),
                done=box.checked,
                source=f"{rel}:{box.line + 1} checkbox {task_id}"
                + (f" [{'] ['.join(tags)}]" if tags else "")
                + (f", depends on {', '.join(deps)}" if deps else ""),
            )
        )
    steps = _attach_checkpoints(steps, checkpoints, heads, boxes, lines)
    return _known_dependencies(steps, rel, warnings), warnings


def _checkpoints(lines: list[str], heads: list[md.Heading]) -> dict[int, str]:
    """Phase heading line -> its **Checkpoint** text."""
    out: dict[int, str] = {}
    for index, raw in enumerate(lines):
        match = _CHECKPOINT.match(bare(raw))
        if match:
            head = md.heading_before(heads, index, max_level=2)
            if head is not None:
                out[head.line] = match.group("text").strip()
    return out


def _attach_checkpoints(
    steps: list[Step],
    checkpoints: dict[int, str],
    heads: list[md.Heading],
    boxes: list[Checkbox],
    lines: list[str],
) -> list[Step]:
    if not checkpoints:
        return steps
    last_of_phase: dict[str | None, int] = {}
    for index, step in enumerate(steps):
        last_of_phase[step.phase] = index
    by_phase = {h.text: text for h in heads for line, text in checkpoints.items() if h.line == line}
    out = list(steps)
    for phase, index in last_of_phase.items():
        if phase in by_phase:
            step = out[index]
            out[index] = step.model_copy(
                update={"body": f"{step.body}\n\nCheckpoint after this task: {by_phase[phase]}"}
            )
    return out


def _known_dependencies(steps: list[Step], rel: str, warnings: list[str]) -> list[Step]:
    ids = {s.id for s in steps}
    out = []
    for step in steps:
        unknown = [d for d in step.depends_on if d not in ids or d == step.id]
        if unknown:
            warnings.append(
                f"{rel}: {step.id} depends on {', '.join(unknown)}, which is not a task here; ignored"
            )
            step = step.model_copy(
                update={"depends_on": tuple(d for d in step.depends_on if d not in unknown)}
            )
        out.append(step)
    return out


def parse_spec_criteria(lines: list[str], rel: str) -> list[Criterion]:
    """Acceptance scenarios (per user story) and success criteria of spec.md."""
    heads = md.headings(lines)
    out: list[Criterion] = []
    story_counts: dict[str, int] = {}
    in_success = False
    for index, raw in enumerate(lines):
        line = bare(raw)
        head = next((h for h in heads if h.line == index), None)
        if head is not None:
            if head.level <= 2:
                in_success = "success criteria" in head.text.lower()
            continue
        scenario = _SCENARIO.match(line)
        if scenario and re.search(r"\bThen\b", line, re.IGNORECASE):
            story = md.heading_before(heads, index, max_level=3)
            group = _story_label(story.text) if story else None
            key = group or ""
            story_counts[key] = story_counts.get(key, 0) + 1
            out.append(
                Criterion(
                    text=md.plain(scenario.group("text")),
                    group=group,
                    source=f"{rel}:{index + 1} acceptance scenario {story_counts[key]}"
                    + (f" of {group}" if group else ""),
                )
            )
            continue
        success = _SUCCESS.match(line)
        if success and in_success:
            out.append(
                Criterion(
                    text=f"{success.group('id')}: {md.plain(success.group('text'))}",
                    group="Success criteria",
                    source=f"{rel}:{index + 1} success criterion {success.group('id')}",
                )
            )
    return out


def _story_label(text: str) -> str:
    match = _STORY_HEAD.match(md.plain(text))
    if match:
        title = match.group("title").strip(" -")
        return f"US{match.group('n')}" + (f": {title}" if title else "")
    return md.plain(text)


def _present(path: Path) -> bool:
    """A tasks.md of any kind but a folder: a FIFO or a link to a device is still the ticket's
    file, and loading it says what is wrong with it (rather than "no such ticket")."""
    return path.is_symlink() or (path.exists() and not path.is_dir())
