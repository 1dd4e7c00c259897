"""Which parts of plan.md are the steps to execute, with their ids, titles, phases and line ranges.

Candidate sections are ranked: an implementation section ("Implementation Steps", "Passos de
Implementação", ...) first, then a spike's "Investigation Steps", then a generic "Steps"/"Tasks"
section, and only then "Step N" headings anywhere outside analysis sections. Within a section the
steps are "Step N" headings, else "**Step N:**" paragraphs, else numbered headings, else numbered
list items (grouped by phase), else the phases themselves. Among candidates of one rank, a
numbering that runs 1..N once and in order wins over a repeated or restarting one.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise

from exec_auto.formats.cdd.plan.blocks import Document, Heading, Item
from exec_auto.formats.cdd.plan.text import (
    clean_title,
    is_analysis,
    is_aside,
    item_title,
    numbered_label,
    phase_label,
    plain,
    section_tier,
    starts_bold,
    step_number,
    strip_emphasis,
    untick,
)

# Deeper than any heading: a "**Step N:**" paragraph's body ends at the next heading of any level.
_PARAGRAPH_LEVEL = 7
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_Labeller = Callable[[str], tuple[str | None, str] | None]


@dataclass(frozen=True)
class Found:
    """A step as located in the source: where it starts and what ends its body."""

    line: int
    stop_level: int
    number: str | None
    title: str
    phase: str | None = None
    phase_key: str | None = None
    end: int = 0


@dataclass(frozen=True)
class _Candidate:
    steps: list[Found]
    clean: bool
    # A same-level step that restarts the numbering and is never followed by the chain again
    # (Step 1, 2, 1, 2): which steps are meant cannot be told, so choosing this candidate fails.
    restart: Found | None = None


class AmbiguousNumbering(ValueError):
    """The chosen steps restart their numbering with nothing to explain it."""

    def __init__(self, restart: Found, previous: Found):
        super().__init__(
            f"the step numbering restarts at line {restart.line + 1} (step {restart.number} "
            f"after step {previous.number}) and never continues, so the steps from there on "
            f"would silently become part of step {previous.number}"
        )


def find_steps(doc: Document) -> list[Found]:
    """The plan's executable steps in order, each with its final id in `number` and its `end`."""
    by_tier: dict[int, list[Heading]] = {1: [], 2: [], 3: []}
    for heading in doc.headings:
        tier = section_tier(heading.text)
        if tier is not None:
            by_tier[tier].append(heading)
    for tier in (1, 2, 3):
        found: list[tuple[Heading, int, _Candidate]] = []
        for heading in by_tier[tier]:
            end = _section_end(doc, heading)
            candidate = _candidate(doc, _extract(doc, heading.line, end, heading.level), end)
            if candidate is not None:
                found.append((heading, end, candidate))
        # A section nested inside another that also yields steps (an "Implementation" sub-heading
        # inside a step) is part of that step, not a rival.
        outer = [
            c
            for h, _, c in found
            if not any(o.line < h.line < e for o, e, _ in found if o is not h)
        ]
        if outer:
            return _best(outer)
    return _best(_anywhere(doc))


def _best(candidates: list[_Candidate]) -> list[Found]:
    if not candidates:
        return []
    best = max(candidates, key=lambda c: (c.clean, len(c.steps), -c.steps[0].line))
    if best.restart is not None:
        previous = max((s for s in best.steps if s.line < best.restart.line), key=lambda s: s.line)
        raise AmbiguousNumbering(best.restart, previous)
    return best.steps


def _section_end(doc: Document, heading: Heading) -> int:
    """The section's end, extended over "## Step N" headings that follow it at its own level."""
    end = doc.section_end(heading)
    for other in doc.headings:
        if other.line == end and other.level == heading.level and step_number(other.text):
            end = doc.section_end(other)
    return end


def _extract(doc: Document, start: int, end: int, level: int) -> list[Found]:
    """Steps inside the section whose heading is at line start (exclusive) up to end."""
    inner = doc.headings_between(start + 1, end)
    labelled = [h for h in inner if step_number(h.text)]
    if labelled:
        return _heading_steps(inner, labelled, step_number)
    paragraphs = [
        p
        for p in doc.paragraphs
        if start < p.line < end and starts_bold(p.text) and step_number(p.text)
    ]
    if paragraphs:
        return _grouped(
            inner,
            [(p.line, *_label(step_number(p.text))) for p in paragraphs],
            _PARAGRAPH_LEVEL,
        )
    # Bulleted or task-list items labelled "Step N" ("- [ ] **Step 1: ...**").
    bullets = [
        (i.line, *_label(step_number(untick(i.text))))
        for i in doc.items
        if start < i.line < end and not i.ordered and step_number(untick(i.text))
    ]
    if bullets:
        return _grouped(inner, bullets, level + 1)
    numbered = [h for h in inner if numbered_label(h.text)]
    if numbered:
        return _heading_steps(inner, numbered, numbered_label)
    items = _item_steps(doc, inner, start, end, level)
    if items:
        return items
    phases = [h for h in inner if phase_label(h.text)]
    if phases:
        top = min(h.level for h in phases)
        return [
            Found(h.line, h.level, *_label(phase_label(h.text), h.text))
            for h in phases
            if h.level == top
        ]
    return []


def _label(label: tuple[str | None, str] | None, fallback: str = "") -> tuple[str | None, str]:
    number, title = label if label is not None else (None, "")
    return number, title or clean_title(fallback) or (f"Step {number}" if number else "Step")


def _heading_steps(
    inner: list[Heading], labelled: list[Heading], labeller: _Labeller
) -> list[Found]:
    """Labelled headings at the shallowest level they occur at; deeper ones stay in bodies."""
    top = min(h.level for h in labelled)
    chosen = [h for h in labelled if h.level == top]
    starts = [(h.line, *_label(labeller(h.text), h.text)) for h in chosen]
    return _grouped(inner, starts, top)


def _grouped(
    inner: list[Heading], starts: list[tuple[int, str | None, str]], level: int
) -> list[Found]:
    """Attach to each step the phase (or other grouping heading) it sits under."""
    lines = {line for line, _, _ in starts}
    headings = iter(h for h in inner if h.line not in lines)
    pending = next(headings, None)
    group: Heading | None = None
    steps = []
    for line, number, title in sorted(starts):
        while pending is not None and pending.line < line:
            if pending.level < level or (pending.level == level and phase_label(pending.text)):
                group = pending
            pending = next(headings, None)
        steps.append(Found(line, level, number, title, *_phase(group)))
    return steps


def _phase(heading: Heading | None) -> tuple[str | None, str | None]:
    """(phase title, phase key) of a grouping heading."""
    if heading is None:
        return None, None
    label = phase_label(heading.text)
    if label is None:
        return clean_title(heading.text), None
    return label[1] or clean_title(heading.text), label[0]


def _item_steps(
    doc: Document, inner: list[Heading], start: int, end: int, level: int
) -> list[Found]:
    """Numbered list items, grouped under phase headings (or the section's sub-headings)."""
    groups = [h for h in inner if phase_label(h.text)]
    phased = bool(groups)
    if not phased and inner:
        top = min(h.level for h in inner)
        groups = [h for h in inner if h.level == top and not is_aside(h.text)]
    group_level = min((h.level for h in groups), default=level + 1)
    items = [i for i in doc.items if start < i.line < end and i.ordered]
    owners = [h for h in inner if h.level <= group_level]
    owner_lines = [h.line for h in owners]
    by_line = {h.line: h for h in groups}
    owned: dict[int | None, list[Item]] = {}
    for item in items:
        before = bisect_left(owner_lines, item.line)
        owner = owners[before - 1] if before else None
        # Under phases, a list before the first phase is an outline of the phases, not work.
        if (owner is None and phased) or (owner is not None and owner.line not in by_line):
            continue
        owned.setdefault(owner.line if owner else None, []).append(item)
    steps: list[Found] = []
    ordinals = {h.line: n for n, h in enumerate(groups, 1)}
    for owner_line, members in owned.items():
        bold_lists = {i.list_index for i in members if starts_bold(i.text)}
        if bold_lists:
            members = [i for i in members if i.list_index in bold_lists]
        group = by_line.get(owner_line) if owner_line is not None else None
        phase, key = _phase(group)
        if group is not None and key is None:
            key = str(ordinals[group.line])
        for item in members:
            label = step_number(strip_emphasis(plain(item.text)))
            number = label[0] if label else (str(item.number) if item.number is not None else None)
            stop = group.level if group is not None else level + 1
            steps.append(Found(item.line, stop, number, item_title(item.text), phase, key))
    return sorted(steps, key=lambda s: s.line)


def _anywhere(doc: Document) -> list[_Candidate]:
    """Step headings (or bold step paragraphs) outside analysis sections, grouped by parent."""
    title = doc.headings[0] if doc.headings and doc.headings[0].level == 1 else None
    groups: dict[tuple[int, int], list[Heading]] = {}
    parents: dict[int, Heading | None] = {}
    stack: list[Heading] = []
    for heading in doc.headings:
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        if step_number(heading.text) is not None and not any(
            h is not title and is_analysis(h.text) for h in stack
        ):
            # Phases group steps; the parent that separates one sequence from another is the
            # nearest enclosing heading that is not a phase.
            parent = next((h for h in reversed(stack) if not phase_label(h.text)), None)
            parents[parent.line if parent else -1] = parent
            groups.setdefault((parent.line if parent else -1, heading.level), []).append(heading)
        stack.append(heading)
    candidates = []
    for (parent_line, _), members in groups.items():
        parent = parents[parent_line]
        end = doc.section_end(parent) if parent else len(doc.lines)
        inner = doc.headings_between(parent.line + 1 if parent else 0, end)
        candidate = _candidate(doc, _heading_steps(inner, members, step_number), end)
        if candidate is not None:
            candidates.append(candidate)
    if not candidates:
        analysis = [
            (h.line, doc.section_end(h))
            for h in doc.headings
            if h is not title and is_analysis(h.text)
        ]
        paragraphs = [
            p
            for p in doc.paragraphs
            if starts_bold(p.text)
            and step_number(p.text)
            and not any(a < p.line < b for a, b in analysis)
        ]
        starts = [(p.line, *_label(step_number(p.text))) for p in paragraphs]
        phases = [h for h in doc.headings if phase_label(h.text)]
        candidate = _candidate(doc, _grouped(phases, starts, _PARAGRAPH_LEVEL), len(doc.lines))
        if candidate is not None:
            candidates.append(candidate)
    return candidates


def _candidate(doc: Document, steps: list[Found], region_end: int) -> _Candidate | None:
    """Final ids and body ends for a located step sequence, and whether its numbering is clean."""
    if not steps:
        return None
    located = {s.line for s in steps}
    chosen, clean = _assign_ids(steps)
    restart = _unresumed_restart(steps, chosen)
    steps = chosen
    # Step headings dropped from a restarting numbering stay inside the step they follow.
    absorbed = located - {s.line for s in steps}
    heading_lines = [h.line for h in doc.headings]
    ended = []
    for index, step in enumerate(steps):
        end = steps[index + 1].line if index + 1 < len(steps) else region_end
        for position in range(bisect_right(heading_lines, step.line), len(doc.headings)):
            heading = doc.headings[position]
            if heading.line >= end:
                break
            if heading.level <= step.stop_level and heading.line not in absorbed:
                end = heading.line
                break
        while end > step.line + 1 and (
            not doc.lines[end - 1].strip() or _RULE.match(doc.lines[end - 1])
        ):
            end -= 1
        ended.append(replace(step, end=end))
    return _Candidate(ended, clean, restart)


def _unresumed_restart(located: list[Found], chosen: list[Found]) -> Found | None:
    """The first dropped step after the last chosen one, at the chosen steps' own level."""
    if len(chosen) == len(located):
        return None
    last = chosen[-1]
    kept = {s.line for s in chosen}
    return next(
        (
            s
            for s in located
            if s.line > last.line and s.line not in kept and s.stop_level == last.stop_level
        ),
        None,
    )


def _key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


def _increasing(numbers: list[str]) -> bool:
    """Whether the numbering runs 1..N once, in order (sub-numbers like 2.1, 2.2 allowed)."""
    keys = [_key(n) for n in numbers]
    in_order = all(a < b and b[0] - a[0] in (0, 1) for a, b in pairwise(keys))
    return in_order and keys[0][0] <= 1


def _assign_ids(steps: list[Found]) -> tuple[list[Found], bool]:
    """Ids from the plan's own numbers; restarts per phase become "<phase>.<n>"."""
    numbers = [s.number for s in steps]
    if any(n is None for n in numbers):
        return [replace(s, number=str(i)) for i, s in enumerate(steps, 1)], False
    plain_numbers = [n for n in numbers if n is not None]
    if len(set(plain_numbers)) == len(plain_numbers):
        return steps, _increasing(plain_numbers)
    if all(s.phase_key is not None for s in steps):
        composed = [f"{s.phase_key}.{s.number}" for s in steps]
        if len(set(composed)) == len(composed):
            ids = [replace(s, number=c) for s, c in zip(steps, composed, strict=True)]
            return ids, _increasing(composed)
    # A numbering that restarts without a phase to explain it: keep the chain 1, 2, 3, ... and
    # leave the repeats (an embedded document's own steps) inside the step they appear in.
    chain = [steps[0]]
    for step in steps[1:]:
        if _key(step.number or "0") > _key(chain[-1].number or "0"):
            chain.append(step)
    return chain, False
