"""plan.md -> Plan: the fixture corpus, verbatim bodies, loading and the no-steps error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from exec_auto.errors import PlanError
from exec_auto.formats.cdd.plan import OVERVIEW_LIMIT, load_plan, normalise, parse_plan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plans"
CORPUS = sorted(p for p in FIXTURES.glob("*.md"))


def expected(plan: Path) -> dict:
    """The sidecar describing what a fixture must parse to."""
    return json.loads(plan.with_suffix(".expected.json").read_text(encoding="utf-8"))


def source(plan: Path) -> str:
    """The fixture's text as bodies are sliced from it (BOM dropped, LF line endings)."""
    return normalise(plan.read_bytes().decode("utf-8"))


def test_corpus_covers_every_shape_in_both_languages():
    names = {p.stem for p in CORPUS}
    assert len(names) >= 14
    assert sum(n.endswith("-en") for n in names) >= 7
    assert sum(n.endswith("-pt") for n in names) >= 7
    for plan in CORPUS:
        assert plan.with_suffix(".expected.json").exists(), f"{plan.name} has no sidecar"


@pytest.mark.parametrize(
    "plan", [p for p in CORPUS if "error" not in expected(p)], ids=lambda p: p.stem
)
def test_fixture_parses_to_its_expected_steps(plan: Path):
    want = expected(plan)
    parsed = load_plan(plan)
    got = [{"id": s.id, "title": s.title, "phase": s.phase} for s in parsed.steps]
    assert got == want["steps"]
    assert parsed.title == want["title"]
    assert parsed.path == plan
    if "overview_starts" in want:
        assert parsed.overview.startswith(want["overview_starts"])
    assert list(parsed.dependencies) == want["dependencies"]


@pytest.mark.parametrize(
    "plan", [p for p in CORPUS if "error" not in expected(p)], ids=lambda p: p.stem
)
def test_bodies_are_consecutive_verbatim_slices_of_the_plan(plan: Path):
    want = expected(plan)
    text = source(plan)
    lines = text.split("\n")
    steps = load_plan(plan).steps
    position = 0
    for step in steps:
        found = text.find(step.body, position)
        assert found >= position, (
            f"step {step.id} body is not a verbatim slice after the previous one"
        )
        assert found == 0 or text[found - 1] == "\n", "a body starts at the start of a line"
        assert step.body.split("\n")[0] in lines
        assert step.body == step.body.rstrip() and step.body.strip()
        position = found + len(step.body)
    assert steps[-1].body.endswith(want["last_step_ends_with"])
    for step_id, fragments in want.get("step_contains", {}).items():
        body = next(s.body for s in steps if s.id == step_id)
        for fragment in fragments:
            assert fragment in body
    assert len({s.id for s in steps}) == len(steps)


@pytest.mark.parametrize(
    "plan", [p for p in CORPUS if "naive_sees" in expected(p)], ids=lambda p: p.stem
)
def test_embedded_documents_fool_a_plain_commonmark_parse_but_not_the_plan_parser(plan: Path):
    text = source(plan)
    tokens = MarkdownIt("commonmark").parse(text)
    naive = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    titles = {s.title for s in parse_plan(text).steps}
    for leaked in expected(plan)["naive_sees"]:
        assert leaked in naive, "the fixture no longer breaks a plain parse"
        assert leaked.split(":", 1)[1].strip() not in titles


@pytest.mark.parametrize(
    "plan", [p for p in CORPUS if "error" in expected(p)], ids=lambda p: p.stem
)
def test_plan_without_steps_raises_listing_its_headings(plan: Path):
    with pytest.raises(PlanError) as caught:
        load_plan(plan)
    error = caught.value
    assert error.path == plan
    assert error.hint and "Implementation Steps" in error.hint
    for heading in expected(plan)["error"]:
        assert heading in error.message
    assert "Step 1: this is inside a code block" not in error.message


def test_plan_with_no_headings_says_so():
    with pytest.raises(PlanError, match="no headings"):
        parse_plan("Just some prose.\n\n- and a list\n")


def test_crlf_and_bom_fixture_really_has_them_and_parses_like_lf(tmp_path: Path):
    crlf = FIXTURES / "crlf-bom-pt.md"
    raw = crlf.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    lf = tmp_path / "plan.md"
    lf.write_text(source(crlf), encoding="utf-8")
    assert [s.model_dump() for s in load_plan(crlf).steps] == [
        s.model_dump() for s in load_plan(lf).steps
    ]
    assert all("\r" not in s.body for s in load_plan(crlf).steps)


def test_crlf_english_plan_keeps_titles_without_carriage_returns():
    text = (FIXTURES / "feature-en.md").read_text(encoding="utf-8").replace("\n", "\r\n")
    plan = parse_plan(text)
    assert [s.title for s in plan.steps][:2] == [
        "Install logging dependencies",
        "Create the logging configuration module",
    ]
    assert "\r" not in plan.title + plan.overview + "".join(s.body for s in plan.steps)


def test_missing_plan_raises_plan_error_with_hint(tmp_path: Path):
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "plan.md")
    assert caught.value.path == tmp_path / "plan.md"
    assert "not found" in caught.value.message
    assert caught.value.hint


def test_directory_and_invalid_utf8_raise_plan_error(tmp_path: Path):
    with pytest.raises(PlanError, match="directory"):
        load_plan(tmp_path)
    bad = tmp_path / "plan.md"
    bad.write_bytes(b"# Plan\n\n## Implementation Steps\n\n### Step 1: caf\xe9\n")
    with pytest.raises(PlanError, match="UTF-8") as caught:
        load_plan(bad)
    assert caught.value.hint


def test_overview_is_trimmed_to_the_limit():
    summary = "\n".join(
        f"Line {i} of a very long executive summary, padded out." for i in range(200)
    )
    text = f"# Plan: Big\n\n## Executive Summary\n\n{summary}\n\n## Implementation Steps\n\n### Step 1: Go\nGo.\n"
    overview = parse_plan(text).overview
    assert 1000 < len(overview) <= OVERVIEW_LIMIT
    assert overview.startswith("Line 0 of")


def test_overview_falls_back_to_text_before_the_first_section():
    text = "# Tidy imports\n\nSort every import block.\n\n## Implementation Steps\n\n### Step 1: Run isort\nRun it.\n"
    plan = parse_plan(text)
    assert plan.overview == "Sort every import block."
    assert plan.title == "Tidy imports"


def test_implementation_section_wins_over_earlier_analysis_steps():
    text = (FIXTURES / "bug-en.md").read_text(encoding="utf-8")
    steps = parse_plan(text).steps
    assert "Reproduce with a fake gateway" not in {s.title for s in steps}
    assert all("Investigation" not in s.body for s in steps)


def test_restarting_numbering_without_phases_keeps_the_plan_chain():
    text = (
        "# Plan: X\n\n## Implementation Steps\n\n"
        "### Step 1: One\nA.\n\n### Step 2: Two\nB.\n\n"
        "### Step 1: Embedded one\nC.\n\n### Step 2: Embedded two\nD.\n\n"
        "### Step 3: Three\nE.\n"
    )
    steps = parse_plan(text).steps
    assert [(s.id, s.title) for s in steps] == [("1", "One"), ("2", "Two"), ("3", "Three")]
    assert "### Step 2: Embedded two" in steps[1].body


def test_unnumbered_phases_get_generated_ids():
    text = (
        "# Plan: Y\n\n## Implementation Steps\n\n"
        "### Phase: Setup\n- create the venv\n\n### Phase: Build\n- run the build\n"
    )
    steps = parse_plan(text).steps
    assert [(s.id, s.title) for s in steps] == [("1", "Setup"), ("2", "Build")]


def test_step_heading_followed_by_same_level_steps_after_an_empty_section():
    text = (
        "# Plan: Z\n\n## Investigation Steps\n\n### Step 1: Look\nLook.\n\n"
        "## Implementation Steps\n\n## Step 1: Change\nChange.\n\n## Step 2: Test\nTest.\n\n## Notes\nN.\n"
    )
    steps = parse_plan(text).steps
    assert [(s.id, s.title) for s in steps] == [("1", "Change"), ("2", "Test")]
    assert steps[-1].body == "## Step 2: Test\nTest."


def test_phases_outside_an_implementation_heading_group_their_steps():
    text = (
        "# Plan: A\n\n## Phase 1: Setup\n### Step 1.1: Venv\nx\n### Step 1.2: Deps\ny\n"
        "## Phase 2: Build\n### Step 2.1: Compile\nz\n\n## Testing\n### Step 1: Reproduce\nr\n"
    )
    steps = parse_plan(text).steps
    assert [(s.id, s.title, s.phase) for s in steps] == [
        ("1.1", "Venv", "Setup"),
        ("1.2", "Deps", "Setup"),
        ("2.1", "Compile", "Build"),
    ]


def test_phase_outline_and_notes_lists_are_not_steps():
    text = (
        "# Plan: B\n\n## Implementation Steps\nOutline:\n1. **Phase 1** setup\n2. **Phase 2** build\n\n"
        "### Phase 1: Setup\n1. **Venv** (5 min)\n2. **Deps**\n\n### Phase 2: Build\n1. **Compile**\n\n"
        "### Notes\n1. **Careful** with X\n"
    )
    steps = parse_plan(text).steps
    assert [(s.id, s.title, s.phase) for s in steps] == [
        ("1.1", "Venv", "Setup"),
        ("1.2", "Deps", "Setup"),
        ("2.1", "Compile", "Build"),
    ]
    assert "Notes" not in steps[-1].body


def test_unlabelled_groups_number_their_restarting_items_by_position():
    text = (
        "# Plan: C\n\n## Implementation Steps\n### Backend\n1. **Models**\n2. **API**\n\n"
        "### Frontend\n1. **Form**\n\n### Notes\n1. **Careful** with X\n"
    )
    steps = parse_plan(text).steps
    assert [(s.id, s.title, s.phase) for s in steps] == [
        ("1.1", "Models", "Backend"),
        ("1.2", "API", "Backend"),
        ("2.1", "Form", "Frontend"),
    ]


def test_numbering_continuing_across_phases_keeps_the_plan_numbers():
    text = (
        "# Plan: D\n\n## Implementation Steps\n### Phase 1: One\n1. **A**\n2. **B**\n\n"
        "### Phase 2: Two\n3. **C**\n4. **D**\n"
    )
    assert [s.id for s in parse_plan(text).steps] == ["1", "2", "3", "4"]


@pytest.mark.parametrize(
    "text",
    [
        "# P\n\n## Tasks\n\n### Task 1: Model\nx\n### Task 2: View\ny\n",
        "# P\n\n## Tarefas\n\n### Tarefa 1: Model\nx\n### Tarefa 2: View\ny\n",
        "# P\n\n## Implementation Steps\n\n- [ ] Step 1: Model\n- [x] **Step 2: View**\n",
    ],
)
def test_task_labels_and_task_lists(text: str) -> None:
    assert [(s.id, s.title) for s in parse_plan(text).steps] == [("1", "Model"), ("2", "View")]
