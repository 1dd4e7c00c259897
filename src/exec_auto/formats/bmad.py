"""BMAD stories: `# Story 1.2: title` files with Status, Acceptance Criteria, Tasks / Subtasks.

Stories are found where BMAD writes them: `_bmad-output/implementation-artifacts/` (v6),
`_bmad-output/stories/`, `docs/sprint-artifacts/` and `docs/stories/` (v4). A story is one
ticket. Its steps are the top-level tasks of `## Tasks / Subtasks` (`- [ ] Task 1: ... (AC: #1)`),
each with its sub-items; its criteria are the numbered `## Acceptance Criteria` (or the bold
`**AC1 ...**` blocks some stories use).

Written back as BMAD's dev-story workflow does: `sprint-status.yaml` (beside the stories) moves
the story's `development_status` entry to `in-progress` when the run starts; a completed task and
its subtasks are ticked `[x]`; at the end `## Dev Agent Record` gets the agent, one completion
note per task and the File List, an existing Change Log one line, and when every task completed
cleanly the story's `Status:` and its sprint entry become `review`. Each edit changes only those
lines.
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
    edit_file,
    lines_of,
    read_text,
    set_mark,
)
from exec_auto.ticket.model import Criterion, Plan, Step, StepStatus
from exec_auto.ticket.resolve import TicketRef

STORY_DIRS = (
    Path("_bmad-output") / "implementation-artifacts",
    Path("_bmad-output") / "stories",
    Path("docs") / "sprint-artifacts",
    Path("docs") / "stories",
)
_TITLE = re.compile(r"^#\s+Story\s+(?P<id>\d+(?:\.\d+)*)\s*[:.\-\u2013\u2014]\s*(?P<title>.+?)\s*$")
_STATUS = re.compile(
    r"^(?P<key>\*{0,2}Status\*{0,2}\s*:\s*)(?P<value>\S[^\n]*?)\s*$", re.IGNORECASE
)
_TASK = re.compile(
    r"^(?:\*\*)?Task\s+(?P<n>\d+)\s*[:.\-\u2013\u2014]?\s*(?P<rest>.*)$", re.IGNORECASE
)
_AC_REF = re.compile(r"\(\s*AC\s*:?\s*(?P<refs>[^)]*)\)", re.IGNORECASE)
_ITEM = re.compile(r"^(?P<n>\d+)[.)]\s+(?P<text>.+)$")
_BOLD_AC = re.compile(r"^\*\*(?P<label>AC\s*#?\d+[^*]*)\*\*\s*(?P<rest>.*)$", re.IGNORECASE)


def _is_story(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for _ in range(5):
                line = handle.readline()
                if _TITLE.match(line.strip()):
                    return True
    except OSError:
        return False
    return False


class Bmad(StaysInPlace):
    """BMAD story files."""

    name = "bmad"
    label = "BMAD story"
    uses_state_home = True

    def _stories(self, root: Path) -> list[Path]:
        out: list[Path] = []
        for rel in STORY_DIRS:
            folder = root / rel
            if folder.is_dir():
                out += [p for p in sorted(folder.glob("*.md")) if _is_story(p)]
        return out

    def _ref(self, path: Path, root: Path) -> TicketRef:
        return TicketRef(path.stem, root, format=self.name, source=path)

    def detect(self, root: Path) -> bool:
        """A story file exists in one of BMAD's story folders."""
        return bool(self._stories(root))

    def list_tickets(self, root: Path) -> list[TicketRef]:
        """Every story file."""
        return [self._ref(p, root) for p in self._stories(root)]

    def owns(self, path: Path, root: Path) -> TicketRef | None:
        """A story file."""
        path = path.resolve()
        for story in self._stories(root):
            if story.resolve() == path:
                return self._ref(story, root)
        return None

    def load(self, ref: TicketRef) -> LoadedTicket:
        """The story's tasks (steps) and acceptance criteria."""
        path = ref.location
        rel = path.relative_to(ref.root).as_posix()
        lines = lines_of(read_text(path))
        title_match = next((m for m in (_TITLE.match(bare(x)) for x in lines[:5]) if m), None)
        if title_match is None:
            raise FormatError("is not a BMAD story (no `# Story N.M: title`)", path=path)
        heads = md.headings(lines)
        steps = _tasks(lines, heads, rel)
        if not steps:
            raise FormatError(
                "has no tasks under `## Tasks / Subtasks`",
                path=path,
                hint="create them with the SM agent's create-story",
            )
        criteria = _criteria(lines, heads, rel)
        status = _status(lines, heads)
        files = [rel]
        sprint = _sprint_status(path)
        if sprint is not None:
            files.append(sprint.relative_to(ref.root).as_posix())
        story = _section(lines, heads, "story")
        return LoadedTicket(
            ref=ref,
            format=self.name,
            title=f"Story {title_match.group('id')}: {title_match.group('title')}",
            plan=Plan(
                path=path,
                title=f"Story {title_match.group('id')}: {title_match.group('title')}",
                overview=(story.strip() + "\n\n" if story.strip() else "")
                + f"BMAD story {rel}; its Dev Notes hold the context. The harness updates its Status, "
                "task checkboxes and Dev Agent Record; do not edit those.",
                steps=tuple(steps),
            ),
            criteria=tuple(criteria),
            status=status[1] if status else None,
            files=tuple(files),
            no_criteria_note=None
            if criteria
            else "the story has no Acceptance Criteria: nothing to validate",
            derivation=(
                f"steps: the top-level tasks of {rel} `## Tasks / Subtasks`, each with its subtasks",
                "criteria: the numbered (or **ACn**) items of `## Acceptance Criteria`",
            ),
        )

    def mark_started(self, ticket: LoadedTicket, now: str) -> list[str]:
        """As dev-story: sprint-status says in-progress; a v4 story (no sprint file) says InProgress.

        dev-story leaves the v6 story's own Status alone until the story is done.
        """
        path = ticket.ref.location
        sprint = _sprint_status(path)
        if sprint is not None:
            return _sprint_update(sprint, ticket.ref.name, "in-progress")
        if _is_v4(path):
            return self._set_status(ticket, "InProgress", story_only=True)
        return []

    def _set_status(
        self, ticket: LoadedTicket, value: str, *, story_only: bool = False
    ) -> list[str]:
        out: list[str] = []
        path = ticket.ref.location

        def edit(text: str) -> str | None:
            lines = lines_of(text)
            found = _status(lines, md.headings(lines))
            if found is None:
                return None
            index, current, start = found
            if current == value:
                return text
            line = lines[index]
            lines[index] = line[:start] + value + line[start + len(current) :]
            return "".join(lines)

        if _status(
            lines_of(read_text(path)), md.headings(lines_of(read_text(path)))
        ) is not None and edit_file(path, edit):
            out.append(f"{path.name}: Status {value}")
        sprint = None if story_only else _sprint_status(path)
        if sprint is not None:
            out += _sprint_update(sprint, ticket.ref.name, value)
        return out

    def mark_step(self, ticket: LoadedTicket, step: Step, status: StepStatus) -> list[str]:
        """A completed task and all its subtasks are ticked [x]."""
        if status != "completed":
            return []
        path = ticket.ref.location
        changed = False

        def edit(text: str) -> str | None:
            nonlocal changed
            lines = lines_of(text)
            group = _task_boxes(lines, md.headings(lines), step.id)
            if group is None:
                return None
            for box in group:
                if not box.checked:
                    text = set_mark(text, box.line, box.column, "x")
                    changed = True
            return text

        edit_file(path, edit)
        return [f"{path.name}: task {step.id} ticked [x]"] if changed else []

    def mark_finished(
        self, ticket: LoadedTicket, now: str, *, clean: bool, summary: RunSummary
    ) -> list[str]:
        """Fill the Dev Agent Record; Status review when every task completed cleanly."""
        out = _fill_record(ticket.ref.location, summary)
        out += _change_log(ticket.ref.location, now, summary)
        if clean:
            out += self._set_status(
                ticket, "Ready for Review" if _is_v4(ticket.ref.location) else "review"
            )
        return out


def _is_v4(path: Path) -> bool:
    """A v4 story (`docs/stories/N.M.story.md` with a `## Status` section) uses v4's status words."""
    lines = lines_of(read_text(path))
    return (
        not any(_STATUS.match(bare(x)) for x in lines[:40])
        and _section_bounds(lines, md.headings(lines), "status") is not None
    )


def _change_log(path: Path, now: str, summary: RunSummary) -> list[str]:
    """One line in an existing `## Change Log` section (the section is never created)."""
    done = sum(1 for n in summary.notes if n.endswith(": completed"))
    entry = f"- {now[:10]}: {summary.agent} ran {len(summary.notes)} task(s), {done} completed"

    def edit(text: str) -> str | None:
        lines = lines_of(text)
        heads = md.headings(lines)
        head = next(
            (h for h in heads if "change log" in h.text.lower() and h.level in (2, 3)), None
        )
        if head is None:
            return text
        stop = md.section_end(heads, head, len(lines))
        nl = "\r\n" if "\r\n" in text[:2000] else "\n"
        last = max((i for i in range(head.line + 1, stop) if bare(lines[i]).strip()), default=None)
        if last is None:
            lines[head.line + 1 : stop] = [nl, entry + nl, *([nl] if stop < len(lines) else [])]
        else:
            lines[last + 1 : last + 1] = [entry + nl]
        return "".join(lines)

    return [f"{path.name}: Change Log entry added"] if edit_file(path, edit) else []


def _section_bounds(
    lines: list[str], heads: list[md.Heading], *names: str
) -> tuple[int, int] | None:
    for head in heads:
        if head.level == 2 and md.plain(head.text).lower().startswith(names):
            return head.line, md.section_end(heads, head, len(lines))
    return None


def _section(lines: list[str], heads: list[md.Heading], *names: str) -> str:
    bounds = _section_bounds(lines, heads, *names)
    return "".join(lines[bounds[0] + 1 : bounds[1]]) if bounds else ""


def _status(lines: list[str], heads: list[md.Heading]) -> tuple[int, str, int] | None:
    """(line index, value, column of the value) of `Status: x` or of the line under `## Status`."""
    for index, raw in enumerate(lines[:40]):
        match = _STATUS.match(bare(raw))
        if match:
            return index, match.group("value"), match.start("value")
    bounds = _section_bounds(lines, heads, "status")
    if bounds:
        for index in range(bounds[0] + 1, bounds[1]):
            text = bare(lines[index])
            if text.strip():
                return index, text.strip(), len(text) - len(text.lstrip())
    return None


def _top_boxes(lines: list[str], heads: list[md.Heading]) -> list[tuple[Checkbox, list[Checkbox]]]:
    bounds = _section_bounds(lines, heads, "tasks")
    if bounds is None:
        return []
    boxes = [b for b in checkboxes(lines) if bounds[0] < b.line < bounds[1]]
    if not boxes:
        return []
    top = min(b.indent for b in boxes)
    out: list[tuple[Checkbox, list[Checkbox]]] = []
    for box in boxes:
        if box.indent == top:
            out.append((box, []))
        elif out:
            out[-1][1].append(box)
    return out


def _task_id(box: Checkbox, ordinal: int) -> tuple[str, str]:
    text = md.plain(box.text)
    match = _TASK.match(text)
    if match:
        return match.group("n"), match.group("rest")
    return str(ordinal), text


def _tasks(lines: list[str], heads: list[md.Heading], rel: str) -> list[Step]:
    bounds = _section_bounds(lines, heads, "tasks")
    groups = _top_boxes(lines, heads)
    steps: list[Step] = []
    for ordinal, (box, subs) in enumerate(groups, 1):
        tid, rest = _task_id(box, ordinal)
        refs = _AC_REF.search(rest)
        title = _AC_REF.sub("", rest).strip(" :-")
        nxt = (
            groups[ordinal][0].line
            if ordinal < len(groups)
            else (bounds[1] if bounds else len(lines))
        )
        body = "\n".join(bare(x) for x in lines[box.line : nxt]).rstrip()
        steps.append(
            Step(
                id=tid,
                title=title or f"Task {tid}",
                body=body,
                phase="Tasks / Subtasks",
                done=box.checked and all(s.checked for s in subs),
                source=f"{rel}:{box.line + 1} task {tid}"
                + (f" with {len(subs)} subtask(s)" if subs else "")
                + (f", AC {refs.group('refs').strip()}" if refs else ""),
            )
        )
    return steps


def _task_boxes(lines: list[str], heads: list[md.Heading], step_id: str) -> list[Checkbox] | None:
    for ordinal, (box, subs) in enumerate(_top_boxes(lines, heads), 1):
        if _task_id(box, ordinal)[0] == step_id:
            return [box, *subs]
    return None


def _criteria(lines: list[str], heads: list[md.Heading], rel: str) -> list[Criterion]:
    bounds = _section_bounds(lines, heads, "acceptance criteria")
    if bounds is None:
        return []
    out: list[Criterion] = []
    index = bounds[0] + 1
    while index < bounds[1]:
        line = bare(lines[index])
        item = _ITEM.match(line)
        bold = _BOLD_AC.match(line.strip())
        if not (item or bold):
            index += 1
            continue
        start = index
        parts = [item.group("text") if item else (bold.group("rest") if bold else "")]
        index += 1
        while index < bounds[1]:
            nxt = bare(lines[index])
            if _ITEM.match(nxt) or _BOLD_AC.match(nxt.strip()) or nxt.lstrip().startswith("#"):
                break
            if not nxt.strip() and item:
                # A blank line ends a numbered item unless the next line continues it (indented).
                following = bare(lines[index + 1]) if index + 1 < bounds[1] else ""
                if not following.startswith((" ", "\t")):
                    break
            parts.append(nxt.strip())
            index += 1
        label = (
            f"AC #{item.group('n')}"
            if item
            else md.plain(bold.group("label")).rstrip(" :—-")
            if bold
            else ""
        )
        text = " ".join(md.plain(p.lstrip("-* ")) for p in parts if p.strip())
        text = re.sub(r"\s*\(AC:\s*#?\d+\)\s*$", "", text)
        out.append(
            Criterion(
                text=f"{label}: {text}".strip(),
                group="Acceptance Criteria",
                source=f"{rel}:{start + 1} {label}",
            )
        )
    return out


def _sprint_status(story: Path) -> Path | None:
    for folder in (story.parent, story.parent.parent):
        candidate = folder / "sprint-status.yaml"
        if candidate.is_file():
            return candidate
    return None


def _sprint_update(path: Path, key: str, value: str) -> list[str]:
    """development_status[key] = value in sprint-status.yaml, only that scalar's bytes changed."""
    from exec_auto.ticket.yamledit import YAMLEditError, update_mapping
    from exec_auto.ticket.yamlio import YAMLError, load_rt

    text = read_text(path)
    try:
        data = load_rt(text)
    except YAMLError as exc:
        raise FormatError(f"is not valid YAML: {exc}", path=path) from None
    statuses = data.get("development_status") if isinstance(data, dict) else None
    if not isinstance(statuses, dict) or key not in statuses:
        return []
    if str(statuses[key]) == value:
        return []
    try:
        updated = update_mapping(text, ("development_status",), {key: value})
    except (YAMLEditError, YAMLError) as exc:
        raise FormatError(f"cannot set {key} to {value}: {exc}", path=path) from None
    edit_file(path, lambda current: updated if current == text else None)
    return [f"sprint-status.yaml: {key} {value}"]


_PLACEHOLDER = re.compile(r"^\{\{.*\}\}\s*$")


def _fill_record(path: Path, summary: RunSummary) -> list[str]:
    """Agent Model Used, Completion Notes List and File List of `## Dev Agent Record`."""

    def edit(text: str) -> str | None:
        lines = lines_of(text)
        heads = md.headings(lines)
        record = next(
            (h for h in heads if h.level == 2 and "dev agent record" in h.text.lower()), None
        )
        nl = "\r\n" if text.endswith("\r\n") or "\r\n" in text[:2000] else "\n"
        if record is None:
            tail = "" if text.endswith(("\n", "\r\n")) else nl
            block = [
                "## Dev Agent Record",
                "",
                "### Agent Model Used",
                "",
                summary.agent,
                "",
                "### Completion Notes List",
                "",
                *summary.notes,
                "",
                "### File List",
                "",
                *(f"- {f}" for f in summary.files),
            ]
            return text + tail + nl + nl.join(block) + nl
        end = md.section_end(heads, record, len(lines))
        subs = [h for h in heads if record.line < h.line < end and h.level == 3]
        # (start, stop, new lines): replace lines[start:stop]; applied bottom-up so indexes hold.
        edits: list[tuple[int, int, list[str]]] = []

        def append(heading: int, stop: int, new: list[str]) -> None:
            last = max(
                (i for i in range(heading + 1, stop) if bare(lines[i]).strip()), default=None
            )
            if last is not None:
                edits.append((last + 1, last + 1, new))
            else:  # an empty section: one blank line, the items, one blank line before what follows
                edits.append((heading + 1, stop, ["", *new, *([""] if stop < len(lines) else [])]))

        for sub in subs:
            name = sub.text.lower()
            stop = next((h.line for h in heads if h.line > sub.line), len(lines))
            content = [bare(x) for x in lines[sub.line + 1 : stop]]
            if "agent model" in name:
                placeholder = next(
                    (i for i, x in enumerate(content) if _PLACEHOLDER.match(x.strip())), None
                )
                if placeholder is not None:
                    at = sub.line + 1 + placeholder
                    edits.append((at, at + 1, [summary.agent]))
                elif not any(x.strip() for x in content):
                    append(sub.line, stop, [summary.agent])
            elif "completion notes" in name:
                append(sub.line, stop, list(summary.notes))
            elif "file list" in name:
                existing = {x.strip().lstrip("-* ").strip("`") for x in content}
                new = [f"- {f}" for f in summary.files if f not in existing]
                if new:
                    append(sub.line, stop, new)
        for start, stop, new in sorted(edits, reverse=True):
            lines[start:stop] = [x + nl for x in new]
        return "".join(lines)

    if edit_file(path, edit):
        return [f"{path.name}: Dev Agent Record filled (completion notes, file list)"]
    return []
