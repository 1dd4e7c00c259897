"""spec.yaml: tolerant reading of real-world specs, and status edits that touch only their lines."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from exec_auto.errors import SpecError
from exec_auto.formats.cdd.spec import SpecParseError, load_spec, set_spec_status

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "specs"
TEMPLATES = sorted((FIXTURES / "templates").glob("*-ticket-template.yaml"))
NOW = "2025-11-03T10:30:00Z"
LATER = "2025-11-04T08:00:00Z"
STAMPS = {
    "in_progress": "implementation_started",
    "completed": "implementation_completed",
    "archived": "archived_at",
}
EDITABLE = [
    "feature-logging.yaml",
    "melhoria-cache.yaml",
    "grouped-criteria.yaml",
    "criteria-mappings.yaml",
    "top-level-status.yaml",
    "no-ticket-block.yaml",
    "nested-mix.yaml",
    "ticket-last-block-scalar.yaml",
]


def fill_template(text: str) -> str:
    """A template with its `[placeholder]`s replaced by text, the way a person fills it in."""

    def value(match: re.Match[str]) -> str:
        filled = match.group(2).split("/")[0].strip()
        return match.group(1) + json.dumps(filled, ensure_ascii=False)

    text = re.sub(r"^(\s*(?:- |[\w]+: ))\[([^\]\n]*)\]\s*$", value, text, flags=re.MULTILINE)
    text = re.sub(r'"\[([^\]\n]*)\]"', lambda m: json.dumps(m.group(1), ensure_ascii=False), text)
    return re.sub(r"\[([^\]\n]*)\]", r"\1", text)


def spec_file(tmp_path: Path, name: str, text: str | None = None) -> Path:
    """A copy of a fixture (or the given text) as <tmp>/<ticket>/spec.yaml."""
    folder = tmp_path / "feature-x"
    folder.mkdir(exist_ok=True)
    path = folder / "spec.yaml"
    if text is None:
        shutil.copy(FIXTURES / name, path)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines removed from before and added in after."""
    removed: list[str] = []
    added: list[str] = []
    old, new = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed.extend(old[i1:i2])
            added.extend(new[j1:j2])
    return removed, added


def assert_status_edit(before: str, after: str, status: str) -> None:
    """Only status lines changed (plus the timestamp line and, at most, a new ticket block)."""
    removed, added = changed_lines(before, after)
    allowed = rf"\s*(status|{STAMPS.get(status, 'status')}):"
    assert all(re.match(r"\s*status:", line) for line in removed), removed
    assert all(re.match(allowed, line) or line in ("", "ticket:") for line in added), added
    assert any(re.match(rf"\s*status: ['\"]?{status}['\"]?(\s+#.*)?$", line) for line in added)


def test_english_feature_spec() -> None:
    spec = load_spec(FIXTURES / "feature-logging.yaml")
    assert spec.title == "Add structured logging to the auth service"
    assert (spec.ticket_type, spec.status) == ("feature", "planned")
    assert [c.text for c in spec.criteria] == [
        "Every login attempt emits one JSON log line with user_id, ip and outcome",
        "Failed logins are logged at WARNING level",
        "Log lines never contain passwords or tokens",
    ]
    assert spec.warnings == ()


def test_portuguese_spec() -> None:
    spec = load_spec(FIXTURES / "melhoria-cache.yaml")
    assert spec.title == "Cache de consultas ao catálogo de produtos"
    assert (spec.ticket_type, spec.status) == ("enhancement", "defined")
    assert [c.text for c in spec.criteria][1] == "Tempo de resposta p95: abaixo de 150 ms"
    assert len(spec.criteria) == 3


def test_criteria_grouped_by_name() -> None:
    spec = load_spec(FIXTURES / "grouped-criteria.yaml")
    assert [c.group for c in spec.criteria] == [
        "functional",
        "functional",
        "non-functional",
        "security",
    ]
    assert spec.status is None


def test_criteria_as_mappings_with_verify_and_tests() -> None:
    criteria = load_spec(FIXTURES / "criteria-mappings.yaml").criteria
    assert criteria[0].verify == "pytest tests/test_jwt.py -k valid"
    assert criteria[0].tests == ("tests/test_jwt.py::test_valid_token",)
    assert criteria[1].text == "Expired tokens are rejected with 401"
    assert criteria[1].tests == ("tests/test_jwt.py::test_expired_token",)
    assert (criteria[2].text, criteria[2].verify) == ("Token refresh works", None)
    assert criteria[3].verify == "test -f docs/auth.md"  # Portuguese `verificar`


def test_nested_mixes_numbers_and_accidental_mappings() -> None:
    spec = load_spec(FIXTURES / "nested-mix.yaml")
    assert [(c.text, c.group) for c in spec.criteria] == [
        ("User receives a reset email within 1 minute", None),
        ("Response time: under 200ms", None),
        ("42", None),
        ("true", None),
        (
            'Given a user with an expired reset link, when they open it, then they see "link '
            'expired" and can request a new one',
            None,
        ),
        ("Reset tokens are single use", "Security"),
        ("Tokens expire after 30 minutes", "Security"),
        ("Form fields have labels", "Accessibility"),
        ("Reset emails are sent from no-reply@example.com", None),  # from the ticket block
    ]
    assert spec.criteria[6].verify == "pytest -k token_expiry"


def test_bulleted_success_criteria_used_when_no_acceptance_criteria() -> None:
    spec = load_spec(FIXTURES / "no-ticket-block.yaml")
    assert [c.text for c in spec.criteria] == [
        "We have a benchmark of both queues on our workload",
        "We have a written recommendation with trade-offs",
    ]
    assert any("success criteria" in w for w in spec.warnings)


def test_top_level_status_is_read() -> None:
    assert load_spec(FIXTURES / "top-level-status.yaml").status == "draft"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_raw_and_filled_templates_load(tmp_path: Path, template: Path) -> None:
    kind = template.name.split("-")[-3]
    raw = template.read_text(encoding="utf-8")
    for text in (raw, fill_template(raw)):
        spec = load_spec(spec_file(tmp_path, "", text))
        assert spec.ticket_type == kind
        assert spec.title
        if kind in ("feature", "enhancement"):
            assert len(spec.criteria) == 3
        if kind == "bug":
            assert spec.criteria == ()
            assert any("no acceptance criteria" in w for w in spec.warnings)


def test_flow_list_placeholder_is_one_criterion_with_warning(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "", "title: t\nacceptance_criteria:\n  - [Specific, testable]\n")
    spec = load_spec(path)
    assert [c.text for c in spec.criteria] == ["Specific, testable"]
    assert "written as a list" in spec.warnings[0]


def test_invalid_yaml_names_file_line_and_column() -> None:
    path = FIXTURES / "invalid-colon.yaml"
    with pytest.raises(SpecParseError) as caught:
        load_spec(path)
    err = caught.value
    assert (err.line, err.column) == (8, 14)
    assert err.one_line() == f"{path}:8:14: could not parse: mapping values are not allowed here"
    assert str(err) == err.one_line()
    assert err.hint is not None and "quoted" in err.hint


def test_tabs_get_their_own_hint() -> None:
    with pytest.raises(SpecParseError) as caught:
        load_spec(FIXTURES / "invalid-tabs.yaml")
    assert caught.value.line == 3
    assert caught.value.hint is not None and "tab" in caught.value.hint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- title: one\n", "the top level is a list, expected a mapping"),
        ("", "the top level is empty, expected a mapping"),
        ("just text\n", "the top level is a text value, expected a mapping"),
    ],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_spec(spec_file(tmp_path, "", text))


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "spec.yaml")
    (tmp_path / "spec.yaml").write_bytes(b"title: \xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(tmp_path / "spec.yaml")


def test_duplicate_keys_load_with_a_warning(tmp_path: Path) -> None:
    spec = load_spec(spec_file(tmp_path, "", "title: a\ntitle: b\nacceptance_criteria: [x]\n"))
    assert spec.title == "a"
    assert "duplicate key" in spec.warnings[0]


@pytest.mark.parametrize("name", EDITABLE)
def test_lifecycle_changes_only_status_lines(tmp_path: Path, name: str) -> None:
    path = spec_file(tmp_path, name)
    for status in ("in_progress", "completed", "archived"):
        before, already = path.read_text(encoding="utf-8"), load_spec(path).status == status
        set_spec_status(path, status, NOW)
        after = path.read_text(encoding="utf-8")
        if already:
            assert after == before
        else:
            assert_status_edit(before, after, status)
        spec = load_spec(path)
        assert spec.status == status
        assert spec.criteria == load_spec(FIXTURES / name).criteria
    assert (spec.implementation_completed, spec.archived_at) == (NOW, NOW)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
@pytest.mark.parametrize("filled", [True, False], ids=["filled", "raw"])
def test_templates_change_only_status_lines(tmp_path: Path, template: Path, filled: bool) -> None:
    text = template.read_text(encoding="utf-8")
    path = spec_file(tmp_path, "", fill_template(text) if filled else text)
    before = path.read_text(encoding="utf-8")
    set_spec_status(path, "in_progress", NOW)
    after = path.read_text(encoding="utf-8")
    assert_status_edit(before, after, "in_progress")
    # The new keys land in the existing ticket block, after its last line.
    ticket = YAML(typ="safe").load(after)["ticket"]
    assert list(ticket)[-2:] == ["status", "implementation_started"]


def test_comments_quotes_and_block_scalars_survive(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "feature-logging.yaml")
    set_spec_status(path, "in_progress", NOW)
    text = path.read_text(encoding="utf-8")
    assert "  status: in_progress   # draft -> defined -> planned" in text
    assert "  - 'Failed logins are logged at WARNING level'" in text
    assert "user_story: |\n  As an on-call engineer,\n" in text
    assert f'  implementation_started: "{NOW}"' in text


def test_start_time_is_kept_on_resume(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "ticket-last-block-scalar.yaml")
    before = path.read_bytes()
    set_spec_status(path, "in_progress", LATER)
    assert path.read_bytes() == before  # already in progress since 2025-11-01: nothing to write
    assert load_spec(path).implementation_started == "2025-11-01T09:00:00Z"


def test_new_keys_go_after_a_trailing_block_scalar(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "ticket-last-block-scalar.yaml")
    set_spec_status(path, "completed", NOW)
    text = path.read_text(encoding="utf-8")
    assert "    See INC-2211.\n  implementation_completed:" in text
    assert (
        YAML(typ="safe").load(text)["ticket"]["notes"]
        == "Reported twice this month.\nSee INC-2211.\n"
    )


def test_top_level_status_is_edited_in_place(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "top-level-status.yaml")
    set_spec_status(path, "in_progress", NOW)
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert "ticket" not in data
    assert (data["status"], data["implementation_started"]) == ("in_progress", NOW)
    assert path.read_text(encoding="utf-8").startswith("title: Fix crash")


def test_ticket_block_is_created_when_absent(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "no-ticket-block.yaml")
    set_spec_status(path, "in_progress", NOW)
    text = path.read_text(encoding="utf-8")
    assert text.endswith(
        f'timebox: "2 days"\n\nticket:\n  status: in_progress\n  implementation_started: "{NOW}"\n'
    )


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("title: t\nticket:\n  status:\n  type: bug\n", "  status: planned\n  type: bug\n"),
        ("title: t\nticket: {type: bug}\n# keep\n", "ticket: {type: bug, status: planned}\n# keep"),
        ("title: t\nticket:\n# keep\nother: 1\n", "# keep\n"),
        ("title: t\nticket: JIRA-12\n", "ticket: JIRA-12\nstatus: planned\n"),
    ],
    ids=["empty-status", "flow-ticket", "empty-ticket", "scalar-ticket"],
)
def test_odd_shapes_still_get_a_status(tmp_path: Path, original: str, expected: str) -> None:
    path = spec_file(tmp_path, "", original)
    set_spec_status(path, "planned", NOW)
    text = path.read_text(encoding="utf-8")
    assert expected in text
    assert load_spec(path).status == "planned"


def test_crlf_and_byte_order_mark_are_kept(tmp_path: Path) -> None:
    original = "\ufefftitle: t\r\nticket:\r\n  type: bug\r\n  status: planned\r\n"
    path = spec_file(tmp_path, "", original)
    set_spec_status(path, "in_progress", NOW)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbftitle: t\r\n")
    assert raw.count(b"\r\n") == raw.count(b"\n") == 5
    assert b"  status: in_progress\r\n" in raw


@pytest.mark.parametrize("name", ["invalid-colon.yaml", "invalid-tabs.yaml", "top-level-list.yaml"])
def test_unparseable_spec_is_never_rewritten(tmp_path: Path, name: str) -> None:
    path = spec_file(tmp_path, name)
    before = path.read_bytes()
    stat = path.stat()
    with pytest.raises(SpecError):
        set_spec_status(path, "in_progress", NOW)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in path.parent.iterdir()) == ["spec.yaml"]


def test_duplicate_keys_are_not_edited(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "", "ticket:\n  status: planned\n  status: draft\n")
    with pytest.raises(SpecParseError, match="duplicate key"):
        set_spec_status(path, "in_progress", NOW)


def test_unknown_status_is_a_programming_error(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "feature-logging.yaml")
    with pytest.raises(ValueError, match="unknown spec status"):
        set_spec_status(path, "done", NOW)
