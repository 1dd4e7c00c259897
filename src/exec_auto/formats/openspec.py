"""OpenSpec: openspec/changes/<id>/ with proposal.md, tasks.md and delta specs.

Steps are tasks.md's numbered checkboxes (`- [ ] 1.1 ...`) under `## 1. Group` headings (the
group is the phase). Criteria are the scenarios (`#### Scenario:` with WHEN/THEN bullets) of the
ADDED and MODIFIED requirements in `specs/<capability>/spec.md`; a requirement without
scenarios is one criterion, its SHALL text. A finished task becomes `- [x]`.

Archiving follows `openspec archive`: the change's deltas are applied to
`openspec/specs/<capability>/spec.md` (RENAMED, then REMOVED, MODIFIED, ADDED; a new capability
gets OpenSpec's skeleton) and the folder moves to `openspec/changes/archive/YYYY-MM-DD-<id>/`.
Every new spec text is computed before anything is written, and a delta that does not apply
(MODIFIED of a requirement the spec lacks, or dropping its scenarios) or that OpenSpec's own
validation rejects refuses the archive with nothing changed. The output matches `openspec archive`
(1.13.2) byte for byte on the tested changes; the `openspec` CLI is not needed and not called.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from exec_auto.atomicio import atomic_write_text, fsync_dir
from exec_auto.errors import ArchiveError, FormatError
from exec_auto.formats import markdown as md
from exec_auto.formats.base import LoadedTicket, RunSummary
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

CHANGES = Path("openspec") / "changes"
SPECS = Path("openspec") / "specs"
_NUMBER = re.compile(r"^(?P<num>\d+(?:\.\d+)*)\.?(?=\s|$)\s*(?P<rest>.*)$")
_OP = re.compile(r"^##\s+(ADDED|MODIFIED|REMOVED|RENAMED)\s+Requirements\s*$", re.IGNORECASE)
_REQ = re.compile(r"^###\s+Requirement:\s*(?P<name>.+?)\s*$")
_SCENARIO = re.compile(r"^####\s+Scenario:\s*(?P<name>.+?)\s*$")
_RENAME = re.compile(
    r"^\s*-\s*(FROM|TO):\s*`?(?:###\s+Requirement:\s*)?(?P<name>[^`]+?)`?\s*$", re.IGNORECASE
)
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}-")


@dataclass
class Requirement:
    """One `### Requirement:` block of a spec or a delta: its name, raw lines and scenarios."""

    name: str
    line: int
    raw: list[str]
    scenarios: list[tuple[int, str, list[str]]] = field(default_factory=list)


@dataclass
class Delta:
    """One delta spec: the requirement blocks under each operation heading."""

    capability: str
    added: list[Requirement] = field(default_factory=list)
    modified: list[Requirement] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)


class OpenSpec:
    """The OpenSpec change layout."""

    name = "openspec"
    label = "OpenSpec"
    uses_state_home = True
    archives = True

    def _changes(self, root: Path) -> list[tuple[Path, bool]]:
        base = root / CHANGES
        if not base.is_dir():
            return []
        active = [
            (p, False)
            for p in sorted(base.iterdir())
            if p.is_dir() and p.name != "archive" and (p / "tasks.md").is_file()
        ]
        archive = base / "archive"
        done = (
            [
                (p, True)
                for p in sorted(archive.iterdir())
                if p.is_dir() and (p / "tasks.md").is_file()
            ]
            if archive.is_dir()
            else []
        )
        return active + done

    def _ref(self, folder: Path, root: Path, archived: bool) -> TicketRef:
        return TicketRef(folder.name, root, archived=archived, format=self.name, source=folder)

    def detect(self, root: Path) -> bool:
        """openspec/changes/<id>/tasks.md exists (active or archived)."""
        return bool(self._changes(root))

    def list_tickets(self, root: Path) -> list[TicketRef]:
        """Active changes, then archived ones."""
        return [self._ref(p, root, archived) for p, archived in self._changes(root)]

    def owns(self, path: Path, root: Path) -> TicketRef | None:
        """A change folder or a file inside it."""
        path = path.resolve()
        for folder, archived in self._changes(root):
            f = folder.resolve()
            if path == f or f in path.parents:
                return self._ref(folder, root, archived)
        return None

    def load(self, ref: TicketRef) -> LoadedTicket:
        """tasks.md (steps), delta specs (criteria), proposal.md (overview)."""
        folder = ref.location
        tasks_path = folder / "tasks.md"
        rel = tasks_path.relative_to(ref.root).as_posix()
        lines = lines_of(read_text(tasks_path))
        steps = parse_tasks(lines, rel)
        if not steps:
            raise FormatError(
                "has no tasks (`- [ ] 1.1 Task`)",
                path=tasks_path,
                hint="write them with /opsx:propose",
            )
        files = [rel]
        overview = ""
        proposal = folder / "proposal.md"
        if proposal.is_file():
            files.append(proposal.relative_to(ref.root).as_posix())
            overview = _why(lines_of(read_text(proposal)))
        criteria: list[Criterion] = []
        removed: list[str] = []
        for spec in (
            sorted((folder / "specs").glob("*/spec.md")) if (folder / "specs").is_dir() else []
        ):
            spec_rel = spec.relative_to(ref.root).as_posix()
            files.append(spec_rel)
            delta = parse_delta(lines_of(read_text(spec)), spec.parent.name)
            criteria += delta_criteria(delta, spec_rel)
            removed += [f"{delta.capability}: {name}" for name in delta.removed]
        done = sum(s.done for s in steps)
        return LoadedTicket(
            ref=ref,
            format=self.name,
            title=folder.name,
            plan=Plan(
                path=tasks_path,
                title=folder.name,
                overview=(overview + "\n\n" if overview else "")
                + f"OpenSpec change {folder.name}. The harness ticks tasks in {rel}; do not edit it.",
                steps=tuple(steps),
            ),
            criteria=tuple(criteria),
            status="archived"
            if ref.archived
            else ("complete" if done == len(steps) else ("in progress" if done else "proposed")),
            files=tuple(files),
            warnings=tuple(
                f"REMOVED requirement {r}: not a criterion (nothing to check)" for r in removed
            ),
            no_criteria_note=None
            if criteria
            else "no delta spec scenarios: no acceptance criteria to validate",
            derivation=(
                f"steps: numbered checkbox tasks of {rel}, phase = the `## N.` group heading",
                "criteria: each #### Scenario (WHEN/THEN) of ADDED/MODIFIED requirements in specs/*/spec.md",
            ),
        )

    def mark_started(self, ticket: LoadedTicket, now: str) -> list[str]:
        """OpenSpec records nothing when work starts."""
        return []

    def mark_step(self, ticket: LoadedTicket, step: Step, status: StepStatus) -> list[str]:
        """A completed task becomes `- [x]`."""
        if status != "completed":
            return []
        path = ticket.ref.location / "tasks.md"
        if tick(path, lambda boxes: _find(boxes, step.id), "x"):
            return [f"tasks.md: {step.id} ticked [x]"]
        return []

    def mark_finished(
        self, ticket: LoadedTicket, now: str, *, clean: bool, summary: RunSummary
    ) -> list[str]:
        """Nothing beyond the ticks (archiving applies the deltas)."""
        return []

    def archive_destination(self, ticket: LoadedTicket) -> str:
        """openspec/changes/archive/YYYY-MM-DD-<id> (a dated name keeps its date)."""
        name = (
            ticket.ref.name
            if _DATED.match(ticket.ref.name)
            else f"{dt.date.today().isoformat()}-{ticket.ref.name}"
        )
        return (CHANGES / "archive" / name).as_posix()

    def restore_hint(self, ticket: LoadedTicket) -> str | None:
        """OpenSpec has no un-archive; git restores the specs and the folder."""
        return None

    def archive(self, ticket: LoadedTicket) -> TicketRef:
        """Apply the deltas to openspec/specs, then move the change into the archive."""
        ref = ticket.ref
        if ref.archived:
            raise ArchiveError(f"change {ref.name!r} is already archived", path=ref.location)
        target = ref.root / self.archive_destination(ticket)
        if target.exists():
            raise ArchiveError(f"{target} already exists; it is never overwritten", path=target)
        writes: list[tuple[Path, str]] = []
        specs_dir = ref.location / "specs"
        for spec in sorted(specs_dir.glob("*/spec.md")) if specs_dir.is_dir() else []:
            cap = spec.parent.name
            delta = parse_delta(lines_of(read_text(spec)), cap)
            problems = validate_delta(delta)
            if problems:
                raise FormatError(
                    "validation failed: " + "; ".join(problems),
                    path=spec,
                    hint="fix the delta (as `openspec validate` would ask), then archive",
                )
            main = ref.root / SPECS / cap / "spec.md"
            current = read_text(main) if main.is_file() else None
            writes.append((main, apply_delta(current, delta, ref.name)))
        for path, text in writes:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(ref.location, target)
        fsync_dir(ref.location.parent)
        fsync_dir(target.parent)
        return TicketRef(ref.name, ref.root, archived=True, format=self.name, source=target)


def _find(boxes: list[Checkbox], key: str) -> Checkbox | None:
    for index, box in enumerate(boxes):
        match = _NUMBER.match(box.text.strip())
        if (match.group("num") if match else f"task{index + 1}") == key:
            return box
    return None


def parse_tasks(lines: list[str], rel: str) -> list[Step]:
    """Every checkbox of tasks.md as a step; ids are the task numbers (task N when unnumbered)."""
    heads = md.headings(lines)
    boxes = checkboxes(lines)
    if not boxes:
        return _numbered_items(lines, heads, rel)
    steps: list[Step] = []
    seen: set[str] = set()
    for index, box in enumerate(boxes):
        match = _NUMBER.match(box.text.strip())
        key = match.group("num") if match else f"task{index + 1}"
        if key in seen:
            key = f"task{index + 1}"
        seen.add(key)
        rest = match.group("rest") if match else box.text
        stop = boxes[index + 1].line if index + 1 < len(boxes) else len(lines)
        stop = min([stop, *(h.line for h in heads if h.line > box.line)])
        body = [bare(lines[box.line]), *continuation(lines, box, stop)]
        head = md.heading_before(heads, box.line)
        steps.append(
            Step(
                id=key,
                title=md.plain(rest) or key,
                body="\n".join(body),
                phase=head.text if head else None,
                done=box.checked,
                source=f"{rel}:{box.line + 1} checkbox {key}",
            )
        )
    return steps


_ITEM = re.compile(r"^(?P<num>\d+)[.)]\s+(?P<text>.+)$")


def _numbered_items(lines: list[str], heads: list[md.Heading], rel: str) -> list[Step]:
    """A tasks.md written as a plain numbered list (no checkboxes): each item is a step.

    Such a file has nowhere to show progress, so nothing is ever written back to it.
    """
    steps: list[Step] = []
    for index, raw in enumerate(lines):
        match = _ITEM.match(bare(raw))
        if match is None or match.group("num") in {s.id for s in steps}:
            continue
        head = md.heading_before(heads, index)
        text = re.sub(r"</?\w+[^>]*>.*$", "", match.group("text")).strip()
        steps.append(
            Step(
                id=match.group("num"),
                title=md.plain(text) or match.group("num"),
                body=bare(raw),
                phase=head.text if head else None,
                source=f"{rel}:{index + 1} numbered item {match.group('num')} (no checkbox: progress is not written back)",
            )
        )
    return steps


def _why(lines: list[str]) -> str:
    """proposal.md's `## Why` section (bounded)."""
    heads = md.headings(lines)
    for head in heads:
        if head.text.lower().startswith("why"):
            end = md.section_end(heads, head, len(lines))
            return "".join(lines[head.line + 1 : end]).strip()[:1500]
    return ""


def parse_delta(lines: list[str], capability: str) -> Delta:
    """The ADDED / MODIFIED / REMOVED / RENAMED requirements of one delta spec."""
    delta = Delta(capability)
    op: str | None = None
    current: Requirement | None = None
    rename_from: str | None = None

    def close() -> None:
        nonlocal current
        if current is None:
            return
        while current.raw and not current.raw[-1].strip():
            current.raw.pop()
        if op == "ADDED":
            delta.added.append(current)
        elif op == "MODIFIED":
            delta.modified.append(current)
        elif op == "REMOVED":
            delta.removed.append(current.name)
        current = None

    for index, raw in enumerate(lines):
        line = bare(raw)
        opm = _OP.match(line)
        if opm:
            close()
            op = opm.group(1).upper()
            continue
        if line.startswith("## "):
            close()
            op = None
            continue
        if op == "RENAMED":
            rn = _RENAME.match(line)
            if rn and rn.group(1).upper() == "FROM":
                rename_from = rn.group("name").strip()
            elif rn and rename_from is not None:
                delta.renamed.append((rename_from, rn.group("name").strip()))
                rename_from = None
            continue
        req = _REQ.match(line)
        if req and op is not None:
            close()
            current = Requirement(req.group("name"), index, [line])
            continue
        if current is not None:
            current.raw.append(line)
            sc = _SCENARIO.match(line)
            if sc:
                current.scenarios.append((index, sc.group("name"), []))
            elif current.scenarios and line.strip():
                current.scenarios[-1][2].append(line.strip())
    close()
    return delta


def delta_criteria(delta: Delta, rel: str) -> list[Criterion]:
    """One criterion per scenario of ADDED/MODIFIED requirements (the SHALL text without one)."""
    out: list[Criterion] = []
    for op, reqs in (("ADDED", delta.added), ("MODIFIED", delta.modified)):
        for req in reqs:
            group = f"{delta.capability} ({op.lower()})"
            if not req.scenarios:
                statement = " ".join(x.strip() for x in req.raw[1:] if x.strip())[:600]
                out.append(
                    Criterion(
                        text=f"{req.name}: {md.plain(statement)}",
                        group=group,
                        source=f"{rel}:{req.line + 1} requirement without scenarios",
                    )
                )
                continue
            for line, name, bullets in req.scenarios:
                steps = "; ".join(md.plain(b.lstrip("-* ").strip()) for b in bullets)
                out.append(
                    Criterion(
                        text=f"{req.name} — {name}: {steps}",
                        group=group,
                        source=f"{rel}:{line + 1} scenario of {op} requirement {req.name!r}",
                    )
                )
    return out


def validate_delta(delta: Delta) -> list[str]:
    """The errors `openspec archive` validation reports for a delta (it refuses to archive on any)."""
    problems: list[str] = []
    for op, reqs in (("ADDED", delta.added), ("MODIFIED", delta.modified)):
        seen: set[str] = set()
        for req in reqs:
            key = _norm(req.name)
            if key in seen:
                problems.append(f"{delta.capability}: duplicate requirement in {op}: {req.name!r}")
            seen.add(key)
            text = [
                x
                for x in req.raw[1 : req.scenarios[0][0] - req.line if req.scenarios else None]
                if x.strip()
            ]
            if not text:
                problems.append(
                    f"{delta.capability}: {op} {req.name!r} is missing requirement text"
                )
            if not req.scenarios:
                problems.append(
                    f"{delta.capability}: {op} {req.name!r} must include at least one scenario"
                )
    return problems


def _scenario_names(block: Requirement) -> list[str]:
    return [m.group("name") for m in (_SCENARIO.match(x) for x in block.raw) if m]


def _norm(name: str) -> str:
    return " ".join(name.split())


def _split_spec(text: str) -> tuple[str, str, str, list[Requirement], str]:
    """(before, '## Requirements', preamble, blocks, after) of a main spec."""
    lines = [bare(x) for x in lines_of(text)]
    start = next((i for i, x in enumerate(lines) if re.match(r"^##\s+Requirements\s*$", x)), None)
    if start is None:
        return text.rstrip(), "## Requirements", "", [], ""
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    blocks: list[Requirement] = []
    preamble: list[str] = []
    for index in range(start + 1, end):
        req = _REQ.match(lines[index])
        if req:
            blocks.append(Requirement(req.group("name"), index, [lines[index]]))
        elif blocks:
            blocks[-1].raw.append(lines[index])
        else:
            preamble.append(lines[index])
    for block in blocks:
        while block.raw and not block.raw[-1].strip():
            block.raw.pop()
    return (
        "\n".join(lines[:start]),
        lines[start],
        "\n".join(preamble).strip(),
        blocks,
        "\n".join(lines[end:]),
    )


def apply_delta(current: str | None, delta: Delta, change: str) -> str:
    """The main spec after the delta, composed the way `openspec archive` writes it."""
    if current is None:
        current = f"# {delta.capability} Specification\n\n## Purpose\nTBD - created by archiving change {change}. Update Purpose after archive.\n\n## Requirements\n"
    before, header, preamble, blocks, after = _split_spec(current)
    by_name = {_norm(b.name): b for b in blocks}
    order = [_norm(b.name) for b in blocks]
    for old, new in delta.renamed:
        key = _norm(old)
        if key not in by_name:
            if _norm(new) in by_name:
                continue
            raise FormatError(f"{delta.capability}: RENAMED requirement {old!r} is not in the spec")
        block = by_name.pop(key)
        block.raw[0] = f"### Requirement: {new}"
        block.name = new
        by_name[_norm(new)] = block
        order[order.index(key)] = _norm(new)
    for name in delta.removed:
        key = _norm(name)
        if key in by_name:
            del by_name[key]
            order.remove(key)
    for req in delta.modified:
        key = _norm(req.name)
        if key not in by_name:
            raise FormatError(
                f"{delta.capability}: MODIFIED requirement {req.name!r} is not in the spec",
                hint="the change is out of date with openspec/specs; fix the delta, then archive",
            )
        lost = [n for n in _scenario_names(by_name[key]) if n not in _scenario_names(req)]
        if lost:
            raise FormatError(
                f"{delta.capability}: MODIFIED requirement {req.name!r} would drop scenario(s) "
                + ", ".join(repr(n) for n in lost),
                hint="refresh the change spec from openspec/specs before archiving",
            )
        by_name[key] = req
    for req in delta.added:
        key = _norm(req.name)
        if key in by_name:
            raise FormatError(f"{delta.capability}: ADDED requirement {req.name!r} already exists")
        by_name[key] = req
        order.append(key)
    body = "\n\n".join(
        [*([preamble] if preamble else []), *("\n".join(by_name[k].raw) for k in order)]
    )
    text = "\n\n".join(s for s in (before.rstrip(), header, body.rstrip(), after.strip()) if s)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"
