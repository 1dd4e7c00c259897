"""Kiro and cc-sdd: .kiro/specs/<name>/ with requirements.md, design.md and tasks.md.

Tasks are numbered checkboxes (`- [ ] 2. Parent`, `- [ ] 2.1 Child`); a child belongs to the task
whose number prefixes its own (cc-sdd writes children at the parent's indentation) or, without
numbers, to the less-indented task above it. The leaves are the steps; a parent is a phase and is
ticked once its required children are. `- [ ]*` marks an optional task (run, but a parent does not
wait for it). `_Requirements: 1.1, 2.3_` and `**Validates: Requirements ...**` name the
requirements a task serves; cc-sdd adds ` (P)` (parallel), `_Boundary: ..._` and
`_Depends: 1.2, 2.3_`. Criteria are the EARS acceptance criteria (WHEN ... THEN ... SHALL ...) of
requirements.md's requirements that the tasks reference (every requirement when none is).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.errors import FormatError
from exec_auto.formats import markdown as md
from exec_auto.formats.base import LoadedTicket, RunSummary, StaysInPlace
from exec_auto.formats.textfile import Checkbox, bare, checkboxes, lines_of, read_text, tick
from exec_auto.ticket.model import Criterion, Plan, Step, StepStatus
from exec_auto.ticket.resolve import TicketRef

SPECS = Path(".kiro") / "specs"
STEERING = Path(".kiro") / "steering"
_NUMBER = re.compile(r"^(?:\*\*)?(?P<num>\d+(?:\.\d+)*)\.?(?:\*\*)?(?=\s|$)\s*(?P<rest>.*)$")
_PARALLEL = re.compile(r"^\(P\)\s*|\s*\(P\)$")
_REFS = re.compile(
    r"_Requirements?\s*:\s*(?P<a>[^_\n]*)_|\*\*Validates:\s*Requirements?\s*(?P<b>[^*\n]*)\*\*",
    re.IGNORECASE,
)
# "**Title** — details": the bold part is the task's title.
_BOLD_TITLE = re.compile(r"^\*\*(.+?)\*\*(?=\s|:|$)")
_DEPENDS = re.compile(r"_Depends\s*:\s*(?P<ids>[^_\n]*)_", re.IGNORECASE)
_REQ_ID = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:\s*[\u2013\-]\s*(\d+(?:\.\d+)?))?(?![\w.])")
_REQ_HEAD = re.compile(
    r"^Requirement\s+(?P<n>\d+)\s*[:.\-\u2013\u2014]?\s*(?P<title>.*)$", re.IGNORECASE
)
_ITEM = re.compile(r"^\s*(?P<n>\d+)[.)]\s+(?P<text>.+)$")


@dataclass
class _Task:
    box: Checkbox
    number: str | None
    title: str
    parallel: bool
    own: list[str]  # the task's own lines (its box line, details), not its children's
    children: list[_Task] = field(default_factory=list)
    parent: _Task | None = None

    @property
    def key(self) -> str:
        return self.number or f"line{self.box.line + 1}"


class Kiro(StaysInPlace):
    """The Kiro / cc-sdd spec layout."""

    name = "kiro"
    label = "Kiro / cc-sdd"
    uses_state_home = True

    def _folders(self, root: Path) -> list[Path]:
        base = root / SPECS
        if not base.is_dir():
            return []
        return sorted(p for p in base.iterdir() if p.is_dir() and (p / "tasks.md").is_file())

    def _ref(self, folder: Path, root: Path) -> TicketRef:
        return TicketRef(folder.name, root, format=self.name, source=folder)

    def detect(self, root: Path) -> bool:
        """.kiro/specs/<name>/tasks.md exists."""
        return bool(self._folders(root))

    def list_tickets(self, root: Path) -> list[TicketRef]:
        """Every spec folder with a tasks.md."""
        return [self._ref(f, root) for f in self._folders(root)]

    def owns(self, path: Path, root: Path) -> TicketRef | None:
        """.kiro/specs/<name> or one of its files."""
        path = path.resolve()
        for folder in self._folders(root):
            if path in (folder.resolve(), *(p.resolve() for p in folder.iterdir())):
                return self._ref(folder, root)
        return None

    def load(self, ref: TicketRef) -> LoadedTicket:
        """tasks.md's leaf tasks as steps; the referenced EARS criteria of requirements.md."""
        folder = ref.location
        tasks_path = folder / "tasks.md"
        rel = tasks_path.relative_to(ref.root).as_posix()
        lines = lines_of(read_text(tasks_path))
        tasks = parse_tree(lines)
        if not tasks:
            raise FormatError(
                "has no checkbox tasks (`- [ ] 1. Task`)",
                path=tasks_path,
                hint="generate them with Kiro or cc-sdd",
            )
        steps, refs, warnings = _steps(tasks, lines, rel)
        files = [rel]
        criteria: tuple[Criterion, ...] = ()
        note = None
        req_path = folder / "requirements.md"
        if req_path.is_file():
            req_rel = req_path.relative_to(ref.root).as_posix()
            files.append(req_rel)
            every = parse_requirements(lines_of(read_text(req_path)), req_rel)
            criteria = tuple(select_criteria(every, refs))
            if not criteria:
                note = "requirements.md has no numbered acceptance criteria: nothing to validate"
        else:
            note = "requirements.md not found: no acceptance criteria to validate"
        if (folder / "design.md").is_file():
            files.append((folder / "design.md").relative_to(ref.root).as_posix())
        steering = ref.root / STEERING
        conventions = (
            tuple(p.relative_to(ref.root).as_posix() for p in sorted(steering.glob("*.md")))
            if steering.is_dir()
            else ()
        )
        done = sum(s.done for s in steps)
        title = md.strip_label(md.first_h1(lines), "Implementation Plan") or folder.name
        if title.lower() == "implementation plan":
            title = folder.name
        return LoadedTicket(
            ref=ref,
            format=self.name,
            title=title,
            plan=Plan(
                path=tasks_path,
                title=title,
                overview=f"Kiro spec {folder.name}: requirements.md, design.md and tasks.md in "
                f"{folder.relative_to(ref.root).as_posix()}. The harness ticks tasks in {rel}; do not edit it.",
                steps=tuple(steps),
            ),
            criteria=criteria,
            status="done" if done == len(steps) else ("in progress" if done else "planned"),
            files=tuple(files),
            conventions=conventions,
            warnings=tuple(warnings),
            no_criteria_note=note,
            derivation=(
                f"steps: the leaf checkbox tasks of {rel} (a parent is their phase); (P) parallel, "
                "_Depends:_ dependencies, - [ ]* optional",
                "criteria: EARS acceptance criteria of the requirements the tasks reference "
                "(_Requirements:_, **Validates:**)",
            ),
        )

    def mark_started(self, ticket: LoadedTicket, now: str) -> list[str]:
        """Kiro records nothing when work starts."""
        return []

    def mark_step(self, ticket: LoadedTicket, step: Step, status: StepStatus) -> list[str]:
        """Tick the task, then each parent whose required children are all ticked."""
        if status != "completed":
            return []
        path = ticket.ref.location / "tasks.md"
        out: list[str] = []
        if tick(path, lambda boxes: _find(boxes, step.id), "x"):
            out.append(f"tasks.md: {step.id} ticked [x]")
        tasks = parse_tree(lines_of(read_text(path)))
        node = _node(tasks, step.id)
        parent = node.parent if node else None
        while parent is not None:
            required = [c for c in parent.children if not c.box.optional]
            if not all(_all_checked(c) for c in required) or parent.box.checked:
                break
            key = parent.key
            if tick(path, functools.partial(_find, key=key), "x"):
                out.append(f"tasks.md: {key} ticked [x] (its required sub-tasks are done)")
            tasks = parse_tree(lines_of(read_text(path)))
            node = _node(tasks, key)
            parent = node.parent if node else None
        return out

    def mark_finished(
        self, ticket: LoadedTicket, now: str, *, clean: bool, summary: RunSummary
    ) -> list[str]:
        """Nothing beyond the ticks."""
        return []


def _all_checked(task: _Task) -> bool:
    if task.children:
        return all(_all_checked(c) for c in task.children if not c.box.optional)
    return task.box.checked


def parse_tree(lines: list[str]) -> list[_Task]:
    """Every checkbox task with its parent and children (in file order)."""
    heads = md.headings(lines)
    boxes = checkboxes(lines)
    tasks: list[_Task] = []
    by_number: dict[str, _Task] = {}
    for i, box in enumerate(boxes):
        match = _NUMBER.match(box.text.strip())
        number = match.group("num") if match else None
        rest = (match.group("rest") if match else box.text).strip()
        parallel = bool(_PARALLEL.search(rest))
        rest = _PARALLEL.sub("", rest).strip()
        stop = boxes[i + 1].line if i + 1 < len(boxes) else len(lines)
        stop = min([stop, *(h.line for h in heads if h.line > box.line)])
        own = [bare(lines[box.line])]
        for raw in lines[box.line + 1 : stop]:
            line = bare(raw)
            if line.strip() and len(line) - len(line.lstrip(" \t")) <= box.indent:
                break
            own.append(line)
        while own and not own[-1].strip():
            own.pop()
        bold = _BOLD_TITLE.match(rest)
        task = _Task(box, number, md.plain(bold.group(1) if bold else rest), parallel, own)
        task.parent = _parent_of(task, tasks, by_number)
        if task.parent is not None:
            task.parent.children.append(task)
        tasks.append(task)
        if number is not None:
            by_number.setdefault(number, task)
    _adopt_trailing_lines(tasks, lines, boxes, heads)
    return tasks


def _parent_of(task: _Task, earlier: list[_Task], by_number: dict[str, _Task]) -> _Task | None:
    if task.number is not None and "." in task.number:
        prefix = task.number.rsplit(".", 1)[0]
        if prefix in by_number:
            return by_number[prefix]
    for other in reversed(earlier):
        if other.box.indent < task.box.indent:
            return other
        if other.box.indent == task.box.indent and other.parent is None:
            break
    return None


def _adopt_trailing_lines(
    tasks: list[_Task], lines: list[str], boxes: list[Checkbox], heads: list[md.Heading]
) -> None:
    """A parent's own lines after its nested children (`Verify:`, `_Requirements:_`) are its own."""
    for task in tasks:
        if not task.children:
            continue
        last = task.children[-1]
        while last.children:
            last = last.children[-1]
        start = last.box.line + len(last.own)
        nxt = [b.line for b in boxes if b.line > last.box.line]
        stop = min([*(nxt[:1] or [len(lines)]), *(h.line for h in heads if h.line > last.box.line)])
        adopting = False
        for raw in lines[start:stop]:
            line = bare(raw)
            indent = len(line) - len(line.lstrip(" \t"))
            if line.strip() and indent <= task.box.indent:
                break
            adopting = adopting or bool(line.strip() and indent <= last.box.indent)
            if adopting:
                task.own.append(line)
        while task.own and not task.own[-1].strip():
            task.own.pop()


def _leaves(tasks: list[_Task]) -> list[_Task]:
    return [t for t in tasks if not t.children]


def _ancestors(task: _Task) -> list[_Task]:
    out = []
    node = task.parent
    while node is not None:
        out.append(node)
        node = node.parent
    return out


def _refs_of(text: str) -> list[str]:
    out: list[str] = []
    for match in _REFS.finditer(text):
        out += _ids(match.group("a") or match.group("b") or "")
    return out


def _ids(text: str) -> list[str]:
    """'1.1, 2.3', '1.1-1.9' or with an en dash (a range within one requirement), '6' (a whole requirement)."""
    out: list[str] = []
    for match in _REQ_ID.finditer(text):
        first, last = match.group(1), match.group(2)
        if last and "." in first and "." in last and first.split(".")[0] == last.split(".")[0]:
            req = first.split(".")[0]
            out += [
                f"{req}.{n}" for n in range(int(first.split(".")[1]), int(last.split(".")[1]) + 1)
            ]
        else:
            out += [first] + ([last] if last else [])
    return out


def _steps(
    tasks: list[_Task], lines: list[str], rel: str
) -> tuple[list[Step], list[str], list[str]]:
    heads = md.headings(lines)
    steps: list[Step] = []
    refs: list[str] = []
    warnings: list[str] = []
    leaves = _leaves(tasks)
    ids = {t.key for t in tasks}
    for task in leaves:
        own_text = "\n".join(task.own)
        task_refs = _refs_of(own_text)
        context: list[str] = []
        for parent in reversed(_ancestors(task)):
            parent_text = "\n".join(parent.own[1:])
            if not task_refs:
                task_refs = _refs_of(parent_text)
            context.append(
                f"Part of task {parent.key}: {parent.title}"
                + (f"\n{parent_text}" if parent_text.strip() else "")
            )
        refs += [r for r in task_refs if r not in refs]
        deps: list[str] = []
        for match in _DEPENDS.finditer(own_text):
            value = match.group("ids").strip()
            if value.lower().startswith(("none", "-", "なし")):
                continue
            deps += [d for d in re.findall(r"\d+(?:\.\d+)*", value) if d not in deps]
        head = md.heading_before(heads, task.box.line, max_level=3)
        phase = task.parent.title if task.parent else (head.text if head else None)
        if task.parent and head and head.line > task.parent.box.line:
            phase = head.text
        body = "\n".join([*context, *task.own]) if context else own_text
        steps.append(
            Step(
                id=task.key,
                title=task.title or task.key,
                body=body,
                phase=phase,
                depends_on=tuple(deps),
                parallel=task.parallel,
                optional=task.box.optional,
                done=task.box.checked,
                source=f"{rel}:{task.box.line + 1} checkbox {task.key}"
                + (" (P)" if task.parallel else "")
                + (" optional" if task.box.optional else "")
                + (f", requirements {', '.join(task_refs)}" if task_refs else "")
                + (f", depends on {', '.join(deps)}" if deps else ""),
            )
        )
    leaf_ids = {s.id for s in steps}
    out = []
    for step in steps:
        expanded: list[str] = []
        for dep in step.depends_on:
            if dep in leaf_ids:
                expanded.append(dep)
            elif dep in ids:  # a parent: wait for all of its leaves
                node = next(t for t in tasks if t.key == dep)
                expanded += [leaf.key for leaf in _leaves_under(node)]
            else:
                warnings.append(
                    f"{rel}: task {step.id} depends on {dep}, which is not a task here; ignored"
                )
        expanded = [d for d in dict.fromkeys(expanded) if d != step.id]
        out.append(step.model_copy(update={"depends_on": tuple(expanded)}))
    return out, refs, warnings


def _leaves_under(task: _Task) -> list[_Task]:
    if not task.children:
        return [task]
    return [leaf for c in task.children for leaf in _leaves_under(c)]


def _find(boxes: list[Checkbox], key: str) -> Checkbox | None:
    for box in boxes:
        match = _NUMBER.match(box.text.strip())
        number = match.group("num") if match else None
        if (number or f"line{box.line + 1}") == key:
            return box
    return None


def _node(tasks: list[_Task], key: str) -> _Task | None:
    return next((t for t in tasks if t.key == key), None)


@dataclass(frozen=True)
class _Requirement:
    number: str
    title: str
    criteria: list[Criterion]
    ids: list[str]


def parse_requirements(lines: list[str], rel: str) -> list[_Requirement]:
    """Each `### Requirement N` with its numbered acceptance criteria (ids N.1, N.2, ...)."""
    heads = md.headings(lines)
    out: list[_Requirement] = []
    for head in heads:
        match = _REQ_HEAD.match(md.plain(head.text))
        if match is None:
            continue
        number, title = match.group("n"), match.group("title").strip()
        end = md.section_end(heads, head, len(lines))
        group = f"Requirement {number}" + (f": {title}" if title else "")
        items: list[Criterion] = []
        ids: list[str] = []
        index = head.line + 1
        while index < end:
            item = _ITEM.match(bare(lines[index]))
            if item is None:
                index += 1
                continue
            text = [item.group("text").strip()]
            start = index
            index += 1
            while (
                index < end
                and bare(lines[index]).strip()
                and not _ITEM.match(bare(lines[index]))
                and not bare(lines[index]).lstrip().startswith("#")
            ):
                text.append(bare(lines[index]).strip())
                index += 1
            cid = f"{number}.{item.group('n')}"
            ids.append(cid)
            items.append(
                Criterion(
                    text=f"{cid}: {md.plain(' '.join(text))}",
                    group=group,
                    source=f"{rel}:{start + 1} acceptance criterion {cid}",
                )
            )
        out.append(_Requirement(number, title, items, ids))
    return out


def select_criteria(requirements: list[_Requirement], refs: list[str]) -> list[Criterion]:
    """The criteria the tasks reference (a bare 'N' means all of requirement N); all when none is."""
    if not refs:
        return [c for r in requirements for c in r.criteria]
    wanted = set(refs)
    out = []
    for req in requirements:
        for cid, crit in zip(req.ids, req.criteria, strict=True):
            if req.number in wanted or cid in wanted:
                users = (
                    "referenced by tasks"
                    if cid in wanted
                    else f"requirement {req.number} referenced"
                )
                out.append(crit.model_copy(update={"source": f"{crit.source} ({users})"}))
    return out
