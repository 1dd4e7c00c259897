"""Whole plans pasted into a plan as ```markdown blocks never change the host plan's steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exec_auto.formats.cdd.plan import normalise, parse_plan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plans"
HOSTS = [
    p
    for p in sorted(FIXTURES.glob("*.md"))
    if "error" not in json.loads(p.with_suffix(".expected.json").read_text(encoding="utf-8"))
]
GUESTS = ["feature-en.md", "embedded-prompt-en.md", "phases-items-pt.md"]


def embed(host: str, guest: str, fence: str = "```markdown") -> str:
    """The host plan with the guest document fenced in right before its second step."""
    plan = parse_plan(host)
    anchor = plan.steps[1].body.split("\n", 1)[0] if len(plan.steps) > 1 else None
    block = f"\nThe file, verbatim:\n\n{fence}\n{guest.rstrip()}\n```\n\n"
    if anchor is None:
        return host.replace(plan.steps[0].body, plan.steps[0].body + "\n" + block, 1)
    index = host.index(anchor, host.index(plan.steps[0].body) + 1)
    return host[:index] + block + host[index:]


def shape(text: str) -> tuple[list[tuple[str, str, str | None]], tuple[str, ...]]:
    plan = parse_plan(text)
    return [(s.id, s.title, s.phase) for s in plan.steps], plan.dependencies


@pytest.mark.parametrize("guest", GUESTS)
@pytest.mark.parametrize("host", HOSTS, ids=lambda p: p.stem)
def test_embedding_a_plan_keeps_the_host_steps_and_dependencies(host: Path, guest: str):
    host_text = normalise(host.read_text(encoding="utf-8"))
    guest_text = (FIXTURES / guest).read_text(encoding="utf-8")
    combined = embed(host_text, guest_text)
    assert combined != host_text
    assert shape(combined) == shape(host_text)


@pytest.mark.parametrize("fence", ["```md", "```", "```text"])
def test_other_document_fences_are_repaired_too(fence: str):
    host = normalise((FIXTURES / "feature-pt.md").read_text(encoding="utf-8"))
    guest = (FIXTURES / "embedded-prompt-en.md").read_text(encoding="utf-8")
    assert shape(embed(host, guest, fence)) == shape(host)
